"""The catch-up feed: the events a caller's organisation may hear, in position order."""

from __future__ import annotations

import sqlalchemy as sa

from partnership_api import policy, policy_events
from partnership_api.actors import Actor
from partnership_api.models.events import Event
from partnership_api.pagination import Page, PageRequest, page_of


def present(event: Event) -> dict:
    return {
        "id": event.id,
        "type": event.type,
        "position": event.position,
        "occurred_at": event.occurred_at,
        "data": event.data,
    }


def list_events(actor: Actor, args: dict, page: PageRequest) -> Page:
    """One page of the events after ``after`` the caller may hear, oldest first."""
    policy.require(actor, "events.read")
    stmt = policy_events.scope_events(policy_events.listener_of(actor), sa.select(Event)).where(
        Event.position > args.get("after", 0)
    )
    if args.get("types"):
        stmt = stmt.where(Event.type.in_(args["types"]))
    found = page_of(stmt.order_by(Event.position), page)
    return Page([present(event) for event in found.items], found.total)
