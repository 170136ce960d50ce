"""Referrals between partner organisations, their timelines, and idempotent creation."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from partnership_api.database import db
from partnership_api.models.base import utcnow

REFERRAL_KINDS = ("victim", "perpetrator")
RISK_LEVELS = ("standard", "medium", "high")
STATUSES = ("submitted", "accepted", "declined", "redirected", "withdrawn", "closed")
OPEN_STATUSES = ("submitted", "accepted")
FINISHED_STATUSES = ("closed", "declined", "withdrawn", "redirected")
# The reasons a referral is declined (or withdrawn, or redirected), as the annual return of the
# safe-accommodation duty lists them (``models.safe_accommodation.NOT_SUPPORTED_REASONS``); a
# ``needs_not_met_…`` code names the need. ``services.safe_accommodation.reason_of`` maps each,
# and each of the ``LEGACY_DECLINE_REASONS`` that clients may still send, onto the return's list.
DECLINE_REASONS = (
    "no_capacity",
    "needs_not_met_disability",
    "needs_not_met_nrpf",
    "needs_not_met_older_sons",
    "needs_not_met_larger_family",
    "needs_not_met_substance_use",
    "needs_not_met_mental_health",
    "declined_offer",
    "risk_too_high",
    "other",
)
LEGACY_DECLINE_REASONS = ("not_eligible", "outside_area", "declined_by_person", "unable_to_contact")
# Which kinds of service may receive which kind of referral: a perpetrator programme never
# receives a victim's details.
RECEIVING_SERVICE_KINDS = {
    "victim": ("refuge", "victim_support"),
    "perpetrator": ("perpetrator_programme",),
}
# Every kind of service that receives some referral (the police only send them).
RECEIVING_KINDS = tuple(dict.fromkeys(k for ks in RECEIVING_SERVICE_KINDS.values() for k in ks))


class Referral(db.Model):
    __tablename__ = "referrals"
    __table_args__ = (
        # The inbox and outbox: an organisation's referrals, newest first (id breaks ties, so a
        # page is read straight off the index in its exact order).
        sa.Index("ix_referrals_to_org_created", "to_organisation_id", "created_at", "id"),
        sa.Index("ix_referrals_from_org_created", "from_organisation_id", "created_at", "id"),
        # The inbox by status ("what is waiting for us"), still newest first.
        sa.Index(
            "ix_referrals_to_org_status_created", "to_organisation_id", "status", "created_at"
        ),
        sa.Index("ix_referrals_status_due", "status", "response_due_at"),
        sa.Index("ix_referrals_status_changed", "status", "status_changed_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    reference: Mapped[str] = mapped_column(sa.String(20), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(12))
    status: Mapped[str] = mapped_column(sa.String(12), default="submitted")
    version: Mapped[int] = mapped_column(default=1)

    from_organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    from_user_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    to_service_id: Mapped[int] = mapped_column(sa.ForeignKey("services.id"), index=True)
    to_organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))

    risk_level: Mapped[str] = mapped_column(sa.String(10))
    dash_score: Mapped[int | None]
    marac: Mapped[bool] = mapped_column(default=False)
    # Kept apart from the personal data so statistics survive pseudonymisation.
    subject_area: Mapped[str | None] = mapped_column(sa.String(9), index=True)
    do_not_contact: Mapped[bool] = mapped_column(default=False)

    # Personal data (special category): removed by retention (``flask purge-expired``).
    subject: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    safe_contact: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    household: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    needs: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    consent: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    summary: Mapped[str | None] = mapped_column(sa.Text)

    decline_reason: Mapped[str | None] = mapped_column(sa.String(30))
    # The safe-accommodation return: where she is fleeing from and where she was placed (ONS
    # GSS codes of any English district), the household (the first referral of a chain of
    # redirects and follow-ups), and why it was not supported, coded from the return's list.
    fleeing_from: Mapped[str | None] = mapped_column(sa.String(9))
    placement_area: Mapped[str | None] = mapped_column(sa.String(9))
    household_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    not_supported_reason: Mapped[str | None] = mapped_column(sa.String(20))
    not_supported_need: Mapped[str | None] = mapped_column(sa.String(20))
    not_supported_text: Mapped[str | None] = mapped_column(sa.String(200))
    outcome: Mapped[str | None] = mapped_column(sa.Text)
    redirected_to_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("referrals.id"))
    redirected_from_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("referrals.id"))

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    status_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    response_due_at: Mapped[datetime]
    pseudonymised_at: Mapped[datetime | None]


class ReferralEvent(db.Model):
    """The referral's timeline: append-only; no endpoint edits or deletes an event."""

    __tablename__ = "referral_events"

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    referral_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("referrals.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(sa.String(30))
    user_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"))
    from_status: Mapped[str | None] = mapped_column(sa.String(12))
    to_status: Mapped[str | None] = mapped_column(sa.String(12))
    reason_code: Mapped[str | None] = mapped_column(sa.String(30))
    # Free text (personal): removed by retention.
    note: Mapped[str | None] = mapped_column(sa.Text)
    details: Mapped[dict | None] = mapped_column(sa.JSON)


class IdempotencyKey(db.Model):
    """A referral creation's ``Idempotency-Key``: the same key and body return the same referral."""

    __tablename__ = "idempotency_keys"

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    referral_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("referrals.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
