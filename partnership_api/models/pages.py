"""What the web pages keep for a person between visits: where they last looked on Home, and a
form they sent after their session had ended (kept sealed until they sign in again)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from partnership_api.database import db
from partnership_api.models.base import utcnow


class HomeMark(db.Model):
    """How far in the events outbox a person had looked when they last opened Home.

    ``seen_position`` moves to the newest event each time Home is shown; ``since_position`` is
    what "since you last looked" compares with, fixed for a page session (``session_id``): the
    last position seen in the person's previous session.
    """

    __tablename__ = "home_marks"

    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    session_id: Mapped[uuid.UUID]
    since_position: Mapped[int] = mapped_column(sa.BigInteger)
    since_at: Mapped[datetime | None]
    seen_position: Mapped[int] = mapped_column(sa.BigInteger)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class KeptForm(db.Model):
    """A form sent after the sender's page session had ended, kept for that person only.

    ``sealed`` is the form's fields encrypted (Fernet) under a key that is not stored here:
    it lives only in the sender's HttpOnly cookie, so the database alone reads nothing. It is
    given back only to the same user signing in again on that browser, once, within an hour.
    """

    __tablename__ = "kept_forms"
    __table_args__ = (sa.Index("ix_kept_forms_expires_at", "expires_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    path: Mapped[str] = mapped_column(sa.String(300))
    sealed: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
