"""Setting up the web pages on the app (see the package's docstring)."""

from __future__ import annotations

import hmac

from flask import Flask
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader


def page_secret(jwt_secret: str) -> str:
    """The key that signs the page cookie and CSRF tokens, derived from the one secret the
    deployment already keeps (``JWT_SECRET_KEY``), for this purpose only."""
    return hmac.new(
        jwt_secret.encode(), b"partnership pages: cookie and CSRF", "sha256"
    ).hexdigest()


def init_web(app: Flask) -> None:
    import partnership_api.web.errors as errors
    import partnership_api.web.pages as pages
    import partnership_api.web.security as security
    import partnership_api.web.session as session
    import partnership_api.web.views_beds  # noqa: F401 - each registers its pages on the blueprint
    import partnership_api.web.views_funding  # noqa: F401
    import partnership_api.web.views_referrals  # noqa: F401
    import partnership_api.web.views_users  # noqa: F401
    from partnership_api import smorest
    from partnership_api.web.security import csrf

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
    # The API's error handler asks the pages first (smorest.Api.handle_http_exception).
    smorest.page_errors = errors.page_error_or_none
