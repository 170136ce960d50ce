"""Refuge bed spaces, the refuges' reports of them, and holds for referrals."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from partnership_api.database import db
from partnership_api.models.base import utcnow

SPACE_TYPES = ("single", "family", "accessible")
# ``active`` holds count against the spaces until ``expires_at`` (``live_hold``); ``lapsed``
# marks an expired one that was tidied away when its referral took a new hold.
HOLD_STATES = ("active", "released", "admitted", "lapsed")


class BedSpace(db.Model):
    """A refuge's spaces of one type: how many there are and how many are free now.

    ``held`` counts the holds on them; a hold is live while its state is ``active`` and it has
    not expired. ``available = vacant − live holds``. A hold locks this row while it counts.
    """

    __tablename__ = "bed_spaces"
    __table_args__ = (
        sa.CheckConstraint("vacant >= 0 AND vacant <= total", name="vacant_within_total"),
        sa.CheckConstraint(
            "space_type IN ('single', 'family', 'accessible')", name="known_space_type"
        ),
    )

    service_id: Mapped[int] = mapped_column(sa.ForeignKey("services.id"), primary_key=True)
    space_type: Mapped[str] = mapped_column(sa.String(12), primary_key=True)
    total: Mapped[int] = mapped_column(default=0)
    vacant: Mapped[int] = mapped_column(default=0)


class RefugeAvailability(db.Model):
    """The refuge's current report: who last reported, when, and its version (the ETag)."""

    __tablename__ = "refuge_availability"

    service_id: Mapped[int] = mapped_column(sa.ForeignKey("services.id"), primary_key=True)
    version: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime | None]
    updated_by_user_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    updated_by: Mapped[str | None] = mapped_column(sa.String(80))


class AvailabilityReport(db.Model):
    """Every report a refuge made, kept: ``…/availability/history``."""

    __tablename__ = "availability_reports"
    __table_args__ = (sa.Index("ix_availability_reports_service_at", "service_id", "reported_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(sa.ForeignKey("services.id"))
    reported_at: Mapped[datetime] = mapped_column(default=utcnow)
    reported_by_user_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    reported_by: Mapped[str | None] = mapped_column(sa.String(80))
    spaces: Mapped[list] = mapped_column(sa.JSON)
    version: Mapped[int]


class BedHold(db.Model):
    """One space of a type at a refuge, reserved for a referral until ``expires_at``.

    Its state is one of ``HOLD_STATES``.
    """

    __tablename__ = "bed_holds"
    __table_args__ = (
        sa.Index("ix_bed_holds_space_state", "service_id", "space_type", "state", "expires_at"),
        sa.Index("ix_bed_holds_referral_state", "referral_id", "state"),
        # At most one active hold per referral, whatever happens in the application.
        sa.Index(
            "uq_bed_holds_active_referral",
            "referral_id",
            unique=True,
            postgresql_where=sa.text("state = 'active'"),
            sqlite_where=sa.text("state = 'active'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    referral_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("referrals.id"))
    service_id: Mapped[int] = mapped_column(sa.ForeignKey("services.id"))
    space_type: Mapped[str] = mapped_column(sa.String(12))
    state: Mapped[str] = mapped_column(sa.String(10), default="active")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(sa.String(30))


def live_hold(now: datetime | sa.BindParameter) -> sa.ColumnElement[bool]:
    """The one condition of a live hold: active and not yet expired at ``now`` (a time, or a
    bind parameter for statements built once). Every query of live holds uses it."""
    return sa.and_(BedHold.state == "active", BedHold.expires_at > now)


def held_by_type(where: sa.ColumnElement[bool], now: datetime | sa.BindParameter) -> sa.Select:
    """The one count of live holds: per refuge and type of space (``service_id``,
    ``space_type``, ``held``), of the holds ``where`` picks. Every count of held spaces is this
    query (availability, a report's answer, a new hold's check)."""
    return (
        sa.select(BedHold.service_id, BedHold.space_type, sa.func.count().label("held"))
        .where(where, live_hold(now))
        .group_by(BedHold.service_id, BedHold.space_type)
    )


class BedSearchGeneration(db.Model):
    """One row whose number changes in the same transaction as any change bed search shows.

    Every app process caches bed search and reads this number (a primary-key read) to know
    whether its cache still holds; the number starts at a random value so a database that is
    emptied and seeded again never repeats an old one.
    """

    __tablename__ = "bed_search_generation"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column(sa.BigInteger)
