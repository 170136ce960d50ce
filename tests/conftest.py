"""Test harness: one app per run on its own fresh database, reset and re-seeded per test.

``PARTNERSHIP_TEST_DB`` picks the database: ``sqlite`` (a temporary file) or a PostgreSQL URL,
in which case the run gets a schema of its own, dropped at the end.
"""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa

os.environ.setdefault("APP_ENV", "development")

DEMO_PASSWORD = "demo-password-for-tests"
TEST_SETTINGS = {
    "TESTING": True,
    "JWT_SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
    "ARGON2_TIME_COST": 1,
    "ARGON2_MEMORY_COST": 1024,
    "DEMO_PASSWORD": DEMO_PASSWORD,
    "LOG_LEVEL": "WARNING",
    "API_RATE_LIMIT": "100000 per minute",
    "ORUK_RATE_LIMIT": "100000 per minute",
    # The access matrix calls every operation as every user on other organisations' objects:
    # far more refusals than REFUSAL_LIMIT allows a person (tests/test_refusals.py sets it).
    "REFUSAL_LIMIT": 100000,
    "REDIS_URL": None,
    # The tests' webhook receivers listen on loopback.
    "WEBHOOKS_ALLOW_PRIVATE": True,
}


def pytest_addoption(parser):
    parser.addoption(
        "--run-faults",
        action="store_true",
        help="run the tests that stop and start PostgreSQL and Redis",
    )


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(config, items):
    # ``make test`` runs the suite on every core (pytest-xdist, ``--dist loadgroup``): a
    # module's tests stay on one worker, so its fixtures are built once, and every browser
    # test on one, so one server and one Chromium serve them all. Each worker has its own
    # database (a SQLite file, or a PostgreSQL schema: ``database``).
    for item in items:
        group = "browser" if "browser" in item.nodeid.split("::")[0].split("/") else None
        item.add_marker(pytest.mark.xdist_group(group or item.nodeid.split("::")[0]))
    if config.getoption("--run-faults"):
        return
    skip = pytest.mark.skip(reason="fault test: run with --run-faults (make test-faults)")
    for item in items:
        if "faults" in item.keywords:
            item.add_marker(skip)


def selected_database_url() -> str:
    return os.environ.get("PARTNERSHIP_TEST_DB", "sqlite")


def is_postgres() -> bool:
    return selected_database_url().startswith("postgresql")


@pytest.fixture(scope="session")
def database(tmp_path_factory):
    """Connection settings for a database of this run's own."""
    target = selected_database_url()
    if target == "sqlite":
        path = tmp_path_factory.mktemp("db") / "test.db"
        yield {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"}
        return
    url = target.replace("postgresql://", "postgresql+psycopg://", 1)
    schema = f"test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield {"SQLALCHEMY_DATABASE_URI": url, "DATABASE_SCHEMA": schema}
    finally:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture(scope="session")
def app(database):
    from flask_migrate import stamp

    from partnership_api import create_app
    from partnership_api.extensions import db

    app = create_app({**TEST_SETTINGS, **database})
    with app.app_context():
        # The tests' own temporary database is made from the models, then marked as being at
        # the newest migration (test_migrations_and_spec checks the two agree).
        db.create_all()
        stamp()
    return app


def _reset(db) -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
        has_seq = db.session.execute(
            sa.text("SELECT name FROM sqlite_master WHERE name='sqlite_sequence'")
        ).first()
        if has_seq:
            db.session.execute(sa.text("DELETE FROM sqlite_sequence"))
    db.session.commit()


@pytest.fixture(autouse=True)
def fresh_data(request, app):
    """Every test starts from the demo partnership and nothing else."""
    if "no_demo" in request.keywords:
        yield
        return
    from partnership_api import audit
    from partnership_api.demo import seed_demo
    from partnership_api.extensions import db, limiter

    with app.app_context():
        _reset(db)
        audit.ensure_chain_head()
        seed_demo(DEMO_PASSWORD)
        limiter.reset()
        db.session.remove()
    yield
    with app.app_context():
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def login(client):
    """``login("police.officer")`` → headers with that user's access token."""
    cache: dict[str, dict] = {}

    def sign_in(username: str, password: str = DEMO_PASSWORD) -> dict:
        if username not in cache:
            response = client.post(
                "/api/v1/auth/login", json={"username": username, "password": password}
            )
            assert response.status_code == 200, response.get_json()
            cache[username] = {"Authorization": f"Bearer {response.get_json()['access_token']}"}
        return cache[username]

    return sign_in


@pytest.fixture
def ids(app):
    """Ids of the demo partnership by name: ``ids.org["Glow"]``, ``ids.service["Glow refuge"]``."""
    from partnership_api.extensions import db
    from partnership_api.models.partnership import Organisation, Service, User

    class Ids:
        pass

    with app.app_context():
        found = Ids()
        found.org = dict(db.session.execute(sa.select(Organisation.name, Organisation.id)).all())
        found.service = dict(db.session.execute(sa.select(Service.name, Service.id)).all())
        found.user = dict(db.session.execute(sa.select(User.username, User.id)).all())
        db.session.remove()
    return found


@pytest.fixture
def db_session(app):
    """The database session, inside an app context, for looking behind the API."""
    from partnership_api.extensions import db

    with app.app_context():
        yield db.session
        db.session.remove()
