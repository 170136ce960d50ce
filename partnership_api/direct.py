"""Prebuilt statements run straight through the driver: the few reads every request or every
inbox makes.

SQLAlchemy builds, caches and compiles a statement, then processes every value of every row;
for a page of twenty referrals that costs several times what PostgreSQL spends answering. Here
a statement built once (with named bind parameters for what varies) is compiled once per
engine and run on the session's own connection, so it shares the request's transaction (or
its absence: see ``auth.begin_read``). Rows come back as named tuples, read by attribute like
SQLAlchemy's rows. PostgreSQL connections are opened with ``timezone=UTC`` and read JSON with
the engine's deserializer, so values are what the column types would give. On SQLite the
statement simply goes through the session.

A driver error is raised as SQLAlchemy's own (a JSON 503 or 409 like any other), and a broken
connection is invalidated so the pool does not hand it out again.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg.rows import namedtuple_row
from psycopg.types.json import Json
from sqlalchemy.orm import Session

from partnership_api.extensions import db

_compiled: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
COMPILED_KEPT = 2048


def _sql_for(engine: sa.Engine, stmt: sa.Executable) -> tuple[str, dict]:
    per_engine = _compiled.get(engine)
    if per_engine is None:
        per_engine = _compiled[engine] = {}
    found = per_engine.get(stmt)
    if found is None:
        if len(per_engine) >= COMPILED_KEPT:
            per_engine.clear()
        compiled = stmt.compile(dialect=engine.dialect)
        found = per_engine[stmt] = (str(compiled), dict(compiled.params))
    return found


def rows(stmt: sa.Executable, params: dict[str, Any]) -> list:
    """All rows of a prebuilt statement, with ``params`` for its named bind parameters."""
    session = db.session()
    engine = session.get_bind()
    if engine.dialect.name != "postgresql":
        return list(session.execute(stmt, params).all())
    from partnership_api.auth import begin_read

    begin_read(session)
    sql, fixed = _sql_for(engine, stmt)
    connection = session.connection()
    arguments = _driver_values({**fixed, **params})
    try:
        driver = connection.connection.driver_connection
        with driver.cursor(row_factory=namedtuple_row, binary=True) as cur:
            cur.execute(sql, arguments)
            return cur.fetchall()
    except psycopg.Error as error:
        raise as_dbapi_error(sql, arguments, error, connection) from error


def as_dbapi_error(sql: str, params: dict, error: psycopg.Error, connection=None) -> Exception:
    """SQLAlchemy's exception for a driver error; a lost connection is invalidated.

    ``connection``: SQLAlchemy's connection or the pool's, whichever the statement ran on.
    """
    if connection is not None:
        pooled = (
            connection
            if isinstance(connection, sa.PoolProxiedConnection)
            else connection.connection
        )
        if isinstance(error, psycopg.OperationalError) or pooled.driver_connection.closed:
            connection.invalidate()
    return sa.exc.DBAPIError.instance(sql, params, error, psycopg.Error)


def execute(stmt: sa.Executable, params: dict[str, Any], session: Session | None = None) -> int:
    """Run a prebuilt data-changing statement on the session's connection; returns how many
    rows it changed."""
    session = session or db.session()
    engine = session.get_bind()
    if engine.dialect.name != "postgresql":
        return session.execute(stmt, params).rowcount
    sql, fixed = _sql_for(engine, stmt)
    connection = session.connection()
    arguments = _driver_values({**fixed, **params})
    try:
        with connection.connection.driver_connection.cursor() as cur:
            cur.execute(sql, arguments)
            return cur.rowcount
    except psycopg.Error as error:
        raise as_dbapi_error(sql, arguments, error, connection) from error


def execute_many(stmt: sa.Executable, many: list[dict[str, Any]]) -> None:
    """Run a prebuilt statement once for each set of parameters, in one round trip."""
    session = db.session()
    engine = session.get_bind()
    if engine.dialect.name != "postgresql":
        session.execute(stmt, many)
        return
    sql, fixed = _sql_for(engine, stmt)
    connection = session.connection()
    arguments = [_driver_values({**fixed, **params}) for params in many]
    try:
        with connection.connection.driver_connection.cursor() as cur:
            cur.executemany(sql, arguments)
    except psycopg.Error as error:
        raise as_dbapi_error(sql, arguments[0], error, connection) from error


def _driver_values(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters as the driver takes them: a dict or list is a JSON column's value (the
    driver would otherwise send a list as an array)."""
    return {
        name: Json(value) if isinstance(value, dict | list) else value
        for name, value in params.items()
    }


@dataclass
class Step:
    """One statement of a ``pipeline``: its parameters, or a list of them (``many``)."""

    stmt: sa.Executable
    params: dict[str, Any] | list[dict[str, Any]]
    many: bool = False


@dataclass
class Outcome:
    rowcount: int
    rows: list


def pipeline(steps: list[Step]) -> list[Outcome]:
    """Run statements in order on the session's connection, in one round trip on PostgreSQL
    (the driver's pipeline mode; the transaction's BEGIN goes with them). A failing statement
    aborts the rest, and the error is raised as usual: the request's transaction rolls back."""
    session = db.session()
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
    connection = session.connection()
    driver = connection.connection.driver_connection
    cursors = []
    sql = ""
    try:
        with driver.pipeline():
            for step in steps:
                sql, fixed = _sql_for(engine, step.stmt)
                cursor = driver.cursor(row_factory=namedtuple_row, binary=True)
                if step.many:
                    cursor.executemany(sql, [_driver_values({**fixed, **p}) for p in step.params])
                else:
                    cursor.execute(sql, _driver_values({**fixed, **step.params}))
                cursors.append(cursor)
        return [
            Outcome(cursor.rowcount, cursor.fetchall() if cursor.description else [])
            for cursor in cursors
        ]
    except psycopg.Error as error:
        raise as_dbapi_error(sql, {}, error, connection) from error
    finally:
        for cursor in cursors:
            cursor.close()
