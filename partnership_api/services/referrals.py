"""Referrals: making them (idempotently), reading and listing them, the lifecycle, the timeline.

Every function here asks the policy first, writes the audit trail in the same transaction as
the change it records, and commits. Audit events about a referral name the sending
organisation as their subject and the receiving one as related, so both organisations' admins
see them.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_smorest import abort
from sqlalchemy.exc import IntegrityError

from partnership_api import audit, direct, policy
from partnership_api.events import outbox
from partnership_api.extensions import db
from partnership_api.models.base import utcnow
from partnership_api.models.beds import BedHold
from partnership_api.models.partnership import Service, User
from partnership_api.models.referrals import (
    RECEIVING_SERVICE_KINDS,
    IdempotencyKey,
    ReferenceCounter,
    Referral,
    ReferralEvent,
)
from partnership_api.pagination import check_page
from partnership_api.policy import Actor
from partnership_api.services import holds

WORKING_TIME = ZoneInfo("Europe/London")
HIGH_RISK_RESPONSE = timedelta(hours=24)
WORKING_DAYS_TO_RESPOND = 2
# A list counts at most this many referrals past the start of the page it shows (see
# ``list_referrals``), so no page ever counts an organisation's whole history.
COUNT_LIMIT = 1000

# action → (the status it needs, the status it leads to)
TRANSITIONS = {
    "accept": ("submitted", "accepted"),
    "decline": ("submitted", "declined"),
    "redirect": ("submitted", "redirected"),
    "withdraw": ("submitted", "withdrawn"),
    "close": ("accepted", "closed"),
}


# --- rules of the referral itself -------------------------------------------------------------


def response_due(created_at: datetime, risk_level: str) -> datetime:
    """24 hours for high risk; otherwise 2 working days (Monday to Friday, UK time)."""
    if risk_level == "high":
        return created_at + HIGH_RISK_RESPONSE
    day = created_at.astimezone(WORKING_TIME)
    counted = 0
    while counted < WORKING_DAYS_TO_RESPOND:
        day += timedelta(days=1)  # wall-clock arithmetic: the same local time, across DST
        if day.weekday() < 5:
            counted += 1
    return day.astimezone(UTC)


def is_overdue(referral: Referral, now: datetime) -> bool:
    return referral.status == "submitted" and now > referral.response_due_at


def _next_reference(year: int) -> str:
    """The next ``REF-YYYY-NNNNNN``: the year's counter row is locked by the UPDATE until commit."""
    take = (
        sa.update(ReferenceCounter)
        .where(ReferenceCounter.year == year)
        .values(last_number=ReferenceCounter.last_number + 1)
        .returning(ReferenceCounter.last_number)
        .execution_options(synchronize_session=False)
    )
    number = db.session.execute(take).scalar_one_or_none()
    if number is None:
        try:
            with db.session.begin_nested():
                db.session.add(ReferenceCounter(year=year, last_number=0))
        except IntegrityError:
            pass  # another request made the year's row first; take a number from it
        number = db.session.execute(take).scalar_one()
    return f"REF-{year}-{number:06d}"


def _receiving_service(kind: str, service_id: int, field: str = "to_service_id") -> Service:
    """The service a referral of this kind may go to, or a 422 naming ``field``."""
    service = db.session.get(Service, service_id)
    if service is None or not service.active:
        abort(
            422,
            message=f"{field}: no such service.",
            errors={"json": {field: ["No such service."]}},
        )
    allowed = RECEIVING_SERVICE_KINDS[kind]
    if service.kind not in allowed:
        wanted = " or ".join(allowed)
        abort(
            422,
            message=f"{field}: a {kind} referral can only go to a {wanted} service, "
            f"not a {service.kind}.",
            errors={"json": {field: [f"A {kind} referral can only go to a {wanted} service."]}},
        )
    return service


def _parties(referral: Referral) -> dict:
    return {
        "subject_organisation_id": referral.from_organisation_id,
        "related_organisation_id": referral.to_organisation_id,
    }


def _load(referral_id: uuid.UUID) -> Referral:
    referral = db.session.get(Referral, referral_id)
    if referral is None:
        abort(404, message="Not found.")
    return referral


def _visible(actor: Actor, referral_id: uuid.UUID, action: str = "referral.read") -> Referral:
    referral = _load(referral_id)
    policy.authorize(actor, action, referral)
    return referral


# --- what callers see -------------------------------------------------------------------------


def present(referrals: list[Referral]) -> list[dict]:
    """Referrals as partners see them, with their live holds fetched in one query."""
    live = holds.live_holds(r.id for r in referrals)
    now = utcnow()
    shown = []
    for referral in referrals:
        hold = live.get(referral.id)
        if hold is not None:
            hold = _hold_shown(
                hold.id, referral.id, hold.service_id, hold.space_type, hold.expires_at
            )
        shown.append(_shown(referral, hold, now))
    return shown


def _hold_shown(hold_id, referral_id, refuge_id: int, space_type: str, expires_at) -> dict:
    return {
        "id": hold_id,
        "referral_id": referral_id,
        "refuge_id": refuge_id,
        "space_type": space_type,
        "expires_at": expires_at,
    }


# The hot reads (one referral, a page of the inbox) read each referral and its live hold in one
# statement, as plain rows: the same fields ``present`` shows, without the ORM's bookkeeping.
_REFERRALS = Referral.__table__
_HOLDS = BedHold.__table__
ROW_COLUMNS = (
    *_REFERRALS.c,
    _HOLDS.c.id.label("hold_id"),
    _HOLDS.c.service_id.label("hold_service_id"),
    _HOLDS.c.space_type.label("hold_space_type"),
    _HOLDS.c.expires_at.label("hold_expires_at"),
)


def _with_live_hold(stmt: sa.Select, now: datetime | sa.BindParameter) -> sa.Select:
    """``stmt`` (over referrals) joined to each referral's live hold, if it has one (there is
    at most one: ``uq_bed_holds_active_referral``)."""
    return stmt.outerjoin(
        _HOLDS,
        sa.and_(
            _HOLDS.c.referral_id == _REFERRALS.c.id,
            _HOLDS.c.state == "active",
            _HOLDS.c.expires_at > now,
        ),
    )


NOW = sa.bindparam("now", type_=Referral.__table__.c.created_at.type)
READ_ONE = _with_live_hold(sa.select(*ROW_COLUMNS), NOW).where(
    _REFERRALS.c.id == sa.bindparam("referral_id", type_=_REFERRALS.c.id.type)
)


def _row_shown(row: sa.Row, now: datetime) -> dict:
    hold = None
    if row.hold_id is not None:
        hold = _hold_shown(
            row.hold_id, row.id, row.hold_service_id, row.hold_space_type, row.hold_expires_at
        )
    return _shown(row, hold, now)


def _shown(referral: Referral | sa.Row, hold: dict | None, now: datetime) -> dict:
    return {
        "id": referral.id,
        "reference": referral.reference,
        # The column is the authority: it is set when the referral is made and never lowered.
        "do_not_contact": referral.do_not_contact,
        "kind": referral.kind,
        "status": referral.status,
        "from_organisation_id": referral.from_organisation_id,
        "to_organisation_id": referral.to_organisation_id,
        "to_service_id": referral.to_service_id,
        "risk_level": referral.risk_level,
        "dash_score": referral.dash_score,
        "marac": referral.marac,
        "subject": referral.subject,
        "safe_contact": {**referral.safe_contact, "do_not_contact": referral.do_not_contact},
        "household": referral.household,
        "needs": referral.needs,
        "consent": referral.consent,
        "summary": referral.summary,
        "decline_reason": referral.decline_reason,
        "outcome": referral.outcome,
        "created_at": referral.created_at,
        "updated_at": referral.updated_at,
        "response_due_at": referral.response_due_at,
        "overdue": is_overdue(referral, now),
        "redirected_to": referral.redirected_to_id,
        "redirected_from": referral.redirected_from_id,
        "hold": hold,
    }


# --- making a referral ------------------------------------------------------------------------


def _stored(data: dict) -> dict:
    """The loaded body in the form it is stored (and fingerprinted) in: JSON types only."""
    return json.loads(json.dumps(data, default=str))


def _fingerprint(body: dict) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(actor: Actor, key: str, fingerprint: str) -> dict | None:
    """The referral an earlier request with this key made, if there was one."""
    row = db.session.get(IdempotencyKey, (actor.user_id, key))
    if row is None:
        return None
    if row.request_hash != fingerprint:
        abort(
            422,
            message="Idempotency-Key: this key was used for a different referral; "
            "use a new key for a new referral.",
            errors={"headers": {"Idempotency-Key": ["Already used with a different body."]}},
        )
    referral = _visible(actor, row.referral_id)
    shown = present([referral])[0]
    audit.record(
        "referral.read",
        "referral",
        referral.id,
        details={"idempotent_replay": True},
        **_parties(referral),
    )
    db.session.commit()
    return shown


def _new_referral(
    actor: Actor,
    body: dict,
    service: Service,
    now: datetime,
    *,
    from_organisation_id: int,
    from_user_id: uuid.UUID | None,
    redirected_from: Referral | None = None,
) -> Referral:
    safe_contact = body["safe_contact"]
    referral = Referral(
        id=uuid.uuid4(),
        reference=_next_reference(now.year),
        kind=body["kind"],
        status="submitted",
        version=1,
        from_organisation_id=from_organisation_id,
        from_user_id=from_user_id,
        to_service_id=service.id,
        to_organisation_id=service.organisation_id,
        risk_level=body["risk_level"],
        dash_score=body.get("dash_score"),
        marac=body.get("marac", False),
        subject_area=body["subject"].get("area"),
        do_not_contact=bool(safe_contact.get("do_not_contact")),
        subject=body["subject"],
        safe_contact=safe_contact,
        household=body["household"],
        needs=body["needs"],
        consent=body["consent"],
        summary=body["summary"],
        redirected_from_id=redirected_from.id if redirected_from else None,
        created_at=now,
        updated_at=now,
        status_changed_at=now,
        response_due_at=response_due(now, body["risk_level"]),
    )
    db.session.add(referral)
    # No relationships link these models, so the unit of work would not know to insert the
    # referral before the rows that point at it: it goes in first, on its own.
    db.session.flush()
    details = None
    if redirected_from is not None:
        details = {
            "redirected_from": str(redirected_from.id),
            "redirected_by_organisation_id": actor.org_id,
        }
    db.session.add(
        ReferralEvent(
            referral_id=referral.id,
            at=now,
            kind="created",
            user_id=actor.user_id,
            organisation_id=actor.org_id,
            to_status="submitted",
            details=details,
        )
    )
    return referral


def create(actor: Actor, data: dict, idempotency_key: str | None) -> tuple[dict, bool]:
    """Make a referral; with an ``Idempotency-Key``, a retry returns the original instead.

    Returns the referral as shown and whether it was made now (False: a replay). The key's
    row and the referral are committed together; when two requests with one key race, the
    key's primary key lets exactly one commit and the other returns the winner's referral.
    """
    policy.require(actor, "referral.create")
    body = _stored(data)
    fingerprint = _fingerprint(body)
    if idempotency_key is not None:
        replayed = _replay(actor, idempotency_key, fingerprint)
        if replayed is not None:
            return replayed, False
    service = _receiving_service(body["kind"], body["to_service_id"])
    now = utcnow()
    referral = _new_referral(
        actor,
        body,
        service,
        now,
        from_organisation_id=actor.org_id,
        from_user_id=actor.user_id,
    )
    if idempotency_key is not None:
        db.session.add(
            IdempotencyKey(
                user_id=actor.user_id,
                key=idempotency_key,
                request_hash=fingerprint,
                referral_id=referral.id,
                created_at=now,
            )
        )
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        if idempotency_key is not None:
            replayed = _replay(actor, idempotency_key, fingerprint)
            if replayed is not None:
                return replayed, False
        raise
    audit.record(
        "referral.create",
        "referral",
        referral.id,
        details={"reference": referral.reference, "to_service_id": service.id},
        **_parties(referral),
    )
    outbox.emit_for_referral("referral.created", referral, to_service_id=service.id)
    shown = present([referral])[0]
    db.session.commit()
    return shown, True


# --- reading and listing ----------------------------------------------------------------------


def read(actor: Actor, referral_id: uuid.UUID) -> dict:
    """One referral; 404 when the caller's organisation neither sent nor received it."""
    policy.require(actor, "referral.read")
    now = utcnow()
    found = direct.rows(READ_ONE, {"referral_id": referral_id, "now": now})
    if not found:
        abort(404, message="Not found.")
    referral = found[0]
    policy.authorize(actor, "referral.read", referral)
    shown = _row_shown(referral, now)
    audit.record("referral.read", "referral", referral.id, **_parties(referral))
    db.session.commit()
    return shown


def _filtered(stmt: sa.Select, args: dict, now: datetime) -> sa.Select:
    for name in ("status", "kind", "risk_level", "to_service_id"):
        if name in args:
            stmt = stmt.where(getattr(Referral, name) == args[name])
    if "area" in args:
        stmt = stmt.where(Referral.subject_area == args["area"])
    if "overdue" in args:
        late = sa.and_(Referral.status == "submitted", Referral.response_due_at < now)
        stmt = stmt.where(late if args["overdue"] else sa.not_(late))
    if "created_after" in args:
        stmt = stmt.where(Referral.created_at > args["created_after"])
    if "created_before" in args:
        stmt = stmt.where(Referral.created_at < args["created_before"])
    if "modified_after" in args:
        stmt = stmt.where(Referral.updated_at > args["modified_after"])
    return stmt


NEWEST_FIRST = (Referral.created_at.desc(), Referral.id.desc())


def _sides(actor: Actor, args: dict) -> list[sa.ColumnElement[bool]]:
    """The parts of the caller's referrals to read, each along one organisation index.

    The parts are the policy's own scope, side by side (``policy.referral_scope_sides``): with
    ``direction``, one side; without it, what the organisation received and what it sent (and
    did not also receive). Merging the newest of each beats sorting everything the organisation
    ever sent or received, and one side alone lets the database use its index.
    """
    sides = policy.referral_scope_sides(actor)
    if not sides:
        return [sa.false()]
    direction = args.get("direction")
    if direction in sides:
        return [sides[direction]]
    return [sides["received"], sa.and_(sides["sent"], sa.not_(sides["received"]))]


def _scoped(actor: Actor, args: dict, now: datetime, side, *columns) -> sa.Select:
    return _filtered(sa.select(*columns), args, now).where(side).order_by(*NEWEST_FIRST)


def _newest_ids(actor: Actor, args: dict, now: datetime, window: int) -> sa.Subquery:
    """The ids of the newest ``window`` referrals of each side, as one subquery."""
    branches = []
    for side in _sides(actor, args):
        branch = _scoped(actor, args, now, side, Referral.id).limit(window).subquery()
        branches.append(sa.select(branch.c.id))
    return (branches[0] if len(branches) == 1 else sa.union_all(*branches)).subquery()


def _listing(actor: Actor, args: dict, now: datetime, window: int, *columns) -> sa.Select:
    """The caller's referrals matching ``args``, newest first, within the policy's scope.

    ``window`` is how many rows from the top the caller may page to (offset + page size).
    """
    sides = _sides(actor, args)
    if len(sides) == 1:
        return _scoped(actor, args, now, sides[0], *columns)
    newest = _newest_ids(actor, args, now, window)
    return (
        sa.select(*columns).where(Referral.id.in_(sa.select(newest.c.id))).order_by(*NEWEST_FIRST)
    )


def _count_up_to(actor: Actor, args: dict, now: datetime, cap: int) -> int:
    """How many referrals match, counting no further than ``cap``."""
    newest = _newest_ids(actor, args, now, cap)
    counted = db.session.scalar(sa.select(sa.func.count()).select_from(newest))
    return min(counted, cap)


def _build_page_statement(actor: Actor, args: dict, now) -> sa.Select:
    """A page of the caller's referrals with their live holds and the capped count: one
    statement, with ``now``, ``window``, ``cap``, ``size`` and ``offset`` to bind."""
    matching = (
        sa.select(sa.func.count())
        .select_from(_newest_ids(actor, args, now, sa.bindparam("cap", type_=sa.Integer)))
        .scalar_subquery()
        .label("matching")
    )
    listing = _listing(
        actor, args, now, sa.bindparam("window", type_=sa.Integer), *ROW_COLUMNS, matching
    )
    return (
        _with_live_hold(listing, now)
        .limit(sa.bindparam("size", type_=sa.Integer))
        .offset(sa.bindparam("offset", type_=sa.Integer))
    )


# Built once per policy scope (``policy.referral_scope_key``), direction and filters (their
# values are part of the statement), and reused: building and compiling it cost more than
# running it.
_PAGE_STATEMENTS: dict[tuple, sa.Select] = {}
PAGE_STATEMENTS_KEPT = 1024


def _page_statement(actor: Actor, args: dict, now: datetime) -> sa.Select:
    key = (policy.referral_scope_key(actor), tuple(sorted(args.items())))
    stmt = _PAGE_STATEMENTS.get(key)
    if stmt is None:
        if len(_PAGE_STATEMENTS) >= PAGE_STATEMENTS_KEPT:
            _PAGE_STATEMENTS.clear()
        stmt = _PAGE_STATEMENTS[key] = _build_page_statement(actor, args, NOW)
    return stmt


def list_referrals(actor: Actor, args: dict, pagination_parameters) -> list[dict]:
    """A page of the caller's organisation's referrals, sent and received, newest first.

    ``X-Pagination``'s ``total`` is exact up to ``COUNT_LIMIT`` referrals past the start of the
    page; when more match it says start + ``COUNT_LIMIT``, so ``next_page`` is always right
    and ``total_pages`` grows as the caller pages on. One ``referral.list`` audit event names
    every referral shown.
    """
    policy.require(actor, "referral.read")
    now = utcnow()
    size = pagination_parameters.page_size
    start = (pagination_parameters.page - 1) * size
    cap = start + COUNT_LIMIT
    check_page(pagination_parameters)
    page = _page_statement(actor, args, now)
    rows = direct.rows(
        page, {"now": now, "window": start + size, "cap": cap, "size": size, "offset": start}
    )
    if 0 < len(rows) < size or (not rows and start == 0):
        total = start + len(rows)
    elif rows:
        total = min(rows[0].matching, cap)
    else:  # past the end
        total = _count_up_to(actor, args, now, cap)
    pagination_parameters.item_count = total
    shown = [_row_shown(row, now) for row in rows]
    audit.record_many(_list_entries(actor, rows))
    db.session.commit()
    return shown


def _list_entries(actor: Actor, rows: list[sa.Row]) -> list[audit.Entry]:
    """Which referrals were listed: one event per partner organisation on the other side, so
    that organisation's admin sees its referrals were shown too."""
    by_partner: dict[int | None, list[str]] = {}
    for referral in rows:
        partner = (
            referral.to_organisation_id
            if referral.from_organisation_id == actor.org_id
            else referral.from_organisation_id
        )
        by_partner.setdefault(partner, []).append(str(referral.id))
    if not by_partner:
        by_partner[None] = []
    return [
        audit.Entry(
            "referral.list",
            "referral",
            None,
            subject_organisation_id=actor.org_id,
            related_organisation_id=partner,
            details={"ids": ids},
        )
        for partner, ids in by_partner.items()
    ]


def events(actor: Actor, referral_id: uuid.UUID) -> list[dict]:
    """The referral's timeline, oldest first (a read of the referral, audited as one)."""
    policy.require(actor, "referral.read")
    referral = _visible(actor, referral_id)
    rows = db.session.execute(
        sa.select(ReferralEvent, User.username)
        .outerjoin(User, User.id == ReferralEvent.user_id)
        .where(ReferralEvent.referral_id == referral.id)
        .order_by(ReferralEvent.id)
    ).all()
    audit.record(
        "referral.read", "referral", referral.id, details={"view": "events"}, **_parties(referral)
    )
    db.session.commit()
    return [_event_shown(event, username) for event, username in rows]


def _event_shown(event: ReferralEvent, username: str | None) -> dict:
    return {
        "id": event.id,
        "referral_id": event.referral_id,
        "at": event.at,
        "kind": event.kind,
        "user_id": event.user_id,
        "username": username,
        "organisation_id": event.organisation_id,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "reason_code": event.reason_code,
        "note": event.note,
        "details": event.details,
    }


# --- the timeline and the lifecycle -----------------------------------------------------------


def add_note(actor: Actor, referral_id: uuid.UUID, text: str) -> dict:
    """Add a note to the timeline of a referral the caller's organisation sent or received."""
    policy.require(actor, "referral.act")
    referral = _visible(actor, referral_id, "referral.note")
    now = utcnow()
    event = ReferralEvent(
        referral_id=referral.id,
        at=now,
        kind="note",
        user_id=actor.user_id,
        organisation_id=actor.org_id,
        note=text,
    )
    db.session.add(event)
    db.session.execute(
        sa.update(Referral)
        .where(Referral.id == referral.id)
        .values(updated_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    audit.record("referral.note", "referral", referral.id, **_parties(referral))
    outbox.emit_for_referral("referral.note_added", referral)
    db.session.commit()
    return _event_shown(event, actor.username)


def _conflict(action: str, status: str) -> None:
    needed = TRANSITIONS[action][0]
    abort(
        409,
        message=f"The referral is {status}: only a {needed} referral can be "
        f"{'closed' if action == 'close' else action + 'ed'}.",
    )


def transition(actor: Actor, referral_id: uuid.UUID, data: dict) -> dict:
    """Accept, decline, redirect, withdraw or close a referral; exactly one of two racers wins.

    The status changes with a conditional UPDATE (``WHERE status = <the status it needs>``):
    whoever commits first wins, and the other finds no row to change and gets a 409 naming
    the status the referral now has.
    """
    policy.require(actor, "referral.act")
    action = data["action"]
    referral = _visible(actor, referral_id, f"referral.{action}")
    expected, new_status = TRANSITIONS[action]
    if referral.status != expected:
        _conflict(action, referral.status)
    target = None
    if action == "redirect":
        target = _receiving_service(referral.kind, data["to_service_id"])
        if target.id == referral.to_service_id:
            abort(
                422,
                message="to_service_id: the referral is already addressed to that service.",
                errors={"json": {"to_service_id": ["Already addressed to this service."]}},
            )
    now = utcnow()
    values: dict = {
        "status": new_status,
        "version": Referral.version + 1,
        "updated_at": now,
        "status_changed_at": now,
    }
    if action == "decline":
        values["decline_reason"] = data["reason_code"]
    if action == "close":
        values["outcome"] = data["outcome"]
    changed = db.session.execute(
        sa.update(Referral)
        .where(Referral.id == referral.id, Referral.status == expected)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        db.session.rollback()
        current = db.session.scalar(sa.select(Referral.status).where(Referral.id == referral.id))
        _conflict(action, current or "gone")
    db.session.refresh(referral)

    details: dict = {}
    onward = None
    if target is not None:
        onward = _new_referral(
            actor,
            _carried_over(referral),
            target,
            now,
            from_organisation_id=referral.from_organisation_id,
            from_user_id=referral.from_user_id,
            redirected_from=referral,
        )
        db.session.flush()
        referral.redirected_to_id = onward.id
        details = {"redirected_to": str(onward.id), "to_service_id": target.id}
    db.session.add(
        ReferralEvent(
            referral_id=referral.id,
            at=now,
            kind=new_status,
            user_id=actor.user_id,
            organisation_id=actor.org_id,
            from_status=expected,
            to_status=new_status,
            reason_code=data.get("reason_code"),
            note=data.get("note"),
            details=details or None,
        )
    )
    if onward is None:
        outbox.emit_for_referral(f"referral.{new_status}", referral)
    else:
        outbox.emit_for_referral(
            "referral.redirected", referral, redirected_to=onward.id, to_service_id=target.id
        )
        outbox.emit_for_referral("referral.created", onward, to_service_id=target.id)
    holds.on_referral_transition(actor, referral, action)
    db.session.flush()
    audit_details = {"from_status": expected, "to_status": new_status}
    if data.get("reason_code"):
        audit_details["reason_code"] = data["reason_code"]
    if onward is not None:
        audit_details.update(redirected_to=str(onward.id), to_service_id=target.id)
    audit.record(
        f"referral.{action}", "referral", referral.id, details=audit_details, **_parties(referral)
    )
    if onward is not None:
        audit.record(
            "referral.create",
            "referral",
            onward.id,
            details={
                "reference": onward.reference,
                "to_service_id": target.id,
                "redirected_from": str(referral.id),
            },
            **_parties(onward),
        )
    shown = present([referral])[0]
    db.session.commit()
    return shown


def _carried_over(referral: Referral) -> dict:
    """The details a redirect carries to the new referral, unchanged."""
    return {
        "kind": referral.kind,
        "risk_level": referral.risk_level,
        "dash_score": referral.dash_score,
        "marac": referral.marac,
        "subject": referral.subject,
        "safe_contact": {**referral.safe_contact, "do_not_contact": referral.do_not_contact},
        "household": referral.household,
        "needs": referral.needs,
        "consent": referral.consent,
        "summary": referral.summary,
    }
