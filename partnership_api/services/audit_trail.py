"""Reading the audit trail (oversight). Nothing here, or anywhere in the API, changes it."""

from __future__ import annotations

import sqlalchemy as sa

from partnership_api import audit, policy
from partnership_api.database import db
from partnership_api.models.audit import AuditEvent
from partnership_api.pagination import Page, PageRequest, page_of
from partnership_api.policy import Actor

_EQUAL_FILTERS = (
    "user_id",
    "organisation_id",
    "action",
    "resource_type",
    "resource_id",
    "outcome",
)


def list_events(actor: Actor, filters: dict, page: PageRequest) -> Page:
    """One page of the events the actor may see, newest first; the reading is itself audited.

    Events by another organisation's users show that organisation, not the person: their
    username, user id and client address are left out (``policy.sees_person``). An event's
    ``id`` is its random public id, not its place in the chain (``_shown``)."""
    policy.require(actor, "audit.read")
    stmt = policy.scope_audit_events(actor, sa.select(AuditEvent))
    for name in _EQUAL_FILTERS:
        if name in filters:
            stmt = stmt.where(getattr(AuditEvent, name) == filters[name])
    if "user_id" in filters and not actor.partnership_admin:
        # Another organisation's person is not shown, so neither can they be searched for.
        stmt = stmt.where(AuditEvent.organisation_id == actor.org_id)
    if "from_" in filters:
        stmt = stmt.where(AuditEvent.at >= filters["from_"])
    if "to" in filters:
        stmt = stmt.where(AuditEvent.at < filters["to"])
    # The id is the chain's sequence: it orders events as they were written.
    found = page_of(stmt.order_by(AuditEvent.id.desc()), page)
    events = found.items
    for event in events:  # keep them loaded past the commit below (no reload per row)
        db.session.expunge(event)
    audit.record(
        "audit.read",
        "audit_event",
        details={"filters": _describe(filters), "shown": len(events)},
    )
    db.session.commit()
    return Page([_shown(actor, event) for event in events], found.total)


_PERSON = ("user_id", "username", "client_address")
_CHAIN = ("id", "public_id", "prev_hash", "hash")
_FIELDS = tuple(c.key for c in AuditEvent.__table__.columns if c.key not in _CHAIN)


def _shown(actor: Actor, event: AuditEvent) -> dict:
    """The event with its public id as ``id`` (issue 25). The chain's sequence counts every
    organisation's audited actions, so it is never shown; nor, but to the partnership admin
    (who reads the whole trail), are the hashes: an event's hash covers its sequence, which
    an admin who sees the rest of their own organisation's event could find by trying each."""
    shown = {name: getattr(event, name) for name in _FIELDS}
    shown["id"] = event.public_id
    whole_trail = actor.partnership_admin
    shown["prev_hash"] = event.prev_hash if whole_trail else None
    shown["hash"] = event.hash if whole_trail else None
    if not policy.sees_person(actor, event.organisation_id):
        shown.update(dict.fromkeys(_PERSON))
    return shown


def _describe(filters: dict) -> dict:
    """The filters as JSON values (ids, codes and times: no personal data)."""
    shown: dict = {}
    for name, value in filters.items():
        key = "from" if name == "from_" else name
        if hasattr(value, "isoformat"):
            shown[key] = value.isoformat()
        elif isinstance(value, int):
            shown[key] = value
        else:
            shown[key] = str(value)
    return shown
