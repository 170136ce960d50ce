"""Prometheus metrics: what an operator watches, and nothing about anyone.

The families: requests and their duration by method, route template and status; the database
pool's connections in use; bed search's cache hits and misses; refused sign-ins by reason;
throttled requests by route; and the delivery worker's sends by outcome, delivery lag, events
behind (as a distribution over endpoints) and vacancy alerts matched.

**No label carries an id, a name, an address or anything a caller typed.** Routes are URL
templates (``/api/v1/referrals/<uuid:referral_id>``), never paths; a path no route matches is
``(unmatched)``; methods outside the usual seven are ``other``; statuses are HTTP codes; every
other label value is one of a fixed set of words in this module. The backlog is not labelled
per endpoint (an endpoint's id would name a partner): it is the largest, the sum and how many
endpoints are more than 0, 10, 100 and 1,000 events behind; ``flask events backlog`` names them
for an operator with database access. ``tests/test_metrics.py`` checks all of it.

**Several processes.** Under gunicorn each worker writes its values to files in
``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client's multiprocess mode; ``gunicorn.conf.py``
empties the folder at start and marks each dead worker, so its live gauges go) and ``/metrics``
adds them up. Without that variable (tests, one delivery worker) the process's own registry
answers.

**Who may read them.** ``METRICS_TOKEN`` unset: ``/metrics`` is not found (404), as if it did
not exist. Set: it answers only a request carrying ``Authorization: Bearer <METRICS_TOKEN>``
(compared in constant time); any other gets 401 with ``WWW-Authenticate: Bearer``. The delivery
worker serves the same on ``WORKER_METRICS_ADDRESS`` (``host:port``), with the same rule.
"""

from __future__ import annotations

import hmac
import logging
import os
import threading
from collections.abc import Callable, Iterable
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

log = logging.getLogger("partnership_api.metrics")

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
if os.environ.get(MULTIPROCESS_DIR):  # a fresh tmpfs has no such folder yet
    os.makedirs(os.environ[MULTIPROCESS_DIR], exist_ok=True)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "(unmatched)"

# --- the app servers -----------------------------------------------------------------------

REQUESTS = Counter(
    "partnership_http_requests",
    "Requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
REQUEST_SECONDS = Histogram(
    "partnership_http_request_duration_seconds",
    "Time from a request's first hook to its answer, by method, route template and status.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
THROTTLED = Counter(
    "partnership_throttled_requests",
    "Requests answered 429 (rate limits, sign-in throttling, failed-authentication budget), "
    "by route template.",
    ["route"],
)
DB_CONNECTIONS_IN_USE = Gauge(
    "partnership_db_pool_connections_in_use",
    "Database connections checked out of the pools (all live processes).",
    multiprocess_mode="livesum",
)
DB_CONNECTIONS_MAX = Gauge(
    "partnership_db_pool_connections_max",
    "Connections the pools may open at most: pool size plus overflow (all live processes).",
    multiprocess_mode="livesum",
)
BED_SEARCH_CACHE = Counter(
    "partnership_bed_search_cache",
    "Bed searches served from the process's cached snapshot (hit) or after building it (miss).",
    ["result"],
)
SIGN_IN_FAILURES = Counter(
    "partnership_sign_in_failures",
    "Refused sign-ins and refreshes: bad_credentials (wrong or unknown name or password, or an "
    "inactive user), locked (the address-name pair), throttled (too many attempts from the "
    "address), refresh_refused.",
    ["reason"],
)
SIGN_IN_REASONS = ("bad_credentials", "locked", "throttled", "refresh_refused")

# --- the delivery worker --------------------------------------------------------------------

DELIVERY_ATTEMPTS = Counter(
    "partnership_delivery_attempts",
    "Webhook sends by outcome (delivered, failed, refused) and kind (stream, replay).",
    ["outcome", "kind"],
)
DELIVERY_LAG = Histogram(
    "partnership_delivery_lag_seconds",
    "From an event's commit to its delivery to an endpoint (stream deliveries).",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0),
)
EVENTS_BEHIND_MAX = Gauge(
    "partnership_delivery_events_behind_max",
    "Events the furthest-behind enabled endpoint has not had yet (counted up to a cap).",
    multiprocess_mode="max",
)
EVENTS_BEHIND_SUM = Gauge(
    "partnership_delivery_events_behind_sum",
    "Events not yet delivered, added up over the enabled endpoints.",
    multiprocess_mode="max",
)
ENDPOINTS_BEHIND = Gauge(
    "partnership_delivery_endpoints_behind",
    "Enabled endpoints more than `over` events behind.",
    ["over"],
    multiprocess_mode="max",
)
BEHIND_THRESHOLDS = (0, 10, 100, 1000)
ENDPOINTS = Gauge(
    "partnership_delivery_endpoints",
    "Webhook endpoints by state: current, behind, failing (retrying), disabled.",
    ["state"],
    multiprocess_mode="max",
)
ENDPOINT_STATES = ("current", "behind", "failing", "disabled")
VACANCY_ALERTS_MATCHED = Counter(
    "partnership_vacancy_alerts_matched",
    "Vacancy alerts fired (a space fitting a waiting household opened).",
)

# Label values known in advance are made at import, so every family shows from the start.
for _reason in SIGN_IN_REASONS:
    SIGN_IN_FAILURES.labels(_reason)
for _result in ("hit", "miss"):
    BED_SEARCH_CACHE.labels(_result)
for _over in BEHIND_THRESHOLDS:
    ENDPOINTS_BEHIND.labels(str(_over))
for _state in ENDPOINT_STATES:
    ENDPOINTS.labels(_state)


# --- recording ------------------------------------------------------------------------------


class RequestMetrics:
    """The children of the request families, kept per (method, route, status): ``labels()``
    takes a lock and builds a key on every call, this a dictionary lookup."""

    def __init__(self) -> None:
        self._children: dict[tuple[str, str, int], tuple] = {}

    def observe(self, method: str, route: str | None, status: int, seconds: float | None) -> None:
        key = (method, route or UNMATCHED, status)
        children = self._children.get(key)
        if children is None:
            method_label = method if method in METHODS else "other"
            labels = (method_label, key[1], str(status))
            children = (REQUESTS.labels(*labels), REQUEST_SECONDS.labels(*labels))
            if method in METHODS:  # anything else may be anything: not kept
                self._children[key] = children
        children[0].inc()
        if seconds is not None:
            children[1].observe(seconds)
        if status == 429:
            THROTTLED.labels(key[1]).inc()


requests = RequestMetrics()


def bed_search_cache(hit: bool) -> None:
    BED_SEARCH_CACHE.labels("hit" if hit else "miss").inc()


def sign_in_failed(reason: str) -> None:
    SIGN_IN_FAILURES.labels(reason if reason in SIGN_IN_REASONS else "bad_credentials").inc()


def watch_pool(engine) -> None:
    """Count the engine's connections in use (checked out) and its most."""
    import sqlalchemy as sa

    pool = engine.pool
    most = getattr(pool, "size", lambda: 0)() + max(getattr(pool, "_max_overflow", 0), 0)
    DB_CONNECTIONS_MAX.inc(most)
    sa.event.listen(engine, "checkout", lambda *_: DB_CONNECTIONS_IN_USE.inc())
    sa.event.listen(engine, "checkin", lambda *_: DB_CONNECTIONS_IN_USE.dec())


def delivery_batch(sent: Iterable, committed_at: dict) -> None:
    """A batch's sends: attempts by outcome, and the lag of each delivered stream event."""
    for s in sent:
        kind = "stream" if s.replay_id is None else "replay"
        DELIVERY_ATTEMPTS.labels(s.outcome, kind).inc()
        if s.delivered and kind == "stream" and s.item.position in committed_at:
            lag = (s.at - committed_at[s.item.position]).total_seconds()
            DELIVERY_LAG.observe(max(lag, 0.0))


def backlog(behind: list[int], failing: int, disabled: int) -> None:
    """The enabled endpoints' backlogs (events each has not had), and the states' counts."""
    EVENTS_BEHIND_MAX.set(max(behind, default=0))
    EVENTS_BEHIND_SUM.set(sum(behind))
    for over in BEHIND_THRESHOLDS:
        ENDPOINTS_BEHIND.labels(str(over)).set(sum(1 for n in behind if n > over))
    ENDPOINTS.labels("current").set(sum(1 for n in behind if n == 0))
    ENDPOINTS.labels("behind").set(sum(1 for n in behind if n > 0))
    ENDPOINTS.labels("failing").set(failing)
    ENDPOINTS.labels("disabled").set(disabled)


# --- reading --------------------------------------------------------------------------------


def exposition() -> tuple[bytes, str]:
    """The text format of every family: this process's, or every gunicorn worker's added up."""
    if os.environ.get(MULTIPROCESS_DIR):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def may_read(authorization: str | None, token: str | None) -> bool | None:
    """None when metrics are off (no token set); else whether the header carries the token."""
    if not token:
        return None
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


NOT_FOUND = b'{"code": 404, "status": "Not Found", "message": "Not found."}'
UNAUTHORISED = (
    b'{"code": 401, "status": "Unauthorized", '
    b'"message": "A valid metrics token is required (Authorization: Bearer ...)."}'
)


def worker_app(token: str | None) -> Callable:
    """The delivery worker's ``/metrics`` as a WSGI app, with the app servers' rule."""

    def app(environ, start_response):
        allowed = may_read(environ.get("HTTP_AUTHORIZATION"), token)
        if environ.get("PATH_INFO") != "/metrics" or allowed is None:
            status, body, extra = "404 Not Found", NOT_FOUND, []
        elif not allowed:
            status, body = "401 Unauthorized", UNAUTHORISED
            extra = [("WWW-Authenticate", 'Bearer realm="metrics"')]
        else:
            text, content_type = exposition()
            start_response(
                "200 OK", [("Content-Type", content_type), ("Cache-Control", "no-store")]
            )
            return [text]
        start_response(status, [("Content-Type", "application/json"), *extra])
        return [body]

    return app


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *_args) -> None:  # scrapes are not worth a line each
        pass


def serve_worker_metrics(address: str, token: str | None) -> WSGIServer:
    """Serve the worker's metrics on ``host:port`` from a daemon thread; the server."""
    host, _, port = address.rpartition(":")
    server = make_server(
        host or "127.0.0.1", int(port), worker_app(token), WSGIServer, _QuietHandler
    )
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    log.info("worker metrics served", extra={"address": address})
    return server
