"""The national simulation's loader (`make bench-national`) against the real schema.

PostgreSQL only, as the bench runs. Told by the engineer who runs it: the national world, at a
tiny scale factor for its referrals, holds what the bench's report claims it holds (43 police
forces, 300 refuges, 2,000 users, its referrals sent by the forces to the refuges over a year,
a year of daily availability reports, 30 days of events) and the 300 webhook endpoints the
delivery step registers; and the API serves that world.
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


def test_the_national_world_has_the_counts_it_claims(app, client, login, loader_conn):
    from bench import events as events_bench
    from bench import national
    from partnership_api.auth import hash_password
    from partnership_api.extensions import db

    world = national.NATIONAL.scaled(0.002)
    assert (world.forces, world.refuges, world.users, world.endpoints) == (43, 300, 2000, 300)
    assert world.referrals == 300
    with app.app_context():
        password_hash = hash_password(DEMO_PASSWORD)
    refuges = national.build_world(loader_conn, world, password_hash)
    assert len(refuges) == 297  # and the demo's three

    receiver = events_bench.Receiver()  # never started: it only gives the endpoints' URLs
    try:
        organisations = national.endpoint_organisations(loader_conn, world.endpoints)
        with app.app_context():
            made = events_bench.register_in_app(organisations, receiver)
            db.session.remove()
    finally:
        receiver.server.server_close()
    assert made == 300

    counts = national.world_counts(loader_conn)
    assert counts["police_forces"] == 43
    assert counts["refuges"] == 300
    assert counts["users"] == 2000
    assert counts["referrals"] == counts["referrals_last_year"] == 300
    assert counts["forces_that_referred"] >= 20  # spread over the forces, not one
    assert counts["services_referred_to"] >= 50
    assert counts["availability_reports"] >= 300 * 365
    assert counts["events"] >= 300 * 30  # a daily report per refuge over the events' 30 days
    assert counts["webhook_endpoints"] == 300
    with_users = loader_conn.execute(
        "SELECT count(DISTINCT o.id) FROM organisations o JOIN users u "
        "ON u.organisation_id = o.id WHERE o.kind = 'police'"
    ).fetchone()[0]
    assert with_users == 43

    officer = login("police.officer")
    found = client.get("/api/v1/beds/search?space_type=family&children=2", headers=officer)
    assert found.status_code == 200
    staff = login("swa.staff")
    feed = client.get("/api/v1/events?page_size=20", headers=staff)
    assert feed.status_code == 200
    assert len(feed.json) == 20
    forces_user = login(f"{national.load_data.BENCH_STAFF_PREFIX}00001")
    assert client.get("/api/v1/referrals?direction=sent", headers=forces_user).status_code == 200
