"""Passwords, tokens, sessions, and the hook that signs in every protected request.

Every route is protected unless its view is marked public (``smorest.mark_public``). The hook
verifies the access token (HS256 only), then loads the user, organisation and session in one
query: a logged-out session or a deactivated user is refused at once, on every worker and app
server, because the state lives in the database.
"""

from __future__ import annotations

import secrets
import time
import uuid

import jwt as pyjwt
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import Flask, current_app, g, request
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token
from flask_smorest import abort
from jwt.exceptions import PyJWTError
from werkzeug.exceptions import NotFound

from partnership_api import direct
from partnership_api.database import db
from partnership_api.models.base import utcnow
from partnership_api.models.partnership import AuthSession, User
from partnership_api.policy import Actor
from partnership_api.ratelimits import client_address
from partnership_api.smorest import is_page_endpoint, is_public, is_read_only
from partnership_api.transactions import end_read

_hasher: PasswordHasher | None = None
# A hash of a random password, verified against when the username is unknown, so that the
# answer takes as long whether or not the account exists.
_dummy_hash: str | None = None


def hasher() -> PasswordHasher:
    global _hasher, _dummy_hash
    if _hasher is None:
        _hasher = PasswordHasher(
            time_cost=current_app.config["ARGON2_TIME_COST"],
            memory_cost=current_app.config["ARGON2_MEMORY_COST"],
        )
        _dummy_hash = _hasher.hash(secrets.token_urlsafe(16))
    return _hasher


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(user: User | None, password: str) -> bool:
    ph = hasher()
    try:
        return ph.verify(user.password_hash if user else _dummy_hash, password) and user is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# --- sessions and tokens -----------------------------------------------------------------------


def _access_token(user: User, session: AuthSession) -> str:
    return create_access_token(
        identity=str(user.id),
        additional_claims={"sid": str(session.id), "org": user.organisation_id, "role": user.role},
    )


def token_pair(user: User, session: AuthSession) -> tuple[dict, str]:
    """A new access and refresh token for this session, and the refresh token's id."""
    refresh = create_refresh_token(
        identity=str(user.id),
        additional_claims={"sid": str(session.id)},
        expires_delta=session.expires_at - utcnow(),
    )
    refresh_jti = decode_token(refresh)["jti"]
    expires = current_app.config["JWT_ACCESS_TOKEN_EXPIRES"]
    tokens = {
        "access_token": _access_token(user, session),
        "refresh_token": refresh,
        "token_type": "Bearer",
        "expires_in": int(expires.total_seconds()),
    }
    return tokens, refresh_jti


def open_session(user: User) -> AuthSession:
    now = utcnow()
    session = AuthSession(
        id=uuid.uuid4(),
        user_id=user.id,
        refresh_jti="",
        created_at=now,
        expires_at=now + current_app.config["JWT_REFRESH_TOKEN_EXPIRES"],
    )
    db.session.add(session)
    return session


def revoke_session(session_id: uuid.UUID, reason: str) -> None:
    db.session.execute(
        sa.update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )


def revoke_user_sessions(user_id: uuid.UUID, reason: str) -> None:
    db.session.execute(
        sa.update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )


# --- the per-request hook ----------------------------------------------------------------------


def current_actor() -> Actor:
    """The caller of this request (set by the authentication hook)."""
    actor = g.get("actor")
    if actor is None:  # pragma: no cover - the auth hook guarantees an actor on protected views
        abort(401, message="Authentication required.")
    return actor


def _refuse_token(reason: str) -> None:
    """401, counted against the client's address: its first failure in a window is audited
    (one event however many follow), and past ``AUTH_FAILURE_LIMIT`` the answer is 429."""
    from partnership_api.services import throttle

    address = client_address()
    if throttle.failed_authentication(address, "auth.token", reason):
        abort(
            429,
            message="Too many failed authentications. Try again later.",
            headers={"Retry-After": str(throttle.retry_after(throttle.address_key(address)))},
        )
    abort(401, message="A valid access token is required.")


def load_actor(claims: dict) -> Actor | None:
    """The active user and live session named by verified token claims, or None (one prebuilt
    statement: ``direct.signed_in``)."""
    try:
        user_id = uuid.UUID(claims["sub"])
        session_id = uuid.UUID(claims["sid"])
    except (KeyError, ValueError, TypeError):
        return None
    row = direct.signed_in(user_id, session_id, utcnow())
    if row is None:
        return None
    username, role, partnership_admin, org_id, org_kind, org_name, generation = row
    g.bed_search_generation = generation
    return Actor(
        user_id=user_id,
        username=username,
        org_id=org_id,
        org_kind=org_kind,
        org_name=org_name,
        role=role,
        partnership_admin=partnership_admin,
        session_id=session_id,
    )


REQUIRED_CLAIMS = ["exp", "iat", "sub", "jti", "type", "sid"]
# Tokens whose signature this worker has checked, with their claims. A cached token is still
# checked for expiry on every request, and its session against the database; only the
# signature check and JSON parsing (a fifth of a bed search) are saved.
VERIFIED_TOKENS_KEPT = 4096


def bearer_claims(refresh: bool = False) -> dict | None:
    """Decode and verify the bearer token of this request; None when absent or invalid.

    HS256 only (the algorithm is pinned), signature, expiry and not-before checked, and the
    token's type must be the one asked for.
    """
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    verified = current_app.extensions.setdefault("verified_tokens", {})
    claims = verified.get(token)
    if claims is not None:
        # Verified before by this worker: only time can have made it invalid since.
        now = time.time()
        if claims["exp"] <= now or claims.get("nbf", 0) > now:
            verified.pop(token, None)
            return None
    else:
        config = current_app.config
        try:
            claims = pyjwt.decode(
                token,
                config["JWT_SECRET_KEY"],
                algorithms=config["JWT_DECODE_ALGORITHMS"],
                options={"require": REQUIRED_CLAIMS},
            )
        except (PyJWTError, ValueError, KeyError, TypeError):
            return None
        if len(verified) >= VERIFIED_TOKENS_KEPT:
            verified.clear()
        verified[token] = claims
    if claims.get("type") != ("refresh" if refresh else "access"):
        return None
    return claims


def init_auth(app: Flask) -> None:
    @app.teardown_request
    def end_read_without_transaction(_error) -> None:
        # The session normally ends with the app context; this matters where one context
        # serves several requests (tests): a write must never inherit a read's connection.
        end_read(db.session)

    @app.before_request
    def sign_in_request() -> None:
        g.actor = None
        g.read_only = False
        g.pop("bed_search_generation", None)
        adapter_endpoint = request.endpoint
        if adapter_endpoint is None:
            raise request.routing_exception or NotFound()
        view = app.view_functions.get(adapter_endpoint)
        if (
            view is None
            or adapter_endpoint == "static"
            or is_public(adapter_endpoint, view, request.method)
        ):
            return
        if is_page_endpoint(adapter_endpoint):
            return  # signed in by its session cookie, in web/session.py (never by a token)
        if request.method == "OPTIONS":
            return
        if not request.headers.get("Authorization"):
            abort(401, message="A valid access token is required.")
        claims = bearer_claims()
        if claims is None:
            _refuse_token("invalid")
        g.read_only = is_read_only(request.method)
        actor = load_actor(claims)
        if actor is None:
            _refuse_token("revoked")
        g.actor = actor
