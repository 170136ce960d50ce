"""Webhook signing secrets, sealed at rest.

The Standard Webhooks signer needs the secret itself (an HMAC key), so it cannot be stored as
a hash; it is stored encrypted instead (Fernet: AES-128-CBC with an HMAC-SHA256 tag), under a
key from the settings, ``WEBHOOK_SECRET_KEY``. A copy of the database alone (a backup, a
replica, an SQL injection elsewhere) then yields no secret that could forge a delivery.

``WEBHOOK_SECRET_KEY`` is any random string of at least 32 characters; the Fernet key is its
SHA-256. Several keys may be given, comma-separated: the first seals, every one opens (rotate
by putting a new key first, then ``flask events reseal``, then dropping the old one).
Production refuses to start without it (``settings.check_settings``); development and tests
derive one from the JWT signing key, so nothing needs setting there.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from partnership_api import context

PREFIX = "fernet:"
_DERIVED = b"partnership-api webhook secrets\x00"


class SecretUnreadable(Exception):
    """A stored secret no configured key opens (the key was changed without resealing)."""


def _fernet_key(material: str) -> bytes:
    return base64.urlsafe_b64encode(hashlib.sha256(material.encode()).digest())


def _box() -> MultiFernet:
    configured = str(context.setting_or("WEBHOOK_SECRET_KEY", "") or "")
    keys = [key.strip() for key in configured.split(",") if key.strip()]
    if not keys:
        # Development and tests only: production refuses to start without a key.
        jwt_key = str(context.setting("JWT_SECRET_KEY"))
        return MultiFernet([Fernet(_fernet_key(_DERIVED.decode() + jwt_key))])
    return MultiFernet([Fernet(_fernet_key(key)) for key in keys])


def seal(secret: str) -> str:
    """The secret as stored: ``fernet:`` and the token."""
    return PREFIX + _box().encrypt(secret.encode()).decode()


def open_(stored: str | None) -> str | None:
    """The secret a stored value holds (None stays None)."""
    if stored is None:
        return None
    if not stored.startswith(PREFIX):
        raise SecretUnreadable("A webhook secret is stored unsealed.")
    try:
        return _box().decrypt(stored.removeprefix(PREFIX).encode()).decode()
    except InvalidToken as error:
        raise SecretUnreadable(
            "No WEBHOOK_SECRET_KEY opens this webhook's secret: was the key changed?"
        ) from error


def reseal(stored: str | None) -> str | None:
    """The stored value sealed again under the first key (after a key rotation)."""
    if stored is None:
        return None
    return PREFIX + _box().rotate(stored.removeprefix(PREFIX).encode()).decode()
