"""The benchmark's loader against the real schema (PostgreSQL only, as `make bench` runs).

`make bench` writes rows with server-side SQL, not through the models, so a new NOT NULL
column breaks it silently until someone runs the benchmark. Told by the engineer who runs it:
the loader fills a migrated database, and the API then serves what it wrote.
"""

from __future__ import annotations

import psycopg
import pytest

from tests.conftest import DEMO_PASSWORD, is_postgres

pytestmark = pytest.mark.skipif(not is_postgres(), reason="the benchmark runs on PostgreSQL")


@pytest.fixture
def loader_conn(app, database):
    url = database["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, options=f"-c search_path={database['DATABASE_SCHEMA']}") as conn:
        yield conn


def test_the_loader_fills_every_required_column_and_the_api_serves_its_rows(
    app, client, login, loader_conn
):
    from bench import load_data
    from partnership_api.auth import hash_password

    with app.app_context():
        password_hash = hash_password(DEMO_PASSWORD)
    refuges = load_data.load_refuges(loader_conn, 3, password_hash)
    load_data.add_referrals(loader_conn, 200)
    load_data.load_funding(loader_conn, 5)
    assert load_data.referral_count(loader_conn) >= 200

    officer = login("police.officer")
    found = client.get("/api/v1/beds/search?space_type=family&children=2", headers=officer)
    assert found.status_code == 200
    worker = login(refuges[0]["username"])
    own = client.get(f"/api/v1/services/{refuges[0]['service_id']}", headers=worker)
    assert own.status_code == 200
    assert own.json["address"]
    spaces = client.get(f"/api/v1/refuges/{refuges[0]['service_id']}/availability", headers=worker)
    assert spaces.status_code == 200
    staff = login("swa.staff")
    inbox = client.get("/api/v1/referrals?direction=received&page_size=20", headers=staff)
    assert inbox.status_code == 200
    assert inbox.json
    read = client.get(f"/api/v1/referrals/{inbox.json[0]['id']}", headers=staff)
    assert read.status_code == 200
