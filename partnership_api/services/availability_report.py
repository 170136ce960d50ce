"""Reporting a refuge's availability: its own staff, one winner per ETag.

A report (``PUT …/availability``) is a conditional ``UPDATE refuge_availability … WHERE
version = :seen``: of several writers holding the same ETag exactly one changes the row; the
others update nothing and get 412. The statements are prebuilt (``direct.statements``) and
run through ``direct`` (the hottest write), in one round trip.
"""

from __future__ import annotations

import re
from datetime import datetime
from types import SimpleNamespace

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from partnership_api import audit, direct, events, policy
from partnership_api.database import db
from partnership_api.direct import statements as prebuilt
from partnership_api.domain_errors import NotFound, PreconditionFailed
from partnership_api.models.base import utcnow
from partnership_api.models.beds import (
    SPACE_TYPES,
    RefugeAvailability,
)
from partnership_api.policy import Actor
from partnership_api.services.availability import (
    availability_view,
    with_holds,
)
from partnership_api.services.search_cache import mark_changed
from partnership_api.services.versions import IfMatch, the_version_read

# --- reporting availability ---------------------------------------------------------------------


def _current_version(service_id: int) -> int:
    """The report version; creates the refuge's availability row on its first report."""
    version = db.session.scalar(
        sa.select(RefugeAvailability.version).where(RefugeAvailability.service_id == service_id)
    )
    if version is not None:
        return version
    try:
        with db.session.begin_nested():
            db.session.add(RefugeAvailability(service_id=service_id, version=0))
    except IntegrityError:
        pass  # another first report made it at the same moment; the version check decides
    return 0


def _version_named(tag: str, service_id: int) -> int | None:
    """The report version an ETag names for this refuge (None: not one of its ETags)."""
    found = _ETAG_RE.fullmatch(tag)
    if found and int(found["service"]) == service_id:
        return int(found["version"])
    return None


_ETAG_RE = re.compile(r"refuge-(?P<service>\d+)-v(?P<version>\d+)")

# An availability report is the hottest write: its statements are prebuilt
# (``direct.statements``) and run through ``direct``.


def refuge_for_report(service_id: int):
    """The refuge (id, organisation and kind only) a report is for; 404 for anything else."""
    found = direct.rows(prebuilt.REFUGE_FOR_REPORT, {"service_id": service_id})
    if not found or found[0].kind != "refuge":
        raise NotFound()
    return found[0]


def _write_report(actor: Actor, service_id: int, seen: int, spaces: list[dict], now: datetime):
    """Move the report version on from ``seen`` and write the report, in one round trip; the
    refuge's live holds by type, or None (and the transaction rolled back) when the version
    is no longer ``seen``.

    On PostgreSQL the writes are one statement (``statements.REPORT_IN_ONE``), each made only
    if the version moved on; on SQLite, one statement each. Either way the live holds are
    counted by the last statement: on PostgreSQL a snapshot of its own, taken after the
    report's row locks were granted, so a hold committed while the report waited is counted."""
    report = {
        "refuge": service_id,
        "at": now,
        "user": actor.user_id,
        "name": actor.username,
        "reported": spaces,
        "new_version": seen + 1,
    }
    count_held = direct.Step(prebuilt.HELD_AT, {"service_id": service_id, "now": now})
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        written, held = direct.pipeline(
            [direct.Step(prebuilt.REPORT_IN_ONE, {**report, "seen": seen, "now": now}), count_held]
        )
        moved = written.rows[0].taken == 1
    else:
        # The types kept, padded to three ("" keeps none: a report of no spaces drops them all).
        kept = [space["space_type"] for space in spaces]
        kept += [kept[0] if kept else ""] * (len(SPACE_TYPES) - len(kept))
        upsert = [{"service_id": service_id, **space} for space in spaces]
        taken, *_, held = direct.pipeline(
            [
                direct.Step(
                    prebuilt.TAKE_VERSION,
                    {
                        "refuge": service_id,
                        "seen": seen,
                        "now": now,
                        "user": actor.user_id,
                        "name": actor.username,
                    },
                ),
                *(
                    [direct.Step(prebuilt.UPSERT_SPACE[dialect], upsert, many=True)]
                    if upsert
                    else []
                ),
                direct.Step(
                    prebuilt.DROP_OTHER_SPACES,
                    {"refuge": service_id, **{f"kept_{i}": kind for i, kind in enumerate(kept)}},
                ),
                direct.Step(prebuilt.INSERT_REPORT, report),
                count_held,
            ]
        )
        moved = taken.rowcount == 1
    if not moved:
        db.session.rollback()
        return None
    # The generation is bumped at commit, after the audit chain's head is locked: every
    # transaction takes those two locks in that order, so none can deadlock another.
    mark_changed()
    return {(service_id, row.space_type): row.held for row in held.rows}


def _conditional_report(actor: Actor, service, if_match: IfMatch | None, spaces, now) -> tuple:
    """Write a report of ``spaces`` if the version If-Match names is still the refuge's: the
    new version and the live holds by type (412, rolled back, when it is not)."""
    # Exactly one strong ETag: a list naming every version would pass any check.
    named = _version_named(the_version_read(if_match), service.id)
    seen = named
    held = None if seen is None else _write_report(actor, service.id, seen, spaces, now)
    if held is None:
        seen = _current_version(service.id)
        if seen == named:  # the refuge's first report: its version row was made just now
            held = _write_report(actor, service.id, seen, spaces, now)
        if held is None:
            db.session.rollback()
            raise PreconditionFailed("The availability changed since you read it; read it again.")
    return seen + 1, held


def _shown_after(actor: Actor, service, spaces: list[dict], held, version: int, now) -> dict:
    figures = with_holds(
        [service.id],
        (SimpleNamespace(service_id=service.id, **space) for space in spaces),
        held,
    )[service.id]
    return availability_view(service.id, figures, now, actor.username, version, now)


def report_availability(actor: Actor, service, if_match: IfMatch | None, data: dict) -> dict:
    """A refuge's own staff report its spaces; exactly one writer per ETag wins.

    The version the client read is taken from its If-Match and moved on by one conditional
    UPDATE; only when that fails (a stale ETag, or the refuge's first report) is the current
    version read to tell which. ``service`` needs only ``id`` and ``organisation_id``.
    """
    policy.require(actor, "availability.update")
    policy.authorize(actor, "availability.update", service)
    the_version_read(if_match)  # 428 before anything is written
    now = utcnow()
    reported = {space["space_type"]: space for space in data["spaces"]}
    spaces = [
        {"space_type": t, "total": reported[t]["total"], "vacant": reported[t]["vacant"]}
        for t in SPACE_TYPES
        if t in reported
    ]
    version, held = _conditional_report(actor, service, if_match, spaces, now)
    shown = _shown_after(actor, service, spaces, held, version, now)
    overcommitted = {
        s["space_type"]: s["overcommitted"] for s in shown["spaces"] if s["overcommitted"]
    }
    audit.record(
        "availability.report",
        "refuge",
        service.id,
        subject_organisation_id=service.organisation_id,
        details={"version": version, "spaces": spaces, "overcommitted": overcommitted},
    )
    events.emit(
        "availability.reported",
        [service.organisation_id],
        refuge_id=service.id,
        organisation_id=service.organisation_id,
    )
    db.session.commit()
    return shown


def confirm(actor: Actor, service, if_match: IfMatch | None) -> dict:
    """ "Still accurate": the refuge's own staff confirm its figures without changing them.

    The same conditional write as a report (If-Match: 428 without, 412 when stale), of the
    figures as they stand: a new version and ETag, a row in the history, an audit event, and
    the report is fresh again (``stale`` false). ``service`` as for ``report_availability``.
    """
    policy.require(actor, "availability.update")
    policy.authorize(actor, "availability.update", service)
    the_version_read(if_match)  # 428 before anything is read or written
    now = utcnow()
    current = direct.rows(prebuilt.CURRENT_SPACES, {"service_id": service.id})
    rows = {row.space_type: row for row in current}
    spaces = [
        {"space_type": t, "total": rows[t].total, "vacant": rows[t].vacant}
        for t in SPACE_TYPES
        if t in rows
    ]
    version, held = _conditional_report(actor, service, if_match, spaces, now)
    audit.record(
        "availability.confirm",
        "refuge",
        service.id,
        subject_organisation_id=service.organisation_id,
        details={"version": version, "spaces": spaces},
    )
    events.emit(
        "availability.confirmed",
        [service.organisation_id],
        refuge_id=service.id,
        organisation_id=service.organisation_id,
    )
    db.session.commit()
    return _shown_after(actor, service, spaces, held, version, now)
