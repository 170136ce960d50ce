"""Where a listener is in the outbox, as a cursor only that listener can use (issue 25).

An event's ``position`` counts every event of the partnership, heard or not: a listener who saw
positions 7 and 11 would know that three events it may not hear happened between. So no
position leaves the service. The feed, the webhook bodies and the replays speak in cursors: a
position sealed (AES-256-GCM, a random nonce each time) for one organisation, the listener of
the feed and of its webhooks (``policy_events.organisation_listener``). A cursor says nothing
about its position (the same position gives a different cursor every time it is shown, and
another organisation's cursor for it differs too), cannot be made up or changed, and is refused
when another organisation gives it. A partner system may keep the cursor of the last event its
webhook received and catch up on the feed from it: both are its organisation's.

The key is derived (HKDF-SHA256) from ``JWT_SECRET_KEY``, the secret every deployment keeps,
for this purpose only. Changing that key makes the cursors given before it unreadable: a reader
whose cursor is refused starts again without one and skips the events it already has (each
keeps its ``id``, the webhook's ``webhook-id``).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import struct
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from partnership_api import context
from partnership_api.domain_errors import Invalid

VERSION = b"\x01"
NONCE = 12
SEALED = len(VERSION) + NONCE + 8 + 16  # version, nonce, the position, the tag
SHOWN = len(base64.urlsafe_b64encode(b"\x00" * SEALED).rstrip(b"="))  # 50 characters
_INFO = b"partnership-api event cursors v1"
_OPAQUE_INFO = b"partnership-api opaque ids v1"


class BadCursor(Invalid):
    """A cursor this organisation cannot use: not one at all, another organisation's, made
    under a key no longer kept, or an old position number. Answered 422 naming the field, as
    every value the API cannot use is (its 400 is a body it cannot parse)."""


def _aead() -> AESGCM:
    def make() -> AESGCM:
        secret = str(context.setting("JWT_SECRET_KEY")).encode()
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret)
        return AESGCM(key)

    return context.process_cache("event_cursor_aead", make)


def _opaque_key() -> bytes:
    def make() -> bytes:
        secret = str(context.setting("JWT_SECRET_KEY")).encode()
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_OPAQUE_INFO).derive(
            secret
        )

    return context.process_cache("opaque_id_key", make)


def opaque_id(kind: str, number: int) -> uuid.UUID:
    """A stable id, shown in place of a row's number that counts everyone's rows (a webhook
    attempt's): a keyed hash of it, which says nothing of its neighbours."""
    digest = hmac.new(_opaque_key(), f"{kind}:{number}".encode(), "sha256").digest()
    return uuid.UUID(bytes=digest[:16], version=4)


def _bound_to(organisation_id: int) -> bytes:
    return b"organisation:%d" % organisation_id


def cursor_for(position: int, organisation_id: int) -> str:
    """The cursor after which ``organisation_id`` reads the events following ``position``."""
    nonce = os.urandom(NONCE)
    bound = VERSION + _bound_to(organisation_id)
    sealed = _aead().encrypt(nonce, struct.pack(">Q", position), bound)
    return base64.urlsafe_b64encode(VERSION + nonce + sealed).rstrip(b"=").decode()


def position_of(cursor: str, organisation_id: int, field: str, *, location: str = "query") -> int:
    """The position a cursor of ``organisation_id`` holds, or ``BadCursor`` naming ``field``."""
    if cursor.isdigit():
        raise BadCursor.on(
            field,
            f"{field} takes a cursor (an event's `cursor`), not a position number: positions "
            "are no longer shown. Leave it out to start from the oldest event kept.",
            location=location,
        )
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != SEALED or raw[:1] != VERSION:
        raise _unusable(field, location)
    nonce, sealed = raw[1 : 1 + NONCE], raw[1 + NONCE :]
    try:
        plain = _aead().decrypt(nonce, sealed, VERSION + _bound_to(organisation_id))
    except InvalidTag as error:
        raise _unusable(field, location) from error
    return struct.unpack(">Q", plain)[0]


def _unusable(field: str, location: str) -> BadCursor:
    return BadCursor.on(
        field,
        f"{field} is not a cursor your organisation was given (another organisation's, "
        "changed, or older than the service's key). Leave it out to start from the oldest "
        "event kept.",
        location=location,
    )
