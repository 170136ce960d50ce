"""Prebuilt statements run straight through the driver: the few statements every request,
every inbox page and every availability report make.

SQLAlchemy builds, caches and compiles a statement, then processes every value of every row;
for a page of twenty referrals that costs several times what PostgreSQL spends answering it
(the profile is in docs/performance.md). Here a statement built once, with named bind parameters for
what varies, is compiled once per engine and run on the session's own connection, so it shares
the request's transaction (or its absence: ``transactions.begin_read``). Rows come back as named
tuples, read by attribute like SQLAlchemy's rows. PostgreSQL sessions run in UTC and read
JSON with the engine's deserializer, so values are what the column types would give; a JSON
column's parameter is sent as JSON, and a named parameter left without a value is refused (as
SQLAlchemy would). On SQLite the same statements simply go through the session.

A read's connection has no transaction: only statements that are atomic alone
(``transactions.ATOMIC_ALONE``: the audit chain's link) may write on it; anything else is
refused by the same guard as every other write (``transactions.refuse_write``).

A driver error is raised as SQLAlchemy's own, so it is answered like any other (a JSON 503 or
409). A lost connection makes the pool start afresh, as SQLAlchemy itself does on a
disconnect: every worker recovers without a restart.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
import sqlalchemy as sa
from psycopg.rows import namedtuple_row
from psycopg.types.json import Json
from sqlalchemy.orm import Session

from partnership_api import transactions
from partnership_api.extensions import db
from partnership_api.transactions import begin_read, refuse_write

T = TypeVar("T")
_compiled: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
COMPILED_KEPT = 2048


@dataclass
class Step:
    """One statement of a ``pipeline``: its parameters, or a list of them (``many``); ``then``
    is given its outcome (``at_commit``)."""

    stmt: sa.Executable
    params: dict[str, Any] | list[dict[str, Any]]
    many: bool = False
    then: Callable[[Outcome], None] | None = None


@dataclass
class Outcome:
    rowcount: int
    rows: list


def rows(stmt: sa.Select, params: dict[str, Any]) -> list:
    """All rows of a prebuilt query, with ``params`` for its named bind parameters."""
    session = db.session()
    engine = session.get_bind()
    if engine.dialect.name != "postgresql":
        return list(session.execute(stmt, params).all())
    begin_read(session)

    def run(driver: psycopg.Connection) -> list:
        with driver.cursor(row_factory=namedtuple_row, binary=True) as cursor:
            cursor.execute(*prepared(engine, stmt, params))
            return cursor.fetchall()

    return _on_session_connection(session, run)


def execute(stmt: sa.Executable, params: dict[str, Any], session: Session | None = None) -> int:
    """Run a prebuilt data-changing statement; returns how many rows it changed."""
    session = session or db.session()
    engine = session.get_bind()
    if engine.dialect.name != "postgresql":
        return session.execute(stmt, params).rowcount

    def run(driver: psycopg.Connection) -> int:
        with driver.cursor() as cursor:
            cursor.execute(*prepared(engine, stmt, params))
            return cursor.rowcount

    return _on_session_connection(session, run, writes=stmt)


def pipeline(steps: list[Step], session: Session | None = None) -> list[Outcome]:
    """Run statements in order, in one round trip on PostgreSQL (the driver's pipeline mode;
    the transaction's BEGIN goes with them). A failing statement aborts the rest and its
    error is raised as usual, so the request's transaction rolls back."""
    session = session or db.session()
    engine = session.get_bind()
    if engine.dialect.name != "postgresql":
        outcomes = []
        for step in steps:
            result = session.execute(step.stmt, step.params)
            if isinstance(step.stmt, sa.Select):
                outcomes.append(Outcome(-1, list(result.all())))
            else:
                outcomes.append(Outcome(result.rowcount, []))
        return outcomes

    def run(driver: psycopg.Connection) -> list[Outcome]:
        cursors = []
        try:
            with driver.pipeline():
                for step in steps:
                    cursor = driver.cursor(row_factory=namedtuple_row, binary=True)
                    cursors.append(cursor)
                    if step.many:
                        each = [prepared(engine, step.stmt, p) for p in step.params]
                        cursor.executemany(each[0][0], [arguments for _, arguments in each])
                    else:
                        cursor.execute(*prepared(engine, step.stmt, step.params))
            return [Outcome(c.rowcount, c.fetchall() if c.description else []) for c in cursors]
        finally:
            for cursor in cursors:
                cursor.close()

    return _on_session_connection(session, run, writes=[step.stmt for step in steps])


def prepared(engine: sa.Engine, stmt: sa.Executable, params: dict[str, Any]) -> tuple[str, dict]:
    """The statement's SQL for this engine (compiled once) and the driver's parameters."""
    per_engine = _compiled.get(engine)
    if per_engine is None:
        per_engine = _compiled[engine] = {}
    found = per_engine.get(stmt)
    if found is None:
        if len(per_engine) >= COMPILED_KEPT:
            per_engine.clear()
        compiled = stmt.compile(dialect=engine.dialect)
        fixed = dict(compiled.params)
        named = {
            n for n, bind in compiled.binds.items() if bind.value is None and not bind.callable
        }
        json = {n for n, bind in compiled.binds.items() if isinstance(bind.type, sa.JSON)}
        found = per_engine[stmt] = (str(compiled), fixed, frozenset(named), frozenset(json))
    sql, fixed, named, json = found
    missing = named.difference(params)
    if missing:  # SQLAlchemy would refuse too, rather than bind NULL
        raise sa.exc.ArgumentError(f"No value given for {', '.join(sorted(missing))}.")
    arguments = {**fixed, **params}
    for name in json.intersection(arguments):
        if arguments[name] is not None:
            arguments[name] = Json(arguments[name])
    return sql, arguments


def _on_session_connection(
    session: Session,
    run: Callable[[psycopg.Connection], T],
    writes: sa.Executable | list[sa.Executable] | None = None,
) -> T:
    connection = session.connection()
    for statement in writes if isinstance(writes, list) else [writes]:
        if statement is not None:
            refuse_write(connection, statement)
    try:
        return run(connection.connection.driver_connection)
    except psycopg.Error as error:
        raise as_dbapi_error(error, connection, session.get_bind()) from error


def as_dbapi_error(error: psycopg.Error, connection, engine: sa.Engine) -> Exception:
    """SQLAlchemy's exception for a driver error. After a lost connection the connection is
    invalidated and the pool starts afresh (the others are likely lost too).

    ``connection``: SQLAlchemy's connection or the pool's, whichever the statement ran on
    (None when there was none to run on).
    """
    if connection is None:
        return sa.exc.DBAPIError.instance(None, None, error, psycopg.Error)
    pooled = (
        connection if isinstance(connection, sa.PoolProxiedConnection) else connection.connection
    )
    if not pooled.is_valid:  # already dropped
        return sa.exc.DBAPIError.instance(None, None, error, psycopg.Error)
    driver = pooled.driver_connection
    if driver is None or driver.closed or engine.dialect.is_disconnect(error, driver, None):
        connection.invalidate()
        engine.dispose()
    return sa.exc.DBAPIError.instance(None, None, error, psycopg.Error)


# --- the commit's statements ------------------------------------------------------------------

COMMIT_STEPS = "direct_commit_steps"


def at_commit(
    session: Session,
    stmt: sa.Executable,
    params: dict[str, Any],
    then: Callable[[Outcome], None] | None = None,
) -> None:
    """Run ``stmt`` as the transaction commits, then ``then(outcome)`` if given.

    On PostgreSQL the statement is queued, and the last commit hook
    (``transactions.COMMIT_HOOKS``) sends every queued statement in one round trip, in the
    order the hooks queued them, so the locks are still taken in the hooks' order. These
    statements each lock a head row (the audit chain's, the bed-search generation's, the
    events'), held until the commit: every other writer waits from the first lock to the
    commit, and each round trip in between is time they all wait. Sent together, one is left
    before the COMMIT. (On SQLite ``pipeline`` runs them one after another, at the same point.)
    """
    session.info.setdefault(COMMIT_STEPS, []).append(Step(stmt, params, then=then))


def _send_commit_steps(session: Session) -> None:
    steps = session.info.pop(COMMIT_STEPS, None)
    if not steps:
        return
    for step, outcome in zip(steps, pipeline(steps, session), strict=True):
        if step.then is not None:
            step.then(outcome)


def _drop_commit_steps(session: Session) -> None:
    session.info.pop(COMMIT_STEPS, None)


transactions.on_commit("commit_steps", _send_commit_steps)
transactions.on_rollback("commit_steps", _drop_commit_steps)
