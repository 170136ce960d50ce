"""Prebuilt statements run straight through the driver: the few statements every request,
every inbox page and every availability report make. The statements themselves are all in
``direct.statements`` (and the inbox's page statements in ``direct.referral_page``); nothing
else in the application touches the driver.

SQLAlchemy builds, caches and compiles a statement, then processes every value of every row;
for a page of twenty referrals that costs several times what PostgreSQL spends answering it
(the profile is in docs/performance.md). Here a statement built once, with named bind
parameters for what varies, is compiled once per engine and run on the session's own
connection, so it shares the request's transaction (or its absence:
``transactions.begin_read``): one pool, one connection per request at a time. The one
exception is the session check of a request that usually needs nothing more (``signed_in``
with ``alone``), made before the request has begun anything, on a connection of the same
pool borrowed and given back at once. Rows come back as named
tuples, read by attribute like SQLAlchemy's rows.

Values are what the column types would give: a time goes through ``UTCDateTime``'s own guard
both ways (a naive time is refused, an aware one sent in UTC; times read come back aware, in
UTC); JSON is read with the engine's deserializer and a JSON column's parameter sent as JSON;
a named parameter left without a value is refused (as SQLAlchemy would).
``tests/test_direct_parity.py`` runs every statement against SQLAlchemy's answer on both
databases. On SQLite the same statements simply go through the session.

A read's connection has no transaction: only statements that are atomic alone
(``transactions.ATOMIC_ALONE``: the audit chain's link) may write on it; anything else is
refused by the same guard as every other write (``transactions.refuse_write``).

A driver error is raised as SQLAlchemy's own, so it is answered like any other (a JSON 503 or
409). A lost connection makes the pool start afresh, as SQLAlchemy itself does on a
disconnect: every worker recovers without a restart.
"""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import psycopg
import sqlalchemy as sa
from psycopg.rows import namedtuple_row
from psycopg.types.json import Json
from sqlalchemy.orm import Session

from partnership_api import transactions
from partnership_api.database import db
from partnership_api.models.base import UTCDateTime
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


@dataclass(frozen=True)
class Prepared:
    """A statement compiled for one engine: its SQL, the values fixed in it, the parameters it
    names (each must be given), those sent as JSON, the times (``UTCDateTime``) among them, and
    the positions of the times among the columns it returns."""

    sql: str
    fixed: dict[str, Any]
    named: frozenset[str]
    json: frozenset[str]
    times: dict[str, UTCDateTime]
    time_columns: tuple[int, ...]

    def arguments(self, params: dict[str, Any], dialect: sa.Dialect) -> dict[str, Any]:
        """The driver's parameters: ``params`` checked, times through ``UTCDateTime``'s guard
        (naive refused, sent in UTC), JSON wrapped."""
        missing = self.named.difference(params)
        if missing:  # SQLAlchemy would refuse too, rather than bind NULL
            raise sa.exc.ArgumentError(f"No value given for {', '.join(sorted(missing))}.")
        arguments = {**self.fixed, **params}
        for name, time_type in self.times.items():
            if name in params:
                arguments[name] = time_type.process_bind_param(params[name], dialect)
        for name in self.json.intersection(arguments):
            if arguments[name] is not None:
                arguments[name] = Json(arguments[name])
        return arguments

    def row_factory(self, cursor: psycopg.Cursor) -> Callable[[Any], Any]:
        """Named tuples, with each time read as ``UTCDateTime`` reads it (aware, in UTC)."""
        make = namedtuple_row(cursor)
        if not self.time_columns:
            return make
        positions = self.time_columns

        def row(values):
            values = list(values)
            for i in positions:
                value = values[i]
                if value is not None and value.tzinfo is not UTC:
                    values[i] = _TIME.process_result_value(value, None)
            return make(values)

        return row


_TIME = UTCDateTime()


def signed_in(user_id: uuid.UUID, session_id: uuid.UUID, now: datetime, alone: bool = False):
    """The session check every signed-in request makes (``statements.SIGNED_IN``): the active
    user, their organisation and the bed-search generation when the session is live, or None.

    On the request's own connection (a read's, without a transaction), like every other
    statement; or, with ``alone``, for a request that usually needs nothing more of the
    database (a bed search answered from its cache), on a pooled connection borrowed and given
    back at once (``_alone``), so that its ORM session is never made: most of a cached bed
    search's cost otherwise (issue 29: 0.35 of bare Flask with it, 0.25 without). A request
    that goes on to read would pay a second checkout instead (a referral read fell from 0.16
    to 0.12 when every request did this). The primary, always: a replica may lag a sign-out."""
    from partnership_api.direct import statements

    params = {"user_id": user_id, "session_id": session_id, "now": now}
    engine = db.engine
    if alone and engine.dialect.name == "postgresql":
        found = _alone(engine, statements.SIGNED_IN, params)
    else:
        found = rows(statements.SIGNED_IN, params)
    return found[0] if found else None


def _alone(engine: sa.Engine, stmt: sa.Select, params: dict[str, Any]) -> list:
    """All rows of a prebuilt query on a connection of the engine's pool of its own, without a
    transaction, given back to the pool as it came (autocommit off again). A driver error is
    SQLAlchemy's own, and a lost connection makes the pool start afresh, as everywhere here."""
    compiled = prepared(engine, stmt)
    arguments = compiled.arguments(params, engine.dialect)
    try:
        pooled = engine.raw_connection()
    except psycopg.Error as error:  # cannot connect: the pool gives the driver's own error
        raise as_dbapi_error(error, None, engine) from error
    try:
        driver = pooled.driver_connection
        driver.autocommit = True
        try:
            with driver.cursor(row_factory=compiled.row_factory, binary=True) as cursor:
                cursor.execute(compiled.sql, arguments)
                return cursor.fetchall()
        finally:
            if not driver.closed:
                try:
                    driver.autocommit = False
                except psycopg.Error:  # never back to the pool in autocommit: a write taking
                    pooled.invalidate()  # it would lose its transaction
    except psycopg.Error as error:
        raise as_dbapi_error(error, pooled, engine) from error
    finally:
        pooled.close()


def rows(stmt: sa.Select, params: dict[str, Any]) -> list:
    """All rows of a prebuilt query, with ``params`` for its named bind parameters."""
    session = db.session()
    engine = session.get_bind()
    if engine.dialect.name != "postgresql":
        return list(session.execute(stmt, params).all())
    begin_read(session)
    compiled = prepared(engine, stmt)
    arguments = compiled.arguments(params, engine.dialect)

    def run(driver: psycopg.Connection) -> list:
        with driver.cursor(row_factory=compiled.row_factory, binary=True) as cursor:
            cursor.execute(compiled.sql, arguments)
            return cursor.fetchall()

    return _on_session_connection(session, run)


def execute(stmt: sa.Executable, params: dict[str, Any], session: Session | None = None) -> int:
    """Run a prebuilt data-changing statement; returns how many rows it changed."""
    session = session or db.session()
    engine = session.get_bind()
    if engine.dialect.name != "postgresql":
        return session.execute(stmt, params).rowcount
    compiled = prepared(engine, stmt)
    arguments = compiled.arguments(params, engine.dialect)

    def run(driver: psycopg.Connection) -> int:
        with driver.cursor() as cursor:
            cursor.execute(compiled.sql, arguments)
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
    dialect = engine.dialect
    sent = []
    for step in steps:  # every parameter checked before anything is sent
        compiled = prepared(engine, step.stmt)
        if step.many:
            sent.append((compiled, [compiled.arguments(p, dialect) for p in step.params]))
        else:
            sent.append((compiled, compiled.arguments(step.params, dialect)))

    def run(driver: psycopg.Connection) -> list[Outcome]:
        if len(sent) == 1 and not steps[0].many and _in_transaction_or_without(driver):
            # One statement (a read's audit link at commit): pipeline mode would only add its
            # own synchronisation; there is no BEGIN to send with it.
            compiled, arguments = sent[0]
            with driver.cursor(row_factory=compiled.row_factory, binary=True) as cursor:
                cursor.execute(compiled.sql, arguments)
                return [Outcome(cursor.rowcount, cursor.fetchall() if cursor.description else [])]
        cursors = []
        try:
            with driver.pipeline():
                for (compiled, arguments), step in zip(sent, steps, strict=True):
                    cursor = driver.cursor(row_factory=compiled.row_factory, binary=True)
                    cursors.append(cursor)
                    if step.many:
                        cursor.executemany(compiled.sql, arguments)
                    else:
                        cursor.execute(compiled.sql, arguments)
            return [Outcome(c.rowcount, c.fetchall() if c.description else []) for c in cursors]
        finally:
            for cursor in cursors:
                cursor.close()

    return _on_session_connection(session, run, writes=[step.stmt for step in steps])


def _in_transaction_or_without(driver: psycopg.Connection) -> bool:
    """Whether a statement sent now needs no BEGIN first (a read's connection has none)."""
    return driver.autocommit or driver.info.transaction_status != psycopg.pq.TransactionStatus.IDLE


def prepared(engine: sa.Engine, stmt: sa.Executable) -> Prepared:
    """The statement compiled for this engine (once)."""
    per_engine = _compiled.get(engine)
    if per_engine is None:
        per_engine = _compiled[engine] = {}
    found = per_engine.get(stmt)
    if found is None:
        if len(per_engine) >= COMPILED_KEPT:
            per_engine.clear()
        found = per_engine[stmt] = _compile(engine.dialect, stmt)
    return found


def _compile(dialect: sa.Dialect, stmt: sa.Executable) -> Prepared:
    compiled = stmt.compile(dialect=dialect)
    binds = compiled.binds
    times = {n: b.type for n, b in binds.items() if isinstance(b.type, UTCDateTime)}
    fixed = dict(compiled.params)
    for name in times.keys() & fixed.keys():  # a time written into the statement (a filter)
        if fixed[name] is not None:
            fixed[name] = times[name].process_bind_param(fixed[name], dialect)
    named = {n for n, bind in binds.items() if bind.value is None and not bind.callable}
    columns = getattr(stmt, "exported_columns", ())
    return Prepared(
        sql=str(compiled),
        fixed=fixed,
        named=frozenset(named),
        json=frozenset(n for n, bind in binds.items() if isinstance(bind.type, sa.JSON)),
        times={n: t for n, t in times.items() if n in named},
        time_columns=tuple(i for i, c in enumerate(columns) if isinstance(c.type, UTCDateTime)),
    )


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
