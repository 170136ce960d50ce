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
