"""Extension singletons, bound to the app in ``create_app``."""

from __future__ import annotations

from flask_jwt_extended import JWTManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from partnership_api.models.base import Base
from partnership_api.ratelimits import limiter
from partnership_api.replica_session import RoutingSession
from partnership_api.smorest import Api

__all__ = ["api", "db", "jwt", "limiter", "migrate"]


# RoutingSession: a replica-marked request reads from DATABASE_REPLICA_URL (replica.py).
db = SQLAlchemy(
    model_class=Base, session_options={"expire_on_commit": False, "class_": RoutingSession}
)


def _render_item(type_, obj, autogen_context):
    """Write our column types as plain SQLAlchemy types in migrations."""
    from partnership_api.models.base import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


migrate = Migrate(render_as_batch=True, compare_type=True, render_item=_render_item)
jwt = JWTManager()
api = Api()
