"""Bed search's per-process cache, and the generation number that tells when it is stale.

Every transaction that changes what bed search shows bumps one generation number in the same
transaction (at commit, after the audit chain's head: ``transactions.COMMIT_HOOKS``, so the lock
order stays the same everywhere). Each process caches bed search under that number and reads it
(one primary-key read, made with the session check) before it answers; the cache also ends by
itself when the next hold lapses or the next report turns stale (``bed_search``), so nothing
needs a background job.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from partnership_api import context, direct, transactions
from partnership_api.database import db
from partnership_api.direct import statements as prebuilt
from partnership_api.models.beds import (
    BedHold,
    BedSearchGeneration,
    BedSpace,
    RefugeAvailability,
)
from partnership_api.models.partnership import Service, ServiceArea

_CHANGED = "beds_changed"
_WATCHED = (Service, ServiceArea, BedSpace, BedHold, RefugeAvailability)


# --- the search generation: bumped in the transaction of every change search shows -----------


def mark_changed(session: Session | None = None) -> None:
    """Note that this transaction changes what bed search shows (bumped at commit)."""
    (session or db.session()).info[_CHANGED] = True


def _random_generation() -> int:
    return secrets.randbits(48)


BUMP_GENERATION = (
    sa.update(BedSearchGeneration.__table__)
    .where(BedSearchGeneration.__table__.c.id == 1)
    .values(generation=BedSearchGeneration.__table__.c.generation + 1)
)


def _bump_generation(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        # One statement that makes the row when it is missing, so it needs no second try
        # and goes in one round trip with the other commit hooks' statements.
        direct.at_commit(session, prebuilt.BUMP_OR_MAKE_GENERATION, {"first": _random_generation()})
        return
    if not session.execute(BUMP_GENERATION).rowcount:
        session.execute(
            sa.insert(BedSearchGeneration).values(id=1, generation=_random_generation())
        )


def _note_watched_changes(session: Session, _flush_context, _instances) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, _WATCHED):
            session.info[_CHANGED] = True
            return


def _bump_before_commit(session: Session) -> None:
    if session.in_transaction():
        session.flush()
    if session.info.pop(_CHANGED, False):
        _bump_generation(session)


def _forget_changes(session: Session) -> None:
    session.info.pop(_CHANGED, None)


sa.event.listen(Session, "before_flush", _note_watched_changes)
transactions.on_commit("bed_search_generation", _bump_before_commit)
transactions.on_rollback("bed_search_generation", _forget_changes)


# --- the cache ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefugeEntry:
    refuge_id: int
    name: str
    organisation_id: int
    phone: str | None
    areas: tuple[str, ...]
    facilities: dict
    available: dict[str, int]
    updated_at: datetime | None
    stale: bool


@dataclass
class Snapshot:
    generation: int
    valid_until: datetime
    stale_after: timedelta
    refuges: tuple[RefugeEntry, ...]
    # bed_search.SearchAnswer per search; bed_search gives it a cachetools.LRUCache
    answers: MutableMapping[tuple, object] = field(default_factory=dict)
    answers_lock: threading.Lock = field(default_factory=threading.Lock)


class SearchCache:
    """One process's bed-search cache; valid while the database generation is unchanged."""

    def __init__(self) -> None:
        self.snapshot: Snapshot | None = None
        self.lock = threading.Lock()


def cache() -> SearchCache:
    """This process's cache."""
    return context.process_cache("bed_search_cache", SearchCache)


_GENERATION = BedSearchGeneration.__table__
_NOT_READ = object()
GENERATION_QUERY = sa.select(_GENERATION.c.generation).where(_GENERATION.c.id == 1)


def read_generation() -> int | None:
    """The generation, as read with this request's session check, else from the database."""
    read = context.read_with_sign_in("bed_search_generation", _NOT_READ)
    if read is not _NOT_READ:
        return read
    return db.session.execute(GENERATION_QUERY).scalar()
