"""The web pages under `make bench`: a page session as a browser gets one, and server time.

A page scenario signs in through ``/sign-in`` as a browser would (the form's CSRF token, the
session cookie) and wrk sends that cookie; its server time is the ``duration_ms`` the API's
own access log wrote for each of the scenario's requests (the time from the request reaching
the app to the response leaving it: no queueing in gunicorn, no network).
"""

from __future__ import annotations

import http.client
import json
import re
import statistics
from pathlib import Path
from urllib.parse import urlencode

HOST = "127.0.0.1"
_CSRF_INPUT = re.compile(r'<input[^>]*name="csrf_token"[^>]*>')
_VALUE = re.compile(r'value="([^"]+)"')


class PageError(RuntimeError):
    """Signing in to the pages failed; the message says how."""


def _request(
    port: int, method: str, path: str, headers: dict, body: bytes | None = None
) -> tuple[int, list[str], bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.msg.get_all("Set-Cookie") or [], response.read()
    finally:
        conn.close()


def _cookie_pair(set_cookies: list[str]) -> str | None:
    """``name=value`` of the page session cookie a response set (the last one)."""
    for header in reversed(set_cookies):
        pair = header.split(";", 1)[0]
        if pair.split("=", 1)[0] in ("partnership", "__Host-partnership"):
            return pair
    return None


def page_session(port: int, username: str, password: str) -> str:
    """Sign in through the sign-in page; answers the ``Cookie`` header of the page session."""
    html = {"Accept": "text/html"}
    status, cookies, body = _request(port, "GET", "/sign-in", html)
    if status != 200:
        raise PageError(f"GET /sign-in answered HTTP {status}")
    found = _CSRF_INPUT.search(body.decode())
    token = _VALUE.search(found.group(0)).group(1) if found else None
    cookie = _cookie_pair(cookies)
    if not token or not cookie:
        raise PageError("the sign-in page sent no CSRF token or no session cookie")
    form = urlencode({"username": username, "password": password, "csrf_token": token})
    status, cookies, body = _request(
        port,
        "POST",
        "/sign-in",
        {**html, "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
        form.encode(),
    )
    signed_in = _cookie_pair(cookies)
    if status != 303 or not signed_in:
        raise PageError(f"signing in to the pages as {username}: HTTP {status} {body[:200]!r}")
    return signed_in


def get_page(port: int, path: str, cookie: str) -> tuple[int, bytes]:
    status, _, body = _request(port, "GET", path, {"Accept": "text/html", "Cookie": cookie})
    return status, body


def log_size(log: Path) -> int:
    return log.stat().st_size if log.exists() else 0


def server_times(log: Path, offset: int, paths: list[str]) -> dict:
    """Median and p90 ``duration_ms`` of the 2xx access-log lines for ``paths`` (their path
    part, without the query) written after ``offset``."""
    wanted = {path.split("?", 1)[0] for path in paths}
    durations = []
    with open(log, "rb") as lines:
        lines.seek(offset)
        for line in lines:
            if b'"logger":"partnership_api.access"' not in line:
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("path") in wanted and 200 <= int(entry.get("status", 0)) < 300:
                durations.append(float(entry["duration_ms"]))
    if not durations:
        return {"requests": 0}
    durations.sort()
    return {
        "requests": len(durations),
        "median_ms": round(statistics.median(durations), 2),
        "p90_ms": round(durations[max(int(len(durations) * 0.9) - 1, 0)], 2),
    }
