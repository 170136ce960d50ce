"""The API exactly as ``wsgi:app``, but with its outbox switched off: the baseline that
``make bench`` measures the outbox's cost against (``Bench.outbox_cost``).

The services still note their events on the session (a few dictionaries per change); the
commit hook that would give them positions and write them is replaced by one that drops
them, so a change commits without its events. For the benchmark only: never serve this.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from partnership_api import transactions
from partnership_api.events import outbox
from wsgi import app


def _drop_events(session: Session) -> None:
    session.info.pop(outbox.PENDING, None)


transactions.on_commit("event_positions", _drop_events)

__all__ = ["app"]
