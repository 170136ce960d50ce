"""Migrations are the only way the schema is made; the committed OpenAPI matches the code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import TEST_SETTINGS
from tests.dblib import app_on_empty_database

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def migrated_app(tmp_path):
    """An app on an empty database of its own, upgraded by the Alembic migrations."""
    from flask_migrate import upgrade

    with app_on_empty_database(tmp_path, "mig") as app:
        with app.app_context():
            upgrade()
        yield app


@pytest.mark.no_demo
def test_models_and_migrations_agree(migrated_app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from partnership_api.extensions import db, migrate

    with migrated_app.app_context():
        with db.engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "render_as_batch": True, "include_schemas": False}
            )
            diff = compare_metadata(context, db.metadata)
    assert migrate is not None
    assert diff == [], f"the models differ from the migrations; run `flask db migrate`: {diff}"


@pytest.mark.no_demo
def test_a_migrated_database_is_ready_and_seeds(migrated_app):
    client = migrated_app.test_client()
    assert client.get("/readyz").status_code == 200
    runner = migrated_app.test_cli_runner()
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0, again.output
    login = client.post(
        "/api/v1/auth/login",
        json={"username": "swa.staff", "password": TEST_SETTINGS["DEMO_PASSWORD"]},
    )
    assert login.status_code == 200


@pytest.mark.no_demo
def test_seed_demo_is_refused_in_production(migrated_app):
    migrated_app.config["APP_ENV"] = "production"
    try:
        result = migrated_app.test_cli_runner().invoke(args=["seed-demo"])
    finally:
        migrated_app.config["APP_ENV"] = "development"
    assert result.exit_code != 0
    assert "production" in result.output


def test_committed_openapi_matches_the_code(client):
    committed = json.loads((ROOT / "openapi" / "openapi.json").read_text())
    generated = client.get("/openapi.json").get_json()
    assert generated == committed, "openapi/openapi.json is stale: run `make openapi`"


def test_every_protected_operation_declares_bearer_security(client):
    spec = client.get("/openapi.json").get_json()
    assert spec["security"] == [{"bearerAuth": []}]
    public = {("/healthz", "get"), ("/readyz", "get"), ("/api/v1/auth/login", "post")}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if (path, method) in public:
                assert operation.get("security") == [], (path, method)
