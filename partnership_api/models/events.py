"""Events for partner systems: the outbox, webhook endpoints and their deliveries, vacancy
alerts. An event row holds ids only (see ``partnership_api.events.outbox``)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from partnership_api.database import db
from partnership_api.models.base import utcnow


class Event(db.Model):
    """Something that happened, in the order transactions committed (``position``)."""

    __tablename__ = "events"
    __table_args__ = (sa.Index("ix_events_type_position", "type", "position"),)

    position: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    id: Mapped[uuid.UUID] = mapped_column(unique=True)
    type: Mapped[str] = mapped_column(sa.String(40))
    occurred_at: Mapped[datetime]
    # Who may hear it (``policy_events.scope_events``): "referral", "everyone", "projects",
    # "org_admins" or "hold_caps".
    audience: Mapped[str] = mapped_column(sa.String(12))
    data: Mapped[dict] = mapped_column(sa.JSON)
    # Events found by the sweep (overdue, lapsed) carry a key so each is written once.
    key: Mapped[str | None] = mapped_column(sa.String(80), unique=True)


class EventOrganisation(db.Model):
    """An organisation an event is about (a referral's sender and receiver, a project's
    partners, an alert's organisation): the parties of ``policy_events.scope_events``.

    Written by the same statement as its event (``EVENTS_APPEND``) and deleted with it
    (``prune``), so ``position`` needs no foreign key: the check it would run on every row
    written at commit, under the events' lock, is a plan each database connection makes once,
    while the outbox is still small (a scan of the whole table), and keeps as the outbox grows
    (migration 0006).
    """

    __tablename__ = "event_organisations"
    __table_args__ = (
        sa.Index("ix_event_organisations_organisation_position", "organisation_id", "position"),
    )

    position: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)


class EventHead(db.Model):
    """One row: the last position given. Locked at commit, so positions follow commit order."""

    __tablename__ = "event_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_position: Mapped[int] = mapped_column(sa.BigInteger)


class EventConsumer(db.Model):
    """How far an internal reader of the outbox (the vacancy-alert matcher) has read."""

    __tablename__ = "event_consumers"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    position: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class WebhookEndpoint(db.Model):
    """An organisation's receiver of events, and where its delivery stands.

    ``delivered_position`` is the last position dealt with (delivered, or not for this
    endpoint); the next event after it is retried until it is delivered, so an endpoint gets
    its events in position order. ``lease_*`` is the worker currently delivering to it.
    """

    __tablename__ = "webhook_endpoints"
    __table_args__ = (
        sa.Index("ix_webhook_endpoints_due", "enabled", "next_attempt_at"),
        sa.Index("ix_webhook_endpoints_organisation", "organisation_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    url: Mapped[str] = mapped_column(sa.String(2048))
    event_types: Mapped[list] = mapped_column(sa.JSON)
    description: Mapped[str | None] = mapped_column(sa.String(500))
    enabled: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None] = mapped_column(sa.String(300))
    disabled_at: Mapped[datetime | None]
    # Sealed at rest (``events.secret_box``): ``fernet:`` and the token, never the secret.
    secret: Mapped[str] = mapped_column(sa.String(255))
    previous_secret: Mapped[str | None] = mapped_column(sa.String(255))
    previous_secret_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_position: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    failed_attempts: Mapped[int] = mapped_column(default=0)
    failing_since: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.String(300))
    lease_owner: Mapped[str | None] = mapped_column(sa.String(80))
    lease_until: Mapped[datetime | None]


class WebhookAttempt(db.Model):
    """One try at sending one event to one endpoint, and how it went."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (sa.Index("ix_webhook_attempts_endpoint_id", "endpoint_id", "id"),)

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True
    )
    endpoint_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    event_id: Mapped[uuid.UUID]
    event_position: Mapped[int] = mapped_column(sa.BigInteger)
    event_type: Mapped[str] = mapped_column(sa.String(40))
    attempted_at: Mapped[datetime]
    replay: Mapped[bool] = mapped_column(default=False)
    status_code: Mapped[int | None]
    outcome: Mapped[str] = mapped_column(sa.String(12))  # delivered | failed | refused
    error: Mapped[str | None] = mapped_column(sa.String(300))
    duration_ms: Mapped[int]


class WebhookReplay(db.Model):
    """An event an organisation admin asked to be sent again to one endpoint."""

    __tablename__ = "webhook_replays"
    __table_args__ = (sa.UniqueConstraint("endpoint_id", "event_position"),)

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True
    )
    endpoint_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    event_position: Mapped[int] = mapped_column(sa.BigInteger)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    failed_attempts: Mapped[int] = mapped_column(default=0)


class VacancyAlert(db.Model):
    """A household waiting for a space: tell its organisation when a fitting one opens.

    ``criteria`` are bed search's filters (areas, not-in areas, space type, children, oldest
    son's age, wheelchair, NRPF, pets): seen only by the alert's organisation, never sent.
    """

    __tablename__ = "vacancy_alerts"
    __table_args__ = (
        sa.Index("ix_vacancy_alerts_organisation", "organisation_id", "created_at"),
        sa.Index("ix_vacancy_alerts_live", "ended_at", "expires_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    referral_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("referrals.id"))
    criteria: Mapped[dict] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(sa.String(30))
    fired: Mapped[int] = mapped_column(default=0)


class VacancyOpening(db.Model):
    """A refuge with a fitting space open for an alert: one ``vacancy.matched`` per opening.

    The row lives while the refuge has a fitting space available; when none is left the row
    goes, so the next opening fires again. ``notified`` is false for spaces already open when
    the alert was set.
    """

    __tablename__ = "vacancy_openings"

    alert_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("vacancy_alerts.id", ondelete="CASCADE"), primary_key=True
    )
    refuge_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    space_type: Mapped[str] = mapped_column(sa.String(12))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    notified: Mapped[bool] = mapped_column(default=False)
