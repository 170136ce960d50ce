"""The API under failing dependencies, as real gunicorn processes on private servers.

Each test runs the API with ``gunicorn wsgi:app`` against a throwaway PostgreSQL cluster and a
private redis-server (see tests/faultlib.py): the machine's shared servers are never stopped.
Run with ``pytest -m faults --run-faults`` (``make test-faults``).
"""

from __future__ import annotations

import json
import threading
import time
import uuid

import pytest
import redis
import sqlalchemy as sa

from tests import faultlib
from tests.factories import GLOW_REFUGE, consenting_victim_referral
from tests.faultlib import request, sign_in

pytestmark = [pytest.mark.faults, pytest.mark.no_demo]

CLIENT_TIMEOUT = 10  # seconds: every request must be answered within it


@pytest.fixture(scope="module")
def cluster():
    pg = faultlib.PrivatePostgres()
    try:
        pg.init()
        pg.start()
        yield pg
    finally:
        pg.destroy()


@pytest.fixture
def fault_db(cluster):
    """A fresh database in the private cluster, migrated and holding the demo partnership."""
    if not cluster.running():
        cluster.start()
    url = cluster.create_database(f"api_{uuid.uuid4().hex[:10]}")
    faultlib.prepare_database(faultlib.app_environment(url))
    engine = sa.create_engine(url)
    try:
        yield url, engine
    finally:
        engine.dispose()


@pytest.fixture
def private_redis():
    server = faultlib.PrivateRedis()
    try:
        server.start()
        yield server
    finally:
        server.destroy()


@pytest.fixture
def start_api():
    """``start_api(env)`` → a running AppServer; all are stopped at the end, even on failure."""
    started: list[faultlib.AppServer] = []

    def start(env: dict[str, str], **kwargs) -> faultlib.AppServer:
        server = faultlib.AppServer(env, **kwargs)
        started.append(server)
        return server.start()

    try:
        yield start
    finally:
        for server in started:
            server.destroy()


def _log_lines(server: faultlib.AppServer) -> list[dict]:
    lines = []
    for raw in server.stderr().splitlines():
        try:
            lines.append(json.loads(raw))
        except ValueError:
            continue
    return lines


# --- (a) PostgreSQL goes away under load and comes back ------------------------------------------


class Load:
    """Threads that keep sending requests and write down every answer (or the lack of one)."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.answers: list[dict] = []
        self.lock = threading.Lock()
        self.threads: list[threading.Thread] = []

    def run(self, kind: str, send) -> None:
        def loop() -> None:
            n = 0
            while not self.stop.is_set():
                n += 1
                started = time.monotonic()
                entry = {"kind": kind, "n": n, "sent_at": started}
                try:
                    status, answer = send(n)
                    entry.update(status=status, answer=answer)
                except Exception as error:  # noqa: BLE001 - a timeout or reset is a finding
                    entry.update(status=None, error=repr(error))
                entry["seconds"] = time.monotonic() - started
                with self.lock:
                    self.answers.append(entry)
                time.sleep(0.02)

        thread = threading.Thread(target=loop, daemon=True)
        self.threads.append(thread)
        thread.start()

    def seen(self, kind: str, status: int, after: float = 0.0) -> int:
        with self.lock:
            return sum(
                1
                for a in self.answers
                if a["kind"] == kind and a["status"] == status and a["sent_at"] >= after
            )

    def wait_for(self, condition, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.1)
        raise AssertionError(f"{what} within {timeout} s; answers so far: {self.summary()}")

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(CLIENT_TIMEOUT + 5)

    def summary(self) -> dict:
        counts: dict[str, int] = {}
        with self.lock:
            for a in self.answers:
                key = f"{a['kind']}:{a['status']}"
                counts[key] = counts.get(key, 0) + 1
        return counts


def test_postgres_stopping_under_load_gives_json_503s_then_recovers_without_a_restart(
    cluster, fault_db, start_api
):
    url, engine = fault_db
    env = faultlib.app_environment(url, LOGIN_RATE_LIMIT="100000 per minute")
    api = start_api(env, workers=2, threads=4)
    arbiter = api.process.pid
    admin = sign_in(api, "partnership.admin")["access_token"]
    officer = sign_in(api, "police.officer")["access_token"]
    run = uuid.uuid4().hex[:6]

    def read_me(_n):
        return request("GET", api.url("/api/v1/me"), token=officer, timeout=CLIENT_TIMEOUT)

    def create_user(n):
        body = {"username": f"fault.{run}.{n}", "role": "staff", "password": "a-long-password-1"}
        return request(
            "POST", api.url("/api/v1/users"), json_body=body, token=admin, timeout=CLIENT_TIMEOUT
        )

    def create_organisation(n):
        body = {"name": f"Fault test organisation {run} {n}", "kind": "provider"}
        return request(
            "POST",
            api.url("/api/v1/organisations"),
            json_body=body,
            token=admin,
            timeout=CLIENT_TIMEOUT,
        )

    def sign_in_officer(_n):
        body = {"username": "police.officer", "password": faultlib.DEMO_PASSWORD}
        return request(
            "POST", api.url("/api/v1/auth/login"), json_body=body, timeout=CLIENT_TIMEOUT
        )

    load = Load()
    kinds = {"me": 200, "user": 201, "organisation": 201, "login": 200}
    try:
        load.run("me", read_me)
        load.run("user", create_user)
        load.run("organisation", create_organisation)
        load.run("login", sign_in_officer)
        load.wait_for(
            lambda: all(load.seen(k, ok) >= 2 for k, ok in kinds.items()),
            20,
            "every kind of request succeeded before the fault",
        )

        cluster.stop("immediate")  # a crash: sessions cut, no clean shutdown
        down_at = time.monotonic()
        load.wait_for(
            lambda: all(load.seen(k, 503, after=down_at) >= 2 for k in kinds),
            20,
            "every kind of request was answered 503 while PostgreSQL was down",
        )
        cluster.start()
        up_at = time.monotonic()
        load.wait_for(
            lambda: all(load.seen(k, ok, after=up_at) >= 2 for k, ok in kinds.items()),
            30,
            "every kind of request succeeded again after PostgreSQL came back",
        )
    finally:
        load.finish()
        if not cluster.running():
            cluster.start()

    # Nobody waited past the timeout, and every answer was a success or a JSON 503.
    unanswered = [a for a in load.answers if a["status"] is None]
    assert not unanswered, unanswered[:5]
    for a in load.answers:
        assert a["status"] in (kinds[a["kind"]], 503), (a["kind"], a["answer"])
        assert a["answer"].is_json, (a["kind"], a["answer"])
        if a["status"] == 503:
            assert a["answer"].json["code"] == 503
            assert "Retry-After" in {k.title() for k in a["answer"].headers}
    assert api.alive() and api.process.pid == arbiter  # recovered without a restart
    assert request("GET", api.url("/readyz"))[0] == 200

    # Nothing half-written: a user or organisation exists exactly when its audit event does.
    with engine.connect() as conn:
        users = dict(
            conn.execute(
                sa.text("SELECT username, CAST(id AS TEXT) FROM users WHERE username LIKE :p"),
                {"p": f"fault.{run}.%"},
            ).all()
        )
        user_events = set(
            conn.execute(
                sa.text("SELECT resource_id FROM audit_events WHERE action = 'user.create'")
            ).scalars()
        )
        orgs = dict(
            conn.execute(
                sa.text("SELECT name, CAST(id AS TEXT) FROM organisations WHERE name LIKE :p"),
                {"p": f"Fault test organisation {run} %"},
            ).all()
        )
        org_events = set(
            conn.execute(
                sa.text("SELECT resource_id FROM audit_events WHERE action = 'organisation.create'")
            ).scalars()
        )
    assert set(users.values()) == user_events  # the demo users were seeded without events
    assert set(orgs.values()) <= org_events
    for a in load.answers:
        if a["kind"] == "user" and a["status"] == 201:
            assert users[a["answer"].json["username"]] == a["answer"].json["id"]
        if a["kind"] == "organisation" and a["status"] == 201:
            assert orgs[a["answer"].json["name"]] == str(a["answer"].json["id"])
    # The audit chain is whole: no event lost or torn by the crash.
    faultlib.flask_command(env, "audit", "verify")


# --- (b) Redis goes away ---------------------------------------------------------------------


def test_redis_down_rate_limits_fail_open_with_a_warning_and_revocation_fails_closed(
    fault_db, private_redis, start_api
):
    url, _engine = fault_db
    env = faultlib.app_environment(
        url, REDIS_URL=private_redis.url, LOGIN_RATE_LIMIT="4 per minute"
    )
    api = start_api(env, workers=2, threads=2)
    officer = sign_in(api, "police.officer")
    worker = sign_in(api, "swa.staff")

    # With Redis up, the limit is counted there, for both workers together.
    store = redis.Redis.from_url(private_redis.url)
    assert any(b"partnership-api" in key for key in store.keys("*"))
    attempts = [
        request(
            "POST",
            api.url("/api/v1/auth/login"),
            json_body={"username": f"nobody.{i}", "password": "wrong"},
        )[0]
        for i in range(3)
    ]
    assert attempts[-1] == 429
    store.close()

    private_redis.stop()

    # Rate limiting fails open: the limit already reached in Redis no longer blocks the officer.
    status, answer = request(
        "POST",
        api.url("/api/v1/auth/login"),
        json_body={"username": "police.officer", "password": faultlib.DEMO_PASSWORD},
        timeout=CLIENT_TIMEOUT,
    )
    assert status == 200, answer
    second = answer.json
    warnings = [
        line
        for line in _log_lines(api)
        # Sign-in is counted by the shared counters (services/throttle.py), the rest by
        # flask-limiter: either says it could not count.
        if line.get("logger", "").startswith(("flask-limiter", "partnership_api.throttle"))
        and line.get("level") in ("WARNING", "ERROR")
    ]
    assert warnings, api.stderr()[-3000:]

    # Revocation lives in the database: a logged-out session is refused by every worker.
    for tokens in (officer, worker, second):
        status, _ = request("GET", api.url("/api/v1/me"), token=tokens["access_token"])
        assert status == 200
    status, _ = request("POST", api.url("/api/v1/auth/logout"), token=officer["access_token"])
    assert status == 204
    for _ in range(6):  # enough to meet both workers
        status, answer = request(
            "GET", api.url("/api/v1/me"), token=officer["access_token"], timeout=CLIENT_TIMEOUT
        )
        assert status == 401 and answer.is_json
        status, _ = request(
            "POST",
            api.url("/api/v1/auth/refresh"),
            token=officer["refresh_token"],
            timeout=CLIENT_TIMEOUT,
        )
        assert status == 401
    # Other sessions, the officer's second one included, carry on.
    for tokens in (worker, second):
        assert request("GET", api.url("/api/v1/me"), token=tokens["access_token"])[0] == 200


# --- (c) two app servers sharing PostgreSQL and Redis ----------------------------------------


def test_two_app_servers_share_sessions_and_rate_limits(fault_db, private_redis, start_api):
    url, _engine = fault_db
    env = faultlib.app_environment(url, REDIS_URL=private_redis.url)
    one = start_api(env, workers=1, threads=2)
    two = start_api(env, workers=1, threads=2)
    assert one.port != two.port

    # A logout on one server is honoured by the other at once.
    tokens = sign_in(one, "police.officer")
    assert request("GET", two.url("/api/v1/me"), token=tokens["access_token"])[0] == 200
    assert request("POST", two.url("/api/v1/auth/logout"), token=tokens["access_token"])[0] == 204
    status, answer = request("GET", one.url("/api/v1/me"), token=tokens["access_token"])
    assert status == 401 and answer.is_json
    assert request("POST", one.url("/api/v1/auth/refresh"), token=tokens["refresh_token"])[0] == 401

    # A refresh token rotated on one server and replayed on the other ends the session on both.
    tokens = sign_in(two, "glow.staff")
    status, rotated = request(
        "POST", one.url("/api/v1/auth/refresh"), token=tokens["refresh_token"]
    )
    assert status == 200
    assert request("POST", two.url("/api/v1/auth/refresh"), token=tokens["refresh_token"])[0] == 401
    for server in (one, two):
        status, _ = request("GET", server.url("/api/v1/me"), token=rotated.json["access_token"])
        assert status == 401

    # Sign-in throttling is counted in Redis: attempts on one server count on the other. An
    # unknown name has no database lock, so only the shared limiter can refuse it.
    body = {"username": "no.such.person", "password": "wrong"}
    for _ in range(5):
        assert request("POST", one.url("/api/v1/auth/login"), json_body=body)[0] == 401
    status, answer = request("POST", two.url("/api/v1/auth/login"), json_body=body)
    assert status == 429 and answer.is_json


def _family_spaces_available(server: faultlib.AppServer, token: str) -> dict[str, int]:
    status, answer = request(
        "GET", server.url("/api/v1/beds/search?space_type=family"), token=token
    )
    assert status == 200, answer
    return {
        refuge["name"]: next(
            (s["available"] for s in refuge["spaces"] if s["space_type"] == "family"), 0
        )
        for refuge in answer.json
    }


def test_a_hold_made_on_one_server_is_seen_by_search_on_the_other_at_once(
    fault_db, private_redis, start_api
):

    url, _engine = fault_db
    env = faultlib.app_environment(url, REDIS_URL=private_redis.url)
    one = start_api(env, workers=1, threads=2)
    two = start_api(env, workers=1, threads=2)
    officer = sign_in(one, "police.officer")["access_token"]

    before = _family_spaces_available(two, officer)  # search on two: now cached there
    assert before.get(GLOW_REFUGE, 0) >= 1, before
    status, services = request("GET", one.url("/api/v1/services?kind=refuge"), token=officer)
    glow = next(s["id"] for s in services.json if s["name"] == GLOW_REFUGE)
    status, referral = request(
        "POST",
        one.url("/api/v1/referrals"),
        json_body=consenting_victim_referral(glow),
        token=officer,
    )
    assert status == 201, referral
    status, held = request(
        "POST",
        one.url(f"/api/v1/referrals/{referral.json['id']}/hold"),
        json_body={"refuge_id": glow, "space_type": "family"},
        token=officer,
    )
    assert status == 201, held

    after = _family_spaces_available(two, officer)
    assert after.get(GLOW_REFUGE, 0) == before[GLOW_REFUGE] - 1


# --- (d) the delivery worker lives through PostgreSQL restarting --------------------------------


def test_the_delivery_worker_survives_postgres_restarting_and_delivers_everything_in_order(
    cluster, fault_db, start_api
):
    """A refuge's partner system listens on loopback; PostgreSQL crashes and comes back while
    the worker runs: the worker waits, goes on by itself, and every event arrives, in order,
    signed; it still stops cleanly on SIGTERM."""
    import signal
    import subprocess

    from standardwebhooks import Webhook

    from tests.webhook_receiver import Receiver

    url, engine = fault_db
    env = faultlib.app_environment(url, WEBHOOKS_ALLOW_PRIVATE="true", WORKER_POLL_SECONDS="0.1")
    api = start_api(env, workers=1, threads=2)
    admin = sign_in(api, "swa.admin")["access_token"]
    staff = sign_in(api, "swa.staff")["access_token"]
    with engine.connect() as conn:
        refuge = conn.execute(
            sa.text("SELECT id FROM services WHERE name = :n"),
            {"n": "Staffordshire Women's Aid refuge"},
        ).scalar_one()

    def report(vacant: int) -> int:
        path = api.url(f"/api/v1/refuges/{refuge}/availability")
        status, read = request("GET", path, token=staff)
        if status != 200:
            return status
        body = {"spaces": [{"space_type": "single", "total": 4, "vacant": vacant}]}
        status, _ = request(
            "PUT", path, json_body=body, token=staff, headers={"If-Match": read.headers["etag"]}
        )
        return status

    with Receiver() as receiver:
        status, hook = request(
            "POST",
            api.url("/api/v1/webhooks"),
            json_body={"url": receiver.url(), "event_types": ["availability.reported"]},
            token=admin,
        )
        assert status == 201, hook
        worker = subprocess.Popen(
            [str(faultlib.VENV_BIN / "flask"), "--app", "wsgi", "deliver", "--name", "fault"],
            env=env,
            cwd=faultlib.REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            assert report(1) == 200
            faultlib._wait_for(lambda: len(receiver.delivered()) >= 1, 30, "the first delivery")

            cluster.stop("immediate")  # a crash, with the worker's connections open
            time.sleep(2)  # the worker finds the database gone, and waits
            assert worker.poll() is None
            cluster.start()
            deadline = time.monotonic() + 30
            while report(2) != 200:
                assert time.monotonic() < deadline, "the API did not come back"
                time.sleep(0.5)
            assert report(3) == 200
            faultlib._wait_for(lambda: len(receiver.delivered()) >= 3, 60, "deliveries after")
            assert worker.poll() is None  # it went on by itself: nobody restarted it
        finally:
            worker.send_signal(signal.SIGTERM)
            code = worker.wait(timeout=30)
        assert code == 0, worker.stderr.read().decode()[-3000:]
        secret = hook.json["secret"]
        bodies = [Webhook(secret).verify(d.body, d.headers) for d in receiver.delivered()]
    engine.dispose()  # its pooled connections died with the restart
    with engine.connect() as conn:  # a body carries no position (issue 25): the outbox has it
        found = dict(conn.execute(sa.text("SELECT id, position FROM events")).all())
    positions = [found[uuid.UUID(body["id"])] for body in bodies]
    # At least once and in order: a send cut by the crash may be repeated, never reordered.
    assert positions == sorted(positions), positions
    assert len(set(positions)) == 3
