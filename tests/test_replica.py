"""A read replica (``DATABASE_REPLICA_URL``), told by a refuge worker who changes her refuge's
spaces and a police officer who reads the refuge list. A second database stands in for the
replica: a copy of the demo partnership that never receives the primary's changes, so it shows
exactly what a lagging replica would. PostgreSQL only."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from tests.conftest import DEMO_PASSWORD, TEST_SETTINGS, is_postgres, selected_database_url

pytestmark = pytest.mark.skipif(not is_postgres(), reason="a second PostgreSQL database")

SWA = "Staffordshire Women's Aid refuge"


@pytest.fixture(scope="module")
def replica_url(database, app):
    """A database of its own holding the demo partnership, as the replica last saw it."""
    from flask_migrate import stamp

    from partnership_api import audit, create_app
    from partnership_api.demo import seed_demo
    from partnership_api.extensions import db

    base = selected_database_url().replace("postgresql://", "postgresql+psycopg://", 1)
    name = f"replica_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = base.rsplit("/", 1)[0] + f"/{name}"
    schema = database["DATABASE_SCHEMA"]  # the same search_path as the primary's engine
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    copy = create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": url, "DATABASE_SCHEMA": schema})
    with copy.app_context():
        db.create_all()
        stamp()
        audit.ensure_chain_head()
        seed_demo(DEMO_PASSWORD)
        db.session.remove()
        db.engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def replicated(database, replica_url):
    from partnership_api import create_app

    return create_app(
        {
            **TEST_SETTINGS,
            **database,
            "DATABASE_REPLICA_URL": replica_url,
            "REPLICA_STICKY_SECONDS": 60,
        }
    )


def sign_in(client, username: str) -> dict:
    answer = client.post(
        "/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD}
    )
    assert answer.status_code == 200, answer.get_json()
    return {"Authorization": f"Bearer {answer.get_json()['access_token']}"}


def single_vacant(client, headers, refuge_id: int) -> int | None:
    """The refuge's vacant single spaces as the refuge list shows them."""
    answer = client.get("/api/v1/refuges?page_size=100", headers=headers)
    assert answer.status_code == 200, answer.get_json()
    refuge = next(r for r in answer.get_json() if r["id"] == refuge_id)
    spaces = {s["space_type"]: s for s in refuge["availability"]["spaces"]}
    return spaces["single"]["vacant"] if "single" in spaces else None


def test_the_writer_reads_her_own_change_while_others_read_the_replica(replicated, ids):
    from partnership_api.extensions import db
    from partnership_api.services import throttle

    client = replicated.test_client()
    staff = sign_in(client, "swa.staff")  # signing in is not a write that moves her reads
    officer = sign_in(client, "police.officer")
    refuge = ids.service[SWA]
    before = single_vacant(client, officer, refuge)
    assert single_vacant(client, staff, refuge) == before

    etag = client.get(f"/api/v1/refuges/{refuge}/availability", headers=staff).headers["ETag"]
    changed = client.put(
        f"/api/v1/refuges/{refuge}/availability",
        json={"spaces": [{"space_type": "single", "total": 9, "vacant": 7}]},
        headers={**staff, "If-Match": etag},
    )
    assert changed.status_code == 200, changed.get_json()  # written to the primary

    # She sees her change at once, from any list that could come from the replica.
    assert single_vacant(client, staff, refuge) == 7
    # The officer, who wrote nothing, reads the replica: here, one that has not caught up.
    assert single_vacant(client, officer, refuge) == before
    # What a conditional write is made against always comes from the primary.
    shown = client.get(f"/api/v1/refuges/{refuge}/availability", headers=officer).get_json()
    assert {s["space_type"]: s["vacant"] for s in shown["spaces"]}["single"] == 7

    # Her window ends (REPLICA_STICKY_SECONDS; brought forward here): back to the replica.
    user_id = ids.user["swa.staff"]
    with replicated.app_context():
        throttle.clear(f"wrote:{user_id}")
        db.session.commit()
        db.session.remove()
    assert single_vacant(client, staff, refuge) == before


def test_a_refused_write_leaves_the_reader_on_the_replica_and_sessions_stay_on_the_primary(
    replicated, ids
):
    client = replicated.test_client()
    officer = sign_in(client, "police.officer")
    refuge = ids.service[SWA]
    before = single_vacant(client, officer, refuge)
    # The officer may not report a refuge's spaces: refused, nothing written, no window.
    refused = client.put(
        f"/api/v1/refuges/{refuge}/availability",
        json={"spaces": [{"space_type": "single", "total": 1, "vacant": 1}]},
        headers={**officer, "If-Match": '"x"'},
    )
    assert refused.status_code >= 400
    assert single_vacant(client, officer, refuge) == before
    # Signing out is checked on the primary: the replica's copy of the session (which does not
    # exist there at all) is never consulted.
    assert client.post("/api/v1/auth/logout", headers=officer).status_code == 204
    assert client.get("/api/v1/refuges", headers=officer).status_code == 401


def test_the_public_directory_reads_the_replica(replicated, ids, db_session):
    from partnership_api.models.partnership import Service

    client = replicated.test_client()
    listed = {s["name"] for s in client.get("/oruk/services?per_page=50").get_json()["contents"]}
    glow = db_session.get(Service, ids.service["Glow refuge"])
    glow.name = "Glow refuge (renamed on the primary)"
    db_session.commit()
    again = {s["name"] for s in client.get("/oruk/services?per_page=50").get_json()["contents"]}
    assert again == listed  # the replica has not caught up: the directory shows what it had
