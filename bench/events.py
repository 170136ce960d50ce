"""The events part of `make bench`: webhook delivery while the other scenarios run.

- A loopback receiver (``Receiver``) records when each delivery arrives; the delivery's lag is
  its arrival less the event's ``timestamp`` (written in the transaction of the change, just
  before it commits, so the lag measured is commit to receipt plus that transaction's last
  statements: a little more than the lag, never less).
- Webhook endpoints are registered for the bench's organisations (the police, Staffordshire
  Women's Aid and some of the loaded refuges' providers) through the webhooks service, with
  ``WEBHOOKS_ALLOW_PRIVATE=true`` in a development configuration so that they may point at
  loopback; each hears every event type, so each availability update of the throughput step
  is sent to every endpoint.
- Two delivery workers (``flask deliver``) run beside the API during the throughput step;
  afterwards the bench waits until they have caught up, then summarises: p50 and p99 lag,
  deliveries and events per second over the window in which events were written.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg

LAG_TARGET_P99_MS = 2000.0


class Receiver:
    """An HTTP server on 127.0.0.1 that answers 200 and keeps (arrival, body facts)."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        # arrival, occurred, the event's id (a body carries no position: issue 25), path
        self.arrivals: list[tuple[float, float, str, str]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 - http.server's name
                arrived = time.time()
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                occurred = datetime.fromisoformat(body["timestamp"]).timestamp()
                with receiver.lock:
                    receiver.arrivals.append((arrived, occurred, body["id"], self.path))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def count(self) -> int:
        with self.lock:
            return len(self.arrivals)

    def snapshot(self) -> list[tuple[float, float, int, str]]:
        with self.lock:
            return list(self.arrivals)


def bench_organisations(conninfo: str, refuges: list[dict], count: int) -> list[tuple[int, str]]:
    """(organisation id, a user id of it) for the police, SWA and the first loaded refuges."""
    chosen = []
    with psycopg.connect(conninfo) as conn:
        for name in ("Staffordshire Police", "Staffordshire Women's Aid"):
            row = conn.execute(
                "SELECT o.id, u.id FROM organisations o JOIN users u ON u.organisation_id = o.id "
                "WHERE o.name = %s ORDER BY u.username LIMIT 1",
                (name,),
            ).fetchone()
            if row:
                chosen.append((row[0], str(row[1])))
        for refuge in refuges:
            if len(chosen) >= count:
                break
            row = conn.execute(
                "SELECT id FROM users WHERE organisation_id = %s ORDER BY username LIMIT 1",
                (refuge["organisation_id"],),
            ).fetchone()
            if row:
                chosen.append((refuge["organisation_id"], str(row[0])))
    return chosen[:count]


def register_endpoints(settings: dict, organisations: list[tuple[int, str]], receiver) -> int:
    """One endpoint per organisation, hearing every type, made by the webhooks service (its
    secret sealed as in production) under a development configuration allowing loopback."""
    from partnership_api import create_app
    from partnership_api.extensions import db

    app = create_app({**settings, "APP_ENV": "development", "WEBHOOKS_ALLOW_PRIVATE": True})
    with app.app_context():
        made = register_in_app(organisations, receiver)
        db.session.remove()
    return made


def register_in_app(organisations: list[tuple[int, str]], receiver) -> int:
    """``register_endpoints`` inside an app context the caller set up (loopback allowed)."""
    import uuid

    from partnership_api.actors import Actor
    from partnership_api.events.outbox import EVENT_TYPES
    from partnership_api.extensions import db
    from partnership_api.models.partnership import Organisation
    from partnership_api.services import webhooks

    made = 0
    for org_id, user_id in organisations:
        org = db.session.get(Organisation, org_id)
        admin = Actor(
            user_id=uuid.UUID(user_id),
            username="bench",
            org_id=org.id,
            org_kind=org.kind,
            org_name=org.name,
            role="admin",
            partnership_admin=False,
            session_id=uuid.uuid4(),
        )
        webhooks.create(
            admin,
            {
                "url": receiver.url(f"/org-{org_id}"),
                "event_types": sorted(EVENT_TYPES),
                "description": "make bench",
            },
        )
        made += 1
    return made


def wait_for_drain(conninfo: str, receiver: Receiver, limit_s: float = 120.0) -> bool:
    """Until every endpoint has dealt with the newest event (or ``limit_s`` passes)."""
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        with psycopg.connect(conninfo) as conn:
            behind = conn.execute(
                "SELECT count(*) FROM webhook_endpoints WHERE enabled AND delivered_position < "
                "(SELECT coalesce(max(position), 0) FROM events)"
            ).fetchone()[0]
        if behind == 0:
            return True
        time.sleep(0.5)
    return False


def summarise(arrivals: list[tuple[float, float, int, str]], endpoints: int, drained: bool) -> dict:
    """Lag percentiles and rates over the deliveries received."""
    if not arrivals:
        return {"deliveries": 0, "endpoints": endpoints, "drained": drained}
    lags = sorted(max(0.0, arrived - occurred) * 1000 for arrived, occurred, _, _ in arrivals)
    occurred = [a[1] for a in arrivals]
    received = [a[0] for a in arrivals]
    events = {a[2] for a in arrivals}
    window = max(max(received) - min(occurred), 1e-3)
    duplicates = len(arrivals) - len({(a[2], a[3]) for a in arrivals})

    def percentile(p: float) -> float:
        return lags[min(len(lags) - 1, int(round(p / 100 * (len(lags) - 1))))]

    return {
        "endpoints": endpoints,
        "deliveries": len(arrivals),
        "events": len(events),
        "duplicates": duplicates,
        "window_s": round(window, 2),
        "deliveries_per_s": len(arrivals) / window,
        "events_per_s": len(events) / window,
        "lag_p50_ms": percentile(50),
        "lag_p99_ms": percentile(99),
        "lag_max_ms": lags[-1],
        "lag_mean_ms": statistics.mean(lags),
        "drained": drained,
        "target": {"lag_p99_ms": LAG_TARGET_P99_MS},
    }
