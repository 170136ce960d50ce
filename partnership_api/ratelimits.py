"""Rate limits: flask-limiter's one limiter, and the shared per-user budget of the heavier
endpoints. Counts live in Redis when REDIS_URL is set, so every worker and app server counts
together (``RATELIMIT_STORAGE_URI``)."""

from __future__ import annotations

from flask import current_app, g, request
from flask_limiter import Limiter


def client_address() -> str:
    """The caller's address: as this server saw it, or as the ``TRUSTED_PROXIES`` in front of
    it forwarded it (ProxyFix, set up by ``create_app``)."""
    return request.remote_addr or "unknown"


limiter = Limiter(key_func=client_address, headers_enabled=True, swallow_errors=True)


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
