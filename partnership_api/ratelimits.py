"""Rate limits: flask-limiter's one limiter, and the shared per-user budget of the heavier
endpoints. Counts live in Redis when REDIS_URL is set, so every worker and app server counts
together (``RATELIMIT_STORAGE_URI``)."""

from __future__ import annotations

from flask import current_app, g, request
from flask_limiter import Limiter


def client_address() -> str:
    """The caller's address as this server saw it (no proxy headers are trusted)."""
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


# --- sign-in throttling, shared by POST /api/v1/auth/login and the sign-in page ---------------


def _login_rate() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


def _account_rate() -> str:
    # The same threshold as the account lock, so an unknown username is throttled exactly
    # like a real one and the answer never tells which it was.
    config = current_app.config
    return f"{config['LOGIN_FAILURES_BEFORE_LOCK']} per {config['LOGIN_LOCK_MINUTES']} minutes"


def _login_username() -> str:
    """The name being tried, from the API's JSON body or the sign-in page's form."""
    if request.is_json:
        body = request.get_json(silent=True)
        name = body.get("username") if isinstance(body, dict) else None
    else:
        name = request.form.get("username")
    return f"login-user:{str(name)[:80].lower()}" if name else "login-user:-"


def _failed(response) -> bool:
    return response.status_code in (401, 429)


# One budget per address and one per name, whichever of the API and the page is used.
login_address_limit = limiter.shared_limit(_login_rate, scope="login-address", methods=["POST"])
login_account_limit = limiter.shared_limit(
    _account_rate,
    scope="login-account",
    key_func=_login_username,
    deduct_when=_failed,
    methods=["POST"],
)
