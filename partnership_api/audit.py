"""The audit trail: who read or changed what, when, from where, and whether it was allowed.

Events are written in the same transaction as the change they record. Each carries a hash
chained to the one before it; ``flask audit verify`` walks the chain and names the first
broken link. Taking the next link locks the single chain-head row, so the chain stays a line
even with many workers writing at once.

An event's hash is ``sha256("{seq}|{previous hash}|{content digest}")``, where the content
digest is the SHA-256 of the event's fields (all but its place in the chain) as canonical JSON.
The content digest is computed here; the link needs the previous hash, which only the locked
chain head knows. On PostgreSQL one statement (``direct.statements.AUDIT_APPEND``) locks the
head, links the transaction's events, inserts them and moves the head, so the lock is held for
one round trip and the commit, not for three. SQLite takes its write lock at BEGIN and links
them here.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import Session

from partnership_api import context, direct, transactions
from partnership_api.database import db
from partnership_api.direct import statements as prebuilt
from partnership_api.domain_errors import Refused
from partnership_api.models.audit import AuditChainHead, AuditEvent
from partnership_api.models.base import utcnow

if TYPE_CHECKING:
    from partnership_api.policy import Actor

GENESIS_HASH = "0" * 64

# The fields an event's content digest covers, in the order they are written.
CONTENT_FIELDS = (
    "at",
    "user_id",
    "username",
    "organisation_id",
    "action",
    "resource_type",
    "resource_id",
    "subject_organisation_id",
    "related_organisation_id",
    "request_id",
    "client_address",
    "outcome",
    "details",
)


def content_digest(fields: dict) -> str:
    """SHA-256 of an event's content as canonical JSON (``fields`` as the row holds them)."""
    body = {name: fields[name] for name in CONTENT_FIELDS}
    body["at"] = fields["at"].isoformat()
    body["user_id"] = str(fields["user_id"]) if fields["user_id"] else None
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def link_hash(seq: int, prev_hash: str, content: str) -> str:
    """An event's hash: its place, the previous event's hash and its own content."""
    return hashlib.sha256(f"{seq}|{prev_hash}|{content}".encode()).hexdigest()


def legacy_digest(event: AuditEvent) -> str:
    """The first format's hash (until November 2026): the whole event, its place and the
    previous hash included, as ``json.dumps`` canonical JSON. Chains begun then still verify;
    see ``verify_chain``."""
    body = {name: getattr(event, name) for name in CONTENT_FIELDS}
    body.update(
        id=event.id,
        at=event.at.isoformat(),
        user_id=str(event.user_id) if event.user_id else None,
        prev_hash=event.prev_hash,
    )
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def ensure_chain_head(session: Session | None = None) -> None:
    """Create the chain's head row if it is missing (migrations create it too)."""
    session = session or db.session
    if session.get(AuditChainHead, 1) is None:
        session.add(AuditChainHead(id=1, last_seq=0, last_hash=GENESIS_HASH))
        session.flush()


_HEAD = AuditChainHead.__table__
_EVENTS = AuditEvent.__table__
HEAD_QUERY = sa.select(_HEAD.c.last_seq, _HEAD.c.last_hash).where(_HEAD.c.id == 1).with_for_update()

# PostgreSQL: one statement (``direct.statements.AUDIT_APPEND``) locks the head, links the
# events in order (the hash computed by the database exactly as ``link_hash`` does), inserts
# them and moves the head; ``AUDIT_MAKE_HEAD`` makes a missing head. Both are atomic alone.


@dataclass
class Entry:
    """An event to write: what happened, to what, and with what outcome."""

    action: str
    resource_type: str
    resource_id: object = None
    outcome: str = "allowed"
    subject_organisation_id: int | None = None
    related_organisation_id: int | None = None
    details: dict | None = None


PENDING = "audit_pending"


def record_many(
    entries: Iterable[Entry],
    actor: Actor | None = None,
    *,
    username: str | None = None,
    user_id: uuid.UUID | None = None,
    organisation_id: int | None = None,
    at: datetime | None = None,
) -> None:
    """Append events to the chain in the current transaction (the caller commits).

    The events are linked into the chain at commit (``_link_pending``), so the chain head's
    lock is held only for the commit itself, not for the rest of the request. Without an actor
    (signing in, the CLI), ``username``, ``user_id`` and ``organisation_id`` say who acted
    when that is known.
    """
    entries = list(entries)
    if not entries:
        return
    if actor is None:
        actor = context.request_actor()
    when = (at or utcnow()).astimezone(UTC)
    request_id = context.request_id()
    address = context.request_address()
    pending = db.session.info.setdefault(PENDING, [])
    for entry in entries:
        pending.append(
            {
                "public_id": uuid.uuid4(),
                "at": when,
                "user_id": actor.user_id if actor else user_id,
                "username": actor.username if actor else username,
                "organisation_id": actor.org_id if actor else organisation_id,
                "action": entry.action,
                "resource_type": entry.resource_type,
                "resource_id": str(entry.resource_id) if entry.resource_id is not None else None,
                "subject_organisation_id": entry.subject_organisation_id,
                "related_organisation_id": entry.related_organisation_id,
                "request_id": request_id,
                "client_address": address,
                "outcome": entry.outcome,
                "details": entry.details,
            }
        )


def _link_pending(session: Session) -> None:
    """Give the transaction's events their place in the chain, just before it commits."""
    events = session.info.pop(PENDING, None)
    if not events:
        return
    if session.get_bind().dialect.name == "postgresql":
        rows = [
            {
                **event,
                "ord": ord_,
                "content": content_digest(event),
            }
            for ord_, event in enumerate(events, start=1)
        ]
        payload = {"events": orjson.dumps(rows).decode()}

        def linked(outcome: direct.Outcome) -> None:
            if outcome.rowcount == 1:
                return
            # No head row (a database set up by hand): make it, and link again.
            direct.execute(prebuilt.AUDIT_MAKE_HEAD, {"genesis": GENESIS_HASH}, session)
            if direct.execute(prebuilt.AUDIT_APPEND, payload, session) != 1:
                raise RuntimeError(
                    "The audit chain's head could not be locked: events not written."
                )

        # Sent in one round trip with the other commit hooks' statements (``at_commit``).
        direct.at_commit(session, prebuilt.AUDIT_APPEND, payload, then=linked)
        return
    row = session.execute(HEAD_QUERY).one_or_none()
    if row is None:
        ensure_chain_head(session)
        row = session.execute(HEAD_QUERY).one()
    seq, prev_hash = row.last_seq, row.last_hash
    for event in events:
        seq += 1
        event["id"] = seq
        event["prev_hash"] = prev_hash
        event["hash"] = prev_hash = link_hash(seq, prev_hash, content_digest(event))
    session.execute(_EVENTS.insert(), events)
    session.execute(_HEAD.update().where(_HEAD.c.id == 1).values(last_seq=seq, last_hash=prev_hash))


def _drop_pending(session: Session) -> None:
    """Events of a transaction that was rolled back never happened."""
    session.info.pop(PENDING, None)


transactions.on_commit("audit_chain_head", _link_pending)
transactions.on_rollback("audit_chain_head", _drop_pending)


def record(
    action: str,
    resource_type: str,
    resource_id: object = None,
    *,
    outcome: str = "allowed",
    actor: Actor | None = None,
    subject_organisation_id: int | None = None,
    related_organisation_id: int | None = None,
    details: dict | None = None,
    username: str | None = None,
    user_id: uuid.UUID | None = None,
    organisation_id: int | None = None,
) -> None:
    """Append one event in the current transaction (the caller commits)."""
    entry = Entry(
        action,
        resource_type,
        resource_id,
        outcome,
        subject_organisation_id,
        related_organisation_id,
        details,
    )
    record_many([entry], actor, username=username, user_id=user_id, organisation_id=organisation_id)


def record_refusal(
    action: str,
    resource_type: str,
    resource_id: object = None,
    *,
    actor: Actor | None = None,
    username: str | None = None,
    details: dict | None = None,
    subject_organisation_id: int | None = None,
    related_organisation_id: int | None = None,
) -> None:
    """Write a refused attempt in a transaction of its own, so the refusal is kept."""
    db.session.rollback()
    record(
        action,
        resource_type,
        resource_id,
        outcome="refused",
        actor=actor,
        username=username,
        details=details,
        subject_organisation_id=subject_organisation_id,
        related_organisation_id=related_organisation_id,
    )
    db.session.commit()


def record_refused(refused: Refused) -> None:
    """Write a policy refusal (``policy.require``/``authorize``) in a transaction of its own,
    as what it carries says (nothing when it carries no record)."""
    what = refused.record
    if what is None:
        return
    record_refusal(
        what.action,
        what.resource_type,
        what.resource_id,
        actor=refused.actor,
        details=what.details,
        subject_organisation_id=what.subject_organisation_id,
        related_organisation_id=what.related_organisation_id,
    )


@dataclass
class BrokenLink:
    event_id: int
    reason: str


def verify_chain(batch: int = 5000) -> tuple[int, BrokenLink | None]:
    """Walk the whole chain; return how many events were checked and the first broken link."""
    checked = 0
    expected_id = 1
    prev_hash = GENESIS_HASH
    legacy_allowed = True  # a chain may begin in the first format (``legacy_digest``)
    for event in _iter_events(batch):
        if event.id != expected_id:
            return checked, BrokenLink(expected_id, f"event {expected_id} is missing")
        if event.prev_hash != prev_hash:
            return checked, BrokenLink(event.id, "its link to the previous event does not match")
        content = content_digest({name: getattr(event, name) for name in CONTENT_FIELDS})
        if link_hash(event.id, event.prev_hash, content) == event.hash:
            legacy_allowed = False  # once the current format starts, it never stops
        elif not (legacy_allowed and legacy_digest(event) == event.hash):
            return checked, BrokenLink(event.id, "its content does not match its hash")
        prev_hash = event.hash
        expected_id += 1
        checked += 1
    head = db.session.get(AuditChainHead, 1)
    if head is not None and (head.last_seq != checked or head.last_hash != prev_hash):
        return checked, BrokenLink(checked + 1, "events after this point were removed")
    return checked, None


def _iter_events(batch: int) -> Iterator[AuditEvent]:
    last = 0
    while True:
        rows = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.id > last).order_by(AuditEvent.id).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].id
        db.session.expunge_all()
