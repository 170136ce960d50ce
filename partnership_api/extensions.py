"""Extension singletons, bound to the app in ``create_app``."""

from __future__ import annotations

from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from partnership_api.models.base import Base
from partnership_api.smorest import Api


def client_address() -> str:
    """The caller's address as this server saw it (no proxy headers are trusted)."""
    from flask import request

    return request.remote_addr or "unknown"


db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})


def _render_item(type_, obj, autogen_context):
    """Write our column types as plain SQLAlchemy types in migrations."""
    from partnership_api.models.base import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


migrate = Migrate(render_as_batch=True, compare_type=True, render_item=_render_item)
jwt = JWTManager()
api = Api()
limiter = Limiter(key_func=client_address, headers_enabled=True, swallow_errors=True)


def signed_in_caller() -> str:
    """Rate-limit key: the signed-in user (set by the sign-in hook), else the caller's address."""
    from flask import g

    actor = g.get("actor")
    return f"user:{actor.user_id}" if actor is not None else f"address:{client_address()}"


def _api_rate() -> str:
    from flask import current_app

    return str(current_app.config["API_RATE_LIMIT"])


# API_RATE_LIMIT per user, one budget shared by the heavier endpoints (bed search, the referral
# list, exports, statistics, the audit trail); kept in Redis when REDIS_URL is set, so every
# worker and app server counts together. Applied with ``Blueprint.rate_limited``.
heavy_endpoint_limit = limiter.shared_limit(
    _api_rate, scope="heavy-endpoints", key_func=signed_in_caller
)


# --- sign-in throttling, shared by POST /api/v1/auth/login and the sign-in page ---------------


def _login_rate() -> str:
    from flask import current_app

    return str(current_app.config["LOGIN_RATE_LIMIT"])


def _account_rate() -> str:
    # The same threshold as the account lock, so an unknown username is throttled exactly
    # like a real one and the answer never tells which it was.
    from flask import current_app

    config = current_app.config
    return f"{config['LOGIN_FAILURES_BEFORE_LOCK']} per {config['LOGIN_LOCK_MINUTES']} minutes"


def _login_username() -> str:
    """The name being tried, from the API's JSON body or the sign-in page's form."""
    from flask import request

    if request.is_json:
        body = request.get_json(silent=True)
        name = body.get("username") if isinstance(body, dict) else None
    else:
        name = request.form.get("username")
    return f"login-user:{str(name)[:80].lower()}" if name else "login-user:-"


def _failed(response) -> bool:
    return response.status_code in (401, 429)


login_address_limit = limiter.shared_limit(_login_rate, scope="login-address", methods=["POST"])
login_account_limit = limiter.shared_limit(
    _account_rate,
    scope="login-account",
    key_func=_login_username,
    deduct_when=_failed,
    methods=["POST"],
)
