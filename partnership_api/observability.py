"""Request ids, one JSON log line per request, and security headers."""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid

import orjson
from flask import Flask, Response, g, request

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

access_log = logging.getLogger("partnership_api.access")

# /docs runs Swagger UI, served by the app itself (docs_assets.py): no other host is named.
DOCS_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'"
)
API_CSP = "default-src 'none'; frame-ancestors 'none'"


def utc_time(created: float) -> str:
    """``created`` (seconds since the epoch) as ISO 8601 in UTC with milliseconds.

    The date and time to the second are formatted once per second and kept: the access log
    writes one line per request, and ``time.strftime`` (what ``Formatter.formatTime`` uses)
    was most of its cost.
    """
    second = int(created)
    if second != _clock[0]:
        _clock[0] = second
        _clock[1] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
    return f"{_clock[1]}.{int((created - second) * 1000):03d}+00:00"


_clock: list = [-1, ""]


class JsonFormatter(logging.Formatter):
    """One JSON object per line; only fields put there on purpose, never bodies."""

    FIELDS = ("method", "path", "status", "duration_ms", "request_id", "user_id", "remote_addr")

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": utc_time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        given = record.__dict__
        for name in self.FIELDS:
            if name in given:
                line[name] = given[name]
        if "request_id" not in line:
            try:
                line["request_id"] = g.get("request_id")
            except RuntimeError:
                pass
        if record.exc_info:
            line["exception"] = record.exc_info[0].__name__ if record.exc_info[0] else None
        return orjson.dumps(line, default=str).decode()


class AccessRecord(logging.LogRecord):
    """The access log's record, made without ``LogRecord.__init__``.

    ``Logger.info`` would look for the caller's frame, the thread, the process and the
    multiprocessing name, and copy ``extra`` key by key, for every request; this record copies
    a fixed set of attributes and the request's fields. Handlers see an ordinary INFO record
    of ``partnership_api.access`` (every attribute in its ``__dict__``, where ``%``-style
    formats look).
    """

    FIXED = {
        "name": "partnership_api.access",
        "msg": "request",
        "args": (),
        "levelno": logging.INFO,
        "levelname": "INFO",
        "pathname": __file__,
        "filename": "observability.py",
        "module": "observability",
        "lineno": 0,
        "funcName": "finish_request",
        "exc_info": None,
        "exc_text": None,
        "stack_info": None,
        "thread": None,
        "threadName": None,
        "processName": None,
        "process": None,
        "taskName": None,
    }

    def __init__(self, fields: dict) -> None:  # noqa: D107 - see the class
        given = self.__dict__
        given.update(self.FIXED)
        given.update(fields)
        self.created = created = time.time()
        self.msecs = (created - int(created)) * 1000
        self.relativeCreated = (created - _STARTED) * 1000


_STARTED = time.time()


def configure_logging(level: str) -> None:
    root = logging.getLogger("partnership_api")
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.setLevel(level.upper())
    root.propagate = False
    # flask-limiter's warnings (e.g. "storage unreachable, falling back to memory") go to the
    # same JSON log. Its logger already holds a NullHandler, so look for ours, not for any.
    json_handler = next(h for h in root.handlers if isinstance(h.formatter, JsonFormatter))
    limiter_log = logging.getLogger("flask-limiter")
    if json_handler not in limiter_log.handlers:
        limiter_log.addHandler(json_handler)


# A year, subdomains included (issue 25): production is served over https only.
HSTS = "max-age=31536000; includeSubDomains"


def init_request_hooks(app: Flask) -> None:
    @app.before_request
    def start_request() -> None:
        g.started = time.perf_counter()
        sent = request.headers.get("X-Request-ID", "")
        g.request_id = sent if _REQUEST_ID_RE.match(sent) else uuid.uuid4().hex

    @app.after_request
    def finish_request(response: Response) -> Response:
        # The request and g once, not through their proxies at every attribute.
        req = request._get_current_object()
        state = g._get_current_object()
        path = req.path
        headers = response.headers
        headers["X-Request-ID"] = state.get("request_id", "")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("X-Frame-Options", "DENY")
        if app.config["APP_ENV"] == "production":  # served over https only: browsers keep to it
            headers.setdefault("Strict-Transport-Security", HSTS)
        if path.startswith("/docs"):
            headers["Content-Security-Policy"] = DOCS_CSP
        else:
            headers.setdefault("Content-Security-Policy", API_CSP)
        if path.startswith("/api/"):
            headers["Cache-Control"] = "no-store"
        if not access_log.isEnabledFor(logging.INFO):
            return response
        actor = state.get("actor")
        started = state.get("started")
        duration = (time.perf_counter() - started) * 1000 if started else 0.0
        access_log.handle(
            AccessRecord(
                {
                    "method": req.method,
                    "path": path,
                    "status": response.status_code,
                    "duration_ms": round(duration, 2),
                    "request_id": state.get("request_id"),
                    "user_id": str(actor.user_id) if actor else None,
                    "remote_addr": req.remote_addr,
                }
            )
        )
        return response
