"""``GET /metrics`` on the app servers, and the hooks that count every request.

Not part of the API (not in the OpenAPI document): Prometheus reads it with
``Authorization: Bearer <METRICS_TOKEN>``. Unset token: 404; wrong or missing one: 401
(``metrics.py`` says why).
"""

from __future__ import annotations

import time

from flask import Flask, Response, g, request
from flask_smorest import abort

from partnership_api import metrics
from partnership_api.smorest import mark_public_endpoint

ENDPOINT = "metrics"


def init_metrics(app: Flask, engine) -> None:
    """Count requests (after every other hook has had its say) and the pool; serve /metrics."""
    metrics.watch_pool(engine)

    @app.after_request
    def count_request(response: Response) -> Response:
        started = g.get("started")
        rule = request.url_rule
        metrics.requests.observe(
            request.method,
            rule.rule if rule is not None else None,
            response.status_code,
            time.perf_counter() - started if started is not None else None,
        )
        return response

    def read_metrics() -> Response:
        """Prometheus text format, for the bearer of METRICS_TOKEN only."""
        allowed = metrics.may_read(
            request.headers.get("Authorization"), app.config.get("METRICS_TOKEN")
        )
        if allowed is None:
            abort(404, message="Not found.")
        if not allowed:
            abort(
                401,
                message="A valid metrics token is required (Authorization: Bearer ...).",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        body, content_type = metrics.exposition()
        return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})

    app.add_url_rule("/metrics", ENDPOINT, read_metrics, methods=["GET"])
    mark_public_endpoint(ENDPOINT)  # its own token, not a user's: checked above
