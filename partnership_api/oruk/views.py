"""The directory's routes under /oruk: read-only, public, cacheable, limited per address."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import orjson
from flask import Blueprint, Flask, Response, current_app, request, url_for
from flask_smorest import abort

from partnership_api.extensions import limiter
from partnership_api.oruk import openapi, params, queries, serializer, taxonomy
from partnership_api.smorest import mark_public

PREFIX = "/oruk"
blp = Blueprint("oruk", __name__, url_prefix=PREFIX)

CACHE_CONTROL = "public, max-age=300"


# The directory is open to any site's scripts (flask-cors, set up with the API's own rule in
# ``partnership_api._init_cors``): the paths, and the rule for them.
CORS_PATHS = r"/oruk(/.*)?$"
CORS_RULE = {
    "origins": "*",
    "send_wildcard": True,
    "methods": ["GET", "HEAD", "OPTIONS"],
    "allow_headers": ["If-None-Match"],
    "expose_headers": [
        "ETag",
        "Retry-After",
        "X-RateLimit-Limit",
        "X-RateLimit-Remaining",
        "X-RateLimit-Reset",
    ],
    "max_age": 600,
}


def init_app(app: Flask) -> None:
    """Register the directory's blueprint, and its caching rules on /oruk paths only."""
    app.register_blueprint(blp)

    @app.after_request
    def _directory_headers(response: Response) -> Response:
        if request.path != PREFIX and not request.path.startswith(PREFIX + "/"):
            return response
        if response.status_code >= 400:
            response.headers["Cache-Control"] = "no-store"
        return response


def _rate() -> str:
    return str(current_app.config["ORUK_RATE_LIMIT"])


def caller_address() -> str:
    """Rate-limit key: the caller's address as this server saw it (no proxy header trusted)."""
    return f"address:{request.remote_addr or 'unknown'}"


# One budget per caller address across every /oruk path (shared through Redis when set).
limiter.shared_limit(_rate, scope="oruk", key_func=caller_address)(blp)


def answer(data: Any) -> Response:
    """JSON with a strong ETag of its bytes; 304 when If-None-Match already has them."""
    body = orjson.dumps(data)
    response = Response(body, mimetype="application/json")
    response.set_etag(hashlib.sha256(body).hexdigest())
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response.make_conditional(request)


def _not_found(what: str) -> None:
    abort(404, message=f"No such {what} in the directory.")


@blp.get("/")
@mark_public
def about() -> Response:
    """Information about this API and its relationship with HSDS"""
    _no_parameters()
    return answer(
        {
            "version": openapi.HSDS_VERSION,
            "profile": openapi.PROFILE_URL,
            "openapi_url": url_for("oruk.openapi_document", _external=True),
        }
    )


@blp.get("/openapi.json")
@mark_public
def openapi_document() -> Response:
    """The directory's OpenAPI document"""
    _no_parameters()
    return answer(openapi.document(url_for("oruk.about", _external=True).rstrip("/")))


@blp.get("/services")
@mark_public
def services() -> Response:
    """Listed services: one-to-one fields and their organisation"""
    args = params.load(params.SERVICE_ARGS, request.args)
    stmt = queries.filtered(queries.listed(), args)
    total, rows = queries.page(stmt, args["page"], args["per_page"])
    contents = [serializer.service_summary(row) for row in rows]
    return answer(serializer.page_wrapper(contents, total, args["page"], args["per_page"]))


@blp.get("/services/<uuid:service_id>")
@mark_public
def service(service_id: uuid.UUID) -> Response:
    """A fully nested service"""
    _no_parameters()
    row = queries.service(service_id)
    if row is None:
        _not_found("service")
    return answer(
        serializer.service_full(
            row, queries.areas_of([row.id])[row.id], queries.terms_of([row.id])[row.id]
        )
    )


@blp.get("/service_at_locations")
@mark_public
def service_at_locations() -> Response:
    """Listed services at their (virtual) locations; refuges have none"""
    args = params.load(params.SERVICE_ARGS, request.args)
    stmt = queries.filtered(queries.with_location(queries.listed()), args)
    total, rows = queries.page(stmt, args["page"], args["per_page"])
    contents = [serializer.service_at_location_summary(row) for row in rows]
    return answer(serializer.page_wrapper(contents, total, args["page"], args["per_page"]))


@blp.get("/service_at_locations/<uuid:service_at_location_id>")
@mark_public
def service_at_location(service_at_location_id: uuid.UUID) -> Response:
    """A service at a location, fully nested"""
    _no_parameters()
    wanted = str(service_at_location_id)
    public_id = next(
        (
            candidate
            for candidate in queries.listed_non_refuge_ids()
            if serializer.service_at_location_id(candidate) == wanted
        ),
        None,
    )
    row = queries.service(public_id) if public_id is not None else None
    if row is None or row.kind == queries.REFUGE:
        _not_found("service at a location")
    return answer(
        serializer.service_at_location_full(
            row, queries.areas_of([row.id])[row.id], queries.terms_of([row.id])[row.id]
        )
    )


@blp.get("/taxonomies")
@mark_public
def taxonomies() -> Response:
    """Taxonomies"""
    args = params.load(params.PAGE_ARGS, request.args)
    return answer(_page_of_fixed([serializer.taxonomy_detail()], args))


@blp.get("/taxonomies/<uuid:taxonomy_id>")
@mark_public
def taxonomy_by_id(taxonomy_id: uuid.UUID) -> Response:
    """A taxonomy"""
    _no_parameters()
    if taxonomy_id != taxonomy.TAXONOMY_ID:
        _not_found("taxonomy")
    return answer(serializer.taxonomy_detail())


@blp.get("/taxonomy_terms")
@mark_public
def taxonomy_terms() -> Response:
    """Taxonomy terms"""
    args = params.load(params.PAGE_ARGS, request.args)
    return answer(_page_of_fixed([serializer.taxonomy_term(t) for t in taxonomy.TERMS], args))


@blp.get("/taxonomy_terms/<uuid:term_id>")
@mark_public
def taxonomy_term_by_id(term_id: uuid.UUID) -> Response:
    """A taxonomy term"""
    _no_parameters()
    term = taxonomy.BY_ID.get(term_id)
    if term is None:
        _not_found("taxonomy term")
    return answer(serializer.taxonomy_term(term))


def _page_of_fixed(items: list, args: dict) -> dict:
    number, size = args["page"], args["per_page"]
    contents = items[(number - 1) * size : number * size]
    return serializer.page_wrapper(contents, len(items), number, size)


def _no_parameters() -> None:
    if request.args:
        abort(
            422,
            message="This path takes no query parameters.",
            errors={"query": dict.fromkeys(request.args, ["Unknown field."])},
        )
