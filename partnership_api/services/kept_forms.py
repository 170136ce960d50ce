"""Forms sent after a page session had ended: kept, sealed, for the same person only.

A person who was signed out for being idle and then sends the form they were filling in (a
half-written referral) should not lose it. The fields are sealed (Fernet: AES with an HMAC
tag) under a key made for that one form, which is never stored: the caller hands it to the
sender's browser (the page session's signed, HttpOnly cookie) and needs it back to open the
form. The row names the user it belongs to; ``take`` opens it only for that user, once, before
``KEEP_FOR`` has passed, and deletes it whoever asks. Nothing here is ever logged or audited
with its contents.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import orjson
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken

from partnership_api.database import db
from partnership_api.models.base import utcnow
from partnership_api.models.pages import KeptForm

KEEP_FOR = timedelta(hours=1)
# A form bigger than this (after sealing) is not kept: page forms are a few kilobytes.
MAX_SEALED = 64_000
MAX_PATH = 300


@dataclass(frozen=True)
class Ticket:
    """What the sender's browser holds to get the form back: which form, and its key."""

    form_id: uuid.UUID
    key: str


def _drop_expired() -> None:
    db.session.execute(sa.delete(KeptForm).where(KeptForm.expires_at <= utcnow()))


def keep(user_id: uuid.UUID, path: str, fields: list[tuple[str, str]]) -> Ticket | None:
    """Seal a form's fields for ``user_id``, to be restored on ``path``; None when it is too
    big or its path too long to keep. Commits."""
    if len(path) > MAX_PATH:
        return None
    key = Fernet.generate_key()
    sealed = Fernet(key).encrypt(orjson.dumps(fields)).decode()
    if len(sealed) > MAX_SEALED:
        return None
    _drop_expired()
    now = utcnow()
    kept = KeptForm(
        user_id=user_id, path=path, sealed=sealed, created_at=now, expires_at=now + KEEP_FOR
    )
    db.session.add(kept)
    db.session.commit()
    return Ticket(kept.id, key.decode())


def discard(ticket: Ticket) -> None:
    """Forget a kept form (its sender sent another, or someone else signed in). Commits."""
    db.session.execute(sa.delete(KeptForm).where(KeptForm.id == ticket.form_id))
    _drop_expired()
    db.session.commit()


def path_of(ticket: Ticket, user_id: uuid.UUID) -> str | None:
    """Where a kept form is restored, if it is ``user_id``'s and still kept; None otherwise."""
    kept = db.session.get(KeptForm, ticket.form_id)
    if kept is None or kept.user_id != user_id or kept.expires_at <= utcnow():
        return None
    return kept.path


def take(ticket: Ticket, user_id: uuid.UUID) -> tuple[str, list[tuple[str, str]]] | None:
    """The kept form (its path and fields) when it is ``user_id``'s, unexpired, and the key
    opens it; deleted in every case, so it is given back at most once. Commits."""
    kept = db.session.get(KeptForm, ticket.form_id)
    found = None
    if kept is not None and kept.user_id == user_id and kept.expires_at > utcnow():
        try:
            fields = orjson.loads(Fernet(ticket.key.encode()).decrypt(kept.sealed.encode()))
        except (InvalidToken, ValueError):
            fields = None
        if fields is not None:
            found = (kept.path, [(str(name), str(value)) for name, value in fields])
    discard(ticket)
    return found
