"""The API's extension singletons, bound to the app in ``create_app``: migrations, JWT, the
Api, the rate limiter, and the database's ``db`` (defined in ``database.py``, which the core
and the ground import instead: this module is the door's)."""

from __future__ import annotations

from flask_jwt_extended import JWTManager
from flask_migrate import Migrate

from partnership_api.database import db
from partnership_api.ratelimits import limiter
from partnership_api.smorest import Api

__all__ = ["api", "db", "jwt", "limiter", "migrate"]


def _render_item(type_, obj, autogen_context):
    """Write our column types as plain SQLAlchemy types in migrations."""
    from partnership_api.models.base import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


migrate = Migrate(render_as_batch=True, compare_type=True, render_item=_render_item)
jwt = JWTManager()
api = Api()
