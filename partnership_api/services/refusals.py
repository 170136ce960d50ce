"""Refusals written once per actor, object and window, and an actor who keeps being refused
slowed down (issue 25, point 8).

A staff user reading another organisation's referral 300 times wrote 300 refusal rows into
that organisation's audit trail. Now:

- the first refusal of an actor for one object (the action, the resource type and id) in a
  window of ``REFUSAL_WINDOW_MINUTES`` is written to the audit trail; the rest of the window's
  refusals of that object are counted, not written;
- every refusal counts against the actor; past ``REFUSAL_LIMIT`` in the window, anything
  refused or not found answers 429 until the window ends (a hidden object and a missing one
  still read the same), and the moment the limit is passed is written once
  (``refusals.throttled``). What the actor may do goes on as before.

Counted in the shared counters of ``throttle`` (Redis when configured, else the database).
A refusal without a signed-in actor is written as before (failed sign-ins and tokens have
their own counters).
"""

from __future__ import annotations

from datetime import timedelta

from partnership_api import audit, context
from partnership_api.actors import Actor
from partnership_api.database import db
from partnership_api.domain_errors import Refused, Throttled
from partnership_api.services import throttle

SLOWED = "Too many refused requests. Try again later."


def _window() -> timedelta:
    return timedelta(minutes=context.setting("REFUSAL_WINDOW_MINUTES"))


def _actor_key(actor: Actor) -> str:
    return f"refusals:{actor.user_id}"


def record(refused: Refused) -> None:
    """Count a policy refusal; write it when it is the actor's first for that object in the
    window, and write once that the actor passed ``REFUSAL_LIMIT``."""
    what, actor = refused.record, refused.actor
    if what is None:
        return
    db.session.rollback()  # nothing the refused request did is kept; the counts commit alone
    if not isinstance(actor, Actor):
        audit.record_refused(refused)
        return
    window = _window()
    limit = context.setting("REFUSAL_LIMIT")
    refused_so_far = throttle.hit(_actor_key(actor), window)
    target = f"{what.action}|{what.resource_type}|{what.resource_id}"
    if throttle.hit(f"refused:{actor.user_id}|{target}", window) == 1:
        audit.record_refused(refused)
    if refused_so_far == limit + 1:
        audit.record_refusal(
            "refusals.throttled",
            "user",
            actor.user_id,
            actor=actor,
            details={"limit": limit, "window_minutes": int(window.total_seconds() // 60)},
            subject_organisation_id=actor.org_id,
        )


def slowed_down(actor: object) -> Throttled | None:
    """A 429 for an actor past ``REFUSAL_LIMIT`` refusals in the window, else None."""
    if not isinstance(actor, Actor):
        return None
    db.session.rollback()
    key = _actor_key(actor)
    if throttle.count(key) <= context.setting("REFUSAL_LIMIT"):
        return None
    return Throttled(SLOWED, retry_after=throttle.retry_after(key))
