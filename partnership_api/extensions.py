"""The API's extension singletons, bound to the app in ``create_app``: migrations, JWT, the
Api, the rate limiter, and the database's ``db`` (defined in ``database.py``, which the core
and the ground import instead: this module is the door's)."""

from __future__ import annotations

import threading
import time

from cachetools import TTLCache
from flask import current_app
from flask_jwt_extended import JWTManager
from flask_jwt_extended import view_decorators as jwt_view_decorators
from flask_migrate import Migrate
from jwt.exceptions import ExpiredSignatureError, ImmatureSignatureError

from partnership_api.database import db
from partnership_api.ratelimits import limiter
from partnership_api.smorest import Api

__all__ = ["api", "db", "jwt", "limiter", "migrate"]


def _render_item(type_, obj, autogen_context):
    """Write our column types as plain SQLAlchemy types in migrations."""
    from partnership_api.models.base import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


migrate = Migrate(render_as_batch=True, compare_type=True, render_item=_render_item)
# Tokens whose signature this worker has checked, with their claims: a cached token is still
# checked for expiry on every request, and its session against the database
# (``api_auth.py``'s loaders); only the signature check and the JSON parsing (a fifth of a bed
# search) are saved. Kept for an access token's life at most, the least recently used first
# out when full.
VERIFIED_TOKENS_KEPT = 4096


class VerifiedTokensJWT(JWTManager):
    """flask-jwt-extended's manager, remembering the tokens it has verified (per app)."""

    def _decode_jwt_from_config(self, encoded_token, csrf_value=None, allow_expired=False):
        # flask-jwt-extended's one decoding step (``decode_token`` calls it), pinned in
        # requirements.lock; everything else of its verification runs as it comes.
        if allow_expired or csrf_value is not None:
            return super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired)
        verified, lock = current_app.extensions.get("verified_tokens") or self._cache()
        with lock:
            claims = verified.get(encoded_token)
        if claims is None:
            claims = super()._decode_jwt_from_config(encoded_token)
            with lock:
                verified[encoded_token] = claims
            return claims
        # Verified before by this worker: only time can have made it invalid since.
        now = time.time()
        if claims.get("exp", now) <= now:  # without one, refused by the claims check
            raise ExpiredSignatureError("Signature has expired")
        if claims.get("nbf", 0) > now:
            raise ImmatureSignatureError("The token is not yet valid (nbf)")
        return claims

    def _cache(self) -> tuple[TTLCache, threading.Lock]:
        lasts = current_app.config["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds()
        made = (TTLCache(maxsize=VERIFIED_TOKENS_KEPT, ttl=lasts), threading.Lock())
        return current_app.extensions.setdefault("verified_tokens", made)


# After verifying a token, flask-jwt-extended reads its header again (PyJWT's
# ``get_unverified_header``: each of the token's three segments checked character by character
# in Python, about 4 % of a bed search). It does so only after the token has been verified
# (``decode_token``), and a verified token's header is the decoding of its first segment, so
# headers are kept by that segment (never the token: no credential is kept here), at most
# ``VERIFIED_TOKENS_KEPT``; a token that does not parse raises as before and nothing is kept;
# each caller gets its own copy. Installed where flask-jwt-extended's request verification
# looks the function up (pinned in requirements.lock; ``tests/test_hot_path.py`` checks it is
# in place).
_read_header = jwt_view_decorators.get_unverified_jwt_headers
_headers: TTLCache = TTLCache(maxsize=VERIFIED_TOKENS_KEPT, ttl=24 * 3600)
_headers_lock = threading.Lock()


def header_of(encoded_token: str) -> dict:
    """The (unverified) header of a verified token, as ``get_unverified_jwt_headers`` reads it."""
    segment = encoded_token.partition(".")[0] if isinstance(encoded_token, str) else None
    with _headers_lock:
        found = _headers.get(segment) if segment else None
    if found is None:
        found = _read_header(encoded_token)
        if segment:
            with _headers_lock:
                _headers[segment] = found
    return dict(found)


jwt_view_decorators.get_unverified_jwt_headers = header_of

jwt = VerifiedTokensJWT()
api = Api()
