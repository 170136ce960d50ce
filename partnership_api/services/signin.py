"""Signing in, refreshing and signing out: the behaviour the API and the web pages share.

Wrong passwords lock only the client address and name they came from together
(``LOGIN_FAILURES_BEFORE_LOCK`` within ``LOGIN_LOCK_MINUTES``): someone elsewhere cannot keep
a refuge's night worker out by typing her name. Sign-in attempts per address are limited
(``LOGIN_RATE_LIMIT``, a short window). Every failed authentication also counts against its
client address (``throttle.failed_authentication``: one audit event per window, and 429 for
further *failed* tokens), but that count never refuses a password sign-in: junk tokens from a
police station's one address must not keep its officers out (issue 25). All the counters are
shared by every worker and app server (Redis when configured, else the database).
"""

from __future__ import annotations

import uuid
from typing import NoReturn

import sqlalchemy as sa
from limits import RateLimitItem, RateLimitItemPerMinute
from limits import parse as parse_rate

from partnership_api import audit, auth, context, metrics
from partnership_api.database import db
from partnership_api.domain_errors import Throttled, Unauthenticated
from partnership_api.models.base import utcnow
from partnership_api.models.partnership import AuthSession, User
from partnership_api.policy import Actor
from partnership_api.services import throttle

FAILED = "Invalid username or password."
LOCKED = "Too many failed sign-ins. Try again later."
REFRESH_REFUSED = "A valid refresh token is required."


def _attempts_rate() -> RateLimitItem:
    """Sign-in attempts per client address (``LOGIN_RATE_LIMIT``)."""
    return parse_rate(context.setting("LOGIN_RATE_LIMIT"))


def _lock_rate() -> RateLimitItem:
    """Wrong passwords per address and name before the pair locks, and for how long."""
    return RateLimitItemPerMinute(
        context.setting("LOGIN_FAILURES_BEFORE_LOCK"), context.setting("LOGIN_LOCK_MINUTES")
    )


def _throttled(key: str) -> Throttled:
    return Throttled(LOCKED, retry_after=throttle.retry_after(key))


def _refused_by(rate: RateLimitItem, key: str) -> Throttled:
    return Throttled(LOCKED, retry_after=throttle.seconds_left(rate, key))


def login(username: str, password: str, address: str) -> dict:
    """Check the password; answer the same way whether or not the username exists.

    ``address`` is the client's address: failures are counted per address and per
    address-name pair, never per name alone.
    """
    user, session = _sign_in(username, password, address, details=None)
    tokens, session.refresh_jti = auth.token_pair(user, session)
    db.session.commit()
    return tokens


def open_page_session(username: str, password: str, address: str) -> tuple[uuid.UUID, uuid.UUID]:
    """Sign in to the web pages: the same counters, lock and audit as ``login``, and a session
    record of the same kind, but no token: the pages carry the session id in their cookie.
    Answers (user id, session id)."""
    user, session = _sign_in(username, password, address, details={"via": "pages"})
    db.session.commit()
    return user.id, session.id


def _sign_in(username: str, password: str, address: str, details: dict | None):
    """The shared counters, the password check, the lock, and a new session (not committed).

    The address's failed-authentication count (bad tokens) is not consulted: only the
    attempts per address and the address–name pair's lock refuse a sign-in."""
    attempts, rate = throttle.attempt_key(address), _attempts_rate()
    if throttle.spend(rate, attempts) > rate.amount:
        metrics.sign_in_failed("throttled")
        raise _refused_by(rate, attempts)
    pair, lock = throttle.pair_key(address, username), _lock_rate()
    if throttle.exhausted(lock, pair):
        metrics.sign_in_failed("locked")
        raise _refused_by(lock, pair)
    user = db.session.scalar(sa.select(User).where(User.username == username))
    ok = auth.verify_password(user, password)
    if not ok or user is None or not user.active:
        metrics.sign_in_failed("bad_credentials")
        _failed(username, user, address, pair)
        raise Unauthenticated(FAILED)
    throttle.forget(lock, pair)
    now = utcnow()
    user.last_login_at = now
    session = auth.open_session(user)
    audit.record(
        "auth.login",
        "user",
        user.id,
        username=user.username,
        user_id=user.id,
        organisation_id=user.organisation_id,
        subject_organisation_id=user.organisation_id,
        details=details,
    )
    return user, session


def _failed(username: str, user: User | None, address: str, pair: str) -> None:
    """Count a wrong password for this address and name, and for the address.

    The audit trail gets the first failure of a name from an address in a lock window, and the
    failure that locks the pair: not one row per attempt.
    """
    user_id = user.id if user else None
    org_id = user.organisation_id if user else None
    lock = _lock_rate()
    failures = throttle.spend(lock, pair)
    locks_at = lock.amount
    if failures in (1, locks_at):
        audit.record(
            "auth.login",
            "user",
            user_id,
            outcome="refused",
            username=username,
            subject_organisation_id=org_id,
            details={"reason": "bad_credentials" if failures < locks_at else "pair_locked"},
        )
        db.session.commit()
    # Counted against the address (for the audit trail's one event per window); over the
    # address's budget or not, the answer to a wrong password stays 401 until the pair locks.
    throttle.failed_authentication(address, "auth.login", "bad_credentials")


def clear_lock(username: str) -> None:
    """Forget wrong passwords of this name (an admin reset the password): the counters are
    per address, so those of the addresses the name was tried from this window go."""
    # The pairs are keyed by address first; the database can find a name's pairs, Redis keys
    # expire on their own within LOGIN_LOCK_MINUTES.
    from partnership_api.models.partnership import AuthCounter

    name = username
    if not context.setting_or("REDIS_URL", None):
        db.session.execute(
            sa.delete(AuthCounter).where(
                AuthCounter.key.like("pair:%"), AuthCounter.key.endswith(f"|{name}")
            )
        )


def _refused_refresh(address: str, reason: str) -> NoReturn:
    """A refresh token that does not work: counted against the address; 401 (429 past the
    address's budget)."""
    metrics.sign_in_failed("refresh_refused")
    if throttle.failed_authentication(address, "auth.refresh", reason):
        raise _throttled(throttle.address_key(address))
    raise Unauthenticated(REFRESH_REFUSED)


def refresh(claims: dict | None, address: str) -> dict:
    """Rotate the refresh token; a reused old one revokes the whole session."""
    if claims is None:
        _refused_refresh(address, "invalid")
    try:
        session_id = uuid.UUID(claims["sid"])
    except (KeyError, ValueError, TypeError):
        _refused_refresh(address, "invalid")
    session = db.session.get(AuthSession, session_id)
    user = db.session.get(User, session.user_id) if session else None
    if session is None or user is None or not user.active or session.revoked_at is not None:
        _refused_refresh(address, "revoked")
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
        metrics.sign_in_failed("refresh_refused")
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


def end_idle_page_session(session_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """A page session left idle too long: revoked, as a sign-out would be."""
    auth.revoke_session(session_id, "idle")
    audit.record("auth.logout", "session", session_id, user_id=user_id, details={"reason": "idle"})
    db.session.commit()
