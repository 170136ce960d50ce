"""A strict Content Security Policy for the pages: scripts only with this response's nonce
(and what they import), styles, fonts and images only from this server, no inline script or
style, forms only to this server, never framed. The API's own headers are set in
``observability.py`` and stay as they are."""

from __future__ import annotations

import secrets

from flask import Flask, Response, g, request
from flask_wtf.csrf import CSRFProtect

# CSRF on every page POST (checked by the pages' own hook, ``pages.py``), never on the API.
csrf = CSRFProtect()

PAGE_CSP = (
    "default-src 'none'; script-src {scripts}; style-src 'self'; img-src 'self'; "
    "font-src 'self'; connect-src 'self'; manifest-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def csp_nonce() -> str:
    """This response's nonce (made when a template first asks for it)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def page_csp() -> str:
    nonce = g.get("csp_nonce")
    return PAGE_CSP.format(scripts=f"'nonce-{nonce}' 'strict-dynamic'" if nonce else "'none'")


def init_security(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.after_request
    def page_headers(response: Response) -> Response:
        # Runs before observability's hook, which only sets defaults (and owns /docs).
        if response.mimetype == "text/html" and not request.path.startswith("/docs"):
            response.headers["Content-Security-Policy"] = page_csp()
            response.headers["Cache-Control"] = "no-store"
        return response
