"""The outbox: an event row written in the same transaction as the change it tells of.

**Thin by construction.** ``emit`` accepts only the fields its type declares, each of a kind
that cannot hold personal data: UUIDs and integer ids, a space type, the names of fields that
changed. Anything else raises before anything is written, so an event can never carry a name,
a date of birth, a phone number, safe times, a note's text or an address. A receiver reads the
detail through the API, which checks need to know and audits the read (and so honours
do-not-contact: nothing about the victim leaves in an event).

**Positions in commit order.** A reader asks for events ``after=<position>``; if positions
were taken from a sequence when each event was written, a transaction that took position 7
could commit after another took and committed 8, and a reader who had already read up to 8
would never see 7. So positions are given at commit (a commit hook, after the audit chain's
head and the bed-search generation: one lock order for every transaction): the transaction
locks the one ``event_head`` row, takes the next positions and inserts its events, and the
lock is held until it commits. The next transaction with events waits for that commit, so
every position a reader can see was committed after all smaller ones: reading ``after`` the
last position seen never misses one. The lock is held only for the commit, as the audit
chain's head is; transactions without events never take it. (A rolled-back transaction
gives its positions back, so positions have no gaps either.)
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import Session

from partnership_api import direct, transactions
from partnership_api.database import db
from partnership_api.direct import statements as prebuilt
from partnership_api.models.base import utcnow
from partnership_api.models.beds import SPACE_TYPES
from partnership_api.models.events import Event, EventHead, EventOrganisation

# --- what an event may carry ------------------------------------------------------------------

CHANGED_FIELDS = ("status", "rag")


def _uuid(value: object) -> str:
    if isinstance(value, uuid.UUID):
        return str(value)
    return str(uuid.UUID(str(value)))  # raises ValueError for anything else


def _id(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("an id is a positive integer")
    return value


def _space_type(value: object) -> str:
    if value not in SPACE_TYPES:
        raise ValueError("not a space type")
    return str(value)


HOLD_CAPS = ("user", "organisation", "refuge_share")


def _cap(value: object) -> str:
    if value not in HOLD_CAPS:
        raise ValueError("not a hold cap")
    return str(value)


def _changed(value: object) -> list[str]:
    names = list(value)  # type: ignore[call-overload]
    if not names or any(name not in CHANGED_FIELDS for name in names):
        raise ValueError("changed names fields of CHANGED_FIELDS only")
    return sorted(set(names))


# Every field any event may carry, and the only kind of value it may hold.
FIELD_KINDS = {
    "referral_id": _uuid,
    "redirected_to": _uuid,
    "hold_id": _uuid,
    "alert_id": _uuid,
    "user_id": _uuid,
    "refuge_id": _id,
    "to_service_id": _id,
    "from_organisation_id": _id,
    "to_organisation_id": _id,
    "organisation_id": _id,
    "project_id": _id,
    "milestone_id": _id,
    "space_type": _space_type,
    "changed": _changed,
    "cap": _cap,
}


@dataclass(frozen=True)
class EventType:
    """A type of event: who may hear it (``policy_events.scope_events``), what it carries, and what
    it means (shown in the API document)."""

    audience: str
    fields: tuple[str, ...]
    description: str


_REFERRAL = ("referral_id", "from_organisation_id", "to_organisation_id")
_HOLD = ("hold_id", "referral_id", "refuge_id", "space_type")

EVENT_TYPES: dict[str, EventType] = {
    "referral.created": EventType("referral", (*_REFERRAL, "to_service_id"), "a referral was made"),
    "referral.accepted": EventType("referral", _REFERRAL, "the receiver accepted it"),
    "referral.declined": EventType("referral", _REFERRAL, "the receiver declined it"),
    "referral.redirected": EventType(
        "referral",
        (*_REFERRAL, "redirected_to", "to_service_id"),
        "the receiver passed it on: `redirected_to` is the onward referral",
    ),
    "referral.withdrawn": EventType("referral", _REFERRAL, "the sender withdrew it"),
    "referral.closed": EventType("referral", _REFERRAL, "the receiver closed it"),
    "referral.note_added": EventType("referral", _REFERRAL, "a note was added to its timeline"),
    "referral.overdue": EventType(
        "referral", _REFERRAL, "no answer by the time its risk level allows"
    ),
    "hold.placed": EventType("referral", _HOLD, "a bed space was held for a referral"),
    "hold.released": EventType("referral", _HOLD, "a hold was released"),
    "hold.lapsed": EventType("referral", _HOLD, "a hold reached its end without a decision"),
    "hold.admitted": EventType("referral", _HOLD, "a held space became an admission"),
    "hold.cap_reached": EventType(
        "hold_caps",
        ("organisation_id", "refuge_id", "cap"),
        "an organisation's holds reached a cap (`cap`: `user`, `organisation` or "
        "`refuge_share`) with a hold at this refuge: heard by the refuge and the partnership "
        "admins",
    ),
    "user.password_reset_refused": EventType(
        "org_admins",
        ("organisation_id", "user_id"),
        "the partnership admin tried to reset the password of one of this organisation's "
        "users and was refused: heard by the organisation's admins",
    ),
    "availability.reported": EventType(
        "everyone", ("refuge_id", "organisation_id"), "a refuge reported its bed spaces"
    ),
    "availability.confirmed": EventType(
        "everyone",
        ("refuge_id", "organisation_id"),
        "a refuge confirmed its reported bed spaces are still accurate",
    ),
    "commissioned_spaces.reported": EventType(
        "everyone",
        ("refuge_id", "organisation_id"),
        "a refuge reported its commissioned bed spaces by accommodation type",
    ),
    "stay.changed": EventType(
        "referral",
        ("referral_id", "refuge_id"),
        "a refuge recorded who stayed (heard by the refuge's own organisation only)",
    ),
    "project.changed": EventType(
        "projects", ("project_id", "changed"), "a project's status or RAG rating changed"
    ),
    "project.milestone_overdue": EventType(
        "projects", ("project_id", "milestone_id"), "a milestone passed its due date"
    ),
    "vacancy.matched": EventType(
        "referral",
        ("alert_id", "refuge_id", "space_type", "referral_id"),
        "a space that fits a vacancy alert has opened",
    ),
}


def thin_data(event_type: str, data: dict) -> dict:
    """The event's data as stored and sent: only its type's fields, each of its own kind."""
    declared = EVENT_TYPES[event_type]
    unknown = set(data) - set(declared.fields)
    if unknown:
        raise ValueError(f"{event_type} carries no {sorted(unknown)}")
    return {name: FIELD_KINDS[name](value) for name, value in data.items() if value is not None}


# --- writing ----------------------------------------------------------------------------------

PENDING = "events_pending"


def emit(
    event_type: str,
    organisations: Iterable[int | None],
    *,
    key: str | None = None,
    session: Session | None = None,
    **data: object,
) -> None:
    """Write an event in the current transaction (the caller commits; a rollback drops it).

    ``organisations`` are the ones it is about (its parties for ``policy_events.scope_events``);
    ``data`` the ids it carries, checked against its type (``thin_data``); ``key`` makes an
    event that the sweep finds unique.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    session = session or db.session()
    session.info.setdefault(PENDING, []).append(
        {
            "id": uuid.uuid4(),
            "type": event_type,
            "occurred_at": utcnow(),
            "audience": EVENT_TYPES[event_type].audience,
            "data": thin_data(event_type, data),
            "key": key,
            "organisations": sorted({org for org in organisations if org is not None}),
        }
    )


def record(
    session: Session | None, event_type: str, organisations: Iterable[int | None], **data: object
) -> None:
    """``emit`` with the session first: ``record(db.session, "availability.confirmed",
    [refuge.organisation_id], refuge_id=refuge.id, organisation_id=refuge.organisation_id)``."""
    emit(event_type, organisations, session=session, **data)


_HEAD = EventHead.__table__
TAKE_POSITIONS = (
    sa.update(_HEAD)
    .where(_HEAD.c.id == 1)
    .values(last_position=_HEAD.c.last_position + sa.bindparam("count", type_=sa.BigInteger))
    .returning(_HEAD.c.last_position)
)


def _make_head(session: Session) -> None:
    """SQLite: the head row, when a database set up by hand has none (PostgreSQL's statement
    makes it itself)."""
    session.execute(sa.insert(_HEAD).prefix_with("OR IGNORE").values(id=1, last_position=0))


def _append_on_postgresql(session: Session, pending: list[dict]) -> None:
    events, parties = [], []
    for ord_, event in enumerate(pending, start=1):
        organisations = event.pop("organisations")
        events.append({**event, "ord": ord_})
        parties.extend({"ord": ord_, "organisation_id": org} for org in organisations)
    params = {
        "events": orjson.dumps(events).decode(),
        "parties": orjson.dumps(parties).decode(),
        "count": len(events),
    }
    # One statement (``direct.statements.EVENTS_APPEND``): lock the head and move it (making it
    # when it is missing), write the events and their organisations; sent in one round trip
    # with the other commit hooks' statements (``at_commit``).
    direct.at_commit(session, prebuilt.EVENTS_APPEND, params)


def _write_pending(session: Session) -> None:
    """Give the transaction's events their positions and write them, just before it commits."""
    pending = session.info.pop(PENDING, None)
    if not pending:
        return
    if session.get_bind().dialect.name == "postgresql":
        _append_on_postgresql(session, pending)
        return
    count = len(pending)
    last = session.execute(TAKE_POSITIONS, {"count": count}).scalar()
    if last is None:
        _make_head(session)
        last = session.execute(TAKE_POSITIONS, {"count": count}).scalar_one()
    first = last - count + 1
    rows, parties = [], []
    for position, event in enumerate(pending, start=first):
        organisations = event.pop("organisations")
        rows.append({**event, "position": position})
        parties.extend({"position": position, "organisation_id": org} for org in organisations)
    session.execute(sa.insert(Event.__table__), rows)
    if parties:
        session.execute(sa.insert(EventOrganisation.__table__), parties)


def _drop_pending(session: Session) -> None:
    session.info.pop(PENDING, None)


transactions.on_commit("event_positions", _write_pending)
transactions.on_rollback("event_positions", _drop_pending)


def last_position(session: Session | None = None) -> int:
    """The newest committed position (0 when there is none)."""
    session = session or db.session()
    return session.scalar(sa.select(sa.func.coalesce(sa.func.max(Event.position), 0))) or 0


def emit_for_referral(event_type: str, referral: object, **data: object) -> None:
    """An event about a referral (or its hold): its ids, heard by its sender and receiver."""
    parties = (referral.from_organisation_id, referral.to_organisation_id)  # type: ignore[attr-defined]
    if not event_type.startswith("hold."):
        data = {
            "from_organisation_id": parties[0],
            "to_organisation_id": parties[1],
            **data,
        }
    emit(event_type, parties, referral_id=referral.id, **data)  # type: ignore[attr-defined]
