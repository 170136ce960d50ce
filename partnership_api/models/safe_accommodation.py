"""The safe-accommodation duty (Domestic Abuse Act 2021, Part 4): stays in refuges, and the
bed spaces commissioned by accommodation type, as the refuges report them.

A stay begins when a refuge accepts a referral (the admission) and ends with a reason and a
destination. Who stayed (adults by sex and trans status, children, and the "specialist
characteristics" given with consent) is personal data read only by the refuge's own
organisation; everyone else sees it only as suppressed counts in the annual return.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from partnership_api.database import db
from partnership_api.models.base import utcnow

# Why a household was not supported: the return's list. ``needs_not_met`` names the need.
NOT_SUPPORTED_REASONS = ("no_capacity", "needs_not_met", "declined_offer", "risk_too_high", "other")
UNMET_NEEDS = (
    "disability",
    "nrpf",
    "older_sons",
    "larger_family",
    "substance_use",
    "mental_health",
)
STAY_END_REASONS = (
    "support_no_longer_needed",
    "moved_on",
    "evicted",
    "left_without_notice",
    "returned_to_perpetrator",
    "other",
)
DESTINATIONS = (
    "own_tenancy",
    "social_housing",
    "private_rent",
    "family_or_friends",
    "another_refuge",
    "temporary_accommodation",
    "unknown",
)
ADULT_SEXES = ("female", "male", "not_known")
TRANS_STATUSES = ("no", "yes", "not_known")
CHARACTERISTICS = (
    "black_and_minoritised",
    "disabled",
    "mental_health",
    "lgbt_plus",
    "nrpf",
    "older",
    "young",
)
ACCOMMODATION_TYPES = ("refuge", "dispersed", "sanctuary_scheme", "second_stage", "other")


class Stay(db.Model):
    """A household's stay in a refuge: from the admission (the referral accepted) to its end."""

    __tablename__ = "stays"
    __table_args__ = (
        sa.Index("ix_stays_admitted", "admitted_at"),
        sa.Index("ix_stays_ended", "ended_at"),
        sa.Index("ix_stays_household", "household_id"),
    )

    referral_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("referrals.id"), primary_key=True)
    household_id: Mapped[uuid.UUID]
    refuge_id: Mapped[int] = mapped_column(sa.ForeignKey("services.id"))
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    fleeing_from: Mapped[str | None] = mapped_column(sa.String(9))
    placement_area: Mapped[str | None] = mapped_column(sa.String(9))
    admitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(sa.String(30))
    end_reason_text: Mapped[str | None] = mapped_column(sa.String(200))
    destination: Mapped[str | None] = mapped_column(sa.String(30))
    # Personal (the refuge's own organisation only): removed by retention with the referral's.
    adults: Mapped[list] = mapped_column(sa.JSON, default=list)
    children: Mapped[int] = mapped_column(default=0)
    characteristics_consent: Mapped[bool] = mapped_column(default=False)
    characteristics: Mapped[list] = mapped_column(sa.JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CommissionedSpacesReport(db.Model):
    """A refuge's report of its commissioned bed spaces of one accommodation type; every report
    is kept, and the return reads the last one made by the end of its year."""

    __tablename__ = "commissioned_spaces_reports"
    __table_args__ = (
        sa.Index("ix_commissioned_spaces_refuge_at", "refuge_id", "reported_at"),
        sa.CheckConstraint("spaces >= 0", name="spaces_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    refuge_id: Mapped[int] = mapped_column(sa.ForeignKey("services.id"))
    accommodation_type: Mapped[str] = mapped_column(sa.String(20))
    spaces: Mapped[int]
    reported_at: Mapped[datetime] = mapped_column(default=utcnow)
    reported_by_user_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
