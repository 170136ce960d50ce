"""The service skeleton: errors are JSON, request ids, health, limits, settings."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys

import pytest


def test_unknown_path_is_a_json_404(client):
    response = client.get("/nope")
    assert response.status_code == 404
    assert response.is_json
    body = response.get_json()
    assert body["code"] == 404 and body["status"] == "Not Found"


def test_wrong_method_is_a_json_405_with_allow(client):
    response = client.put("/healthz")
    assert response.status_code == 405
    assert response.is_json
    assert "GET" in response.headers["Allow"]


def test_a_two_mebibyte_body_is_a_json_413(client):
    response = client.post(
        "/api/v1/auth/login", data=b"x" * (2 * 1024 * 1024), content_type="application/json"
    )
    assert response.status_code == 413
    assert response.get_json()["code"] == 413


def test_a_body_that_is_not_json_is_a_415(client):
    response = client.post("/api/v1/auth/login", data="username=a", content_type="text/plain")
    assert response.status_code == 415
    assert response.get_json()["code"] == 415


def test_a_chunked_body_that_is_not_json_is_a_415_too(client):
    """A body sent in chunks (no Content-Length, as gunicorn passes it on) meets the same one
    check as a body with a length."""
    response = client.post(
        "/api/v1/auth/login",
        input_stream=io.BytesIO(b"<login/>"),
        content_type="application/xml",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 415
    assert response.get_json()["code"] == 415


def test_malformed_json_is_a_json_4xx(client):
    response = client.post("/api/v1/auth/login", data="{not json", content_type="application/json")
    assert response.status_code in (400, 422)
    assert response.is_json


def test_every_response_carries_a_request_id_and_echoes_the_clients(client):
    assert len(client.get("/healthz").headers["X-Request-ID"]) >= 16
    echoed = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["X-Request-ID"] == "abc-123"
    hostile = client.get("/healthz", headers={"X-Request-ID": "<script>" + "x" * 100})
    assert "<script>" not in hostile.headers["X-Request-ID"]


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readyz_is_503_when_the_schema_is_not_at_the_latest_migration(client, db_session):
    import sqlalchemy as sa

    assert client.get("/readyz").status_code == 200
    (revision,) = db_session.execute(sa.text("SELECT version_num FROM alembic_version")).one()
    db_session.execute(sa.text("UPDATE alembic_version SET version_num = 'older'"))
    db_session.commit()
    try:
        response = client.get("/readyz")
    finally:
        db_session.execute(sa.text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
        db_session.commit()
    assert response.status_code == 503
    assert response.is_json


def test_openapi_and_docs_are_public(client):
    spec = client.get("/openapi.json")
    assert spec.status_code == 200
    assert "bearerAuth" in spec.get_json()["components"]["securitySchemes"]
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "default-src" in docs.headers["Content-Security-Policy"]


@pytest.mark.parametrize("failure", ["bug", "sql"])
def test_an_unhandled_error_is_a_json_500_without_traceback_or_sql(app, client, failure):
    import sqlalchemy as sa

    from partnership_api.extensions import db
    from partnership_api.smorest import mark_public

    def explode():
        if failure == "sql":
            db.session.execute(sa.text("SELECT secret FROM no_such_table_here"))
        raise RuntimeError("internal detail that must not leak")

    original = app.view_functions["Health.Health"]
    app.view_functions["Health.Health"] = mark_public(explode)
    try:
        response = client.get("/healthz")
    finally:
        app.view_functions["Health.Health"] = original
    assert response.status_code in (500, 503)
    assert response.is_json
    text = response.get_data(as_text=True)
    for leak in ("Traceback", "no_such_table_here", "SELECT", "internal detail"):
        assert leak not in text


def test_one_json_log_line_per_request_without_bodies(client):
    from partnership_api.observability import JsonFormatter

    class Collect(logging.Handler):
        def __init__(self):
            super().__init__(logging.INFO)
            self.lines = []

        def emit(self, record):
            self.lines.append(JsonFormatter().format(record))

    collect = Collect()
    access = logging.getLogger("partnership_api.access")
    level = access.level
    access.addHandler(collect)
    access.setLevel(logging.INFO)
    try:
        client.post(
            "/api/v1/auth/login",
            json={"username": "police.officer", "password": "a-secret-password-in-a-body"},
        )
    finally:
        access.removeHandler(collect)
        access.setLevel(level)
    assert len(collect.lines) == 1
    line = json.loads(collect.lines[0])
    assert {"method", "path", "status", "duration_ms", "request_id", "user_id"} <= set(line)
    assert line["status"] == 401
    assert "a-secret-password-in-a-body" not in collect.lines[0]
    assert "police.officer" not in collect.lines[0]


def test_production_refuses_to_start_without_a_real_jwt_secret(tmp_path):
    env = {
        "APP_ENV": "production",
        "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "JWT_SECRET_KEY" in result.stderr


@pytest.mark.parametrize("secret", ["short", ""])
def test_check_settings_rejects_weak_production_secrets(secret):
    from partnership_api.settings import ConfigError, check_settings

    with pytest.raises(ConfigError):
        check_settings({"APP_ENV": "production", "JWT_SECRET_KEY": secret})


def test_sqlite_runs_with_foreign_keys_and_wal(app, db_session):
    if db_session.get_bind().dialect.name != "sqlite":
        pytest.skip("SQLite only")
    import sqlalchemy as sa

    assert db_session.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
    assert db_session.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"


def test_every_setting_is_in_the_readmes_table():
    from pathlib import Path

    from partnership_api.settings import SETTINGS

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for setting in SETTINGS:
        assert f"| `{setting.name}` |" in readme, setting.name


# --- issue 25, point 10: equal or guessable keys in production ------------------------------------

GOOD_JWT = "b7Qe-2PzK9wX4mRt_1VnY6cLs8HdJ3fUa0gNo5iEkWq"
GOOD_SEAL = "Vq3r-8ZkP1mW0sYc_TnR5eLh2uJg7aXd4bFi9oKy6Nw"


@pytest.mark.parametrize(
    "jwt_key, seal_key, named",
    [
        ("k" * 32, "k" * 32, "must differ"),  # the careless admin's configuration
        (GOOD_JWT, GOOD_JWT, "must differ"),
        (GOOD_JWT, f"{GOOD_SEAL},{GOOD_JWT}", "must differ"),  # equal to an older sealing key
        ("k" * 32, GOOD_SEAL, "JWT_SECRET_KEY"),
        ("ab" * 24, GOOD_SEAL, "JWT_SECRET_KEY"),
        ("password" * 4, GOOD_SEAL, "JWT_SECRET_KEY"),
        (GOOD_JWT, "x" * 40, "WEBHOOK_SECRET_KEY"),
        (GOOD_JWT, f"{GOOD_SEAL},{'0' * 32}", "WEBHOOK_SECRET_KEY"),
    ],
)
def test_production_refuses_equal_or_guessable_keys(jwt_key, seal_key, named):
    from partnership_api.settings import ConfigError, check_settings

    config = {"APP_ENV": "production", "JWT_SECRET_KEY": jwt_key, "WEBHOOK_SECRET_KEY": seal_key}
    with pytest.raises(ConfigError, match=named):
        check_settings(config)


def test_production_starts_with_two_different_random_keys():
    import secrets

    from partnership_api.settings import check_settings

    check_settings(
        {"APP_ENV": "production", "JWT_SECRET_KEY": GOOD_JWT, "WEBHOOK_SECRET_KEY": GOOD_SEAL}
    )
    for _ in range(50):  # what the README tells an admin to run never gets refused
        check_settings(
            {
                "APP_ENV": "production",
                "JWT_SECRET_KEY": secrets.token_urlsafe(48),
                "WEBHOOK_SECRET_KEY": secrets.token_hex(16),
            }
        )
