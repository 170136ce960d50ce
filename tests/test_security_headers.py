"""Security headers on every answer, and CORS off unless origins are configured.

A browser that fetches personal data from the API must not cache it, sniff it, frame it or
leak the URL in a Referer; the docs page may only load its own scripts and the Swagger UI
bundle; and no other web site can read the API from a user's browser unless the deployment
lists that site in ``CORS_ORIGINS``.
"""

from __future__ import annotations

import re

import pytest

from tests import faultlib
from tests.conftest import TEST_SETTINGS

EVIL = "https://evil.example"
PARTNER = "https://partners.example.org"
INTRANET = "https://intranet.example.org"


def _answers(client, login):
    """One answer of each kind an attacker or a user meets, with where it came from."""
    officer = login("police.officer")
    return {
        "health": client.get("/healthz"),
        "me": client.get("/api/v1/me", headers=officer),
        "services": client.get("/api/v1/services", headers=officer),
        "no token": client.get("/api/v1/me"),
        "bad token": client.get("/api/v1/me", headers={"Authorization": "Bearer x"}),
        "forbidden": client.post("/api/v1/organisations", json={}, headers=officer),
        "unknown api path": client.get("/api/v1/no-such-thing", headers=officer),
        "unknown path": client.get("/no-such-thing"),
        "wrong method": client.put("/api/v1/me", headers=officer),
        "failed login": client.post(
            "/api/v1/auth/login", json={"username": "police.officer", "password": "nope"}
        ),
        "invalid body": client.post("/api/v1/auth/login", json={"user": "x"}),
        "not json": client.post("/api/v1/auth/login", data="a=b", content_type="text/plain"),
        "openapi": client.get("/openapi.json"),
        "docs": client.get("/docs"),
    }


def test_every_answer_carries_the_basic_security_headers(client, login):
    for name, response in _answers(client, login).items():
        headers = response.headers
        assert headers.get("X-Content-Type-Options") == "nosniff", name
        assert headers.get("Referrer-Policy") == "no-referrer", name
        assert headers.get("X-Frame-Options") == "DENY", name
        assert "frame-ancestors 'none'" in headers.get("Content-Security-Policy", ""), name
        assert len(headers.get("X-Request-ID", "")) >= 16, name


def test_nothing_under_api_is_stored_by_a_browser_or_proxy(client, login):
    for name, response in _answers(client, login).items():
        if response.request.path.startswith("/api/"):
            assert response.headers.get("Cache-Control") == "no-store", name


def test_a_refuges_address_is_answered_with_no_store(client, login, ids):
    own = client.get(f"/api/v1/services/{ids.service['Glow refuge']}", headers=login("glow.staff"))
    assert own.status_code == 200 and own.get_json().get("address")
    assert own.headers["Cache-Control"] == "no-store"


def test_a_throttled_sign_in_still_carries_the_headers(client):
    for i in range(25):
        response = client.post(
            "/api/v1/auth/login", json={"username": f"probe.{i}", "password": "nope"}
        )
    assert response.status_code == 429
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "X-Request-ID" in response.headers


def test_json_answers_forbid_every_kind_of_content(client, login):
    csp = client.get("/api/v1/me", headers=login("swa.staff")).headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp


def _directives(csp: str) -> dict[str, list[str]]:
    found = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            found[words[0]] = words[1:]
    return found


def test_the_docs_page_has_a_restrictive_content_security_policy(client):
    docs = client.get("/docs")
    assert docs.status_code == 200
    policy = _directives(docs.headers["Content-Security-Policy"])
    assert policy["default-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["form-action"] == ["'none'"]
    assert policy["connect-src"] == ["'self'"]
    for directive, sources in policy.items():
        assert "*" not in sources, directive
        assert "'unsafe-eval'" not in sources, directive
        assert not any(s in ("http:", "https:") for s in sources), directive
    assert "data:" not in policy["script-src"]
    # Every source is the API itself (or inline): the policy names no other host.
    for directive, sources in policy.items():
        assert set(sources) <= {"'none'", "'self'", "'unsafe-inline'", "data:"}, directive
    assert "data:" not in policy["script-src"]


def _references(html_or_css: str) -> list[str]:
    """Every script, style sheet, image and font an HTML page or a style sheet loads."""
    found = re.findall(r"""<(?:script|img)[^>]*\ssrc=["']([^"']+)""", html_or_css)
    found += re.findall(r"""<link[^>]*\shref=["']([^"']+)""", html_or_css)
    found += re.findall(r"""@import\s+["']([^"']+)""", html_or_css)
    found += [
        url.strip("\"' ")
        for url in re.findall(r"url\(([^)]*)\)", html_or_css)
        if not url.strip("\"' ").startswith("data:")
    ]
    return found


def test_the_docs_page_loads_every_script_style_and_font_from_the_app_itself(client):
    docs = client.get("/docs")
    assert docs.status_code == 200
    page = docs.get_data(as_text=True)
    assets = _references(page)
    scripts = [a for a in assets if a.endswith(".js")]
    assert len(scripts) == 2 and any(a.endswith(".css") for a in assets)  # the Swagger UI bundle
    assert "jsdelivr" not in page and "unpkg" not in page and "validator.swagger.io" not in page
    checked = set()
    while assets:
        url = assets.pop()
        if url in checked:
            continue
        checked.add(url)
        # Served by the app: a path on this host, never another scheme or host.
        assert url.startswith("/") and not url.startswith("//"), url
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert answer.headers["X-Content-Type-Options"] == "nosniff", url
        if url.endswith(".css"):
            assets += _references(answer.get_data(as_text=True))
    # The spec the page loads is the app's own too.
    assert '"/openapi.json"' in page


def test_the_docs_assets_serve_only_the_swagger_ui_files(client):
    for path in (
        "/docs/assets/package.json",
        "/docs/assets/..%2f..%2fpyproject.toml",
        "/docs/assets/index.html",
        "/docs/assets/absolute-path.js",
    ):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert answer.is_json, path


def test_the_server_does_not_name_its_software_in_error_answers(client):
    text = client.get("/api/v1/me").get_data(as_text=True)
    for leak in ("Werkzeug", "Flask", "Traceback", "gunicorn"):
        assert leak not in text


# --- CORS ------------------------------------------------------------------------------------


def test_cors_is_off_by_default_even_for_a_friendly_origin(client, login):
    for origin in (EVIL, PARTNER):
        response = client.get("/api/v1/me", headers={**login("police.officer"), "Origin": origin})
        assert response.status_code == 200
        assert "Access-Control-Allow-Origin" not in response.headers
        preflight = client.options(
            "/api/v1/me",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        assert "Access-Control-Allow-Origin" not in preflight.headers
        assert "Access-Control-Allow-Headers" not in preflight.headers


@pytest.fixture(scope="module")
def cors_server(database):
    """The API in a process of its own, configured with two allowed origins."""
    env = faultlib.app_environment(
        str(database["SQLALCHEMY_DATABASE_URI"]),
        JWT_SECRET_KEY=TEST_SETTINGS["JWT_SECRET_KEY"],
        DATABASE_SCHEMA=database.get("DATABASE_SCHEMA"),
        CORS_ORIGINS=f"{PARTNER}, {INTRANET}",
        RATELIMIT_ENABLED="false",
    )
    server = faultlib.AppServer(env, workers=1, threads=2)
    try:
        server.start()
        yield server
    finally:
        server.destroy()


def _token(client, login) -> str:
    return login("police.officer")["Authorization"].removeprefix("Bearer ")


def test_a_configured_origin_may_read_the_api_from_a_browser(client, login, cors_server):
    for origin in (PARTNER, INTRANET):
        status, answer = faultlib.request(
            "GET",
            cors_server.url("/api/v1/me"),
            token=_token(client, login),
            headers={"Origin": origin},
        )
        assert status == 200
        assert answer.headers["access-control-allow-origin"] == origin
        assert "Origin" in answer.headers.get("vary", "")
        assert "access-control-allow-credentials" not in answer.headers


def test_a_configured_origins_preflight_is_answered(cors_server):
    status, answer = faultlib.request(
        "OPTIONS",
        cors_server.url("/api/v1/me"),
        headers={
            "Origin": PARTNER,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert status in (200, 204)
    assert answer.headers["access-control-allow-origin"] == PARTNER
    assert "authorization" in answer.headers["access-control-allow-headers"].lower()


@pytest.mark.parametrize(
    "origin",
    [
        EVIL,
        "null",
        "https://partners.example.org.evil.example",
        "https://evil-partners.example.org",
        "http://partners.example.org",
        "https://PARTNERS.example.org:8443",
        "*",
    ],
)
def test_any_other_origin_is_not_allowed_even_when_cors_is_on(client, login, cors_server, origin):
    status, answer = faultlib.request(
        "GET",
        cors_server.url("/api/v1/me"),
        token=_token(client, login),
        headers={"Origin": origin},
    )
    assert status == 200  # the server answers; the browser will not let the page read it
    assert "access-control-allow-origin" not in answer.headers
    status, preflight = faultlib.request(
        "OPTIONS",
        cors_server.url("/api/v1/me"),
        headers={"Origin": origin, "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-methods" not in preflight.headers


def test_a_configured_origin_is_matched_exactly_as_written(database):
    """An origin written with a wildcard allows only that very text: it is not a pattern."""
    from partnership_api import create_app

    client = create_app(
        {**TEST_SETTINGS, **database, "CORS_ORIGINS": f"https://*.example.org, {PARTNER}"}
    ).test_client()

    def allowed(origin: str) -> str | None:
        return client.get("/healthz", headers={"Origin": origin}).headers.get(
            "Access-Control-Allow-Origin"
        )

    assert allowed(PARTNER) == PARTNER
    assert allowed("https://*.example.org") == "https://*.example.org"
    for other in ("https://evil.example.org", "https://Xexample.org", "https://.example.org.x"):
        assert allowed(other) is None, other
    assert allowed(PARTNER + ".evil.example") is None
    assert "Access-Control-Allow-Origin" not in client.get("/healthz").headers


# --- issue 25, point 10: a careless admin's production settings -----------------------------------

PRODUCTION = {
    "APP_ENV": "production",
    "DEMO_PASSWORD": None,
    "WEBHOOKS_ALLOW_PRIVATE": False,
    "WEBHOOK_SECRET_KEY": "Vq3r-8ZkP1mW0sYc_TnR5eLh2uJg7aXd4bFi9oKy6Nw",
}


def test_production_tells_browsers_to_use_https_only(database):
    from partnership_api import create_app

    app = create_app({**TEST_SETTINGS, **database, **PRODUCTION})
    client = app.test_client()
    for path in ("/healthz", "/api/v1/me", "/sign-in", "/no-such-page"):
        hsts = client.get(path, headers={"Accept": "text/html"}).headers.get(
            "Strict-Transport-Security"
        )
        assert hsts == "max-age=31536000; includeSubDomains", path


def test_development_sends_no_hsts_to_a_local_http_server(client):
    assert "Strict-Transport-Security" not in client.get("/healthz").headers
