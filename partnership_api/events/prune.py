"""Pruning: the outbox and the attempt logs do not grow for ever.

An event older than ``EVENT_RETENTION_DAYS`` (30 by default) goes once nothing still needs it:
every webhook endpoint, enabled or disabled, has dealt with it (a disabled endpoint keeps its
events until it is enabled again or removed), no replay of it is waiting, and the worker's own
readers (the vacancy-alert matcher, the emails) have read past it. A partner reading the feed
can catch up over the retention. Attempt logs older than the retention go too. The worker
prunes about hourly; ``flask events prune`` does it at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from partnership_api import context
from partnership_api.database import db
from partnership_api.models.base import utcnow
from partnership_api.models.events import (
    Event,
    EventConsumer,
    EventOrganisation,
    WebhookAttempt,
    WebhookEndpoint,
    WebhookReplay,
)

# Internal readers of the outbox (``EventConsumer`` names) whose position holds events back.
READERS = ("vacancy_alerts", "emails")


def _needed_from() -> int:
    """The lowest position something may still need: events at or above it are kept."""
    endpoints = db.session.scalar(sa.select(sa.func.min(WebhookEndpoint.delivered_position)))
    replays = db.session.scalar(sa.select(sa.func.min(WebhookReplay.event_position)))
    readers = dict(
        db.session.execute(
            sa.select(EventConsumer.name, EventConsumer.position).where(
                EventConsumer.name.in_(READERS)
            )
        ).all()
    )
    newest = db.session.scalar(sa.select(sa.func.max(Event.position))) or 0
    limits = [newest]  # the newest stays: ``outbox.last_position`` reads it
    if endpoints is not None:
        limits.append(endpoints + 1)
    if replays is not None:
        limits.append(replays)
    # A reader not yet started holds nothing back (the emails start at the newest position).
    limits.extend(readers[name] + 1 for name in READERS if name in readers)
    return min(limits)


def run(now: datetime | None = None) -> dict[str, int]:
    """Delete what the retention no longer keeps; how many events and attempts went."""
    now = now or utcnow()
    cutoff = now - timedelta(days=int(context.setting_or("EVENT_RETENTION_DAYS", 30)))
    below = _needed_from()
    old = sa.select(Event.position).where(Event.occurred_at < cutoff, Event.position < below)
    db.session.execute(
        sa.delete(EventOrganisation)
        .where(EventOrganisation.position.in_(old))
        .execution_options(synchronize_session=False)
    )
    events = db.session.execute(
        sa.delete(Event)
        .where(Event.occurred_at < cutoff, Event.position < below)
        .execution_options(synchronize_session=False)
    ).rowcount
    attempts = db.session.execute(
        sa.delete(WebhookAttempt)
        .where(WebhookAttempt.attempted_at < cutoff)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return {"events": events or 0, "attempts": attempts or 0}
