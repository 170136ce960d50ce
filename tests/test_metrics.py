"""Metrics, told by the operator who runs the service and by someone who should not read them:
``/metrics`` answers only the bearer of ``METRICS_TOKEN``, carries every family the operator
watches, and never a person, an id or anything a caller typed in any label."""

from __future__ import annotations

import re
import secrets
import urllib.error
import urllib.request
import uuid

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import DEMO_PASSWORD
from tests.factories import glow_family, refer, register, run_worker, set_alert, swa_reports
from tests.webhook_receiver import Receiver

TOKEN = "metrics-token-for-the-tests-0123456789abcdef"
UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.I)
# Labels whose values are numbers by nature: HTTP statuses, bucket bounds, backlog thresholds.
NUMERIC_LABELS = {"status", "le", "over"}

FAMILIES = {
    "partnership_http_requests": {"method", "route", "status"},
    "partnership_http_request_duration_seconds": {"method", "route", "status"},
    "partnership_throttled_requests": {"route"},
    "partnership_db_pool_connections_in_use": set(),
    "partnership_db_pool_connections_max": set(),
    "partnership_bed_search_cache": {"result"},
    "partnership_sign_in_failures": {"reason"},
    "partnership_delivery_attempts": {"outcome", "kind"},
    "partnership_delivery_lag_seconds": set(),
    "partnership_delivery_events_behind_max": set(),
    "partnership_delivery_events_behind_sum": set(),
    "partnership_delivery_endpoints_behind": {"over"},
    "partnership_delivery_endpoints": {"state"},
    "partnership_vacancy_alerts_matched": set(),
}


@pytest.fixture
def metrics_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)


def scrape(client) -> dict[tuple, float]:
    """Every sample as {(name, sorted labels): value}."""
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.headers["Content-Type"].startswith("text/plain")
    return samples(response.get_data(as_text=True))


def samples(text: str) -> dict[tuple, float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


# --- who may read them ----------------------------------------------------------------------


def test_without_a_token_configured_metrics_are_not_there(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", None)
    for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": f"Bearer {TOKEN}"}):
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 404 and response.is_json
        assert "partnership_" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "authorization",
    [None, f"Bearer {TOKEN[:-1]}", f"Bearer {TOKEN}x", f"Basic {TOKEN}", TOKEN, "Bearer"],
)
def test_a_wrong_or_missing_token_is_refused(client, metrics_on, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401 and response.is_json
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "partnership_" not in response.get_data(as_text=True)


def test_a_users_access_token_does_not_open_metrics(client, login, metrics_on):
    assert client.get("/metrics", headers=login("partnership.admin")).status_code == 401


def test_production_wants_a_long_metrics_token():
    from partnership_api.settings import ConfigError, check_settings

    production = {
        "APP_ENV": "production",
        "JWT_SECRET_KEY": secrets.token_urlsafe(48),
        "WEBHOOK_SECRET_KEY": secrets.token_urlsafe(48),
        "METRICS_TOKEN": "short",
    }
    with pytest.raises(ConfigError, match="METRICS_TOKEN"):
        check_settings(production)
    check_settings({**production, "METRICS_TOKEN": secrets.token_urlsafe(32)})
    check_settings({**production, "METRICS_TOKEN": None})  # off: /metrics is a 404


# --- what they say ----------------------------------------------------------------------------


def test_the_operator_sees_every_family_with_its_labels_and_no_person_or_id(
    client, login, ids, app, metrics_on
):
    before = scrape(client)
    officer = login("police.officer")
    # Sign-in failures: a wrong password, an unknown name, a junk refresh token; then the
    # address-name pair locks (its answer is a 429: throttled).
    for _ in range(5):
        bad = client.post(
            "/api/v1/auth/login", json={"username": "pathway.staff", "password": "wrong-password"}
        )
        assert bad.status_code == 401
    locked = client.post(
        "/api/v1/auth/login", json={"username": "pathway.staff", "password": DEMO_PASSWORD}
    )
    assert locked.status_code == 429
    refused = client.post("/api/v1/auth/refresh", headers={"Authorization": "Bearer junk"})
    assert refused.status_code == 401
    # Referrals and holds, a read, a hidden one, and a path no route matches.
    glow = ids.service["Glow refuge"]
    referral = refer(client, login, glow)
    held = client.post(
        f"/api/v1/referrals/{referral}/hold",
        json={"refuge_id": glow, "space_type": "single"},
        headers=officer,
    )
    assert held.status_code in (201, 409), held.get_json()
    assert client.get(f"/api/v1/referrals/{referral}", headers=officer).status_code == 200
    missing = uuid.uuid4()
    assert client.get(f"/api/v1/referrals/{missing}", headers=officer).status_code == 404
    assert client.get(f"/api/v1/nothing/{missing}/here").status_code == 404
    # Bed search twice: built once, then served from the cache.
    for _ in range(2):
        assert client.get("/api/v1/beds/search?children=1", headers=officer).status_code == 200
    # The worker: a webhook delivery (with its lag) and a vacancy alert that fires.
    with Receiver() as receiver:
        hook = register(client, login, receiver.url("/partner"), ("availability.reported",))
        waiting = refer(client, login, glow)
        set_alert(client, login, waiting)
        glow_family(client, login, ids, 0)
        run_worker(app)
        glow_family(client, login, ids, 1)
        run_worker(app)
        assert len(receiver.delivered()) == 2

    text = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).get_data(
        as_text=True
    )
    after = samples(text)
    families = {f.name: f for f in text_string_to_metric_families(text)}

    for name, labels in FAMILIES.items():
        assert name in families, name
        for sample in families[name].samples:
            assert set(sample.labels) - {"le"} == labels, (name, sample.labels)

    def grew(name: str, by: float = 1, **labels: str) -> None:
        change = value(after, name, **labels) - value(before, name, **labels)
        assert change >= by, (name, labels, change)

    referral_route = "/api/v1/referrals/<uuid:referral_id>"
    grew("partnership_http_requests_total", method="GET", route=referral_route, status="200")
    grew("partnership_http_requests_total", method="GET", route=referral_route, status="404")
    grew("partnership_http_requests_total", method="GET", route="(unmatched)", status="404")
    grew(
        "partnership_http_request_duration_seconds_count",
        method="POST",
        route="/api/v1/referrals",
        status="201",
    )
    grew("partnership_throttled_requests_total", route="/api/v1/auth/login")
    grew("partnership_sign_in_failures_total", 5, reason="bad_credentials")
    grew("partnership_sign_in_failures_total", reason="locked")
    grew("partnership_sign_in_failures_total", reason="refresh_refused")
    grew("partnership_bed_search_cache_total", result="miss")
    grew("partnership_bed_search_cache_total", result="hit")
    grew("partnership_delivery_attempts_total", 2, outcome="delivered", kind="stream")
    grew("partnership_delivery_lag_seconds_count", 2)
    grew("partnership_vacancy_alerts_matched_total")
    assert value(after, "partnership_delivery_endpoints", state="current") >= 1
    assert value(after, "partnership_db_pool_connections_max") >= 1

    # Nothing that names or counts anyone: no id, name, reference, address or URL in a label.
    people = set(ids.user)  # every demo username
    for (name, labels), _ in after.items():
        for label, shown in labels:
            assert not UUID.search(shown), (name, label, shown)
            assert not any(person in shown for person in people), (name, label, shown)
            assert "REF-" not in shown and "127.0.0.1" not in shown and "@" not in shown
            ours = name.startswith("partnership_")  # not Python's own (gc generation, version)
            if ours and re.search(r"\d", shown) and label not in NUMERIC_LABELS:
                assert label == "route" and not re.search(r"/\d+(/|$)", shown), (name, shown)
            if label in ("status", "over"):
                assert shown.isdigit() and len(shown) <= 4, (name, label, shown)
    for secret_thing in (referral, waiting, str(missing), hook["id"], receiver.url("/partner")):
        assert secret_thing not in text


def test_a_method_nobody_uses_is_not_a_new_label_value(client, metrics_on):
    client.open("/api/v1/referrals", method="BREW")
    found = scrape(client)
    methods = {dict(labels).get("method") for (name, labels) in found if "method" in dict(labels)}
    assert "BREW" not in methods and "other" in methods


def test_the_operator_finds_which_endpoint_is_behind_with_the_cli(client, login, ids, app):

    with Receiver() as receiver:
        hook = register(client, login, receiver.url("/partner"))
        swa_reports(client, login, ids, 0)
        swa_reports(client, login, ids, 1)
        runner = app.test_cli_runner()
        shown = runner.invoke(args=["events", "backlog"])
        assert shown.exit_code == 0, shown.output
        assert hook["id"] in shown.output and "2 behind" in shown.output
        assert "Staffordshire Women's Aid" in shown.output
        run_worker(app)
        assert "0 behind" in runner.invoke(args=["events", "backlog"]).output


# --- the delivery worker's own /metrics ---------------------------------------------------------


def _get(url: str, token: str | None) -> tuple[int, str, dict]:
    request = urllib.request.Request(url)  # noqa: S310 - loopback
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310
            return answer.status, answer.read().decode(), dict(answer.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


@pytest.mark.parametrize("configured", [TOKEN, None])
def test_the_worker_serves_its_metrics_to_the_token_bearer_only(configured):
    from partnership_api.metrics import serve_worker_metrics
    from tests.faultlib import free_port

    port = free_port()
    server = serve_worker_metrics(f"127.0.0.1:{port}", configured)
    try:
        url = f"http://127.0.0.1:{port}/metrics"
        status, body, _ = _get(url, TOKEN)
        if configured is None:
            assert status == 404 and "partnership_" not in body
            return
        assert status == 200 and "partnership_delivery_attempts_total" in body
        status, body, headers = _get(url, "wrong")
        assert status == 401 and headers["WWW-Authenticate"].startswith("Bearer")
        assert "partnership_" not in body
        assert _get(url, None)[0] == 401
        assert _get(f"http://127.0.0.1:{port}/other", TOKEN)[0] == 404
    finally:
        server.shutdown()
        server.server_close()
