"""Request ids, one JSON log line per request, security headers and body limits."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid

from flask import Flask, Response, g, request
from werkzeug.exceptions import RequestEntityTooLarge, UnsupportedMediaType

MAX_BODY_BYTES = 1024 * 1024
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

access_log = logging.getLogger("partnership_api.access")


class JsonFormatter(logging.Formatter):
    """One JSON object per line; only fields put there on purpose, never bodies."""

    FIELDS = ("method", "path", "status", "duration_ms", "request_id", "user_id", "remote_addr")

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in self.FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if "request_id" not in line:
            try:
                line["request_id"] = g.get("request_id")
            except RuntimeError:
                pass
        if record.exc_info:
            line["exception"] = record.exc_info[0].__name__ if record.exc_info[0] else None
        return json.dumps(line, default=str)


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


def init_request_hooks(app: Flask) -> None:
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES

    @app.before_request
    def start_request() -> None:
        g.started = time.perf_counter()
        sent = request.headers.get("X-Request-ID", "")
        g.request_id = sent if _REQUEST_ID_RE.match(sent) else uuid.uuid4().hex
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            raise RequestEntityTooLarge("The request body is larger than 1 MiB.")
        if request.method in ("POST", "PUT", "PATCH") and (request.content_length or 0) > 0:
            if not request.is_json:
                raise UnsupportedMediaType("Request bodies must be JSON (application/json).")

    @app.after_request
    def finish_request(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if request.path.startswith("/docs"):
            response.headers["Content-Security-Policy"] = (
                "default-src 'none'; script-src 'self' 'unsafe-inline'; "
                "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
            )
        else:
            response.headers.setdefault(
                "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"
            )
        if request.path.startswith("/api/"):
            response.headers["Cache-Control"] = "no-store"
        if not access_log.isEnabledFor(logging.INFO):
            return response
        actor = g.get("actor")
        duration = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        access_log.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round(duration, 2),
                "request_id": g.get("request_id"),
                "user_id": str(actor.user_id) if actor else None,
                "remote_addr": request.remote_addr,
            },
        )
        return response
