"""Reporting a refuge's availability: its own staff, one winner per ETag.

A report (``PUT …/availability``) is a conditional ``UPDATE refuge_availability … WHERE
version = :seen``: of several writers holding the same ETag exactly one changes the row; the
others update nothing and get 412. The statements are built once and run through ``direct``
(the hottest write), in one round trip.
"""

from __future__ import annotations

import re
from datetime import datetime
from types import SimpleNamespace

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from partnership_api import audit, direct, events, policy
from partnership_api.domain_errors import NotFound, PreconditionFailed
from partnership_api.extensions import db
from partnership_api.models.base import utcnow
from partnership_api.models.beds import (
    SPACE_TYPES,
    AvailabilityReport,
    BedHold,
    BedSpace,
    RefugeAvailability,
)
from partnership_api.models.partnership import Service
from partnership_api.policy import Actor
from partnership_api.services.availability import (
    availability_view,
    held_by_type,
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

# An availability report is the hottest write: its statements are built once, with named
# parameters, and run through ``direct`` (see there for why).
_SPACES = BedSpace.__table__
_NOW = sa.bindparam("now", type_=RefugeAvailability.__table__.c.updated_at.type)
REFUGE_FOR_REPORT = sa.select(
    Service.__table__.c.id, Service.__table__.c.organisation_id, Service.__table__.c.kind
).where(Service.__table__.c.id == sa.bindparam("service_id", type_=sa.Integer))
TAKE_VERSION = (
    sa.update(RefugeAvailability.__table__)
    .where(
        RefugeAvailability.__table__.c.service_id == sa.bindparam("refuge", type_=sa.Integer),
        RefugeAvailability.__table__.c.version == sa.bindparam("seen", type_=sa.Integer),
    )
    .values(
        version=RefugeAvailability.__table__.c.version + 1,
        updated_at=sa.bindparam("now", type_=RefugeAvailability.__table__.c.updated_at.type),
        updated_by_user_id=sa.bindparam(
            "user", type_=RefugeAvailability.__table__.c.updated_by_user_id.type
        ),
        updated_by=sa.bindparam("name", type_=sa.String),
    )
)


def _upsert_spaces(insert) -> sa.Insert:
    stmt = insert(_SPACES)
    return stmt.on_conflict_do_update(
        index_elements=[_SPACES.c.service_id, _SPACES.c.space_type],
        set_={"total": stmt.excluded.total, "vacant": stmt.excluded.vacant},
    )


UPSERT_SPACE = {"postgresql": _upsert_spaces(pg_insert), "sqlite": _upsert_spaces(sqlite_insert)}
# The types kept, always three parameters: no expanding list, so it compiles once.
DROP_OTHER_SPACES = sa.delete(_SPACES).where(
    _SPACES.c.service_id == sa.bindparam("refuge", type_=sa.Integer),
    _SPACES.c.space_type.not_in(
        [sa.bindparam(f"kept_{i}", type_=sa.String) for i in range(len(SPACE_TYPES))]
    ),
)
_REPORTS = AvailabilityReport.__table__
INSERT_REPORT = sa.insert(_REPORTS).values(
    service_id=sa.bindparam("refuge", type_=sa.Integer),
    reported_at=sa.bindparam("at", type_=_REPORTS.c.reported_at.type),
    reported_by_user_id=sa.bindparam("user", type_=_REPORTS.c.reported_by_user_id.type),
    reported_by=sa.bindparam("name", type_=sa.String),
    spaces=sa.bindparam("reported", type_=_REPORTS.c.spaces.type),
    version=sa.bindparam("new_version", type_=sa.Integer),
)
HELD_AT = held_by_type(BedHold.service_id == sa.bindparam("service_id", type_=sa.Integer), _NOW)


def refuge_for_report(service_id: int):
    """The refuge (id, organisation and kind only) a report is for; 404 for anything else."""
    found = direct.rows(REFUGE_FOR_REPORT, {"service_id": service_id})
    if not found or found[0].kind != "refuge":
        raise NotFound()
    return found[0]


def _write_report(actor: Actor, service_id: int, seen: int, spaces: list[dict], now: datetime):
    """Move the report version on from ``seen`` and write the report, in one round trip; the
    refuge's live holds by type, or None (and the transaction rolled back) when the version
    is no longer ``seen``."""
    dialect = db.session.get_bind().dialect.name
    # The types kept, padded to three ("" keeps none: a report of no spaces drops them all).
    kept = [space["space_type"] for space in spaces]
    kept += [kept[0] if kept else ""] * (len(SPACE_TYPES) - len(kept))
    upsert = [{"service_id": service_id, **space} for space in spaces]
    taken, *_, held = direct.pipeline(
        [
            direct.Step(
                TAKE_VERSION,
                {
                    "refuge": service_id,
                    "seen": seen,
                    "now": now,
                    "user": actor.user_id,
                    "name": actor.username,
                },
            ),
            *([direct.Step(UPSERT_SPACE[dialect], upsert, many=True)] if upsert else []),
            direct.Step(
                DROP_OTHER_SPACES,
                {"refuge": service_id, **{f"kept_{i}": kind for i, kind in enumerate(kept)}},
            ),
            direct.Step(
                INSERT_REPORT,
                {
                    "refuge": service_id,
                    "at": now,
                    "user": actor.user_id,
                    "name": actor.username,
                    "reported": spaces,
                    "new_version": seen + 1,
                },
            ),
            direct.Step(HELD_AT, {"service_id": service_id, "now": now}),
        ]
    )
    if taken.rowcount != 1:
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


CURRENT_SPACES = (
    sa.select(_SPACES.c.space_type, _SPACES.c.total, _SPACES.c.vacant)
    .where(_SPACES.c.service_id == sa.bindparam("service_id", type_=sa.Integer))
    .order_by(_SPACES.c.space_type)
)


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
    rows = {row.space_type: row for row in direct.rows(CURRENT_SPACES, {"service_id": service.id})}
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
