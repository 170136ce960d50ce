"""Signing in, refreshing and signing out."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from partnership_api import audit, auth, context
from partnership_api.domain_errors import Throttled, Unauthenticated
from partnership_api.extensions import db
from partnership_api.models.base import utcnow
from partnership_api.models.partnership import AuthSession, LoginThrottle, User
from partnership_api.policy import Actor

FAILED = "Invalid username or password."
LOCKED = "Too many failed sign-ins. Try again later."
REFRESH_REFUSED = "A valid refresh token is required."


def login(username: str, password: str) -> dict:
    """Check the password; answer the same way whether or not the username exists."""
    now = utcnow()
    key = username.strip().lower()[:80]
    throttle = db.session.get(LoginThrottle, key, with_for_update=True)
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if throttle is not None and throttle.locked_until is not None and throttle.locked_until > now:
        audit.record_refusal(
            "auth.login",
            "user",
            user.id if user else None,
            username=username,
            details={"reason": "locked"},
            subject_organisation_id=user.organisation_id if user else None,
        )
        retry = int((throttle.locked_until - now).total_seconds()) + 1
        raise Throttled(LOCKED, retry_after=retry)
    ok = auth.verify_password(user, password)
    if not ok or user is None or not user.active:
        _count_failure(key, throttle, now)
        audit.record(
            "auth.login",
            "user",
            user.id if user else None,
            outcome="refused",
            username=username,
            subject_organisation_id=user.organisation_id if user else None,
            details={"reason": "bad_credentials"},
        )
        db.session.commit()
        raise Unauthenticated(FAILED)
    if throttle is not None:
        db.session.delete(throttle)
    user.last_login_at = now
    session = auth.open_session(user)
    tokens, session.refresh_jti = auth.token_pair(user, session)
    audit.record(
        "auth.login",
        "user",
        user.id,
        username=user.username,
        user_id=user.id,
        organisation_id=user.organisation_id,
        subject_organisation_id=user.organisation_id,
    )
    db.session.commit()
    return tokens


def _count_failure(key: str, throttle: LoginThrottle | None, now) -> None:
    """One more failure for this name; at the threshold, lock it for a while."""
    if throttle is None:
        throttle = LoginThrottle(username_key=key, failures=0)
        try:
            with db.session.begin_nested():
                db.session.add(throttle)
        except IntegrityError:  # another worker counted this name first: count on its row
            throttle = db.session.get(
                LoginThrottle, key, with_for_update=True, populate_existing=True
            )
    throttle.failures += 1
    throttle.last_failure_at = now
    if throttle.failures >= context.setting("LOGIN_FAILURES_BEFORE_LOCK"):
        throttle.locked_until = now + auth.lock_duration()
        throttle.failures = 0


def clear_lock(username: str) -> None:
    """Forget failed sign-ins of this name (an admin reset the password)."""
    db.session.execute(
        sa.delete(LoginThrottle).where(LoginThrottle.username_key == username.strip().lower()[:80])
    )


def refresh(claims: dict | None) -> dict:
    """Rotate the refresh token; a reused old one revokes the whole session."""
    if claims is None:
        audit.record_refusal("auth.refresh", "session", None, details={"reason": "invalid"})
        raise Unauthenticated(REFRESH_REFUSED)
    try:
        session_id = uuid.UUID(claims["sid"])
    except (KeyError, ValueError, TypeError):
        raise Unauthenticated(REFRESH_REFUSED) from None
    session = db.session.get(AuthSession, session_id)
    user = db.session.get(User, session.user_id) if session else None
    if session is None or user is None or not user.active or session.revoked_at is not None:
        audit.record_refusal("auth.refresh", "session", session_id, details={"reason": "revoked"})
        raise Unauthenticated(REFRESH_REFUSED)
    old_jti = claims["jti"]
    tokens, new_jti = auth.token_pair(user, session)
    # Conditional update: of two refreshes racing with one token, only one rotates it.
    rotated = db.session.execute(
        sa.update(AuthSession)
        .where(
            AuthSession.id == session.id,
            AuthSession.refresh_jti == old_jti,
            AuthSession.revoked_at.is_(None),
        )
        .values(refresh_jti=new_jti)
        .execution_options(synchronize_session=False)
    ).rowcount
    if rotated != 1:
        db.session.rollback()
        auth.revoke_session(session_id, "refresh_token_reused")
        audit.record(
            "auth.refresh",
            "session",
            session_id,
            outcome="refused",
            username=user.username,
            subject_organisation_id=user.organisation_id,
            details={"reason": "refresh_token_reused"},
        )
        db.session.commit()
        raise Unauthenticated(REFRESH_REFUSED)
    audit.record(
        "auth.refresh",
        "session",
        session_id,
        username=user.username,
        user_id=user.id,
        organisation_id=user.organisation_id,
        subject_organisation_id=user.organisation_id,
    )
    db.session.commit()
    return tokens


def logout(actor: Actor) -> None:
    auth.revoke_session(actor.session_id, "logout")
    audit.record("auth.logout", "session", actor.session_id, subject_organisation_id=actor.org_id)
    db.session.commit()
