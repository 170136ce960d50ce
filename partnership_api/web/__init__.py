"""The web pages: GOV.UK Design System pages for the people who do the work.

Served by the same app as the API, on the same services and the same policy:

- ``session.py``: sign-in with a server-side session (the API's own session record) carried by
  an HttpOnly, SameSite=Strict cookie; an idle timeout; no token ever reaches the browser.
- ``adapter.py``: the one place the pages call the services (and the policy's ``can``).
- ``presenters.py``: per page, service results turned into what its template shows.
- ``forms.py``: Flask-WTF forms with govuk-frontend-wtf widgets; CSRF on every POST.
- ``pages.py``: the blueprint, thin views: load through the adapter, present, render.
- ``errors.py``: error pages (the API's errors stay JSON); ``security.py``: CSP with nonces.
- ``assets.py``: GOV.UK Frontend's assets from ``node_modules`` and ours, under ``/assets``.
"""

from __future__ import annotations

import hmac

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader

csrf = CSRFProtect()


def page_secret(jwt_secret: str) -> str:
    """The key that signs the page cookie and CSRF tokens, derived from the one secret the
    deployment already keeps (``JWT_SECRET_KEY``), for this purpose only."""
    return hmac.new(
        jwt_secret.encode(), b"partnership pages: cookie and CSRF", "sha256"
    ).hexdigest()


def init_web(app: Flask) -> None:
    from partnership_api.web import errors, pages, security, session

    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = page_secret(str(app.config["JWT_SECRET_KEY"]))
    app.config.update(
        # CSRF is checked for every page POST by the pages' own hook (pages.py), never for
        # the API, whose writes carry a bearer token and no cookie.
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the page session
        WTF_CSRF_SSL_STRICT=False,  # SameSite=Strict and the Origin check below do that job
    )
    app.jinja_loader = ChoiceLoader(
        [
            PackageLoader("partnership_api.web", "templates"),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    WTFormsHelpers(app)
    csrf.init_app(app)
    session.init_session(app)
    security.init_security(app)
    app.register_blueprint(pages.blp)
    errors.init_errors(app)
