"""Counting failed authentication, shared by every worker and app server.

Counters live in Redis when ``REDIS_URL`` is set (the rate limiter's own storage), else in the
database (``auth_counters``): never in one worker's memory, where ``make run``'s three workers
would each grant the whole budget. A counter counts for a window that starts with its first
hit and then starts again.

What is counted (keys):

- ``address:<client address>``: every failed authentication from an address (an invalid or
  revoked access token, a junk refresh token, a ``Basic`` header, a wrong password). Past
  ``AUTH_FAILURE_LIMIT`` in ``AUTH_FAILURE_WINDOW_MINUTES`` the address gets 429 until the window
  ends. The audit trail gets **one** event per address and window (the first failure,
  ``auth.failures``), however many follow: a flood of junk tokens cannot flood the trail.
- ``attempt:<client address>``: sign-in attempts (``LOGIN_RATE_LIMIT``).
- ``pair:<client address>|<name>``: wrong passwords for one name (exactly as typed) from one
  address. Only that
  pair is locked (``LOGIN_FAILURES_BEFORE_LOCK``, ``LOGIN_LOCK_MINUTES``), so nobody can keep
  a refuge's night worker out from somewhere else.

Sign-in's two limits (attempts per address, wrong passwords per address and name) are
``limits`` rate-limit items: on Redis they are kept by limits' own fixed-window strategy on the
rate limiter's storage (``spend``, ``exhausted``, ``seconds_left``, ``forget``); without Redis
the database counters below stand in for it (never one worker's memory). The other counters
(``hit``, ``count``, ``retry_after``, ``clear``) need the count itself, for their one audit
event per window: on Redis they use the same storage's counters directly.

With Redis down, counting fails open (a warning in the log), like the rate limiter.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa
from limits import RateLimitItem
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy.dialects import postgresql, sqlite

from partnership_api import audit, context, transactions
from partnership_api.database import db
from partnership_api.models.base import utcnow
from partnership_api.models.partnership import AuthCounter

log = logging.getLogger("partnership_api.throttle")

_COUNTERS = AuthCounter.__table__
KEY_PREFIX = "partnership-api/auth/"


def address_key(address: str) -> str:
    return f"address:{address}"


def attempt_key(address: str) -> str:
    return f"attempt:{address}"


def pair_key(address: str, name: str) -> str:
    """The name exactly as typed (a name is matched exactly at sign-in, so a look-alike such
    as ``"Police.Officer"`` or ``"police.officer\n"`` is another pair, never the same one)."""
    return f"pair:{address}|{name}"


def _redis():
    """The rate limiter's Redis storage, when Redis is configured; None for the database."""
    if not context.setting_or("REDIS_URL", None):
        return None
    return context.rate_limit_storage()


def _writable() -> None:
    """Counting writes, kept whatever the request does next (``transactions.write_now``)."""
    transactions.write_now(db.session)


def hit(key: str, window: timedelta) -> int:
    """Count one more for ``key``; the count in its current window (1: the window began now).

    Committed at once (database), so the count stands whatever the caller does next.
    """
    redis = _redis()
    if redis is not None:
        try:
            return int(redis.incr(KEY_PREFIX + key, int(window.total_seconds())))
        except Exception:  # noqa: BLE001 - fail open, as the rate limiter does
            log.warning("authentication counter unavailable (Redis); not counted")
            return 0
    _writable()
    now = utcnow()
    at = sa.literal(now, type_=_COUNTERS.c.expires_at.type)
    ends = sa.literal(now + window, type_=_COUNTERS.c.expires_at.type)
    insert = (postgresql if db.engine.dialect.name == "postgresql" else sqlite).insert
    expired = _COUNTERS.c.expires_at <= at
    stmt = (
        insert(_COUNTERS)
        .values(key=key, count=1, expires_at=ends)
        .on_conflict_do_update(
            index_elements=[_COUNTERS.c.key],
            set_={
                "count": sa.case((expired, 1), else_=_COUNTERS.c.count + 1),
                "expires_at": sa.case((expired, ends), else_=_COUNTERS.c.expires_at),
            },
        )
        .returning(_COUNTERS.c.count)
    )
    count = db.session.execute(stmt).scalar_one()
    if count == 1:  # a window began: tidy away counters whose windows ended a while ago
        db.session.execute(
            sa.delete(_COUNTERS).where(
                _COUNTERS.c.expires_at < sa.literal(now - timedelta(hours=1), type_=ends.type)
            )
        )
    db.session.commit()
    return count


def count(key: str) -> int:
    """The count of ``key`` in its current window (0 when none)."""
    redis = _redis()
    if redis is not None:
        try:
            return int(redis.get(KEY_PREFIX + key) or 0)
        except Exception:  # noqa: BLE001
            log.warning("authentication counter unavailable (Redis); not checked")
            return 0
    found = db.session.execute(
        sa.select(_COUNTERS.c.count, _COUNTERS.c.expires_at).where(_COUNTERS.c.key == key)
    ).one_or_none()
    if found is None or found.expires_at <= utcnow():
        return 0
    return found.count


def retry_after(key: str) -> int:
    """Seconds until ``key``'s window ends (at least 1)."""
    redis = _redis()
    if redis is not None:
        try:
            return max(1, int(redis.get_expiry(KEY_PREFIX + key) - utcnow().timestamp()) + 1)
        except Exception:  # noqa: BLE001
            return 60
    ends = db.session.scalar(sa.select(_COUNTERS.c.expires_at).where(_COUNTERS.c.key == key))
    if ends is None:
        return 1
    return max(1, int((ends - utcnow()).total_seconds()) + 1)


def clear(key: str) -> None:
    """Forget ``key``'s count (the caller commits, on the database)."""
    redis = _redis()
    if redis is not None:
        try:
            redis.clear(KEY_PREFIX + key)
        except Exception:  # noqa: BLE001
            log.warning("authentication counter unavailable (Redis); not cleared")
        return
    db.session.execute(sa.delete(_COUNTERS).where(_COUNTERS.c.key == key))


# --- a limit (a ``limits`` item) on a key: limits' fixed window on Redis, else the database ---


def _fixed_window() -> FixedWindowRateLimiter | None:
    redis = _redis()
    return FixedWindowRateLimiter(redis) if redis is not None else None


def _window(rate: RateLimitItem) -> timedelta:
    return timedelta(seconds=rate.get_expiry())


def spend(rate: RateLimitItem, key: str) -> int:
    """Count one more against ``rate`` for ``key``: the count in the window (1: it began now),
    and more than ``rate.amount`` once past it."""
    strategy = _fixed_window()
    if strategy is None:
        return hit(key, _window(rate))
    try:
        if not strategy.hit(rate, KEY_PREFIX, key):
            return rate.amount + 1
        return rate.amount - strategy.get_window_stats(rate, KEY_PREFIX, key).remaining
    except Exception:  # noqa: BLE001 - fail open, as the rate limiter does
        log.warning("authentication counter unavailable (Redis); not counted")
        return 0


def exhausted(rate: RateLimitItem, key: str) -> bool:
    """Whether ``key`` has used all of ``rate`` in its window."""
    strategy = _fixed_window()
    if strategy is None:
        return count(key) >= rate.amount
    try:
        return not strategy.test(rate, KEY_PREFIX, key)
    except Exception:  # noqa: BLE001
        log.warning("authentication counter unavailable (Redis); not checked")
        return False


def seconds_left(rate: RateLimitItem, key: str) -> int:
    """Seconds until ``key``'s window of ``rate`` ends (at least 1)."""
    strategy = _fixed_window()
    if strategy is None:
        return retry_after(key)
    try:
        reset = strategy.get_window_stats(rate, KEY_PREFIX, key).reset_time
        return max(1, int(reset - utcnow().timestamp()) + 1)
    except Exception:  # noqa: BLE001
        return 60


def forget(rate: RateLimitItem, key: str) -> None:
    """Forget ``key``'s count against ``rate`` (the caller commits, on the database)."""
    strategy = _fixed_window()
    if strategy is None:
        clear(key)
        return
    try:
        strategy.clear(rate, KEY_PREFIX, key)
    except Exception:  # noqa: BLE001
        log.warning("authentication counter unavailable (Redis); not cleared")


# --- failed authentication per client address ----------------------------------------------------


def failure_window() -> timedelta:
    return timedelta(minutes=context.setting("AUTH_FAILURE_WINDOW_MINUTES"))


def address_blocked(address: str) -> bool:
    """Whether this address has used up its failed-authentication budget for the window."""
    return count(address_key(address)) >= context.setting("AUTH_FAILURE_LIMIT")


def failed_authentication(address: str, action: str, reason: str) -> bool:
    """Count a failed authentication from ``address``; True when it is over the budget.

    The first failure of the address's window writes one ``auth.failures`` event to the audit
    trail (what was tried, why it failed, the window and the limit); the rest of the window's
    failures are counted, not recorded one by one.
    """
    limit = context.setting("AUTH_FAILURE_LIMIT")
    if address_blocked(address):
        return True  # refused already: a flood past the limit costs one read, no write
    window = failure_window()
    failures = hit(address_key(address), window)
    if failures == 1:
        _writable()
        audit.record(
            "auth.failures",
            "client_address",
            None,
            outcome="refused",
            details={
                "first_action": action,
                "reason": reason,
                "window_minutes": int(window.total_seconds() // 60),
                "limit": limit,
            },
        )
        db.session.commit()
    return failures > limit
