"""The public directory of the partnership's services, in the Open Referral UK standard.

Read-only and unauthenticated, under ``/oruk``. It is built from an allow-list of columns
(``tables.py``) and fields (``serializer.py``): a refuge's location cannot appear because the
directory never reads it. Nothing here imports the referral, bed, hold, availability or user
models, the services layer or the policy (``tests/test_oruk.py`` checks the imports).
"""

from __future__ import annotations

from flask import Flask, Response, request

PREFIX = "/oruk"


def init_app(app: Flask) -> None:
    """Register the directory's blueprint, and its CORS and caching rules on /oruk paths only."""
    from partnership_api.oruk.views import blp

    app.register_blueprint(blp)

    @app.after_request
    def _directory_headers(response: Response) -> Response:
        if request.path != PREFIX and not request.path.startswith(PREFIX + "/"):
            return response
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "If-None-Match"
        response.headers["Access-Control-Expose-Headers"] = (
            "ETag, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset"
        )
        response.headers["Access-Control-Max-Age"] = "600"
        if response.status_code >= 400:
            response.headers["Cache-Control"] = "no-store"
        return response
