"""The audit trail: who read or changed what, when, from where, and whether it was allowed.

Events are written in the same transaction as the change they record. Each carries a hash
chained to the one before it; ``flask audit verify`` walks the chain and names the first
broken link. Taking the next link locks the single chain-head row, so the chain stays a line
even with many workers writing at once.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask import g, has_request_context, request
from sqlalchemy.orm import Session

from partnership_api.extensions import db
from partnership_api.models.audit import AuditChainHead, AuditEvent
from partnership_api.models.base import utcnow

if TYPE_CHECKING:
    from partnership_api.policy import Actor

GENESIS_HASH = "0" * 64


def _digest(event: AuditEvent) -> str:
    body = {
        "id": event.id,
        "at": event.at.isoformat(),
        "user_id": str(event.user_id) if event.user_id else None,
        "username": event.username,
        "organisation_id": event.organisation_id,
        "action": event.action,
        "resource_type": event.resource_type,
        "resource_id": event.resource_id,
        "subject_organisation_id": event.subject_organisation_id,
        "related_organisation_id": event.related_organisation_id,
        "request_id": event.request_id,
        "client_address": event.client_address,
        "outcome": event.outcome,
        "details": event.details,
        "prev_hash": event.prev_hash,
    }
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
_COLUMNS = list(_EVENTS.columns)
HEAD_QUERY = sa.select(_HEAD.c.last_seq, _HEAD.c.last_hash).where(_HEAD.c.id == 1).with_for_update()


def _next_link(session: Session) -> tuple[int, str]:
    """Lock the chain head; return the next sequence number and the last event's hash."""
    row = session.execute(HEAD_QUERY).one_or_none()
    if row is None:
        ensure_chain_head(session)
        row = session.execute(HEAD_QUERY).one()
    return row.last_seq + 1, row.last_hash


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
) -> list[AuditEvent]:
    """Append events to the chain in the current transaction (the caller commits).

    The events are linked into the chain at commit (``_link_pending``), so the chain head's
    lock is held only for the commit itself, not for the rest of the request. Without an actor
    (signing in, the CLI), ``username``, ``user_id`` and ``organisation_id`` say who acted
    when that is known.
    """
    entries = list(entries)
    if not entries:
        return []
    if actor is None and has_request_context():
        actor = g.get("actor")
    when = at or utcnow()
    request_id = g.get("request_id") if has_request_context() else None
    address = request.remote_addr if has_request_context() else None
    events = [
        AuditEvent(
            at=when,
            user_id=actor.user_id if actor else user_id,
            username=actor.username if actor else username,
            organisation_id=actor.org_id if actor else organisation_id,
            action=entry.action,
            resource_type=entry.resource_type,
            resource_id=str(entry.resource_id) if entry.resource_id is not None else None,
            subject_organisation_id=entry.subject_organisation_id,
            related_organisation_id=entry.related_organisation_id,
            request_id=request_id,
            client_address=address,
            outcome=entry.outcome,
            details=entry.details,
        )
        for entry in entries
    ]
    db.session.info.setdefault(PENDING, []).extend(events)
    return events


@sa.event.listens_for(Session, "before_commit")
def _link_pending(session: Session) -> None:
    """Give the transaction's events their place in the chain, just before it commits."""
    events = session.info.pop(PENDING, None)
    if not events:
        return
    seq, prev_hash = _next_link(session)
    for event in events:
        event.id = seq
        event.prev_hash = prev_hash
        event.hash = _digest(event)
        prev_hash = event.hash
        seq += 1
    # Core statements: the events are written as they are, without the unit of work's cost.
    session.execute(
        _EVENTS.insert(), [{c.name: getattr(e, c.key) for c in _COLUMNS} for e in events]
    )
    session.execute(
        _HEAD.update().where(_HEAD.c.id == 1).values(last_seq=seq - 1, last_hash=prev_hash)
    )


@sa.event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction) -> None:
    """Events of a transaction that was rolled back never happened."""
    if previous_transaction.parent is None:
        session.info.pop(PENDING, None)


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
) -> AuditEvent:
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
    return record_many(
        [entry], actor, username=username, user_id=user_id, organisation_id=organisation_id
    )[0]


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


@dataclass
class BrokenLink:
    event_id: int
    reason: str


def verify_chain(batch: int = 5000) -> tuple[int, BrokenLink | None]:
    """Walk the whole chain; return how many events were checked and the first broken link."""
    checked = 0
    expected_id = 1
    prev_hash = GENESIS_HASH
    for event in _iter_events(batch):
        if event.id != expected_id:
            return checked, BrokenLink(expected_id, f"event {expected_id} is missing")
        if event.prev_hash != prev_hash:
            return checked, BrokenLink(event.id, "its link to the previous event does not match")
        if _digest(event) != event.hash:
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
