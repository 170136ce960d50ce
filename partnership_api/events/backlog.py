"""What a webhook endpoint hears, and how far behind it is: the delivery worker's backlog
metrics, ``flask events backlog`` for an operator who needs to know which endpoint, and the
``pending`` count its organisation's admins see.

An endpoint's backlog is the number of events it may hear (its types, ``policy_events``) after
its ``delivered_position``, counted up to ``CAP``. An endpoint at the newest position has none,
and costs no query. The position itself stays inside the service (``cursors``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa

from partnership_api import metrics, policy_events
from partnership_api.database import db
from partnership_api.events.outbox import last_position
from partnership_api.models.events import Event, WebhookEndpoint
from partnership_api.models.partnership import Organisation

CAP = 10_000  # counted no further: "10,000 or more" is all an operator needs to know


def heard_by(endpoint: WebhookEndpoint, stmt: sa.Select, kind: str | None = None) -> sa.Select:
    """Events of the endpoint's types that its organisation (of ``kind``, looked up when not
    given) may hear."""
    if kind is None:
        kind = db.session.scalar(
            sa.select(Organisation.kind).where(Organisation.id == endpoint.organisation_id)
        )
    listener = policy_events.organisation_listener(endpoint.organisation_id, kind)
    return policy_events.scope_events(listener, stmt).where(Event.type.in_(endpoint.event_types))


def behind(endpoint: WebhookEndpoint, top: int, kind: str | None = None) -> int:
    """How many events the endpoint may hear after its delivered position (up to ``CAP``),
    ``top`` being the newest position."""
    if endpoint.delivered_position >= top:
        return 0
    events = (
        heard_by(endpoint, sa.select(Event.position), kind)
        .where(Event.position > endpoint.delivered_position)
        .limit(CAP)
        .subquery()
    )
    return db.session.scalar(sa.select(sa.func.count()).select_from(events)) or 0


@dataclass(frozen=True)
class Backlog:
    endpoint_id: uuid.UUID
    organisation: str
    enabled: bool
    failing: bool
    behind: int


def measure() -> list[Backlog]:
    """Every endpoint's backlog, in one read-only transaction (ended before returning)."""
    top = last_position()
    rows = db.session.execute(
        sa.select(WebhookEndpoint, Organisation.name, Organisation.kind)
        .join(Organisation, Organisation.id == WebhookEndpoint.organisation_id)
        .order_by(WebhookEndpoint.created_at)
    ).all()
    found = [
        Backlog(
            endpoint.id,
            name,
            endpoint.enabled,
            endpoint.failed_attempts > 0,
            behind(endpoint, top, kind),
        )
        for endpoint, name, kind in rows
    ]
    db.session.commit()
    return found


def record_metrics() -> list[Backlog]:
    """Measure, and set the worker's backlog gauges (no endpoint named in them)."""
    found = measure()
    enabled = [b for b in found if b.enabled]
    metrics.backlog(
        [b.behind for b in enabled],
        failing=sum(1 for b in enabled if b.failing),
        disabled=len(found) - len(enabled),
    )
    return found
