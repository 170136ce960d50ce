"""What a webhook receives: the event as the feed shows it, signed as Standard Webhooks say
(``{id}.{timestamp}.{body}``, HMAC-SHA256 with the endpoint's secret, with the old secret too
while a rotation lasts). Like the feed, the body carries a cursor for the endpoint's
organisation (``cursors``), never the event's position."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import orjson
from standardwebhooks import Webhook

from partnership_api.events.cursors import cursor_for
from partnership_api.models.events import Event


@dataclass(frozen=True)
class Outgoing:
    """One event on its way to one endpoint: everything a send needs, without a session.
    ``position`` stays inside the service (the worker's order and its metrics)."""

    event_id: uuid.UUID
    position: int
    type: str
    body: bytes


def payload(event: Event, organisation_id: int) -> bytes:
    """The body sent to an endpoint of ``organisation_id``: the event as the feed shows it
    (ids only), with a cursor the organisation may give the feed's ``after=``."""
    return orjson.dumps(
        {
            "id": str(event.id),
            "type": event.type,
            "cursor": cursor_for(event.position, organisation_id),
            "timestamp": event.occurred_at.isoformat(),
            "data": event.data,
        }
    )


def signed_headers(
    secret: str, previous: str | None, event_id: uuid.UUID, body: bytes, now: datetime
) -> dict[str, str]:
    """Standard Webhooks headers; during a rotation, signed with the new and the old secret."""
    message_id = str(event_id)
    signatures = [Webhook(secret).sign(message_id, now, body.decode())]
    if previous:
        signatures.append(Webhook(previous).sign(message_id, now, body.decode()))
    return {
        "Content-Type": "application/json",
        "User-Agent": "PartnershipAPI-Webhooks/1.0",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": " ".join(signatures),
    }
