"""Passwords, tokens and sessions: the core of signing in, with no web framework.

A password is hashed with Argon2; a session is a row (``AuthSession``) that sign-out, a
password reset or a deactivation revokes at once; an access or refresh token is a JWT (HS256,
PyJWT) naming its session. ``load_actor`` reads the caller of a token's claims and the state of
its session in one query: every request's sign-in asks it (the API's hook in ``api_auth.py``,
the pages' session in ``web/session.py``), so a logged-out session or a deactivated user is
refused at once, on every worker and app server, because the state lives in the database.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta

import jwt as pyjwt
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from partnership_api import context, direct
from partnership_api.actors import Actor
from partnership_api.database import db
from partnership_api.models.base import utcnow
from partnership_api.models.partnership import AuthSession, User

_hasher: PasswordHasher | None = None
# A hash of a random password, verified against when the username is unknown, so that the
# answer takes as long whether or not the account exists.
_dummy_hash: str | None = None


def hasher() -> PasswordHasher:
    global _hasher, _dummy_hash
    if _hasher is None:
        _hasher = PasswordHasher(
            time_cost=context.setting("ARGON2_TIME_COST"),
            memory_cost=context.setting("ARGON2_MEMORY_COST"),
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


# Every claim flask-jwt-extended's verifier (``api_auth.py``) reads, as it writes them itself.
REQUIRED_CLAIMS = ["exp", "iat", "sub", "jti", "type", "sid"]


def _token(kind: str, user: User, claims: dict, lasts: timedelta) -> tuple[str, str]:
    """A signed token of this kind for this user, and its id."""
    now = datetime.now(UTC)
    jti = str(uuid.uuid4())
    payload = {"fresh": False, "iat": now, "nbf": now, "jti": jti, "type": kind}
    payload |= {"sub": str(user.id), "exp": now + lasts, **claims}
    secret = context.setting("JWT_SECRET_KEY")
    return pyjwt.encode(payload, secret, algorithm=context.setting("JWT_ALGORITHM")), jti


def token_pair(user: User, session: AuthSession) -> tuple[dict, str]:
    """A new access and refresh token for this session, and the refresh token's id."""
    sid = str(session.id)
    refresh, refresh_jti = _token(
        "refresh", user, {"sid": sid}, lasts=session.expires_at - utcnow()
    )
    expires = context.setting("JWT_ACCESS_TOKEN_EXPIRES")
    access, _ = _token(
        "access",
        user,
        {"sid": sid, "org": user.organisation_id, "role": user.role},
        lasts=expires,
    )
    tokens = {
        "access_token": access,
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
        expires_at=now + context.setting("JWT_REFRESH_TOKEN_EXPIRES"),
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


# --- the session check of every request ---------------------------------------------------


def load_actor(claims: dict, alone: bool = False) -> Actor | None:
    """The active user and live session named by verified token claims, or None (one prebuilt
    statement: ``direct.signed_in``; ``alone``: on a connection of its own, for a request that
    usually needs nothing more of the database)."""
    try:
        user_id = uuid.UUID(claims["sub"])
        session_id = uuid.UUID(claims["sid"])
    except (KeyError, ValueError, TypeError):
        return None
    row = direct.signed_in(user_id, session_id, utcnow(), alone=alone)
    if row is None:
        return None
    username, role, partnership_admin, org_id, org_kind, org_name, generation = row
    context.keep_for_request("bed_search_generation", generation)
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
