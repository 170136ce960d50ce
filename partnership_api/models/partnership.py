"""Organisations of the partnership, the services they offer, and their users."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from partnership_api.areas import AREAS  # noqa: F401 - its old home, still imported from here
from partnership_api.database import db
from partnership_api.models.base import Timestamped, utcnow

ORGANISATION_KINDS = ("police", "commissioner", "provider")
SERVICE_KINDS = ("refuge", "victim_support", "perpetrator_programme", "helpline")
# A username, matched whole (``services.usernames``; the users' schema shows it).
USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{2,79}$"
USERNAME_RULE = "Lower-case letters, digits, '.', '_' or '-'; 3 to 80."
ROLES = ("staff", "analyst", "admin")


class Organisation(Timestamped, db.Model):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    areas: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    # The public directory (/oruk) names an organisation by this id, never by ``id``.
    public_id: Mapped[uuid.UUID] = mapped_column(unique=True, default=uuid.uuid4)
    description: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
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
    # The public directory (/oruk): its own id for the service, the organisation admin's
    # choice to list it, and what people looking for help need to know. A refuge is listed
    # without any location, whatever is set here (partnership_api/oruk).
    public_id: Mapped[uuid.UUID] = mapped_column(unique=True, default=uuid.uuid4)
    public: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    description: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    eligibility: Mapped[str | None] = mapped_column(sa.Text)
    minimum_age: Mapped[int | None]
    maximum_age: Mapped[int | None]
    languages: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    # [{"days": ["MO", …], "opens_at": "09:00", "closes_at": "17:00"}], UK local time.
    opening_hours: Mapped[list[dict]] = mapped_column(sa.JSON, default=list)
    # The ETag: a change names the version it read (If-Match) and moves it on by one.
    version: Mapped[int] = mapped_column(default=1, server_default=sa.text("1"))

    organisation: Mapped[Organisation] = relationship(back_populates="services", lazy="joined")
    area_links: Mapped[list[ServiceArea]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ServiceArea.gss_code"
    )
    taxonomy_links: Mapped[list[ServiceTaxonomyTerm]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ServiceTaxonomyTerm.term_code"
    )

    @property
    def areas(self) -> list[str]:
        return [link.gss_code for link in self.area_links]

    @areas.setter
    def areas(self, codes: list[str]) -> None:
        wanted = list(dict.fromkeys(codes))
        self.area_links = [ServiceArea(gss_code=code) for code in wanted]
        self.updated_at = utcnow()  # the directory's modified_after sees the change

    @property
    def taxonomy_terms(self) -> list[str]:
        """Codes of the directory's taxonomy terms (partnership_api/oruk/taxonomy.py)."""
        return [link.term_code for link in self.taxonomy_links]

    @taxonomy_terms.setter
    def taxonomy_terms(self, codes: list[str]) -> None:
        wanted = list(dict.fromkeys(codes))
        self.taxonomy_links = [ServiceTaxonomyTerm(term_code=code) for code in wanted]
        self.updated_at = utcnow()


class ServiceArea(db.Model):
    __tablename__ = "service_areas"

    service_id: Mapped[int] = mapped_column(
        sa.ForeignKey("services.id", ondelete="CASCADE"), primary_key=True
    )
    gss_code: Mapped[str] = mapped_column(sa.String(9), primary_key=True, index=True)


class ServiceTaxonomyTerm(db.Model):
    """A service's term in the directory's taxonomy, by the term's code."""

    __tablename__ = "service_taxonomy_terms"

    service_id: Mapped[int] = mapped_column(
        sa.ForeignKey("services.id", ondelete="CASCADE"), primary_key=True
    )
    term_code: Mapped[str] = mapped_column(sa.String(40), primary_key=True, index=True)


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
    # Optional: where content-free notices go (a new referral, a vacancy alert; events.email).
    email: Mapped[str | None] = mapped_column(sa.String(254))

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


class AuthCounter(db.Model):
    """Failed authentication counted per key for a window, on every worker and app server.

    Keys are ``address:<client address>`` (every failed authentication from an address: bad
    tokens, junk refresh tokens, wrong passwords), ``attempt:<address>`` (sign-in attempts) and
    ``pair:<address>|<name>`` (wrong passwords for one name from one address: only that pair is
    ever locked, so nobody can lock a night worker out from elsewhere). A count starts again
    once ``expires_at`` has passed. Used when Redis is not configured (``services.throttle``).
    """

    __tablename__ = "auth_counters"

    key: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime]
