"""flask-smorest Api and Blueprint, adapted to this service.

- Every error is JSON in flask-smorest's shape, with ``Allow`` on 405 and ``Retry-After`` on 429.
- Every operation is protected by default (see ``auth.py``); ``Blueprint.public`` marks the
  few that are not, and documents them without the bearer requirement.
"""

from __future__ import annotations

from collections.abc import Callable

import flask_smorest
import orjson
from flask import Response
from werkzeug.exceptions import HTTPException

from partnership_api.ratelimits import heavy_endpoint_limit

PUBLIC_ENDPOINTS: set[str] = set()
_PUBLIC_ATTR = "_partnership_public"


def mark_public(func: Callable) -> Callable:
    """Mark a view function (or MethodView method) as needing no access token."""
    setattr(func, _PUBLIC_ATTR, True)
    return func


READ_METHODS = frozenset({"GET", "HEAD"})


def is_read_only(method: str) -> bool:
    """Whether a request may write nothing but its audit events: every GET and HEAD.

    On PostgreSQL such a request runs without a transaction (no BEGIN and ROLLBACK round
    trips); its audit events are still written atomically, by one statement. A guard in
    ``audit.py`` refuses any other write made without a transaction.
    """
    return method in READ_METHODS


def mark_public_endpoint(endpoint: str) -> None:
    """Mark an endpoint that is not ours (the docs' own views) as needing no token."""
    PUBLIC_ENDPOINTS.add(endpoint)


def is_public(endpoint: str, view_func: Callable, method: str | None = None) -> bool:
    """Whether the view (for this HTTP method) was marked public."""
    if endpoint in PUBLIC_ENDPOINTS or getattr(view_func, _PUBLIC_ATTR, False):
        return True
    view_class = getattr(view_func, "view_class", None)
    if view_class is not None and method is not None:
        meth = getattr(view_class, method.lower(), None)
        return bool(getattr(meth, _PUBLIC_ATTR, False))
    return False


def _json_default(value: object) -> str:
    # orjson writes datetimes, dates and UUIDs itself; anything else is a mistake.
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_response(data: object, status: int = 200) -> Response:
    """A JSON answer built directly from plain data, for the hot read paths.

    The view still documents its schema with ``@blp.response``; the data given here must be
    exactly what that schema would dump (tests compare the two), so the marshmallow pass,
    the costliest step of a big list, is skipped. orjson writes datetimes as ISO 8601 with
    their offset, exactly as ``datetime.isoformat`` does.
    """
    return Response(
        orjson.dumps(data, default=_json_default), status=status, mimetype="application/json"
    )


class Api(flask_smorest.Api):
    def handle_http_exception(self, error: HTTPException):
        payload, code, headers = super().handle_http_exception(error)
        headers = dict(headers or {})
        if "message" not in payload and error.description:
            payload["message"] = error.description
        if code == 500:
            payload["message"] = "An internal error occurred. It has been logged."
            payload.pop("errors", None)
        for name, value in error.get_headers():
            if name.lower() in ("allow", "retry-after", "www-authenticate"):
                headers[name] = value
        if code == 401:
            headers.setdefault("WWW-Authenticate", "Bearer")
        return payload, code, headers


class Blueprint(flask_smorest.Blueprint):
    """A Blueprint whose views are protected unless marked with ``public``."""

    def arguments(self, schema, *args, **kwargs):
        """flask-smorest's arguments, with one schema instance made here: given a class,
        webargs would build a new instance (deep-copying every field) on every request."""
        if isinstance(schema, type):
            schema = schema()
        return super().arguments(schema, *args, **kwargs)

    def paginate(self, pager=None, *, page=None, page_size=20, max_page_size=100):
        """flask-smorest's pagination, 20 a page by default and at most 100.

        Its parameters schema is a class that webargs would instantiate on every request;
        ``_one_pagination_schema`` hands it one instance instead.
        """
        return super().paginate(pager, page=page, page_size=page_size, max_page_size=max_page_size)

    @staticmethod
    def _make_pagination_metadata(page, page_size, item_count):
        """flask-smorest's ``X-Pagination`` metadata, without a schema instance per request
        (its schema only copies these integers)."""
        metadata = {"total": item_count}
        if item_count == 0:
            metadata["total_pages"] = 0
            return metadata
        last_page = ((item_count - 1) // page_size) + 1
        metadata.update(total_pages=last_page, first_page=1, last_page=last_page)
        if page <= last_page:
            metadata["page"] = page
            if page > 1:
                metadata["previous_page"] = page - 1
            if page < last_page:
                metadata["next_page"] = page + 1
        return metadata

    def rate_limited(self, func: Callable) -> Callable:
        """Limit a heavier operation to API_RATE_LIMIT per signed-in user, and document 429.

        Put it above the other decorators: it counts after sign-in, so the key is the user.
        """
        documented = self.alt_response(
            429, description="Too many requests from this user; try again later (Retry-After)"
        )(func)
        return heavy_endpoint_limit(documented)

    def public(self, func: Callable) -> Callable:
        """Mark an operation as open to anyone, and document it without security."""
        mark_public(func)
        return self.doc(security=[])(func)


_make_pagination_schema = flask_smorest.pagination._pagination_parameters_schema_factory


def _one_pagination_schema(page, page_size, max_page_size):
    return _make_pagination_schema(page, page_size, max_page_size)()


flask_smorest.pagination._pagination_parameters_schema_factory = _one_pagination_schema
