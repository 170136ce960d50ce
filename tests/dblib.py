"""An app on an empty database of its own, for the tests that build a schema by migrating."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from tests.conftest import TEST_SETTINGS, is_postgres, selected_database_url


@contextmanager
def app_on_empty_database(tmp_path: Path, name: str) -> Iterator:
    """A new app on an empty SQLite file, or an empty PostgreSQL schema dropped afterwards."""
    from partnership_api import create_app
    from partnership_api.extensions import db

    admin = schema = None
    if is_postgres():
        url = selected_database_url().replace("postgresql://", "postgresql+psycopg://", 1)
        schema = f"{name}_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        settings = {"SQLALCHEMY_DATABASE_URI": url, "DATABASE_SCHEMA": schema}
    else:
        settings = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/{name}.db"}
    app = create_app({**TEST_SETTINGS, **settings})
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
