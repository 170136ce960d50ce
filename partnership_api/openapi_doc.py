"""What the OpenAPI document says beyond what flask-smorest writes by itself.

Partners generate clients from ``openapi/openapi.json`` and put it behind their gateways, so
the document must say what the code enforces (``make lint-spec`` checks it with Spectral and
the OWASP API Security ruleset). Two hooks, both run while ``make openapi`` builds it:

- ``field_bounds``, an apispec attribute function, gives every integer its ``format`` and every
  string, integer and list of an *answer* the bounds its stored values really have: a field of
  an answer schema without bounds of its own takes those of the request field of the same
  name in the same module (each stored value passed that validation), ids are database
  integers from 1, dates, times and UUIDs have the length of their format. What an answer
  field holds beyond that (a column's length, the values the code writes, a count's size) is
  written on the field itself as OpenAPI metadata (``schemas/bounds.py``). A request field's
  bounds are always its own validation's: nothing is added to them.
- ``OperationDocs``, an apispec plugin, gives every operation an ``operationId`` and a
  description, documents the 500 and 503 every operation can answer, and the rate-limit
  headers (``X-RateLimit-*`` from flask-limiter, ``Retry-After`` on 429) on the answers of the
  rate-limited operations.
"""

from __future__ import annotations

import re
from http import HTTPStatus

import marshmallow as ma
from apispec import BasePlugin

INT32_MAX = 2**31 - 1
INT32_MIN = -(2**31)
# Lengths of the text forms our answers use: 2026-11-21, a UUID with hyphens, and ISO 8601
# with microseconds and an offset (2026-11-21T02:14:00.123456+00:00).
ANSWER_FORMAT_LENGTH = {"date": 10, "uuid": 36, "date-time": 32}
# What the request fields accept (common.py bounds the text of a date-time; marshmallow's
# UUID also takes the braced and urn:uuid: forms; its date is YYYY-MM-DD).
REQUEST_FORMAT_LENGTH = {"date": 10, "uuid": 45, "date-time": 40}
COPIED = ("maxLength", "maxItems", "minimum", "maximum", "format")

PAGE_SIZE_MAX = 100  # Blueprint.paginate's max_page_size
ETAG_MAX = 128  # our ETags are a quoted hash or a version, far shorter


def _is_answer(field: ma.fields.Field) -> bool:
    """Whether the field is part of an answer: request bodies and query strings are always
    ``StrictSchema`` (common.py); everything else (answers, errors, headers) is written by us."""
    from partnership_api.schemas.common import StrictSchema

    owner = field.parent
    while isinstance(owner, ma.fields.Field):  # a list's items: the list's schema decides
        if owner.dump_only:
            return True
        owner = owner.parent
    if field.dump_only:
        return True
    return not isinstance(owner, StrictSchema) and "Parameters" not in type(owner).__name__


def _name(field: ma.fields.Field) -> str | None:
    owner = field
    while isinstance(owner.parent, ma.fields.Field):
        owner = owner.parent
    return owner.data_key or owner.name


def _module(field: ma.fields.Field) -> str | None:
    owner = field.parent
    while isinstance(owner, ma.fields.Field):
        owner = owner.parent
    return type(owner).__module__ if owner is not None else None


_request_bounds: dict[tuple[str, str, bool], dict] = {}


def _family(module: str) -> str:
    """The schemas' domain: ``schemas.funding_reports`` answers ``schemas.funding``'s requests."""
    return module.rsplit(".", 1)[-1].split("_", 1)[0]


def _request_field_bounds(converter, module: str, name: str, inner: bool) -> dict:
    """The widest bounds the request schemas of ``module`` give a field called ``name``."""
    key = (module, name, inner)
    if key in _request_bounds:
        return _request_bounds[key]
    from partnership_api.schemas.common import StrictSchema

    found: dict = {}
    pending = list(StrictSchema.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if _family(cls.__module__) != _family(module):
            continue
        schema = cls()
        for field in schema.fields.values():
            if (field.data_key or field.name) != name or field.dump_only:
                continue
            if inner:
                if not isinstance(field, ma.fields.List):
                    continue
                field = field.inner
            prop = converter.field2property(field)
            for bound in COPIED:
                if bound not in prop:
                    continue
                if bound not in found:
                    found[bound] = prop[bound]
                elif bound == "minimum":
                    found[bound] = min(found[bound], prop[bound])
                elif bound != "format":
                    found[bound] = max(found[bound], prop[bound])
    _request_bounds[key] = found
    return found


def field_bounds(self, field: ma.fields.Field, ret: dict) -> dict:
    """An apispec attribute function: formats and bounds (see the module's docstring)."""
    kind = ret.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    answer = _is_answer(field)
    extra: dict = {}
    if type(field.parent).__name__ == "PaginationMetadataSchema" and kind == "integer":
        # The X-Pagination header: counts of items and pages (smorest.py writes it).
        low = 0 if field.name in ("total", "total_pages") else 1
        return {"minimum": low, "maximum": INT32_MAX, "format": "int32"}
    if answer and kind in ("string", "integer", "array"):
        name, module = _name(field), _module(field)
        if name and module:
            inner = isinstance(field.parent, ma.fields.List)
            for bound, value in _request_field_bounds(self, module, name, inner).items():
                if bound not in ret and "enum" not in ret:
                    extra[bound] = value
    if field.allow_none and None not in ret.get("enum", [None]):
        # What an answer field holds is on the field (``schemas/bounds.py``); a field that may
        # be null may hold null too.
        extra["enum"] = [*ret["enum"], None]
    merged = {**ret, **extra}
    if kind == "string" and "maxLength" not in merged and "enum" not in merged:
        lengths = ANSWER_FORMAT_LENGTH if answer else REQUEST_FORMAT_LENGTH
        if merged.get("format") in lengths:
            extra["maxLength"] = lengths[merged["format"]]
    if kind == "integer":
        name = _name(field) or ""
        if answer and (name == "id" or name.endswith("_id")) and "minimum" not in merged:
            # Database ids: integer columns counting from 1.
            extra.setdefault("minimum", 1)
            extra.setdefault("maximum", INT32_MAX)
        merged = {**ret, **extra}
        if "format" not in merged:
            low = merged.get("minimum", INT32_MIN)
            high = merged.get("maximum", INT32_MAX)
            extra["format"] = "int32" if INT32_MIN <= low and high <= INT32_MAX else "int64"
    return extra


# --- operations ----------------------------------------------------------------------------

RATE_LIMIT_HEADERS = {
    "X-RateLimit-Limit": {
        "description": "Requests allowed in the current window (flask-limiter).",
        "schema": {"type": "integer", "format": "int32", "minimum": 0, "maximum": INT32_MAX},
    },
    "X-RateLimit-Remaining": {
        "description": "Requests left in the current window.",
        "schema": {"type": "integer", "format": "int32", "minimum": 0, "maximum": INT32_MAX},
    },
    "X-RateLimit-Reset": {
        "description": "When the current window ends, in seconds since the Unix epoch.",
        "schema": {"type": "integer", "format": "int64", "minimum": 0, "maximum": 2**53},
    },
}
RETRY_AFTER = {
    "description": "Seconds to wait before trying again.",
    "schema": {"type": "integer", "format": "int32", "minimum": 0, "maximum": 86400},
}
CORS_HEADER = {
    "description": (
        "Present only when the deployment lists the request's Origin in CORS_ORIGINS (off by "
        "default); then that origin."
    ),
    "schema": {"type": "string", "format": "uri", "maxLength": 2048},
}
ERROR_REF = {"$ref": "#/components/schemas/Error"}


def _operation_id(endpoint: str, method: str) -> str:
    """``Referral.ReferralById`` and ``get`` → ``Referral_ReferralById_get``."""
    return re.sub(r"[^A-Za-z0-9_]", "_", f"{endpoint}_{method}")


# Operations limited by the sign-in counters rather than flask-limiter.
COUNTED_APART = frozenset({"Auth.Login"})


class OperationDocs(BasePlugin):
    """An apispec plugin: operation ids, descriptions, 500/503 and rate-limit headers.

    The rate-limited operations are those that document 429 (``Blueprint.rate_limited`` and
    sign-in): flask-limiter sends its headers on each of their answers, except those refused
    before any limit is counted (a malformed request, a missing or bad access token).
    """

    def init_spec(self, spec) -> None:
        super().init_spec(spec)
        spec.components.header("Access-Control-Allow-Origin", CORS_HEADER)

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        rule = kwargs.get("rule")
        endpoint = rule.endpoint if rule is not None else (path or "").strip("/")
        for method, operation in (operations or {}).items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            operation.setdefault("operationId", _operation_id(endpoint, method))
            if "description" not in operation and operation.get("summary"):
                operation["description"] = operation["summary"]
            responses = operation["responses"]
            # A JSON body nested too deeply to parse is a 400 (create_app's _json_only); any
            # request can meet a bug (500). Both answer the Error shape.
            if method in ("post", "put", "patch"):
                responses.setdefault("400", "BAD_REQUEST")
            responses.setdefault("500", "INTERNAL_SERVER_ERROR")
            responses["503"] = {
                "description": "The database is unavailable; try again shortly.",
                "content": {"application/json": {"schema": ERROR_REF}},
                "headers": {"Retry-After": RETRY_AFTER},
            }
            for parameter in operation.get("parameters", []):
                if isinstance(parameter, dict) and parameter.get("name") == "If-Match":
                    # Only an ETag we answered matches: anything longer is answered 412.
                    parameter["schema"] = {**parameter["schema"], "maxLength": ETAG_MAX}
            for response in responses.values():
                if not isinstance(response, dict):
                    continue
                etag = response.get("headers", {}).get("ETag")
                if etag:
                    etag["schema"] = {**etag["schema"], "maxLength": ETAG_MAX}
                if "X-Pagination" in response.get("headers", {}):
                    # A page holds at most Blueprint.paginate's max_page_size items.
                    for content in response.get("content", {}).values():
                        if content.get("schema", {}).get("type") == "array":
                            content["schema"]["maxItems"] = PAGE_SIZE_MAX
            limited = any(str(code) == "429" for code in responses)
            # Sign-in is limited by its own counters (services/throttle.py, shared by every
            # worker), not flask-limiter: its 429 says Retry-After, and no X-RateLimit-* is sent.
            counted_apart = endpoint in COUNTED_APART
            for code, response in responses.items():
                if counted_apart and str(code) == "429" and isinstance(response, dict):
                    response.setdefault("headers", {})["Retry-After"] = RETRY_AFTER
            # Answers given before flask-limiter counts the request carry none of its headers:
            # a body that cannot be parsed (400) and, where a token is needed, a refused
            # token (401).
            refused_first = {"400", "401"} if operation.get("security") != [] else {"400"}
            for code in list(responses):
                response = responses[code]
                if counted_apart or not limited or str(code)[0] not in "24":
                    continue
                if str(code) in refused_first:
                    continue
                if isinstance(response, str):  # a shared component: this one gets its own copy
                    response = responses[code] = {
                        "description": HTTPStatus(int(code)).phrase,
                        "content": {"application/json": {"schema": ERROR_REF}},
                    }
                response.setdefault("headers", {}).update(RATE_LIMIT_HEADERS)
                if str(code) == "429":
                    response["headers"]["Retry-After"] = RETRY_AFTER
            if operation.get("security") != [] and not limited:
                # Any signed-in operation: past AUTH_FAILURE_LIMIT refused tokens from one
                # address, or REFUSAL_LIMIT refused or not-found answers to one user, the
                # answer is 429 (services/throttle.py, services/refusals.py).
                responses["429"] = {
                    "description": "Too many refused tokens from this address, or too many "
                    "refused or not-found requests by this user; try again later (Retry-After)",
                    "headers": {"Retry-After": RETRY_AFTER},
                }
            for code, response in responses.items():
                if not isinstance(response, dict):
                    continue
                if str(code)[0] in "45" and "content" not in response:
                    # Every error answer is JSON in the Error shape (smorest.Api, errors.py).
                    response["content"] = {"application/json": {"schema": ERROR_REF}}
                if "headers" in response:
                    response["headers"].setdefault(
                        "Access-Control-Allow-Origin",
                        {"$ref": "#/components/headers/Access-Control-Allow-Origin"},
                    )
