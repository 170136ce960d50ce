"""Webhook endpoints: an organisation's admins register, change, rotate, replay and remove them.

The signing secret (``whsec_`` and 32 random bytes in base64, as the Standard Webhooks
specification has it) is shown once, when it is made; a rotation keeps the old secret signing
beside the new one for ``OLD_SECRET_KEPT`` so receivers can switch without losing a message.
The URL is checked against SSRF (``ssrf.check_url``) here and again at every send. Secrets
are stored sealed (``secret_box``), never in plain text.

Nothing shown counts other organisations' activity (issue 25): an endpoint shows how many of
its events are still to send (``pending``), not its position in the partnership's outbox; a
replay's range is given in the organisation's cursors (``cursors``); an attempt's id is opaque.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from datetime import timedelta

import sqlalchemy as sa

from partnership_api import audit, context, policy, policy_events
from partnership_api.actors import Actor
from partnership_api.database import db
from partnership_api.domain_errors import Invalid, NotFound
from partnership_api.events import secret_box, ssrf
from partnership_api.events.backlog import behind, heard_by
from partnership_api.events.cursors import opaque_id, position_of
from partnership_api.events.outbox import EVENT_TYPES, last_position
from partnership_api.models.base import utcnow
from partnership_api.models.events import Event, WebhookAttempt, WebhookEndpoint, WebhookReplay
from partnership_api.pagination import Page, PageRequest, page_of

OLD_SECRET_KEPT = timedelta(hours=24)
MAX_REPLAY = 1000
ENDPOINTS_PER_ORGANISATION = 20


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def check_url(url: str) -> ssrf.Target:
    """The URL's target, or 422 saying why it may not be called."""
    try:
        return ssrf.check_url(
            url,
            production=context.setting("APP_ENV") == "production",
            allow_private=bool(context.setting_or("WEBHOOKS_ALLOW_PRIVATE", False)),
        )
    except ssrf.UnsafeURL as unsafe:
        raise Invalid.on("url", str(unsafe)) from unsafe


def _check_types(event_types: list[str]) -> list[str]:
    unknown = sorted(set(event_types) - set(EVENT_TYPES))
    if unknown:
        raise Invalid.on("event_types", f"Unknown event types: {', '.join(unknown)}.")
    return sorted(set(event_types))


def _audit(action: str, endpoint: WebhookEndpoint, **details) -> None:
    audit.record(
        action,
        "webhook",
        endpoint.id,
        subject_organisation_id=endpoint.organisation_id,
        details=details or None,
    )


def present(endpoint: WebhookEndpoint, secret: str | None = None) -> dict:
    """The endpoint as its organisation's admins see it: how many events it has still to
    send (``pending``), never where it stands in the partnership's outbox."""
    shown = {
        "id": endpoint.id,
        "url": endpoint.url,
        "event_types": endpoint.event_types,
        "description": endpoint.description,
        "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason,
        "disabled_at": endpoint.disabled_at,
        "failing_since": endpoint.failing_since,
        "last_error": endpoint.last_error,
        "pending": behind(endpoint, last_position()),
        "created_at": endpoint.created_at,
        "previous_secret_until": endpoint.previous_secret_until,
    }
    if secret is not None:
        shown["secret"] = secret
    return shown


def create(actor: Actor, data: dict) -> dict:
    """Register an endpoint; it hears events from now on. The secret is in this answer only."""
    policy.require(actor, "webhook.manage")
    check_url(data["url"])
    types = _check_types(data["event_types"])
    count = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(WebhookEndpoint)
        .where(WebhookEndpoint.organisation_id == actor.org_id)
    )
    if count >= ENDPOINTS_PER_ORGANISATION:
        raise Invalid(f"An organisation has at most {ENDPOINTS_PER_ORGANISATION} webhooks.")
    now = utcnow()
    secret = new_secret()
    endpoint = WebhookEndpoint(
        id=uuid.uuid4(),
        organisation_id=actor.org_id,
        url=data["url"],
        event_types=types,
        description=data.get("description"),
        enabled=True,
        secret=secret_box.seal(secret),
        created_at=now,
        updated_at=now,
        created_by_user_id=actor.user_id,
        delivered_position=last_position(),
        next_attempt_at=now,
    )
    db.session.add(endpoint)
    db.session.flush()
    _audit("webhook.create", endpoint, event_types=types)
    shown = present(endpoint, secret)
    db.session.commit()
    return shown


def list_endpoints(actor: Actor) -> list[dict]:
    policy.require(actor, "webhook.manage")
    stmt = policy_events.scope_own_organisation(actor, WebhookEndpoint, sa.select(WebhookEndpoint))
    return [present(e) for e in db.session.scalars(stmt.order_by(WebhookEndpoint.created_at))]


def _endpoint(actor: Actor, endpoint_id: uuid.UUID, *, lock: bool = False) -> WebhookEndpoint:
    policy.require(actor, "webhook.manage")
    stmt = sa.select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id)
    if lock:
        stmt = stmt.with_for_update()
    endpoint = db.session.scalar(stmt)
    if endpoint is None:
        raise NotFound()
    policy_events.authorize_own(actor, "webhook.manage", endpoint)
    return endpoint


def read(actor: Actor, endpoint_id: uuid.UUID) -> dict:
    return present(_endpoint(actor, endpoint_id))


def update(actor: Actor, endpoint_id: uuid.UUID, data: dict) -> dict:
    """Change the URL, types or description; enable (events kept meanwhile are sent) or
    disable it."""
    endpoint = _endpoint(actor, endpoint_id, lock=True)
    now = utcnow()
    if "url" in data:
        check_url(data["url"])
        endpoint.url = data["url"]
    if "event_types" in data:
        endpoint.event_types = _check_types(data["event_types"])
    if "description" in data:
        endpoint.description = data["description"]
    if "enabled" in data and data["enabled"] != endpoint.enabled:
        endpoint.enabled = data["enabled"]
        if data["enabled"]:
            endpoint.disabled_reason = endpoint.disabled_at = None
            endpoint.failed_attempts, endpoint.failing_since = 0, None
            endpoint.next_attempt_at = now
        else:
            endpoint.disabled_reason = f"Disabled by {actor.username}."
            endpoint.disabled_at = now
    endpoint.updated_at = now
    _audit("webhook.update", endpoint, fields=sorted(data))
    shown = present(endpoint)
    db.session.commit()
    return shown


def delete(actor: Actor, endpoint_id: uuid.UUID) -> None:
    endpoint = _endpoint(actor, endpoint_id, lock=True)
    _audit("webhook.delete", endpoint)
    db.session.execute(sa.delete(WebhookReplay).where(WebhookReplay.endpoint_id == endpoint.id))
    db.session.execute(sa.delete(WebhookAttempt).where(WebhookAttempt.endpoint_id == endpoint.id))
    db.session.delete(endpoint)
    db.session.commit()


def rotate_secret(actor: Actor, endpoint_id: uuid.UUID) -> dict:
    """A new secret (shown once); the old one keeps signing beside it for 24 hours."""
    endpoint = _endpoint(actor, endpoint_id, lock=True)
    now = utcnow()
    secret = new_secret()
    endpoint.previous_secret, endpoint.secret = endpoint.secret, secret_box.seal(secret)
    endpoint.previous_secret_until = now + OLD_SECRET_KEPT
    endpoint.updated_at = now
    _audit("webhook.rotate_secret", endpoint)
    shown = present(endpoint, secret)
    db.session.commit()
    return shown


def attempts(actor: Actor, endpoint_id: uuid.UUID, page: PageRequest) -> Page:
    """The endpoint's delivery attempts, newest first."""
    endpoint = _endpoint(actor, endpoint_id)
    stmt = (
        sa.select(WebhookAttempt)
        .where(WebhookAttempt.endpoint_id == endpoint.id)
        .order_by(WebhookAttempt.id.desc())
    )
    found = page_of(stmt, page)
    return Page([_attempt_shown(attempt) for attempt in found.items], found.total)


def _attempt_shown(attempt: WebhookAttempt) -> dict:
    """An attempt with an opaque id: its row's number counts every endpoint's attempts."""
    return {
        "id": opaque_id("webhook attempt", attempt.id),
        "event_id": attempt.event_id,
        "event_type": attempt.event_type,
        "attempted_at": attempt.attempted_at,
        "replay": attempt.replay,
        "status_code": attempt.status_code,
        "outcome": attempt.outcome,
        "error": attempt.error,
        "duration_ms": attempt.duration_ms,
    }


def replay(actor: Actor, endpoint_id: uuid.UUID, data: dict) -> dict:
    """Send one event (``event_id``) or a range again (from the event of the cursor
    ``from_cursor`` to that of ``to_cursor``, both the organisation's), as the worker finds
    time; only events of the endpoint's types that its organisation may hear."""
    endpoint = _endpoint(actor, endpoint_id, lock=True)
    stmt = heard_by(endpoint, sa.select(Event.position))
    if "event_id" in data:
        stmt = stmt.where(Event.id == data["event_id"])
    else:
        org = endpoint.organisation_id
        low = position_of(data["from_cursor"], org, "from_cursor", location="json")
        high = None
        if "to_cursor" in data:
            high = position_of(data["to_cursor"], org, "to_cursor", location="json")
        if high is not None and high < low:
            raise Invalid.on("to_cursor", "Ends before it starts.")
        stmt = stmt.where(Event.position >= low)
        if high is not None:
            stmt = stmt.where(Event.position <= high)
    positions = db.session.scalars(stmt.order_by(Event.position).limit(MAX_REPLAY + 1)).all()
    if "event_id" in data and not positions:
        raise NotFound("No such event for this endpoint.")
    if len(positions) > MAX_REPLAY:
        raise Invalid(f"Replay at most {MAX_REPLAY} events at a time; narrow the range.")
    already = set(
        db.session.scalars(
            sa.select(WebhookReplay.event_position).where(
                WebhookReplay.endpoint_id == endpoint.id,
                WebhookReplay.event_position.in_(positions),
            )
        )
    )
    now = utcnow()
    for position in positions:
        if position not in already:
            db.session.add(
                WebhookReplay(
                    endpoint_id=endpoint.id,
                    event_position=position,
                    requested_at=now,
                    next_attempt_at=now,
                )
            )
    _audit("webhook.replay", endpoint, events=len(positions))
    db.session.commit()
    return {"queued": len(positions)}
