"""Rate limits: flask-limiter's one limiter, and the shared per-user budget of the heavier
endpoints. Counts live in Redis when REDIS_URL is set, so every worker and app server counts
together (``RATELIMIT_STORAGE_URI``).

One limit check per request. flask-limiter checks a request twice: once in its own hook
before every request (for limits set on the app or a blueprint: here only the directory's,
``/oruk``) and again in the decorator of a limited view. ``init_limits`` runs the first only
on the directory's requests, and ``heavy`` skips flask-limiter altogether when rate limiting
is off (``RATELIMIT_ENABLED=false``, for benchmarks): the same limits are counted, at half
the cost (issue 29).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

from flask import Flask, current_app, g, request
from flask_limiter import Limiter
from limits.storage import MemoryStorage

# The blueprint whose limit is set on the blueprint itself (``oruk/views.py``).
BLUEPRINT_LIMITED = "oruk"


def client_address() -> str:
    """The caller's address: as this server saw it, or as the ``TRUSTED_PROXIES`` in front of
    it forwarded it (ProxyFix, set up by ``create_app``)."""
    return request.remote_addr or "unknown"


# How often, at most, a worker without Redis sweeps its expired counters out of memory.
SWEEP_EVERY_SECONDS = 1.0


class SweptMemoryStorage(MemoryStorage):
    """limits' memory storage (each worker's own counters, where ``REDIS_URL`` is not set),
    sweeping expired counters out at most once a second instead of starting a thread on
    almost every hit (its sweep timer waits 10 ms, then ends, so the next hit starts another):
    about a third of a limited request's limiting cost. Counting is unchanged: an expired
    counter is reset when it is next read, as limits does, whether or not it was swept."""

    STORAGE_SCHEME = ["swept-memory"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        self._next_sweep = 0.0
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    def _MemoryStorage__schedule_expiry(self) -> None:  # limits' private hook, pinned version
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + SWEEP_EVERY_SECONDS
        super()._MemoryStorage__schedule_expiry()


MEMORY_STORAGE_URI = "swept-memory://"

limiter = Limiter(key_func=client_address, headers_enabled=True, swallow_errors=True)


def init_limits(app: Flask) -> None:
    """flask-limiter on the app, its before-request check moved onto the one blueprint with a
    limit of its own: everywhere else the limited view's decorator is the one check."""
    limiter.init_app(app)
    if not limiter.enabled:
        return  # init_app registered nothing
    hooks = app.before_request_funcs.get(None, [])
    check = limiter._check_request_limit  # bound anew: compared, not identical
    if check in hooks:
        hooks.remove(check)
        app.before_request_funcs.setdefault(BLUEPRINT_LIMITED, []).insert(0, check)


def signed_in_caller() -> str:
    """Rate-limit key: the signed-in user (set by the sign-in hook), else the caller's address."""
    actor = g.get("actor")
    return f"user:{actor.user_id}" if actor is not None else f"address:{client_address()}"


def _api_rate() -> str:
    return str(current_app.config["API_RATE_LIMIT"])


# API_RATE_LIMIT per user, one budget shared by the heavier endpoints (bed search, the referral
# list, exports, statistics, the audit trail). Applied with ``Blueprint.rate_limited``.
heavy_endpoint_limit = limiter.shared_limit(
    _api_rate, scope="heavy-endpoints", key_func=signed_in_caller
)


def heavy(view: Callable) -> Callable:
    """``heavy_endpoint_limit`` on a view; with rate limiting off, the view as it is (flask-
    limiter's decorator would still look for limits on every call, to find none)."""
    limited = heavy_endpoint_limit(view)

    @functools.wraps(view)
    def checked(*args, **kwargs):
        if limiter.enabled:
            return limited(*args, **kwargs)
        return view(*args, **kwargs)

    return checked
