"""Organisations of the partnership, the services they offer, and their users."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from partnership_api.extensions import db
from partnership_api.models.base import Timestamped

ORGANISATION_KINDS = ("police", "commissioner", "provider")
SERVICE_KINDS = ("refuge", "victim_support", "perpetrator_programme", "helpline")
ROLES = ("staff", "analyst", "admin")

# The county's local authority districts, by ONS GSS code.
AREAS = {
    "E07000192": "Cannock Chase",
    "E07000193": "East Staffordshire",
    "E07000194": "Lichfield",
    "E07000195": "Newcastle-under-Lyme",
    "E07000196": "South Staffordshire",
    "E07000197": "Stafford",
    "E07000198": "Staffordshire Moorlands",
    "E07000199": "Tamworth",
    "E06000021": "Stoke-on-Trent",
}


class Organisation(Timestamped, db.Model):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    areas: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    # Registered numbers, when the organisation has them: the Charity Commission for England
    # and Wales and Companies House. They identify it in the 360Giving export.
    charity_number: Mapped[str | None] = mapped_column(sa.String(8))
    company_number: Mapped[str | None] = mapped_column(sa.String(8))

    services: Mapped[list[Service]] = relationship(back_populates="organisation", lazy="raise")


class Service(Timestamped, db.Model):
    """A service in the Open Referral sense: a refuge, victim support, a programme, a helpline."""

    __tablename__ = "services"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(30), index=True)
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    hours: Mapped[str | None] = mapped_column(sa.String(200))
    facilities: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    # Secret for refuges: never leaves the service's own organisation (see policy.py).
    address: Mapped[str | None] = mapped_column(sa.Text)
    active: Mapped[bool] = mapped_column(default=True)

    organisation: Mapped[Organisation] = relationship(back_populates="services", lazy="joined")
    area_links: Mapped[list[ServiceArea]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ServiceArea.gss_code"
    )

    @property
    def areas(self) -> list[str]:
        return [link.gss_code for link in self.area_links]

    @areas.setter
    def areas(self, codes: list[str]) -> None:
        wanted = list(dict.fromkeys(codes))
        self.area_links = [ServiceArea(gss_code=code) for code in wanted]


class ServiceArea(db.Model):
    __tablename__ = "service_areas"

    service_id: Mapped[int] = mapped_column(
        sa.ForeignKey("services.id", ondelete="CASCADE"), primary_key=True
    )
    gss_code: Mapped[str] = mapped_column(sa.String(9), primary_key=True, index=True)


class User(Timestamped, db.Model):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    username: Mapped[str] = mapped_column(sa.String(80), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(200), default="")
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    role: Mapped[str] = mapped_column(sa.String(20))
    partnership_admin: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    last_login_at: Mapped[datetime | None]

    organisation: Mapped[Organisation] = relationship(lazy="joined")


class AuthSession(db.Model):
    """One sign-in: its access tokens and the current refresh token share this session id.

    Revocation lives here, in the database, so every worker and app server sees it at once.
    """

    __tablename__ = "auth_sessions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    refresh_jti: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(sa.String(40))


class LoginThrottle(db.Model):
    """Failed sign-ins per username, whether or not such a user exists.

    Keyed by the name that was tried, so an unknown username is locked exactly like a real one
    and the answer never tells which it was, on every worker and app server.
    """

    __tablename__ = "login_throttles"

    username_key: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_failure_at: Mapped[datetime | None]
