"""Helpers for tests of the web pages through Flask's test client."""

from __future__ import annotations

import re

from tests.conftest import DEMO_PASSWORD

HTML = {"Accept": "text/html"}
_CSRF = re.compile(r'<input[^>]*name="csrf_token"[^>]*>')
_VALUE = re.compile(r'value="([^"]+)"')


def csrf_token(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return _VALUE.search(found.group(0)).group(1)


def sign_in(client, username: str, password: str = DEMO_PASSWORD, next_page: str | None = None):
    """Sign in through the sign-in page as a browser would; answers the POST's response."""
    page = client.get("/sign-in", headers=HTML)
    assert page.status_code == 200
    target = f"/sign-in?next={next_page}" if next_page else "/sign-in"
    return client.post(
        target,
        data={"username": username, "password": password, "csrf_token": csrf_token(page.text)},
        headers=HTML,
    )


def signed_in(app, username: str):
    """A new test client (its own cookie jar) signed in to the pages as this user."""
    client = app.test_client()
    response = sign_in(client, username)
    assert response.status_code == 303, response.text[:500]
    return client


def post_form(client, path: str, data: dict, form_page: str | None = None):
    """POST a page's form with the CSRF token of the page it is on (``form_page``, or ``path``)."""
    page = client.get(form_page or path, headers=HTML)
    assert page.status_code == 200, page.status_code
    return client.post(path, data={**data, "csrf_token": csrf_token(page.text)}, headers=HTML)
