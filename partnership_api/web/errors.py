"""Error pages. A page request that fails gets a page (with the same status); the API's
errors stay JSON. An unknown path is a page only when the browser asks for HTML."""

from __future__ import annotations

from flask import Flask, Response, has_request_context, request
from werkzeug.exceptions import HTTPException

from partnership_api.smorest import is_page_endpoint
from partnership_api.web.render import render_page

API_PATHS = ("/api/", "/openapi.json", "/docs", "/healthz", "/readyz")

# (title, what to tell the user); titles as GOV.UK's own error pages word them.
PAGES = {
    400: ("Sorry, there is a problem with your request", "Go back, reload the page and try again."),
    403: ("You cannot do this", "Your role in the partnership does not allow it."),
    404: (
        "Page not found",
        "If you typed the web address, check it is correct. You may not have access to it.",
    ),
    405: ("Sorry, there is a problem with your request", "This page cannot be used that way."),
    413: ("Sorry, there is a problem with your request", "What you sent is too large."),
    415: ("Sorry, there is a problem with your request", "This page cannot take what was sent."),
    429: ("Too many requests", "Wait a few minutes, then try again."),
    500: (
        "Sorry, there is a problem with the service",
        "Try again later. The problem has been logged.",
    ),
    503: ("Sorry, the service is unavailable", "Try again in a few minutes."),
}
PASSED_ON_HEADERS = ("allow", "retry-after")


def wants_page() -> bool:
    """Whether this failed request should be answered with a page rather than JSON."""
    if not has_request_context():
        return False
    if is_page_endpoint(request.endpoint):
        return True
    if request.url_rule is not None or request.path.startswith(API_PATHS):
        return False
    # An unknown path or a wrong method: a page for a browser, JSON for everyone else.
    return "text/html" in request.headers.get("Accept", "")


def error_page(error: HTTPException, message: str | None = None) -> Response:
    code = error.code or 500
    title, advice = PAGES.get(code, PAGES[500] if code >= 500 else PAGES[400])
    if code in (403, 429) and message:
        advice = message  # the policy's or the lock's own words; never data
    response = render_page("error.html", title, status=code, title=title, advice=advice)
    for name, value in error.get_headers():
        if name.lower() in PASSED_ON_HEADERS:
            response.headers[name] = value
    return response


def page_error_or_none(error: HTTPException) -> Response | None:
    """For the API's error handler: the error page when a page failed, else None (JSON)."""
    if not wants_page():
        return None
    data = getattr(error, "data", None) or {}
    return error_page(error, data.get("message") or error.description)


def init_errors(app: Flask) -> None:
    """Nothing to register: ``smorest.Api.handle_http_exception`` (every HTTP error, and the
    handlers of ``errors.py``) asks ``wants_page`` first."""
