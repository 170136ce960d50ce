"""Whether the database's schema is at the newest Alembic revision."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


@cache
def head_revisions() -> frozenset[str]:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def schema_is_current(session) -> bool:
    try:
        rows = session.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
    except sa.exc.SQLAlchemyError:
        session.rollback()
        return False
    return frozenset(rows) == head_revisions()
