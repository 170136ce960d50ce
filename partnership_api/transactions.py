"""Transactions: how a request's database work begins and ends, in one place.

- **Reads without a transaction.** A read-only request (every GET and HEAD, see
  ``smorest.is_read_only``) on PostgreSQL takes its connection in autocommit mode when it first
  queries (``begin_read``): no BEGIN and ROLLBACK round trips.
- **The single write guard.** On such a connection each statement would commit on its own, so
  only statements that are atomic by themselves (``ATOMIC_ALONE``: the audit chain's link) may
  write there; ``refuse_write`` refuses anything else, whether it comes through the engine,
  a flush or the driver (``direct``).
- **Commit hooks in a declared order.** Work that must happen just before a transaction
  commits registers under a name of ``COMMIT_HOOKS`` and runs in that order, whatever order
  modules were imported in: the audit chain's head is locked first, then the bed-search
  generation, so every transaction takes those two locks in the same order and none can
  deadlock another; then the outbox's event head (``events.outbox``), which gives a
  transaction's events their positions in commit order. On PostgreSQL their statements are
  queued and sent together by the last hook (``direct.at_commit``): one round trip from
  taking the first lock to the COMMIT rather than three, so writers wait on each other less.
- **Rollback hooks.** What a transaction had noted for its commit is forgotten when it rolls
  back.

This module imports nothing else of the application but ``context.py`` (the request's facts:
is it a read, did it read without a transaction): everything that touches transactions
imports it, never the other way round.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from partnership_api import context

WRITE_REFUSED = "A read-only request tried to write; writes need a transaction."

# Statements that are atomic by themselves (``audit.py`` registers its chain link): the only
# writes allowed on a read's connection, which has no transaction.
ATOMIC_ALONE: set[sa.Executable] = set()

# The order in which commit hooks run (each name at most one hook). The audit chain's head
# first, then the bed-search generation, then the events' positions: one lock order for every
# transaction. On PostgreSQL those three queue their statements (``direct.at_commit``) and the
# last hook sends them in one round trip, so the first lock is held over two round trips (that
# one and the COMMIT) rather than four.
COMMIT_HOOKS = ("audit_chain_head", "bed_search_generation", "event_positions", "commit_steps")
_commit_hooks: dict[str, Callable[[Session], None]] = {}
_rollback_hooks: dict[str, Callable[[Session], None]] = {}


def on_commit(name: str, hook: Callable[[Session], None]) -> None:
    """Run ``hook(session)`` just before every commit, in the place ``COMMIT_HOOKS`` gives."""
    if name not in COMMIT_HOOKS:
        raise ValueError(f"{name!r} is not a declared commit hook: add it to COMMIT_HOOKS.")
    _commit_hooks[name] = hook


def on_rollback(name: str, hook: Callable[[Session], None]) -> None:
    """Run ``hook(session)`` when a session's whole transaction is rolled back."""
    if name not in COMMIT_HOOKS:
        raise ValueError(f"{name!r} is not a declared commit hook: add it to COMMIT_HOOKS.")
    _rollback_hooks[name] = hook


def without_transaction(connection: sa.Connection) -> bool:
    """Whether this connection runs each statement on its own (a read's: ``begin_read``)."""
    return connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT"


def refuse_write(connection: sa.Connection, statement: object = None) -> None:
    """The write guard: a write on a connection without a transaction is refused, unless the
    statement is atomic alone (``ATOMIC_ALONE``)."""
    if statement is not None and statement in ATOMIC_ALONE:
        return
    if without_transaction(connection):
        raise RuntimeError(WRITE_REFUSED)


def begin_read(session: Session) -> None:
    """A read-only request on PostgreSQL takes its connection in autocommit mode when it first
    needs one: no BEGIN and ROLLBACK round trips."""
    if not context.request_is_read_only() or session.in_transaction():
        return
    if session.get_bind().dialect.name != "postgresql":
        return
    session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    context.note_read_without_transaction()


def end_read(session: Session) -> None:
    """Close the session of a read that ran without a transaction (where one app context serves
    several requests, as in tests, a write must never inherit a read's connection)."""
    if context.ended_read_without_transaction():
        session.close()


def write_now(session: Session) -> None:
    """A request that must write whatever it was doing (counting a failed authentication):
    drop what it had begun, leave a read's transaction-free connection, and write in a
    transaction of its own from here on."""
    session.rollback()
    if context.ended_read_without_transaction():
        session.close()
    context.request_writes()


def guard_engine(engine: sa.Engine) -> None:
    """Refuse, at the engine, any statement but a query on a read's connection."""

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _only_queries(connection, _cursor, statement, _params, _context, _executemany):
        if not statement.lstrip()[:6].upper().startswith("SELECT"):
            refuse_write(connection)


@sa.event.listens_for(Session, "do_orm_execute")
def _read_without_transaction(state) -> None:
    begin_read(state.session)


@sa.event.listens_for(Session, "before_flush")
def _no_flush_without_a_transaction(session: Session, _flush_context, _instances) -> None:
    refuse_write(session.connection())


@sa.event.listens_for(Session, "before_commit")
def _run_commit_hooks(session: Session) -> None:
    for name in COMMIT_HOOKS:
        hook = _commit_hooks.get(name)
        if hook is not None:
            hook(session)


@sa.event.listens_for(Session, "after_soft_rollback")
def _run_rollback_hooks(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        for name in COMMIT_HOOKS:
            hook = _rollback_hooks.get(name)
            if hook is not None:
                hook(session)
