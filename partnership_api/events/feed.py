"""The catch-up feed: the events a caller's organisation may hear, in the order they were
committed. Each carries a cursor for the caller's organisation (``cursors``), never its
position: ``after=`` the last cursor read gives the events that follow it."""

from __future__ import annotations

import sqlalchemy as sa

from partnership_api import policy, policy_events
from partnership_api.actors import Actor
from partnership_api.events.cursors import cursor_for, position_of
from partnership_api.models.events import Event
from partnership_api.pagination import Page, PageRequest, page_of


def present(event: Event, organisation_id: int) -> dict:
    """The event as its organisation's listeners see it (the feed, and a webhook's body)."""
    return {
        "id": event.id,
        "type": event.type,
        "cursor": cursor_for(event.position, organisation_id),
        "occurred_at": event.occurred_at,
        "data": event.data,
    }


def list_events(actor: Actor, args: dict, page: PageRequest) -> Page:
    """One page of the events after the cursor ``after`` the caller may hear, oldest first."""
    policy.require(actor, "events.read")
    after = position_of(args["after"], actor.org_id, "after") if args.get("after") else 0
    stmt = policy_events.scope_events(policy_events.listener_of(actor), sa.select(Event)).where(
        Event.position > after
    )
    if args.get("types"):
        stmt = stmt.where(Event.type.in_(args["types"]))
    found = page_of(stmt.order_by(Event.position), page)
    return Page([present(event, actor.org_id) for event in found.items], found.total)
