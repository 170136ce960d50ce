"""The benchmark's loader against the real schema, told by the engineer who runs `make bench`.

`make bench` writes rows with server-side SQL, not through the models, so a new NOT NULL
column breaks it silently until someone runs the benchmark. On every database, the loader's
INSERT statements are read against the models: each names every column the models require
(NOT NULL, no server default). On PostgreSQL, as `make bench` runs, the loader fills a
migrated database and the API then serves exactly what it wrote.
"""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from tests.conftest import DEMO_PASSWORD, is_postgres

LOADER = Path(__file__).resolve().parent.parent / "bench" / "load_data.py"
postgres_only = pytest.mark.skipif(not is_postgres(), reason="the benchmark runs on PostgreSQL")


def loader_inserts() -> dict[str, list[set[str]]]:
    """Each table the loader inserts into, with the column list of each of its INSERTs."""
    from bench import load_data

    text = re.sub(r'"\s*\n\s*"', "", LOADER.read_text())  # join split string literals
    text = re.sub(r"\s+", " ", text)
    inserts: dict[str, list[set[str]]] = {}
    for table, columns in re.findall(r"INSERT INTO (\w+) \(([^)]*)\)", text):
        if columns.strip() != "{}":  # the users' list is built from USER_VALUES
            inserts.setdefault(table, []).append({c.strip() for c in columns.split(",")})
    inserts.setdefault("users", []).append(set(load_data.USER_VALUES))
    return inserts


def required_columns(table: sa.Table) -> set[str]:
    """What an INSERT must name: NOT NULL, no server default, not the autoincrement key."""
    return {
        column.name
        for column in table.columns
        if not column.nullable
        and column.server_default is None
        and column is not table.autoincrement_column
    }


def test_every_insert_of_the_loader_names_every_column_the_models_require():
    from partnership_api.models import load_all
    from partnership_api.models.base import Base

    load_all()
    inserts = loader_inserts()
    # The reading itself: the loader's main tables are all found.
    assert {
        "organisations",
        "services",
        "users",
        "referrals",
        "referral_events",
        "projects",
    } <= set(inserts)
    unknown = sorted(set(inserts) - set(Base.metadata.tables))
    assert not unknown, f"the loader writes tables the models do not have: {unknown}"
    missing = [
        f"{table}: {sorted(required_columns(Base.metadata.tables[table]) - columns)}"
        for table, lists in sorted(inserts.items())
        for columns in lists
        if required_columns(Base.metadata.tables[table]) - columns
    ]
    assert not missing, "bench/load_data.py leaves out required columns:\n" + "\n".join(missing)


@pytest.fixture
def loader_conn(app, database):
    url = database["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, options=f"-c search_path={database['DATABASE_SCHEMA']}") as conn:
        yield conn


@postgres_only
def test_the_loader_fills_every_required_column_and_the_api_serves_its_rows(
    app, client, login, loader_conn
):
    from bench import load_data
    from partnership_api.auth import hash_password

    opcc = login("opcc.staff")
    projects_before = len(client.get("/api/v1/projects?page_size=100", headers=opcc).json)
    with app.app_context():
        password_hash = hash_password(DEMO_PASSWORD)
    refuges = load_data.load_refuges(loader_conn, 3, password_hash)
    load_data.add_referrals(loader_conn, 200)
    before = load_data.referral_count(loader_conn)
    load_data.add_referrals(loader_conn, 50)  # `make bench` grows the data: numbered on
    load_data.load_funding(loader_conn, 5)
    assert before >= 200 and load_data.referral_count(loader_conn) == before + 50

    # Each loaded refuge's own worker signs in and reads the service and spaces it was given.
    for refuge in refuges:
        worker = login(refuge["username"])
        service_id = refuge["service_id"]
        own = client.get(f"/api/v1/services/{service_id}", headers=worker)
        assert own.status_code == 200
        name, address = loader_conn.execute(
            "SELECT name, address FROM services WHERE id = %s", (service_id,)
        ).fetchone()
        assert (own.json["name"], own.json["address"]) == (name, address)
        spaces = client.get(f"/api/v1/refuges/{service_id}/availability", headers=worker)
        assert spaces.status_code == 200
        shown = {s["space_type"]: (s["total"], s["vacant"]) for s in spaces.json["spaces"]}
        assert shown == {s["space_type"]: (s["total"], s["vacant"]) for s in refuge["spaces"]}
    # The officer's bed search finds every loaded refuge with a vacant family space.
    officer = login("police.officer")
    found = client.get("/api/v1/beds/search?space_type=family", headers=officer)
    assert found.status_code == 200
    with_family_space = {
        r["service_id"]
        for r in refuges
        if any(s["space_type"] == "family" and s["vacant"] > 0 for s in r["spaces"])
    }
    assert with_family_space <= {result["refuge_id"] for result in found.json}
    # Staffordshire Women's Aid reads the loaded referrals it received, as they were written.
    staff = login("swa.staff")
    inbox = client.get("/api/v1/referrals?direction=received&page_size=20", headers=staff)
    assert inbox.status_code == 200 and inbox.json
    rows = dict(
        loader_conn.execute(
            "SELECT r.id::text, r.reference FROM referrals r JOIN organisations o "
            "ON o.id = r.to_organisation_id WHERE o.name = %s",
            ("Staffordshire Women's Aid",),
        ).fetchall()
    )
    assert {r["id"]: r["reference"] for r in inbox.json}.items() <= rows.items()
    read = client.get(f"/api/v1/referrals/{inbox.json[0]['id']}", headers=staff)
    assert read.status_code == 200 and read.json["reference"] == rows[inbox.json[0]["id"]]
    # The commissioner's office sees the loaded projects.
    projects = client.get("/api/v1/projects?page_size=100", headers=opcc).json
    assert len(projects) == min(100, projects_before + 5)
