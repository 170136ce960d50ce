"""Refuge bed spaces: availability reports, holds for referrals, and the bed search.

Concurrency, in short:

- A report (``PUT …/availability``) is a conditional ``UPDATE refuge_availability … WHERE
  version = :seen``: of several writers holding the same ETag exactly one changes the row; the
  others update nothing and get 412.
- A hold locks its referral's row and then the ``bed_spaces`` row of its type (``FOR UPDATE``
  on PostgreSQL; SQLite serialises writers already) before it counts the live holds and adds its
  own, so two officers cannot take the last space at once.
- Every transaction that changes what bed search shows bumps one generation number in the
  same transaction (at commit, after everything else, so the lock order stays the same
  everywhere). Each process caches bed search under that number and reads it (one primary-key
  read) before it answers; the cache also ends by itself when the next hold lapses or the next
  report turns stale, so nothing needs a background job.

The referral service calls ``on_referral_transition`` inside a transition's transaction, and
``live_holds`` to show each referral's hold.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace

import sqlalchemy as sa
from flask import current_app, g, has_request_context
from flask_smorest import abort
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, lazyload
from werkzeug.datastructures import ETags

from partnership_api import audit, direct, policy
from partnership_api.extensions import db
from partnership_api.models.base import utcnow
from partnership_api.models.beds import (
    SPACE_TYPES,
    AvailabilityReport,
    BedHold,
    BedSearchGeneration,
    BedSpace,
    RefugeAvailability,
)
from partnership_api.models.partnership import Service, ServiceArea
from partnership_api.models.referrals import OPEN_STATUSES, Referral, ReferralEvent
from partnership_api.policy import Actor

RELEASING_ACTIONS = {
    "decline": "declined",
    "withdraw": "withdrawn",
    "redirect": "redirected",
    "close": "closed",
}
FACILITY_KEYS = (
    "max_children",
    "max_son_age",
    "wheelchair_accessible",
    "accepts_nrpf",
    "accepts_pets",
    "women_only",
    "languages",
)
# However quiet the partnership, a process rebuilds its search cache at least this often.
SEARCH_CACHE_MAX_AGE = timedelta(seconds=60)
SEARCH_ANSWERS_KEPT = 512

_CHANGED = "beds_changed"
_WATCHED = (Service, ServiceArea, BedSpace, BedHold, RefugeAvailability)


# --- the search generation: bumped in the transaction of every change search shows -----------


def mark_changed(session: Session | None = None) -> None:
    """Note that this transaction changes what bed search shows (bumped at commit)."""
    (session or db.session()).info[_CHANGED] = True


def _random_generation() -> int:
    return secrets.randbits(48)


BUMP_GENERATION = (
    sa.update(BedSearchGeneration.__table__)
    .where(BedSearchGeneration.__table__.c.id == 1)
    .values(generation=BedSearchGeneration.__table__.c.generation + 1)
)


def _bump_generation(session: Session) -> None:
    bumped = direct.execute(BUMP_GENERATION, {}, session)
    if not bumped:
        session.execute(
            sa.insert(BedSearchGeneration).values(id=1, generation=_random_generation())
        )


def _note_watched_changes(session: Session, _flush_context, _instances) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, _WATCHED):
            session.info[_CHANGED] = True
            return


def _bump_before_commit(session: Session) -> None:
    if session.in_transaction():
        session.flush()
    if session.info.pop(_CHANGED, False):
        _bump_generation(session)


def _forget_changes(session: Session, _previous_transaction=None) -> None:
    session.info.pop(_CHANGED, None)


def _install_listeners() -> None:
    for name, listener in (
        ("before_flush", _note_watched_changes),
        ("before_commit", _bump_before_commit),
        ("after_rollback", _forget_changes),
    ):
        if not sa.event.contains(Session, name, listener):
            sa.event.listen(Session, name, listener)


_install_listeners()


# --- reading availability --------------------------------------------------------------------


@dataclass
class SpaceFigures:
    space_type: str
    total: int
    vacant: int
    held: int

    @property
    def available(self) -> int:
        return max(self.vacant - self.held, 0)

    @property
    def overcommitted(self) -> int:
        return max(self.held - self.vacant, 0)


def stale_after() -> timedelta:
    return current_app.config["AVAILABILITY_STALE_AFTER"]


def is_stale(updated_at: datetime | None, now: datetime | None = None) -> bool:
    """A refuge that never reported, or whose last report is too old, is stale."""
    if updated_at is None:
        return True
    return (now or utcnow()) - updated_at > stale_after()


def _live_hold_clause(now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(BedHold.state == "active", BedHold.expires_at > now)


def _figures(service_ids: list[int], now: datetime) -> dict[int, list[SpaceFigures]]:
    """Each refuge's spaces with their live holds counted: two queries for any number."""
    if not service_ids:
        return {}
    spaces = db.session.execute(
        sa.select(BedSpace.service_id, BedSpace.space_type, BedSpace.total, BedSpace.vacant).where(
            BedSpace.service_id.in_(service_ids)
        )
    )
    return _with_holds(service_ids, spaces, _held(service_ids, now))


def _held(service_ids: list[int], now: datetime) -> dict[tuple[int, str], int]:
    """How many live holds each refuge has on each type of space."""
    return {
        (row.service_id, row.space_type): row.held
        for row in db.session.execute(
            sa.select(BedHold.service_id, BedHold.space_type, sa.func.count().label("held"))
            .where(BedHold.service_id.in_(service_ids), _live_hold_clause(now))
            .group_by(BedHold.service_id, BedHold.space_type)
        )
    }


def _with_holds(
    service_ids: list[int], spaces: Iterable, held: dict[tuple[int, str], int]
) -> dict[int, list[SpaceFigures]]:
    """Spaces (rows with service_id, space_type, total and vacant) with their live holds."""
    figures: dict[int, list[SpaceFigures]] = {sid: [] for sid in service_ids}
    for row in spaces:
        figures[row.service_id].append(
            SpaceFigures(
                row.space_type, row.total, row.vacant, held.get((row.service_id, row.space_type), 0)
            )
        )
    # Holds on a type the refuge no longer reports still show, as overcommitted.
    for (service_id, space_type), count in held.items():
        if not any(f.space_type == space_type for f in figures[service_id]):
            figures[service_id].append(SpaceFigures(space_type, 0, 0, count))
    for spaces_of in figures.values():
        spaces_of.sort(key=lambda f: SPACE_TYPES.index(f.space_type))
    return figures


def _warnings(figures: list[SpaceFigures]) -> list[str]:
    return [
        f"{f.held} live hold(s) on {f.space_type} spaces exceed the {f.vacant} vacant: "
        f"overcommitted by {f.overcommitted}; none are available until holds end."
        for f in figures
        if f.overcommitted
    ]


def availability_of(service_ids: Iterable[int]) -> dict[int, dict]:
    """The current availability of each refuge, as the API shows it, in three queries."""
    ids = list(service_ids)
    now = utcnow()
    # The version (the ETag) is read before the figures, so the figures are never older than
    # the version they are shown with: a report committed in between makes an ETag that is
    # merely stale (412), never a new ETag over old figures.
    reports = {
        row.service_id: row
        for row in db.session.scalars(
            sa.select(RefugeAvailability).where(RefugeAvailability.service_id.in_(ids))
        )
    }
    figures = _figures(ids, now)
    shown = {}
    for service_id in ids:
        report = reports.get(service_id)
        shown[service_id] = _availability_view(
            service_id,
            figures[service_id],
            report.updated_at if report else None,
            report.updated_by if report else None,
            report.version if report else 0,
            now,
        )
    return shown


def _availability_view(
    service_id: int,
    figures: list[SpaceFigures],
    updated_at: datetime | None,
    updated_by: str | None,
    version: int,
    now: datetime,
) -> dict:
    return {
        "refuge_id": service_id,
        "spaces": [
            {
                "space_type": f.space_type,
                "total": f.total,
                "vacant": f.vacant,
                "held": f.held,
                "available": f.available,
                "overcommitted": f.overcommitted,
            }
            for f in figures
        ],
        "updated_at": updated_at,
        "updated_by": updated_by,
        "stale": is_stale(updated_at, now),
        "version": version,
        "warnings": _warnings(figures),
    }


def get_refuge(service_id: int) -> Service:
    """The refuge service with this id; 404 for any other kind of service."""
    service = db.session.get(Service, service_id, options=[lazyload(Service.area_links)])
    if service is None or service.kind != "refuge":
        abort(404, message="Not found.")
    return service


def refuges_query(args: dict) -> sa.Select:
    """Active refuges, optionally in one area or of one organisation, by name."""
    stmt = sa.select(Service).where(Service.kind == "refuge", Service.active.is_(True))
    if "area" in args:
        stmt = stmt.where(
            Service.id.in_(
                sa.select(ServiceArea.service_id).where(ServiceArea.gss_code == args["area"])
            )
        )
    if "organisation_id" in args:
        stmt = stmt.where(Service.organisation_id == args["organisation_id"])
    return stmt.order_by(Service.name, Service.id)


def get_availability(service: Service) -> dict:
    return availability_of([service.id])[service.id]


def etag_for(service_id: int, version: int) -> str:
    """The ETag of a refuge's availability: its report version (holds do not change it)."""
    return f"refuge-{service_id}-v{version}"


def history_query(service: Service) -> sa.Select:
    return (
        sa.select(AvailabilityReport)
        .where(AvailabilityReport.service_id == service.id)
        .order_by(AvailabilityReport.reported_at.desc(), AvailabilityReport.id.desc())
    )


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


def _version_named(if_match: ETags, service_id: int) -> int | None:
    """The report version the If-Match header names for this refuge, if it names one."""
    versions = set()
    for tag in if_match:
        found = _ETAG_RE.fullmatch(tag)
        if found and int(found["service"]) == service_id:
            versions.add(int(found["version"]))
    return versions.pop() if len(versions) == 1 else None


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
HELD_AT = (
    sa.select(BedHold.space_type, sa.func.count().label("held"))
    .where(
        BedHold.service_id == sa.bindparam("service_id", type_=sa.Integer),
        BedHold.state == "active",
        BedHold.expires_at > _NOW,
    )
    .group_by(BedHold.space_type)
)


def refuge_for_report(service_id: int):
    """The refuge (id, organisation and kind only) a report is for; 404 for anything else."""
    found = direct.rows(REFUGE_FOR_REPORT, {"service_id": service_id})
    if not found or found[0].kind != "refuge":
        abort(404, message="Not found.")
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


def report_availability(actor: Actor, service, if_match: ETags, data: dict) -> dict:
    """A refuge's own staff report its spaces; exactly one writer per ETag wins.

    The version the client read is taken from its If-Match and moved on by one conditional
    UPDATE; only when that fails (a stale ETag, or the refuge's first report) is the current
    version read to tell which. ``service`` needs only ``id`` and ``organisation_id``.
    """
    policy.require(actor, "availability.update")
    policy.authorize(actor, "availability.update", service)
    if not if_match or if_match.star_tag:
        abort(
            428,
            message="Send the ETag of the availability you read as If-Match.",
        )
    now = utcnow()
    reported = {space["space_type"]: space for space in data["spaces"]}
    spaces = [
        {"space_type": t, "total": reported[t]["total"], "vacant": reported[t]["vacant"]}
        for t in SPACE_TYPES
        if t in reported
    ]
    seen = _version_named(if_match, service.id)
    held = None if seen is None else _write_report(actor, service.id, seen, spaces, now)
    if held is None:
        seen = _current_version(service.id)
        if if_match.contains(etag_for(service.id, seen)):
            held = _write_report(actor, service.id, seen, spaces, now)
        if held is None:
            db.session.rollback()
            abort(412, message="The availability changed since you read it; read it again.")
    version = seen + 1
    figures = _with_holds(
        [service.id],
        (SimpleNamespace(service_id=service.id, **space) for space in spaces),
        held,
    )[service.id]
    shown = _availability_view(service.id, figures, now, actor.username, version, now)
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
    db.session.commit()
    return shown


# --- holds ------------------------------------------------------------------------------------


def live_holds(referral_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, BedHold]:
    """The live (active, unexpired) hold of each of these referrals, in one query."""
    ids = list(referral_ids)
    if not ids:
        return {}
    rows = db.session.scalars(
        sa.select(BedHold).where(BedHold.referral_id.in_(ids), _live_hold_clause(utcnow()))
    )
    return {hold.referral_id: hold for hold in rows}


def _referral_for_hold(actor: Actor, referral_id: uuid.UUID) -> Referral:
    """The referral, locked for this transaction; 404 unless the caller may see it."""
    policy.require(actor, "bed.hold")
    referral = db.session.scalar(
        sa.select(Referral)
        .where(Referral.id == referral_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if referral is None:
        abort(404, message="Not found.")
    policy.authorize(actor, "referral.hold", referral)
    return referral


def _hold_event(actor: Actor, referral: Referral, hold: BedHold, kind: str, **extra) -> None:
    db.session.add(
        ReferralEvent(
            referral_id=referral.id,
            kind=kind,
            user_id=actor.user_id,
            organisation_id=actor.org_id,
            details={
                "hold_id": str(hold.id),
                "refuge_id": hold.service_id,
                "space_type": hold.space_type,
                "expires_at": hold.expires_at.isoformat(),
                **extra,
            },
        )
    )


def _audit_hold(
    actor: Actor, action: str, referral: Referral, hold: BedHold, refuge_org_id: int, **extra
) -> None:
    audit.record(
        action,
        "bed_hold",
        hold.id,
        actor=actor,
        subject_organisation_id=referral.from_organisation_id,
        related_organisation_id=refuge_org_id,
        details={
            "referral_id": str(referral.id),
            "refuge_id": hold.service_id,
            "space_type": hold.space_type,
            **extra,
        },
    )


def place_hold(actor: Actor, referral_id: uuid.UUID, data: dict) -> BedHold:
    """Hold one space of a type at a refuge for a referral, for ``HOLD_TTL``."""
    referral = _referral_for_hold(actor, referral_id)
    if referral.kind != "victim":
        abort(409, message="Bed spaces are held only for a victim's referral.")
    if referral.status not in OPEN_STATUSES:
        abort(
            409,
            message=f"This referral is {referral.status}; a bed space can be held only while "
            "it is submitted or accepted.",
        )
    if referral.status == "accepted" and referral.to_service_id == data["refuge_id"]:
        abort(
            409,
            message="This refuge has already accepted the referral: record the admission in "
            "its availability rather than holding a space.",
        )
    refuge = db.session.get(Service, data["refuge_id"])
    if refuge is None or refuge.kind != "refuge" or not refuge.active:
        abort(
            422,
            message="No such refuge.",
            errors={"json": {"refuge_id": ["Not an open refuge service."]}},
        )
    now = utcnow()
    current = live_holds([referral.id]).get(referral.id)
    if current is not None:
        abort(
            409,
            message=f"This referral already holds a {current.space_type} space until "
            f"{current.expires_at.isoformat()}; release it first.",
        )
    # An expired hold of this referral is tidied away so that the one-active-hold index allows
    # the new one.
    db.session.execute(
        sa.update(BedHold)
        .where(
            BedHold.referral_id == referral.id,
            BedHold.state == "active",
            BedHold.expires_at <= now,
        )
        .values(state="lapsed", ended_at=BedHold.expires_at, end_reason="expired")
        .execution_options(synchronize_session=False)
    )
    space_type = data["space_type"]
    space = db.session.scalar(
        sa.select(BedSpace)
        .where(BedSpace.service_id == refuge.id, BedSpace.space_type == space_type)
        .with_for_update()
    )
    if space is None:
        abort(409, message=f"{refuge.name} has no {space_type} spaces.")
    held = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(BedHold)
        .where(
            BedHold.service_id == refuge.id,
            BedHold.space_type == space_type,
            _live_hold_clause(now),
        )
    )
    if space.vacant - held <= 0:
        abort(
            409,
            message=f"No {space_type} space is available at {refuge.name} now "
            f"({space.vacant} vacant, {held} held).",
        )
    hold = BedHold(
        id=uuid.uuid4(),
        referral_id=referral.id,
        service_id=refuge.id,
        space_type=space_type,
        state="active",
        created_at=now,
        expires_at=now + current_app.config["HOLD_TTL"],
        created_by_user_id=actor.user_id,
    )
    db.session.add(hold)
    referral.updated_at = now
    _hold_event(actor, referral, hold, "hold_placed")
    mark_changed()
    db.session.flush()
    _audit_hold(
        actor,
        "bed_hold.place",
        referral,
        hold,
        refuge.organisation_id,
        expires_at=hold.expires_at.isoformat(),
    )
    db.session.commit()
    return hold


def release_hold(actor: Actor, referral_id: uuid.UUID) -> None:
    """Release the referral's live hold; its space is available again at once."""
    referral = _referral_for_hold(actor, referral_id)
    hold = live_holds([referral.id]).get(referral.id)
    if hold is None:
        abort(404, message="This referral holds no bed space.")
    now = utcnow()
    hold.state, hold.ended_at, hold.end_reason = "released", now, "released"
    referral.updated_at = now
    _hold_event(actor, referral, hold, "hold_released", reason="released")
    mark_changed()
    db.session.flush()
    refuge_org_id = db.session.scalar(
        sa.select(Service.organisation_id).where(Service.id == hold.service_id)
    )
    _audit_hold(actor, "bed_hold.release", referral, hold, refuge_org_id, reason="released")
    db.session.commit()


def on_referral_transition(actor: Actor, referral: Referral, action: str) -> None:
    """Release the hold when a referral is declined, withdrawn, redirected or closed; admit on
    accept by the refuge it is held at (vacant goes down by one).

    Runs in the transition's transaction (the caller commits), so the hold and the status
    change together. Accepted by another refuge, the hold is released; accepted by a service
    that is not a refuge (victim support), the hold stays.
    """
    hold = live_holds([referral.id]).get(referral.id)
    if hold is None:
        return
    now = utcnow()
    refuge_org_id = db.session.scalar(
        sa.select(Service.organisation_id).where(Service.id == hold.service_id)
    )
    if action == "accept" and hold.service_id == referral.to_service_id:
        # The held space becomes an admission: one fewer vacant space, in the same transaction.
        admitted = db.session.execute(
            sa.update(BedSpace)
            .where(
                BedSpace.service_id == hold.service_id,
                BedSpace.space_type == hold.space_type,
                BedSpace.vacant > 0,
            )
            .values(vacant=BedSpace.vacant - 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        # The refuge's figures changed: a PUT made with the ETag read before the admission
        # must get 412, not silently put the admitted family's room back on offer.
        db.session.execute(
            sa.update(RefugeAvailability)
            .where(RefugeAvailability.service_id == hold.service_id)
            .values(version=RefugeAvailability.version + 1)
            .execution_options(synchronize_session=False)
        )
        hold.state, hold.ended_at, hold.end_reason = "admitted", now, "accepted"
        kind = "hold_admitted" if admitted else "hold_admitted_without_vacancy"
        action_name, reason = "bed_hold.admit", "accepted"
    elif action in RELEASING_ACTIONS or action == "accept":
        receiving_kind = db.session.scalar(
            sa.select(Service.kind).where(Service.id == referral.to_service_id)
        )
        if action == "accept" and receiving_kind != "refuge":
            return
        reason = RELEASING_ACTIONS.get(action, "accepted_elsewhere")
        hold.state, hold.ended_at, hold.end_reason = "released", now, reason
        kind, action_name = "hold_released", "bed_hold.release"
    else:
        return
    _hold_event(actor, referral, hold, kind, reason=reason)
    mark_changed()
    db.session.flush()
    _audit_hold(actor, action_name, referral, hold, refuge_org_id, reason=reason)


# --- bed search ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _RefugeEntry:
    refuge_id: int
    name: str
    organisation_id: int
    areas: tuple[str, ...]
    facilities: dict
    available: dict[str, int]
    updated_at: datetime | None
    stale: bool


@dataclass
class _Snapshot:
    generation: int
    valid_until: datetime
    stale_after: timedelta
    refuges: tuple[_RefugeEntry, ...]
    answers: dict[tuple, bytes] = field(default_factory=dict)


class SearchCache:
    """One process's bed-search cache; valid while the database generation is unchanged."""

    def __init__(self) -> None:
        self.snapshot: _Snapshot | None = None
        self.lock = threading.Lock()


def _cache() -> SearchCache:
    cache = current_app.extensions.get("bed_search_cache")
    if cache is None:
        cache = current_app.extensions.setdefault("bed_search_cache", SearchCache())
    return cache


_GENERATION = BedSearchGeneration.__table__
GENERATION_QUERY = sa.select(_GENERATION.c.generation).where(_GENERATION.c.id == 1)


def _read_generation() -> int | None:
    """The generation, as read with this request's session check, else from the database."""
    if has_request_context() and "bed_search_generation" in g:
        return g.bed_search_generation
    return db.session.execute(GENERATION_QUERY).scalar()


def _build_snapshot(generation: int | None, now: datetime) -> _Snapshot:
    """Everything search needs, read after the generation (so never older than it)."""
    refuges = db.session.scalars(
        sa.select(Service).where(Service.kind == "refuge", Service.active.is_(True))
    ).all()
    ids = [r.id for r in refuges]
    figures = _figures(ids, now)
    reported = {
        row.service_id: row.updated_at
        for row in db.session.execute(
            sa.select(RefugeAvailability.service_id, RefugeAvailability.updated_at).where(
                RefugeAvailability.service_id.in_(ids)
            )
        )
    }
    next_lapse = db.session.scalar(
        sa.select(sa.func.min(BedHold.expires_at)).where(_live_hold_clause(now))
    )
    ttl = stale_after()
    valid_until = now + SEARCH_CACHE_MAX_AGE
    if next_lapse is not None:
        valid_until = min(valid_until, next_lapse)
    entries = []
    for refuge in refuges:
        updated_at = reported.get(refuge.id)
        if updated_at is not None and updated_at + ttl > now:
            valid_until = min(valid_until, updated_at + ttl)
        facilities = refuge.facilities or {}
        entries.append(
            _RefugeEntry(
                refuge_id=refuge.id,
                name=refuge.name,
                organisation_id=refuge.organisation_id,
                areas=tuple(refuge.areas),
                facilities={k: facilities[k] for k in FACILITY_KEYS if k in facilities},
                available={f.space_type: f.available for f in figures[refuge.id]},
                updated_at=updated_at,
                stale=is_stale(updated_at, now),
            )
        )
    # Freshest report first; refuges that never reported last; then by name.
    entries.sort(
        key=lambda e: (
            e.updated_at is None,
            -(e.updated_at.timestamp() if e.updated_at else 0),
            e.name,
            e.refuge_id,
        )
    )
    return _Snapshot(
        generation=generation if generation is not None else -1,
        valid_until=valid_until,
        stale_after=ttl,
        refuges=tuple(entries),
    )


def _wanted_types(args: dict) -> tuple[str, ...]:
    """The space types that meet the need: as asked, else accessible for a wheelchair user,
    else family for a woman with children, else any."""
    if args.get("space_type"):
        return (args["space_type"],)
    if args.get("wheelchair"):
        return ("accessible",)
    if args.get("children"):
        return ("family",)
    return SPACE_TYPES


def _matches(entry: _RefugeEntry, args: dict) -> bool:
    facilities = entry.facilities
    areas = set(entry.areas)
    if args.get("area") and not areas.intersection(args["area"]):
        return False
    if args.get("exclude_area") and areas.intersection(args["exclude_area"]):
        return False
    children = args.get("children")
    if children:
        max_children = facilities.get("max_children")
        if max_children is None or max_children < children:
            return False
    son_age = args.get("oldest_son_age")
    if son_age is not None:
        max_son_age = facilities.get("max_son_age")
        if max_son_age is None or max_son_age < son_age:
            return False
    if args.get("wheelchair") and not facilities.get("wheelchair_accessible"):
        return False
    if args.get("nrpf") and not facilities.get("accepts_nrpf"):
        return False
    if args.get("pets") and not facilities.get("accepts_pets"):
        return False
    return True


def _answer(snapshot: _Snapshot, args: dict) -> bytes:
    wanted = _wanted_types(args)
    found = []
    for entry in snapshot.refuges:
        if not _matches(entry, args):
            continue
        spaces = [
            {"space_type": t, "available": entry.available[t]}
            for t in wanted
            if entry.available.get(t, 0) > 0
        ]
        if not spaces:
            continue
        found.append(
            {
                "refuge_id": entry.refuge_id,
                "name": entry.name,
                "organisation_id": entry.organisation_id,
                "areas": list(entry.areas),
                "facilities": entry.facilities,
                "spaces": spaces,
                "updated_at": entry.updated_at.isoformat() if entry.updated_at else None,
                "stale": entry.stale,
            }
        )
    return json.dumps(found, separators=(",", ":")).encode()


def _search_key(args: dict) -> tuple:
    return (
        tuple(sorted(set(args.get("area") or ()))),
        tuple(sorted(set(args.get("exclude_area") or ()))),
        args.get("space_type"),
        args.get("children"),
        args.get("oldest_son_age"),
        bool(args.get("wheelchair")),
        bool(args.get("nrpf")),
        bool(args.get("pets")),
    )


def search(args: dict) -> bytes:
    """Refuges with a matching space available now, freshest report first, as JSON.

    Served from this process's cache while the database's generation number is unchanged and
    no hold has lapsed nor any report turned stale since the cache was built.
    """
    cache = _cache()
    generation = _read_generation()
    now = utcnow()
    snapshot = cache.snapshot
    if (
        snapshot is None
        or generation is None
        or snapshot.generation != generation
        or now >= snapshot.valid_until
        or snapshot.stale_after != stale_after()
    ):
        snapshot = _build_snapshot(generation, now)
        if generation is not None:
            cache.snapshot = snapshot
    key = _search_key(args)
    answer = snapshot.answers.get(key)
    if answer is None:
        answer = _answer(snapshot, args)
        if len(snapshot.answers) >= SEARCH_ANSWERS_KEPT:
            snapshot.answers.clear()
        snapshot.answers[key] = answer
    return answer
