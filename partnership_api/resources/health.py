"""Operational endpoints: liveness and readiness."""

from __future__ import annotations

import marshmallow as ma
import sqlalchemy as sa
from flask.views import MethodView
from flask_smorest import abort

from partnership_api.extensions import db
from partnership_api.migrations_state import schema_is_current
from partnership_api.schemas.bounds import one_of
from partnership_api.smorest import Blueprint

blp = Blueprint("Health", __name__, description="Liveness and readiness for orchestrators")


class StatusSchema(ma.Schema):
    status = ma.fields.String(required=True, metadata=one_of(("ok", "ready")))


@blp.route("/healthz")
class Health(MethodView):
    @blp.public
    @blp.response(200, StatusSchema)
    def get(self):
        """The process is alive"""
        return {"status": "ok"}


@blp.route("/readyz")
class Ready(MethodView):
    @blp.public
    @blp.response(200, StatusSchema)
    @blp.alt_response(503, description="The database is unreachable or not migrated")
    def get(self):
        """The database answers and its schema is at the latest migration"""
        try:
            db.session.execute(sa.text("SELECT 1"))
            current = schema_is_current(db.session)
        except sa.exc.SQLAlchemyError:
            db.session.rollback()
            abort(503, message="The database is unreachable.")
        if not current:
            abort(503, message="The database schema is not at the latest migration.")
        return {"status": "ready"}
