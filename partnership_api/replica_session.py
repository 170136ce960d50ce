"""The database session: Flask-SQLAlchemy's, sending a replica-marked request's reads to the
replica (``replica.py`` decides which requests; this module imports nothing of the app, so the
extensions can use it)."""

from __future__ import annotations

from flask import g, has_request_context
from flask_sqlalchemy.session import Session

REPLICA = "replica"


class RoutingSession(Session):
    """Flask-SQLAlchemy's session, sending a replica-marked request's reads to the replica."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if (
            bind is None
            and has_request_context()
            and g.get("use_replica")
            and not getattr(clause, "is_dml", False)
        ):
            return self._db.engines[REPLICA]
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)
