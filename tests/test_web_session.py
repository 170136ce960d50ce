"""Signing in to the pages: the API's own session record behind an HttpOnly, SameSite=Strict
cookie, so sign-out, deactivation, the lock and the throttling behave as for the API; an idle
timeout; CSRF on every form; no token ever in a page."""

from __future__ import annotations

import re
import time
import uuid

import sqlalchemy as sa

from tests.conftest import DEMO_PASSWORD, TEST_SETTINGS
from tests.pagelib import HTML, csrf_token, post_form, sign_in, signed_in


def _session_cookie(response) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("partnership=")]
    assert cookies, "no page session cookie was set"
    return cookies[-1]


def test_an_officer_signs_in_and_gets_an_httponly_strict_cookie_with_no_token(client):
    page = client.get("/sign-in", headers=HTML)
    assert page.status_code == 200
    assert "<title>Sign in – Partnership</title>" in page.text
    for label in ("Username", "Password"):
        assert re.search(rf"<label[^>]*>\s*{label}\s*</label>", page.text), label
    assert re.search(r"<button[^>]*>\s*Sign in\s*</button>|value=\"Sign in\"", page.text)
    response = sign_in(client, "police.officer")
    assert response.status_code == 303 and response.headers["Location"] == "/"
    cookie = _session_cookie(response)
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # development only: see the production test below
    home = client.get("/", headers=HTML)
    assert home.status_code == 200
    assert "police.officer" in home.text
    # No token anywhere: not in the cookie, not in the page, not in its script.
    assert "eyJ" not in cookie and "eyJ" not in home.text
    assert "<script>" not in home.text and "localStorage" not in home.text


def test_in_production_the_cookie_is_secure_and_host_only(database):
    from partnership_api import create_app

    production = {
        "APP_ENV": "production",
        "DEMO_PASSWORD": None,
        "WEBHOOKS_ALLOW_PRIVATE": False,
        "WEBHOOK_SECRET_KEY": "a-webhook-sealing-key-of-at-least-32-characters",
    }
    app = create_app({**TEST_SETTINGS, **database, **production})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-partnership"
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Strict"
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True


def test_a_page_without_a_session_sends_the_caller_to_sign_in_and_back(client):
    response = client.get("/referrals?tab=sent", headers=HTML)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/sign-in?next=")
    after = sign_in(client, "police.officer", next_page="/referrals?tab%3Dsent")
    assert after.status_code == 303 and after.headers["Location"] == "/referrals?tab=sent"


def test_a_hostile_next_link_never_leads_off_the_site(client):
    for hostile in ("//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:x"):
        response = sign_in(client, "police.officer", next_page=hostile)
        assert response.status_code == 303
        assert response.headers["Location"] == "/", hostile
        client.delete_cookie("partnership")


def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(client):
    wrong = sign_in(client, "police.officer", "not-the-password")
    unknown = sign_in(client, "no.such.person", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    for response in (wrong, unknown):
        assert "There is a problem" in response.text
        assert "Invalid username or password." in response.text
        assert "<title>Error: Sign in – Partnership</title>" in response.text
        assert "not-the-password" not in response.text  # a password is never shown back
    assert 'value="police.officer"' in wrong.text  # what was typed is kept


def test_an_empty_form_says_what_to_enter(client):
    page = client.get("/sign-in", headers=HTML)
    response = client.post("/sign-in", data={"csrf_token": csrf_token(page.text)}, headers=HTML)
    assert response.status_code == 400
    assert "Enter your username" in response.text and "Enter your password" in response.text


def test_the_lock_is_shared_with_the_api(client, app):
    for _ in range(TEST_SETTINGS.get("LOGIN_FAILURES_BEFORE_LOCK", 5)):
        sign_in(client, "swa.staff", "wrong-password")
    locked = sign_in(client, "swa.staff")  # the right password, but the name is locked
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.text
    api = app.test_client().post(
        "/api/v1/auth/login", json={"username": "swa.staff", "password": DEMO_PASSWORD}
    )
    assert api.status_code == 429


def test_sign_in_throttling_per_address_counts_the_api_and_the_page_together(client, app):
    for i in range(10):
        client.post("/api/v1/auth/login", json={"username": f"probe.{i}", "password": "x"})
    for i in range(10):
        sign_in(client, f"page.probe.{i}", "x")
    throttled = sign_in(client, "police.officer")
    assert throttled.status_code == 429
    assert throttled.mimetype == "text/html"
    assert "Retry-After" in throttled.headers


def test_sign_out_is_a_post_with_its_csrf_token_and_ends_the_session_everywhere(app):
    officer = signed_in(app, "police.officer")
    kept_copy = officer.get_cookie("partnership").value
    assert officer.get("/sign-out", headers=HTML).status_code == 405
    forged = officer.post("/sign-out", data={}, headers=HTML)
    assert forged.status_code == 400  # no CSRF token: nothing happens
    assert officer.get("/", headers=HTML).status_code == 200
    out = post_form(officer, "/sign-out", {}, form_page="/")
    assert out.status_code == 303 and out.headers["Location"] == "/sign-in"
    assert officer.get("/", headers=HTML).status_code == 303
    # A copy of the cookie kept from before is worthless: the session record is revoked.
    thief = app.test_client()
    thief.set_cookie("partnership", kept_copy)
    assert thief.get("/", headers=HTML).status_code == 303


def test_a_csrf_token_from_another_session_is_refused(app):
    officer = signed_in(app, "police.officer")
    other = signed_in(app, "swa.staff")
    token = csrf_token(other.get("/", headers=HTML).text)
    response = officer.post("/sign-out", data={"csrf_token": token}, headers=HTML)
    assert response.status_code == 400
    assert officer.get("/", headers=HTML).status_code == 200


def test_a_deactivated_user_is_signed_out_of_the_pages_at_once(app, client, login, ids):
    worker = signed_in(app, "swa.staff")
    assert worker.get("/", headers=HTML).status_code == 200
    deactivated = client.patch(
        f"/api/v1/users/{ids.user['swa.staff']}", json={"active": False}, headers=login("swa.admin")
    )
    assert deactivated.status_code == 200
    response = worker.get("/", headers=HTML)
    assert response.status_code == 303 and response.headers["Location"].startswith("/sign-in")
    page = worker.get(response.headers["Location"], headers=HTML)
    assert "Your session has ended" in page.text


def test_an_idle_session_is_revoked_and_the_page_says_why(app):
    from partnership_api.models.partnership import AuthSession

    officer = signed_in(app, "police.officer")
    idle = app.config["PAGE_IDLE"].total_seconds()
    with officer.session_transaction() as cookie:
        session_id = cookie["sid"]
        cookie["seen"] = int(time.time() - idle - 5)
    response = officer.get("/", headers=HTML)
    assert response.status_code == 303
    assert (
        "signed out because you did nothing"
        in officer.get(response.headers["Location"], headers=HTML).text
    )
    from partnership_api.extensions import db

    with app.app_context():
        reason = db.session.scalar(
            sa.select(AuthSession.revoked_reason).where(AuthSession.id == uuid.UUID(session_id))
        )
        db.session.remove()
    assert reason == "idle"


def test_a_session_in_use_is_not_idle(app):
    officer = signed_in(app, "police.officer")
    idle = app.config["PAGE_IDLE"].total_seconds()
    with officer.session_transaction() as cookie:
        cookie["seen"] = int(time.time() - idle + 30)
    assert officer.get("/", headers=HTML).status_code == 200
    with officer.session_transaction() as cookie:
        assert cookie["seen"] >= int(time.time()) - 2  # the last use moved forward


def test_the_page_cookie_never_opens_the_api(app):
    officer = signed_in(app, "police.officer")
    assert officer.get("/api/v1/me").status_code == 401
    assert officer.post("/api/v1/auth/logout").status_code == 401


def test_an_api_token_never_opens_a_page(client, login):
    response = client.get("/", headers={**HTML, **login("police.officer")})
    assert response.status_code == 303


def test_a_forged_cookie_is_ignored(app, ids):
    forger = app.test_client()
    forger.set_cookie(
        "partnership", f'{{"uid": "{ids.user["partnership.admin"]}", "sid": "x", "seen": 9}}'
    )
    assert forger.get("/", headers=HTML).status_code == 303


def test_page_errors_are_pages_and_api_errors_stay_json(app, client):
    officer = signed_in(app, "police.officer")
    missing = officer.get("/no-such-page", headers=HTML)
    assert missing.status_code == 404 and missing.mimetype == "text/html"
    assert "<title>Page not found – Partnership</title>" in missing.text
    assert client.get("/no-such-page").is_json
    assert client.get("/api/v1/no-such-thing", headers=HTML).is_json


def test_pages_have_a_strict_csp_with_a_nonce_and_no_inline_script(app):
    officer = signed_in(app, "police.officer")
    home = officer.get("/", headers=HTML)
    csp = home.headers["Content-Security-Policy"]
    policy = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    nonce = [s for s in policy["script-src"] if s.startswith("'nonce-")]
    assert len(nonce) == 1 and "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert policy["default-src"] == ["'none'"] and policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    value = nonce[0][len("'nonce-") : -1]
    scripts = home.text.count("<script")
    # Every script carries this response's nonce: GOV.UK Frontend's, and the timeout warning.
    assert scripts == home.text.count(f'nonce="{value}"') == 2
    assert 'src="/assets/application.js"' in home.text
    assert 'src="/assets/timeout.js"' in home.text
    assert "style=" not in home.text
    assert home.headers["Cache-Control"] == "no-store"
    again = officer.get("/", headers=HTML).headers["Content-Security-Policy"]
    assert again != csp  # a new nonce on every response


def test_assets_come_from_the_app_itself(client):
    css = client.get("/assets/govuk-frontend.min.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    assert client.get("/assets/govuk-frontend.min.js").status_code == 200
    assert client.get("/assets/application.js").status_code == 200
    assert client.get("/assets/fonts/bold-b542beb274-v2.woff2").status_code == 200
    for hostile in ("/assets/../pyproject.toml", "/assets/%2e%2e/%2e%2e/wsgi.py", "/assets/x.py"):
        assert client.get(hostile).status_code == 404, hostile
