"""The Partnership API: referrals, refuge bed availability and funding-initiative status."""

from __future__ import annotations

import importlib
import json
import re
import types
import weakref
from collections.abc import Callable, Mapping
from inspect import iscoroutinefunction

import orjson
import sqlalchemy as sa
from flask import Flask
from werkzeug.routing import IntegerConverter, UnicodeConverter

from partnership_api.settings import check_settings, instance_jwt_secret, load_settings
from partnership_api.transactions import guard_engine

# Resource modules, in the order their tags appear in the docs.
MODULES = (
    "health",
    "auth",
    "organisations",
    "directory",
    "users",
    "referrals",
    "holds",
    "refuges",
    "beds",
    "funds",
    "projects",
    "funding",
    "audit_events",
    "stats",
    "safe_accommodation",
    "events",
    "webhooks",
    "vacancy_alerts",
)


class DatabaseIntConverter(IntegerConverter):
    """Integer ids in paths fit a database integer; anything larger is simply not found."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's signature
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


class BoundedStringConverter(UnicodeConverter):
    """Text in paths (a quarter, ``2026-Q3``) is at most 64 characters; anything longer is
    simply not found. The OpenAPI document gives the same bound."""

    def __init__(self, map, minlength=1, maxlength=64, length=None):  # noqa: A002
        super().__init__(map, minlength=minlength, maxlength=maxlength, length=length)


def load_json(text: str | bytes) -> object:
    """orjson's parser, falling back to the standard one for what only it accepts (NaN)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


class PartnershipFlask(Flask):
    """Flask, asking once per function whether it is a coroutine function.

    Flask calls ``ensure_sync`` for every hook and view of every request (about twenty on an
    API request), and each call inspects the function again (``inspect.iscoroutinefunction``,
    about 3 % of a bed search's CPU). Whether a function is a coroutine function does not
    change, so the answer is kept per function (a bound method by its function: a view is
    bound to a new instance on every request), weakly. Anything else, and every coroutine function,
    goes through Flask's own ``ensure_sync`` as before.
    """

    _sync_functions: weakref.WeakSet[types.FunctionType]

    def ensure_sync(self, func: Callable) -> Callable:
        plain = func.__func__ if type(func) is types.MethodType else func
        if type(plain) is not types.FunctionType:
            return super().ensure_sync(func)
        # Weakly held: a function made per request (a closure) is forgotten with it.
        known = self.__dict__.setdefault("_sync_functions", weakref.WeakSet())
        if plain in known:
            return func
        if iscoroutinefunction(func):
            return super().ensure_sync(func)
        known.add(plain)
        return func


API_TITLE = "Partnership API"
API_VERSION = "1.0.0"


def create_app(overrides: Mapping[str, object] | None = None) -> Flask:
    """Settings → extensions → Api → blueprints."""
    app = PartnershipFlask(__name__, static_folder=None)
    app.url_map.converters["int"] = DatabaseIntConverter
    app.url_map.converters["string"] = app.url_map.converters["default"] = BoundedStringConverter
    app.config.update(load_settings())
    if overrides:
        app.config.update(overrides)
    check_settings(app.config)
    _configure(app)
    _trust_proxies(app)

    from partnership_api import api_auth, errors, observability, replica
    from partnership_api.docs_assets import init_docs_assets
    from partnership_api.extensions import api, db, jwt, migrate
    from partnership_api.metrics_endpoint import init_metrics
    from partnership_api.models import load_all
    from partnership_api.ratelimits import init_limits
    from partnership_api.smorest import mark_public_endpoint

    load_all()

    observability.configure_logging(str(app.config["LOG_LEVEL"]))
    replica.configure(app)  # DATABASE_REPLICA_URL: an engine for the read-only lists
    db.init_app(app)
    _tune_database(app, db)
    migrate.init_app(app, db, directory=str(_migrations_dir()))
    jwt.init_app(app)
    init_limits(app)  # flask-limiter, one limit check per request
    observability.init_request_hooks(app)
    with app.app_context():
        init_metrics(app, db.engine)  # /metrics, and every request and pooled connection counted
    api_auth.init_auth(app)
    replica.init_routing(app)  # after sign-in: who is reading decides where
    _init_json_bodies(app)
    init_docs_assets(app)
    api.init_app(app, spec_kwargs=_spec_kwargs())
    api.spec.components.security_scheme(
        "bearerAuth",
        {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": (
                "An access token from POST /api/v1/auth/login (15 minutes; renewed with the "
                "refresh token). JWTs are handled as RFC8725 advises: one algorithm (HS256) "
                "and no other, 'none' refused, signature, expiry, not-before and token type "
                "checked on every request, and the session checked in the database, so "
                "logout and deactivation take effect at once."
            ),
        },
    )
    for endpoint in list(app.view_functions):
        if endpoint.startswith("api-docs."):
            mark_public_endpoint(endpoint)
    for name in MODULES:
        module = importlib.import_module(f"partnership_api.resources.{name}")
        api.register_blueprint(module.blp)
    errors.register_error_handlers(app)
    from partnership_api.oruk import views as oruk

    oruk.init_app(app)  # the public directory, /oruk: its own blueprint and document
    _init_cors(app)

    from partnership_api.web.setup import init_web

    init_web(app)

    from partnership_api import cli

    cli.register(app)
    return app


def _trust_proxies(app: Flask) -> None:
    """Behind ``TRUSTED_PROXIES`` reverse proxies, the client's address and scheme are the ones
    they forward (Werkzeug's ProxyFix, that many hops deep); with none, forwarded headers are
    ignored, so a caller cannot name its own address."""
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]


def _configure(app: Flask) -> None:
    from partnership_api.ratelimits import MEMORY_STORAGE_URI

    if not app.config.get("JWT_SECRET_KEY"):
        # Development only (production refused to start without one in ``check_settings``).
        app.config["JWT_SECRET_KEY"] = instance_jwt_secret()
    url = str(app.config["SQLALCHEMY_DATABASE_URI"])
    # No pre-ping: it costs a round trip per request. A connection found dead raises a
    # disconnect error (a JSON 503), and SQLAlchemy then discards the whole pool, so the next
    # request reconnects: recovery needs no restart.
    engine_options: dict[str, object] = {}
    if url.startswith("postgresql"):
        timeout = app.config["DB_STATEMENT_TIMEOUT_MS"]
        # UTC: times read straight through the driver (``direct``) come back in UTC too.
        options = f"-c statement_timeout={timeout} -c lock_timeout={timeout} -c timezone=UTC"
        if app.config.get("DATABASE_SCHEMA"):
            options += f" -c search_path={app.config['DATABASE_SCHEMA']}"
        engine_options.update(
            pool_size=5,
            max_overflow=5,
            pool_timeout=5,
            connect_args={
                "connect_timeout": app.config["DB_CONNECT_TIMEOUT_S"],
                "options": options,
            },
        )
    # JSON columns (a referral's subject, needs, household…) are read with orjson: a page of
    # the inbox decodes a hundred of them.
    engine_options["json_deserializer"] = load_json
    given = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if "connect_args" in engine_options and "connect_args" in given:
        # Merged, not replaced: the timeouts and UTC above must survive an operator's options.
        ours, theirs = engine_options["connect_args"], dict(given.pop("connect_args"))
        if "options" in theirs:
            theirs["options"] = f"{ours['options']} {theirs['options']}"
        engine_options["connect_args"] = {**ours, **theirs}
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**engine_options, **given}
    app.config.update(
        API_TITLE=API_TITLE,
        API_VERSION=API_VERSION,
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        JWT_ALGORITHM="HS256",
        JWT_DECODE_ALGORITHMS=["HS256"],
        JWT_TOKEN_LOCATION=["headers"],
        JWT_ERROR_MESSAGE_KEY="message",
        RATELIMIT_STORAGE_URI=app.config.get("REDIS_URL") or MEMORY_STORAGE_URI,
        RATELIMIT_HEADERS_ENABLED=True,
        RATELIMIT_SWALLOW_ERRORS=True,
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_KEY_PREFIX="partnership-api",
        PROPAGATE_EXCEPTIONS=False,
        # The largest referral is a few tens of kilobytes. Flask answers 413 when a body over
        # this is read (a JSON body: by _init_json_bodies' hook, after sign-in; a form: by the
        # page's view), so nothing larger is ever read into memory.
        MAX_CONTENT_LENGTH=1024 * 1024,
        JSON_SORT_KEYS=False,
        ETAG_DISABLED=False,
    )


def _spec_kwargs() -> dict:
    from partnership_api.openapi_doc import OperationDocs, field_bounds
    from partnership_api.smorest import MarshmallowPlugin

    return {
        "marshmallow_plugin": MarshmallowPlugin(field_bounds),
        "extra_plugins": [OperationDocs()],
        "info": {
            "description": (
                "Referrals, refuge bed availability and funding-initiative status shared by a "
                "county domestic-abuse partnership on a need-to-know basis. Every operation "
                "needs a bearer access token unless it says otherwise."
            )
        },
        "security": [{"bearerAuth": []}],
    }


def _migrations_dir():
    from partnership_api.migrations_state import MIGRATIONS_DIR

    return MIGRATIONS_DIR


def _tune_database(app: Flask, db) -> None:
    """SQLite: foreign keys on, WAL, a busy timeout, and write-locking transactions."""
    url = str(app.config["SQLALCHEMY_DATABASE_URI"])
    with app.app_context():
        engine = db.engine
    if not url.startswith("sqlite"):
        guard_engine(engine)
        return

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection):
        # BEGIN IMMEDIATE takes the write lock up front: a transaction that reads then writes
        # (a hold, a transition) cannot interleave with another, so SQLite is as safe as the
        # row locks used on PostgreSQL.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _init_json_bodies(app: Flask) -> None:
    """The one check of an API request's body, after sign-in: not JSON, 415; over
    ``MAX_CONTENT_LENGTH``, 413 (Flask's, as the body is read); nested too deeply to parse, 400."""
    from flask import request
    from flask_smorest import abort

    from partnership_api.smorest import is_page_endpoint

    @app.before_request
    def _json_only() -> None:
        if request.method not in ("POST", "PUT", "PATCH") or is_page_endpoint(request.endpoint):
            return  # the pages take HTML forms
        has_body = bool(request.content_length) or "Transfer-Encoding" in request.headers
        if not has_body:
            return
        if not request.is_json:
            abort(415, message="Send the request body as JSON (Content-Type: application/json).")
        try:
            request.get_json(silent=True)  # parsed once here, and kept for the view
        except RecursionError:
            abort(400, message="The JSON body is nested too deeply.")


def _init_cors(app: Flask) -> None:
    """CORS by flask-cors: the directory (/oruk) open to every origin; everything else only
    to the origins ``CORS_ORIGINS`` lists (none unless set), never with credentials."""
    from flask_cors import CORS

    from partnership_api.oruk.views import CORS_PATHS, CORS_RULE

    rules: dict[str, dict] = {CORS_PATHS: CORS_RULE}  # the more specific path is tried first
    origins = [o.strip() for o in str(app.config.get("CORS_ORIGINS") or "").split(",")]
    if any(origins):
        rules[".*"] = {
            # Each exactly as written: flask-cors would read "*" or "$" in one as a regex.
            "origins": [re.compile(re.escape(o) + r"\Z", re.IGNORECASE) for o in origins if o],
            "always_send": False,  # no Origin, no CORS headers (the list is never sent)
            "allow_headers": [
                "Authorization",
                "Content-Type",
                "If-Match",
                "Idempotency-Key",
                "X-Request-ID",
            ],
            "methods": ["GET", "POST", "PUT", "PATCH", "DELETE"],
            "expose_headers": ["ETag", "X-Pagination", "X-Request-ID"],
        }
    CORS(app, resources=rules)
