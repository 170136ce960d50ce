"""What the delivery worker makes of a batch's sends: attempt rows, and the endpoint's (or the
replay's) position, failures and backoff, all written in one transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from partnership_api import context
from partnership_api.database import db
from partnership_api.events import ssrf
from partnership_api.events.messages import Outgoing
from partnership_api.models.events import WebhookAttempt, WebhookEndpoint, WebhookReplay

# Seconds to wait after the 1st, 2nd, … failed try (Standard Webhooks' usual schedule,
# stretched to about three days); after the last, the endpoint is disabled.
RETRY_DELAYS = (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 72000)


@dataclass(frozen=True)
class Sent:
    """One send of a batch and how it went (``replay_id`` for a replay)."""

    item: Outgoing
    answer: ssrf.Answer
    outcome: str
    at: datetime
    replay_id: int | None = None

    @property
    def delivered(self) -> bool:
        return self.outcome == "delivered"


def record(endpoint_id: uuid.UUID, sent: list[Sent], done_to: int | None, worker: str) -> None:
    """Every outcome of a batch, in one transaction; the lease is given back."""
    endpoint = db.session.get(WebhookEndpoint, endpoint_id, populate_existing=True)
    if endpoint is None:  # deleted meanwhile
        db.session.commit()
        return
    db.session.execute(
        sa.insert(WebhookAttempt),
        [
            {
                "endpoint_id": endpoint_id,
                "event_id": s.item.event_id,
                "event_position": s.item.position,
                "event_type": s.item.type,
                "attempted_at": s.at,
                "replay": s.replay_id is not None,
                "status_code": s.answer.status,
                "outcome": s.outcome,
                "error": s.answer.error,
                "duration_ms": s.answer.duration_ms,
            }
            for s in sent
        ],
    )
    replay_ids = [s.replay_id for s in sent if s.replay_id is not None]
    replay_rows = {
        row.id: row
        for row in db.session.scalars(
            sa.select(WebhookReplay).where(WebhookReplay.id.in_(replay_ids))
        )
    }
    for s in sent:
        if s.answer.status == 410:
            endpoint.enabled = False
            endpoint.disabled_at = s.at
            endpoint.disabled_reason = "The receiver answered 410 Gone: it wants no more events."
        if s.replay_id is not None:
            _replayed(replay_rows.get(s.replay_id), s)
        elif s.delivered:
            endpoint.delivered_position = max(endpoint.delivered_position, s.item.position)
            endpoint.failed_attempts = 0
            endpoint.failing_since = None
            endpoint.last_error = None
            endpoint.next_attempt_at = s.at
        else:
            _failed(endpoint, s)
    if done_to is not None and endpoint.enabled and done_to > endpoint.delivered_position:
        endpoint.delivered_position = done_to
    if endpoint.lease_owner == worker:
        endpoint.lease_owner, endpoint.lease_until = None, None
    db.session.commit()


def _replayed(row: WebhookReplay | None, s: Sent) -> None:
    if row is None:
        return
    if s.delivered or row.failed_attempts >= len(_delays()):
        db.session.delete(row)
    else:
        row.failed_attempts += 1
        row.next_attempt_at = s.at + _delay(row.failed_attempts)


def _failed(endpoint: WebhookEndpoint, s: Sent) -> None:
    endpoint.failed_attempts += 1
    endpoint.failing_since = endpoint.failing_since or s.at
    endpoint.last_error = s.answer.error
    if endpoint.enabled and endpoint.failed_attempts > len(_delays()):
        endpoint.enabled = False
        endpoint.disabled_at = s.at
        endpoint.disabled_reason = (
            f"Failing since {endpoint.failing_since.isoformat()} "
            f"({endpoint.failed_attempts} tries): {s.answer.error}"
        )[:300]
    else:
        endpoint.next_attempt_at = s.at + _delay(endpoint.failed_attempts)


def _delays() -> tuple[float, ...]:
    return tuple(context.setting_or("WEBHOOK_RETRY_DELAYS", None) or RETRY_DELAYS)


def _delay(failures: int) -> timedelta:
    delays = _delays()
    return timedelta(seconds=delays[min(failures, len(delays)) - 1])
