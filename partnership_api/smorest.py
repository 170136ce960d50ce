"""flask-smorest Api and Blueprint, adapted to this service.

- Every error is JSON in flask-smorest's shape, with ``Allow`` on 405 and ``Retry-After`` on 429.
- Every operation is protected by default (see ``auth.py``); ``Blueprint.public`` marks the
  few that are not, and documents them without the bearer requirement.
- A 422's ``message`` says what the first problem is ("dash_score: A DASH score is from 0 to
  27."); ``errors`` keeps every problem, by location and field.
- A query parameter an operation does not declare is refused (422 naming it), never ignored: a
  typo in a filter must not pass for a filtered list.
- Every 201 answers a ``Location`` header, documented once here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import apispec.ext.marshmallow
import flask_smorest
import marshmallow as ma
import orjson
import werkzeug.routing
from flask import Response, current_app, request, url_for
from marshmallow.exceptions import SCHEMA
from werkzeug.exceptions import HTTPException

from partnership_api.query_args import QueryCachingParser
from partnership_api.ratelimits import heavy

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
    ``transactions.py`` refuses any other write made without a transaction.
    """
    return method in READ_METHODS


PAGES_BLUEPRINT = "web"
# Set by the web pages (web/setup.py): error → the error page for a page request, else None.
page_errors: Callable[[HTTPException], Response | None] | None = None


def is_page_endpoint(endpoint: str | None) -> bool:
    """Whether an endpoint is one of the web pages (``partnership_api/web``).

    Pages are signed in by their session cookie (``web/session.py``), never by a bearer token,
    and take HTML forms; every other route is the API's and takes JSON and bearer tokens only.
    """
    return bool(endpoint) and endpoint.startswith(PAGES_BLUEPRINT + ".")


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


class ErrorSchema(ma.Schema):
    """Every error answer: flask-smorest's shape (documentation only; never used to dump)."""

    code = ma.fields.Integer(
        validate=ma.validate.Range(min=400, max=599), metadata={"description": "HTTP status"}
    )
    status = ma.fields.String(
        validate=ma.validate.Length(max=64), metadata={"description": "HTTP status name"}
    )
    message = ma.fields.String(
        validate=ma.validate.Length(max=1000), metadata={"description": "what went wrong"}
    )
    errors = ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.Length(max=200)),
        metadata={
            "description": "for 422: the request's location (json, query, headers), then "
            "each field refused with its messages"
        },
    )


class MarshmallowPlugin(apispec.ext.marshmallow.MarshmallowPlugin):
    """apispec's marshmallow plugin, with extra attribute functions (``openapi_doc.py``'s formats
    and bounds) from the first schema converted (the error and pagination schemas are converted
    at init)."""

    def __init__(self, *attribute_functions, **kwargs):
        super().__init__(**kwargs)
        self._attribute_functions = attribute_functions

    def init_spec(self, spec):
        super().init_spec(spec)
        for function in self._attribute_functions:
            self.converter.add_attribute_function(function)


def _path_integer(converter) -> dict:
    return {
        "type": "integer",
        "format": "int32" if converter.max <= 2**31 - 1 else "int64",
        "minimum": converter.min,
        "maximum": converter.max,
    }


# The first level of a validation error's ``errors``: where in the request the problem is.
LOCATIONS = frozenset(
    {"json", "query", "querystring", "headers", "form", "files", "cookies", "path", "view_args"}
)


def _first_problem(errors: object, path: tuple = ()) -> tuple[tuple, str] | None:
    """The path to the first message in marshmallow-shaped errors, and that message."""
    if isinstance(errors, str):
        return path, errors
    if isinstance(errors, Mapping):
        for key, value in errors.items():
            found = _first_problem(value, (*path, key))
            if found:
                return found
    elif isinstance(errors, list | tuple):
        for item in errors:
            found = _first_problem(item, path)
            if found:
                return found
    return None


def validation_summary(errors: object) -> str | None:
    """One sentence on the first problem: ``subject.area: Not a district of the county: X.``

    The location (``json``, ``query``…) and marshmallow's ``_schema`` are left out of the path;
    list positions stay in it (``spaces.1.vacant``).
    """
    found = _first_problem(errors)
    if found is None:
        return None
    path, message = found
    if path and path[0] in LOCATIONS:
        path = path[1:]
    names = [str(part) for part in path if part != SCHEMA]
    return f"{'.'.join(names)}: {message}" if names else message


class Api(flask_smorest.Api):
    ERROR_SCHEMA = ErrorSchema

    def init_app(self, app, *, spec_kwargs=None):
        super().init_app(app, spec_kwargs=spec_kwargs)
        # Path ids: database integers 1 to 2**31 - 1 (DatabaseIntConverter); UUIDs as werkzeug
        # matches them (36 characters with hyphens).
        self.register_converter(app.url_map.converters["int"], _path_integer)
        self.register_converter(
            werkzeug.routing.UUIDConverter,
            lambda _converter: {"type": "string", "format": "uuid", "maxLength": 36},
        )

    def handle_http_exception(self, error: HTTPException):
        if page_errors is not None:  # a page's error is a page (web/errors.py); the API's JSON
            page = page_errors(error)
            if page is not None:
                return page
        payload, code, headers = super().handle_http_exception(error)
        headers = dict(headers or {})
        if code == 422 and "message" not in payload and payload.get("errors"):
            summary = validation_summary(payload["errors"])
            if summary:
                payload["message"] = summary
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


LOCATION_HEADER = {
    "Location": {
        "description": "where the new resource is read (or, for a timeline note, the timeline)",
        "schema": {"type": "string", "format": "uri-reference", "maxLength": 2048},
    }
}
QUERY_LOCATIONS = ("query", "querystring")


def _declared_names(schema: ma.Schema | type[ma.Schema]) -> set[str]:
    if isinstance(schema, type):
        schema = schema()
    return {field.data_key or name for name, field in schema.load_fields.items()}


def declared_query_parameters(view: Callable) -> frozenset[str]:
    """The query parameters an operation declares: its query schema's and its pagination's."""
    doc = getattr(view, "_apidoc", {})
    names: set[str] = set()
    for parameter in doc.get("arguments", {}).get("parameters", []):
        if isinstance(parameter, Mapping) and parameter.get("in") in QUERY_LOCATIONS:
            names |= _declared_names(parameter["schema"])
    pagination = doc.get("pagination", {}).get("parameters")
    if pagination:
        names |= _declared_names(pagination["schema"])
    return frozenset(names)


_DECLARED: dict[tuple[str, str], frozenset[str]] = {}


def refuse_unknown_query_parameters() -> None:
    """422 naming each query parameter the operation does not declare (after sign-in).

    webargs ignores unknown query parameters (its default for the query location), and a
    paginated list reads its query string with two schemas, so neither can refuse them alone:
    this hook checks the whole query string against what the operation declares.
    """
    if not request.args or request.endpoint is None:
        return
    view_func = current_app.view_functions.get(request.endpoint)
    if view_func is None:
        return
    view_class = getattr(view_func, "view_class", None)
    method = request.method.lower()
    if view_class is not None:
        view = getattr(view_class, method, None)
        if view is None and method == "head":
            view = getattr(view_class, "get", None)
        if view is None:
            return
    else:
        view = view_func
    key = (request.endpoint, method)
    declared = _DECLARED.get(key)
    if declared is None:
        declared = _DECLARED[key] = declared_query_parameters(view)
    unknown = sorted(set(request.args) - declared)
    if unknown:
        flask_smorest.abort(422, errors={"query": {name: ["Unknown field."] for name in unknown}})


def created(body: object, endpoint: str, headers: Mapping | None = None, **values) -> tuple:
    """A 201 answer with the ``Location`` of the new resource (``endpoint`` with ``values``)."""
    return body, 201, {"Location": url_for(endpoint, **values), **(headers or {})}


class Blueprint(flask_smorest.Blueprint):
    """A Blueprint whose views are protected unless marked with ``public``; its operations
    refuse undeclared query parameters, and each 201 documents its ``Location``. A query
    string of a schema marked ``PURE_QUERY`` (and every page number) is loaded once per worker
    (``query_args.py``)."""

    ARGUMENTS_PARSER = QueryCachingParser()
    PAGINATION_ARGUMENTS_PARSER = QueryCachingParser()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.before_request(refuse_unknown_query_parameters)

    def response(self, status_code, schema=None, *, headers=None, **kwargs):
        """flask-smorest's response; a 201 documents the ``Location`` header it answers."""
        if status_code == 201:
            headers = {**LOCATION_HEADER, **(headers or {})}
        return super().response(status_code, schema, headers=headers, **kwargs)

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
        return heavy(documented)

    def public(self, func: Callable) -> Callable:
        """Mark an operation as open to anyone, and document it without security."""
        mark_public(func)
        return self.doc(security=[])(func)


_make_pagination_schema = flask_smorest.pagination._pagination_parameters_schema_factory


def _one_pagination_schema(page, page_size, max_page_size):
    from partnership_api.settings import MAX_PAGE

    first = page

    class PaginationParametersSchema(_make_pagination_schema(page, page_size, max_page_size)):
        PURE_QUERY = True  # two numbers, loaded the same whenever they are asked for

        # The page number bounded as pagination.check_page bounds it (and documented so).
        page = ma.fields.Integer(
            load_default=first, validate=ma.validate.Range(min=1, max=MAX_PAGE)
        )

    return PaginationParametersSchema()


flask_smorest.pagination._pagination_parameters_schema_factory = _one_pagination_schema
