"""Reads from a replica (``DATABASE_REPLICA_URL``), for the read-only lists, with
read-your-writes for whoever just wrote.

- **What goes there.** GET requests to ``REPLICA_ENDPOINTS`` only: lists that write nothing
  (no audit event) and whose answers are never the version a conditional write is made
  against: refuges, organisations, services, funds and projects, the funding summary, and the
  public directory (``/oruk``). Everything else stays on the primary: every write, every read
  that is audited (a referral, the inbox, statistics, the audit trail), every item whose ETag
  goes back in ``If-Match``, and the per-request session check (so a sign-out is refused at
  once everywhere). Bed search stays too: it answers from each process's snapshot, rebuilt only
  when the primary's generation number moves, and a snapshot read from a replica that lags
  would be kept under the newer number.
- **Read-your-writes.** A signed-in user's successful write (any other method, answered below
  400) marks the user for ``REPLICA_STICKY_SECONDS`` in the storage the throttles share (Redis
  when ``REDIS_URL`` is set, else the primary's counters table); while marked, the user's
  reads stay on the primary, on every app server. The window must exceed the replica's lag
  (monitor it: PostgreSQL's ``pg_last_xact_replay_timestamp()``). Others may read a moment
  behind, as with any replica.
- **How.** The session's ``get_bind`` answers the replica's engine while the request is marked
  ``use_replica``; a statement that writes is never sent there (``database.RoutingSession``).
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, timedelta

import sqlalchemy as sa
from flask import Flask, g, request

from partnership_api import context
from partnership_api.database import REPLICA
from partnership_api.extensions import db
from partnership_api.models.base import utcnow
from partnership_api.services import throttle

log = logging.getLogger("partnership_api.replica")

REPLICA_ENDPOINTS = frozenset(
    {
        "Refuges.Refuges",
        "Organisations.Organisations",
        "Services.Services",
        "Funds.Funds",
        "Projects.Projects",
        "Funding.FundingSummary",
        "oruk.services",
        "oruk.service",
        "oruk.service_at_locations",
        "oruk.service_at_location",
    }
)
READS = frozenset({"GET", "HEAD", "OPTIONS"})


def configure(app: Flask) -> None:
    """Give the replica an engine of its own, with the primary's options (timeouts, UTC, the
    schema), when configured."""
    url = app.config.get("DATABASE_REPLICA_URL")
    if url:
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        binds = dict(app.config.get("SQLALCHEMY_BINDS") or {})
        app.config["SQLALCHEMY_BINDS"] = {**binds, REPLICA: {**options, "url": url}}


def _marker(user_id: uuid.UUID) -> str:
    return f"wrote:{user_id}"


def _wrote_recently(user_id: uuid.UUID) -> bool:
    if context.setting_or("REDIS_URL", None):
        return throttle.count(_marker(user_id)) > 0
    counters = sa.table("auth_counters", sa.column("key"), sa.column("expires_at"))
    # On a connection of its own: the request's session has not chosen its database yet.
    with db.engine.connect() as connection:
        ends = connection.execute(
            sa.select(counters.c.expires_at).where(counters.c.key == _marker(user_id))
        ).scalar()
    if ends is None:
        return False
    if ends.tzinfo is None:  # SQLite keeps no offset; the counters are written in UTC
        ends = ends.replace(tzinfo=UTC)
    return ends > utcnow()


def init_routing(app: Flask) -> None:
    """Mark replica reads (after sign-in has found the actor) and the writers' windows."""
    if not app.config.get("DATABASE_REPLICA_URL"):
        return
    window = timedelta(seconds=int(app.config.get("REPLICA_STICKY_SECONDS") or 30))

    @app.before_request
    def choose_database() -> None:
        if request.method != "GET" or request.endpoint not in REPLICA_ENDPOINTS:
            return
        actor = g.get("actor")
        g.use_replica = actor is None or not _wrote_recently(actor.user_id)

    @app.after_request
    def note_write(response):
        actor = g.get("actor")
        if request.method in READS or response.status_code >= 400 or actor is None:
            return response
        try:
            throttle.hit(_marker(actor.user_id), window)
        except Exception:  # noqa: BLE001 - the write stands; its reads may come from the replica
            log.warning("could not note a write for read-your-writes")
        return response
