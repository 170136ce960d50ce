"""The database: Flask-SQLAlchemy's ``db``, bound to the app in ``create_app``, with the
session that sends a replica-marked request's reads to the replica.

The one module of the core and the ground that imports Flask-SQLAlchemy, and nothing of the
doors (no limiter, no Api, no JWT): models, services and the ground import ``db`` from here
(``tests/test_architecture.py`` checks). Which requests read from the replica is the API's
decision (``replica.py``); this session only asks ``context`` whether this one does.
"""

from __future__ import annotations

from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session

from partnership_api import context
from partnership_api.models.base import Base

__all__ = ["REPLICA", "RoutingSession", "db"]

REPLICA = "replica"


class RoutingSession(Session):
    """Flask-SQLAlchemy's session, sending a replica-marked request's reads to the replica."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if bind is None and context.request_uses_replica() and not getattr(clause, "is_dml", False):
            return self._db.engines[REPLICA]
        if bind is None and mapper is None and clause is None and not kwargs:
            # Asked about no model and no statement (``session.connection()``, and every
            # statement ``direct`` runs: a dozen times in a write): the default engine, which
            # Flask-SQLAlchemy looks up through the app each time; kept for this session
            # (one per app context, so never across apps).
            default = self.__dict__.get("_default_bind")
            if default is None:
                default = self.__dict__["_default_bind"] = super().get_bind()
            return default
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


db = SQLAlchemy(
    model_class=Base, session_options={"expire_on_commit": False, "class_": RoutingSession}
)
