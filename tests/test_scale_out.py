"""Scale out, proven: two app servers (gunicorn with gunicorn.conf.py, two workers each) and two
delivery workers (``flask deliver``) on one PostgreSQL, as real processes on loopback (no
Docker). Told by a police officer and a refuge worker who land on different servers, and by the
operator who kills a delivery worker in the middle of a batch.

PostgreSQL only: this run's database (its own schema), migrated and holding the demo
partnership; the servers and workers are started here and stopped at the end, even on failure.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests import faultlib
from tests.conftest import DEMO_PASSWORD, is_postgres
from tests.faultlib import request
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.skipif(not is_postgres(), reason="several processes on one PostgreSQL")

REPO = Path(__file__).resolve().parent.parent
TOKEN = "scale-out-metrics-token-0123456789abcdef"
SWA = "Staffordshire Women's Aid refuge"


@pytest.fixture(scope="module")
def environment(database, app) -> dict[str, str]:
    """What every process gets: this run's database and schema, loopback webhooks allowed."""
    return faultlib.app_environment(
        database["SQLALCHEMY_DATABASE_URI"],
        DATABASE_SCHEMA=database.get("DATABASE_SCHEMA"),
        WEBHOOKS_ALLOW_PRIVATE="true",
        WORKER_POLL_SECONDS="0.05",
        METRICS_TOKEN=TOKEN,
        REDIS_URL=None,
    )


@pytest.fixture(scope="module")
def servers(environment):
    """Two app servers, each with its own metrics folder (as two machines would have)."""
    started = []
    try:
        for _ in range(2):
            server = faultlib.AppServer(dict(environment), workers=2, threads=2, config=True)
            server.env["PROMETHEUS_MULTIPROC_DIR"] = str(server.dir / "metrics")
            started.append(server)
            server.start()
        yield started
    finally:
        for server in started:
            server.destroy()


class Workers:
    """``flask deliver`` processes; each stopped (SIGTERM, then SIGKILL) at the end."""

    def __init__(self, environment: dict[str, str]) -> None:
        self.environment = environment
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, **extra: str) -> subprocess.Popen:
        self.running[name] = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "deliver", "--name", name],
            cwd=REPO,
            env={**self.environment, **extra},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        return self.running[name]

    def stop(self, name: str) -> int:
        worker = self.running.pop(name)
        worker.send_signal(signal.SIGTERM)
        try:
            return worker.wait(30)
        except subprocess.TimeoutExpired:
            worker.kill()
            return worker.wait(10)

    def stop_all(self) -> None:
        for name in list(self.running):
            self.stop(name)


@pytest.fixture
def workers(environment):
    started = Workers(environment)
    try:
        yield started
    finally:
        started.stop_all()


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


def wait_for(condition, limit: float = 60.0, what: str = "the condition") -> None:
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {limit:.0f} s")


def bearer(server, username: str) -> str:
    return faultlib.sign_in(server, username, DEMO_PASSWORD)["access_token"]


def report(server, token: str, refuge_id: int, vacant: int) -> None:
    url = server.url(f"/api/v1/refuges/{refuge_id}/availability")
    status, answer = request("GET", url, token=token)
    assert status == 200, answer
    status, answer = request(
        "PUT",
        url,
        token=token,
        json_body={"spaces": [{"space_type": "single", "total": 4, "vacant": vacant}]},
        headers={"If-Match": answer.headers["etag"]},
    )
    assert status == 200, answer


def register(server, token: str, url: str) -> dict:
    status, answer = request(
        "POST",
        server.url("/api/v1/webhooks"),
        token=token,
        json_body={"url": url, "event_types": ["availability.reported"]},
    )
    assert status == 201, answer
    return answer.json


def scrape(base_url: str) -> dict[tuple, float]:
    from prometheus_client.parser import text_string_to_metric_families

    status, answer = request("GET", f"{base_url}/metrics", token=TOKEN)
    assert status == 200, answer
    found: dict[tuple, float] = {}
    for family in text_string_to_metric_families(answer.body.decode()):
        for sample in family.samples:
            key = (sample.name, tuple(sorted(sample.labels.items())))
            found[key] = found.get(key, 0.0) + sample.value
    return found


def total(found: dict, name: str, **labels: str) -> float:
    wanted = set(labels.items())
    return sum(v for (n, got), v in found.items() if n == name and wanted <= set(got))


def delivered_ids(receiver: Receiver, path: str) -> list[str]:
    import json

    return [json.loads(d.body)["id"] for d in receiver.delivered(path)]


def positions(db_session, receiver: Receiver, path: str) -> list[int]:
    """Where each delivered event is in the outbox (a body carries no position: issue 25)."""
    from partnership_api.models.events import Event

    got = delivered_ids(receiver, path)
    found = dict(
        db_session.execute(
            sa.select(Event.id, Event.position).where(Event.id.in_([uuid.UUID(i) for i in got]))
        ).all()
    )
    db_session.rollback()
    return [found[uuid.UUID(i)] for i in got]


# --- sessions -------------------------------------------------------------------------------------


def test_a_session_signed_out_on_one_server_is_refused_on_the_other_at_once(servers):
    first, second = servers
    token = bearer(first, "police.officer")
    assert request("GET", second.url("/api/v1/me"), token=token)[0] == 200
    assert request("POST", first.url("/api/v1/auth/logout"), token=token)[0] == 204
    # At once, and from every worker of the other server (each has its own caches).
    for _ in range(6):
        status, answer = request("GET", second.url("/api/v1/me"), token=token)
        assert status == 401 and answer.is_json


# --- bed search -----------------------------------------------------------------------------------


def test_a_refuge_report_on_one_server_is_in_the_next_bed_search_on_the_other(servers, ids):
    first, second = servers
    refuge = ids.service[SWA]
    officer = bearer(second, "police.officer")
    staff = bearer(first, "swa.staff")
    search = second.url("/api/v1/beds/search")
    before = scrape(second.base_url)

    def swa_single() -> int | None:
        status, answer = request("GET", search, token=officer)
        assert status == 200, answer
        found = [r for r in answer.json if r["refuge_id"] == refuge]
        spaces = {s["space_type"]: s["available"] for s in found[0]["spaces"]} if found else {}
        return spaces.get("single")

    report(first, staff, refuge, 3)
    searches = 0
    for vacant in (2, 0, 4):
        for _ in range(4):  # warm every worker's cache on the other server
            swa_single()
            searches += 1
        report(first, staff, refuge, vacant)
        for _ in range(4):  # each of them sees the change on its next search
            assert swa_single() == (vacant or None)
            searches += 1

    # The other server's /metrics adds up both its workers: every search counted once, as a
    # cache hit or a miss.
    after = scrape(second.base_url)
    route = "/api/v1/beds/search"
    counted = total(after, "partnership_http_requests_total", route=route, status="200")
    counted -= total(before, "partnership_http_requests_total", route=route, status="200")
    assert counted == searches
    cache = total(after, "partnership_bed_search_cache_total")
    cache -= total(before, "partnership_bed_search_cache_total")
    assert cache == searches
    hits = total(after, "partnership_bed_search_cache_total", result="hit")
    hits -= total(before, "partnership_bed_search_cache_total", result="hit")
    assert 0 < hits < searches


# --- delivery ---------------------------------------------------------------------------------


def test_two_workers_deliver_every_event_once_per_endpoint_in_order(
    servers, ids, workers, receiver, db_session
):
    first, second = servers
    admins = {"swa.admin": first, "newera.admin": second, "police.admin": first}
    paths = []
    for n, (admin, server) in enumerate(admins.items()):
        paths.append(f"/partner-{n}")
        register(server, bearer(server, admin), receiver.url(paths[-1]))
    metrics_ports = {name: faultlib.free_port() for name in ("worker-a", "worker-b")}
    for name, port in metrics_ports.items():
        workers.start(name, WORKER_METRICS_ADDRESS=f"127.0.0.1:{port}")
    refuge = ids.service[SWA]
    tokens = [bearer(first, "swa.staff"), bearer(second, "swa.staff")]
    reports = 6
    for n in range(reports):  # from both servers, while both workers deliver
        report(servers[n % 2], tokens[n % 2], refuge, n % 4)
    wait_for(
        lambda: all(len(delivered_ids(receiver, p)) >= reports for p in paths),
        what="every delivery",
    )
    time.sleep(0.5)  # anything sent twice would arrive now
    delivered = sum(  # as each worker's own /metrics counts them (which one sent is chance)
        total(
            scrape(f"http://127.0.0.1:{port}"),
            "partnership_delivery_attempts_total",
            outcome="delivered",
        )
        for port in metrics_ports.values()
    )
    assert [workers.stop("worker-a"), workers.stop("worker-b")] == [0, 0]
    for path in paths:
        got = positions(db_session, receiver, path)
        assert len(got) == reports and got == sorted(set(got)), (path, got)  # once, in order
    assert delivered == reports * len(paths)  # the workers' metrics agree: each sent once


def test_a_worker_killed_mid_batch_loses_nothing(servers, ids, workers, receiver, db_session):
    first, _ = servers
    hook = register(first, bearer(first, "swa.admin"), receiver.url("/partner"))
    staff = bearer(first, "swa.staff")
    reports = 8
    for n in range(reports):  # waiting before any worker runs: one batch
        report(first, staff, ids.service[SWA], n % 4)
    receiver.delay = 0.3  # a slow partner: the batch takes over two seconds
    doomed = workers.start("doomed")
    wait_for(lambda: len(receiver.received) >= 3, what="the first sends of the batch")
    os.kill(doomed.pid, signal.SIGKILL)  # mid-batch: nothing of it recorded
    doomed.wait(10)
    workers.running.pop("doomed")
    time.sleep(0.5)  # a send in flight at the kill reaches the partner now, or never
    before_death = positions(db_session, receiver, "/partner")
    assert 3 <= len(before_death) < reports
    # Its lease on the endpoint would run out by itself in two minutes; the test does not wait.
    endpoint = uuid.UUID(hook["id"])
    from partnership_api.models.events import WebhookEndpoint

    held = db_session.execute(
        sa.update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint, WebhookEndpoint.lease_owner == "doomed")
        .values(lease_until=sa.func.now() - sa.text("interval '1 second'"))
    ).rowcount
    db_session.commit()
    assert held == 1  # the dead worker did hold it
    receiver.delay = 0.0
    workers.start("survivor")
    wait_for(lambda: len(set(delivered_ids(receiver, "/partner"))) >= reports, what="the rest")
    assert workers.stop("survivor") == 0
    got = positions(db_session, receiver, "/partner")
    every = sorted(set(got))
    assert len(every) == reports  # every event arrived
    # The dead worker's sends were never recorded, so the survivor sends the whole stream
    # again, in order: what the partner had already got comes again with the same webhook-id
    # (Standard Webhooks: the partner drops it). At least once, never lost, never out of order.
    assert before_death == every[: len(before_death)]
    assert got[len(before_death) :] == every
    db_session.expire_all()
    shown = db_session.get(WebhookEndpoint, endpoint)
    assert shown.lease_owner is None and shown.delivered_position >= max(got)
