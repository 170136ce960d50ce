"""Funds and the projects they pay for: awards, milestones, quarterly spend and outputs.

Money is whole pence in ``BigInteger`` columns, never floats. A project's ``spent_pence`` and
``forecast_pence`` are not stored: they are summed from its spend lines (see
``services/funding.py``), so they can never disagree with the lines.

Every row a user can change carries a ``version``: its ETag. A change names the version it
read (``If-Match``) and is applied by a conditional ``UPDATE … WHERE version = :read``.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from partnership_api.database import db
from partnership_api.models.base import utcnow

CATEGORIES = (
    "street_lighting",
    "cctv",
    "education_campaign",
    "vulnerability_training",
    "safe_space",
    "target_hardening",
    "other",
)
PROJECT_STATUSES = ("planned", "in_delivery", "completed", "cancelled")
OPEN_PROJECT_STATUSES = ("planned", "in_delivery")
# The statuses a project may be recorded in when it is added: not yet over.
STARTING_PROJECT_STATUSES = ("planned", "in_delivery")
# Where a project may go from each status (staying put is not a transition).
PROJECT_TRANSITIONS = {
    "planned": ("in_delivery", "cancelled"),
    "in_delivery": ("completed", "cancelled"),
    "completed": (),
    "cancelled": (),
}
RAG_VALUES = ("green", "amber", "red")
RAG_DIMENSIONS = ("delivery", "spend", "risk")
# A spend line's period: a calendar quarter, "2026-Q3".
PERIOD_PATTERN = r"^(20[0-9]{2})-Q([1-4])$"


def period_of(day: date) -> str:
    """The calendar quarter a day falls in, written as a spend line's period ("2026-Q4")."""
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def period_has_ended(period: str, today: date) -> bool:
    """Whether the quarter is over (periods of one form compare as strings)."""
    return period < period_of(today)


MONEY = sa.BigInteger()


class Fund(db.Model):
    """A pot of money from a funder, e.g. the Home Office's Safer Streets Fund round 4."""

    __tablename__ = "funds"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    funder: Mapped[str] = mapped_column(sa.String(200))
    round: Mapped[str | None] = mapped_column(sa.String(50))
    description: Mapped[str | None] = mapped_column(sa.Text)
    starts_on: Mapped[date | None] = mapped_column(sa.Date)
    ends_on: Mapped[date | None] = mapped_column(sa.Date)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Project(db.Model):
    """A project a fund pays for, led by one organisation and delivered by partners."""

    __tablename__ = "projects"
    __table_args__ = (
        sa.CheckConstraint("amount_awarded_pence >= 0", name="award_not_negative"),
        sa.Index("ix_projects_fund_status", "fund_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fund_id: Mapped[int] = mapped_column(sa.ForeignKey("funds.id"))
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    category: Mapped[str] = mapped_column(sa.String(30), index=True)
    lead_organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    amount_awarded_pence: Mapped[int] = mapped_column(MONEY)
    awarded_on: Mapped[date | None] = mapped_column(sa.Date)
    planned_start: Mapped[date | None] = mapped_column(sa.Date)
    planned_end: Mapped[date | None] = mapped_column(sa.Date)
    actual_start: Mapped[date | None] = mapped_column(sa.Date)
    actual_end: Mapped[date | None] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.String(12), default="planned", index=True)
    cancellation_reason: Mapped[str | None] = mapped_column(sa.Text)
    rag_delivery: Mapped[str | None] = mapped_column(sa.String(5))
    rag_spend: Mapped[str | None] = mapped_column(sa.String(5))
    rag_risk: Mapped[str | None] = mapped_column(sa.String(5))
    rag_commentary: Mapped[str | None] = mapped_column(sa.Text)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The last change of any kind to the project or its milestones, spend and outputs:
    # "no update for a quarter" in the summary reads this.
    last_update_at: Mapped[datetime] = mapped_column(default=utcnow)

    delivery_links: Mapped[list[ProjectDeliveryOrganisation]] = relationship(
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="ProjectDeliveryOrganisation.organisation_id",
    )
    area_links: Mapped[list[ProjectArea]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ProjectArea.gss_code"
    )

    @property
    def delivery_organisation_ids(self) -> list[int]:
        """The organisations delivering the project (policy.py reads this)."""
        return [link.organisation_id for link in self.delivery_links]

    @delivery_organisation_ids.setter
    def delivery_organisation_ids(self, ids: list[int]) -> None:
        self.delivery_links = [
            ProjectDeliveryOrganisation(organisation_id=i) for i in dict.fromkeys(ids)
        ]

    @property
    def areas(self) -> list[str]:
        return [link.gss_code for link in self.area_links]

    @areas.setter
    def areas(self, codes: list[str]) -> None:
        self.area_links = [ProjectArea(gss_code=code) for code in dict.fromkeys(codes)]

    @property
    def rag(self) -> dict[str, str | None]:
        return {"delivery": self.rag_delivery, "spend": self.rag_spend, "risk": self.rag_risk}


class ProjectDeliveryOrganisation(db.Model):
    """project_delivery_organisations: who delivers a project (and so may report progress)."""

    __tablename__ = "project_delivery_organisations"

    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisations.id"), primary_key=True, index=True
    )


class ProjectArea(db.Model):
    """The districts (ONS GSS codes) a project benefits."""

    __tablename__ = "project_areas"

    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    gss_code: Mapped[str] = mapped_column(sa.String(9), primary_key=True, index=True)


class Milestone(db.Model):
    __tablename__ = "project_milestones"
    __table_args__ = (sa.Index("ix_project_milestones_project_due", "project_id", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(sa.String(200))
    due_on: Mapped[date] = mapped_column(sa.Date)
    completed_on: Mapped[date | None] = mapped_column(sa.Date)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SpendLine(db.Model):
    """A project's actual and forecast spend in one quarter; one line per project and quarter."""

    __tablename__ = "project_spend_lines"
    __table_args__ = (
        sa.UniqueConstraint("project_id", "period", name="uq_project_spend_lines_project_period"),
        sa.CheckConstraint("actual_pence IS NULL OR actual_pence >= 0", name="actual_not_negative"),
        sa.CheckConstraint(
            "forecast_pence IS NULL OR forecast_pence >= 0", name="forecast_not_negative"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(sa.String(7))
    actual_pence: Mapped[int | None] = mapped_column(MONEY)
    forecast_pence: Mapped[int | None] = mapped_column(MONEY)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Output(db.Model):
    """What a project delivers: "cameras installed", "night-time-economy staff trained"."""

    __tablename__ = "project_outputs"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    metric: Mapped[str] = mapped_column(sa.String(200))
    unit: Mapped[str] = mapped_column(sa.String(40))
    target: Mapped[int | None] = mapped_column(sa.BigInteger)
    actual: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
