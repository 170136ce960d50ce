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
