"""The directory's own OpenAPI document: the Open Referral UK profile's paths, as served here."""

from __future__ import annotations

from typing import Any

PROFILE_SCHEMAS = "https://raw.githubusercontent.com/openreferral/uk-profile/main/schema"
PROFILE_URL = "https://github.com/OpenReferralUK/uk-profile"
HSDS_VERSION = "3.0"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"{PROFILE_SCHEMAS}/{name}"}


def _param(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/parameters/{name}"}


ERRORS = {
    code: {
        "description": text,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    for code, text in (
        ("404", "No such item (or it is not listed)"),
        ("422", "A query parameter is not valid, unknown, or given twice"),
        ("429", "Too many requests from this address; try again later (Retry-After)"),
    )
}
NOT_MODIFIED = {"description": "Not modified since the ETag given in If-None-Match"}


def _page_of(item_schema: dict) -> dict[str, Any]:
    return {
        "allOf": [{"$ref": "#/components/schemas/Page"}],
        "properties": {"contents": {"type": "array", "items": item_schema}},
    }


def _get(summary: str, schema: dict, parameters: list | None = None, item: bool = False) -> dict:
    responses: dict[str, Any] = {
        "200": {"description": summary, "content": {"application/json": {"schema": schema}}},
        "304": NOT_MODIFIED,
        "422": ERRORS["422"],
        "429": ERRORS["429"],
    }
    if item:
        responses["404"] = ERRORS["404"]
        del responses["422"]
    operation: dict[str, Any] = {"summary": summary, "security": [], "responses": responses}
    if parameters:
        operation["parameters"] = parameters
    return {"get": operation}


def _id_path(what: str) -> list[dict]:
    return [
        {
            "in": "path",
            "name": "id",
            "required": True,
            "description": f"The id of the {what}.",
            "schema": {"type": "string", "format": "uuid"},
        }
    ]


FILTERS = [
    _param(name)
    for name in (
        "search",
        "page",
        "per_page",
        "taxonomy_term_id",
        "taxonomy_id",
        "minimum_age",
        "maximum_age",
        "modified_after",
    )
]


def document(server_url: str) -> dict[str, Any]:
    """The document, with the directory's own address as its server."""
    services_at = {
        **_get(
            "A service at a location, fully nested",
            _ref("compiled/service_at_location.json"),
            item=True,
        )
    }
    services_at["parameters"] = _id_path("service at a location")
    service = _get("A fully nested service", _ref("compiled/service.json"), item=True)
    service["parameters"] = _id_path("service")
    taxonomy = _get("A taxonomy", _ref("taxonomy.json"), item=True)
    taxonomy["parameters"] = _id_path("taxonomy")
    term = _get("A taxonomy term", _ref("taxonomy_term.json"), item=True)
    term["parameters"] = _id_path("taxonomy term")
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Staffordshire and Stoke-on-Trent domestic abuse services directory",
            "version": HSDS_VERSION,
            "description": (
                "The partnership's services in the Open Referral UK profile of HSDS 3.0: "
                "read-only, no sign-in, cacheable for five minutes, limited per address. "
                "Refuges are listed without any location: call their number."
            ),
            "license": {
                "name": "Schemas: Open Referral UK profile, CC BY-SA 4.0",
                "url": PROFILE_URL,
            },
        },
        "servers": [{"url": server_url}],
        "paths": {
            "/": _get(
                "Information about this API and its relationship with HSDS",
                {
                    "type": "object",
                    "required": ["version", "profile", "openapi_url"],
                    "properties": {
                        "version": {"type": "string"},
                        "profile": {"type": "string", "format": "uri"},
                        "openapi_url": {"type": "string", "format": "uri"},
                    },
                },
            ),
            "/services": _get(
                "Listed services, one-to-one fields and their organisation",
                _page_of(_ref("compiled/service_list.json")),
                FILTERS,
            ),
            "/services/{id}": service,
            "/service_at_locations": _get(
                "Listed services at their (virtual) locations; refuges have none",
                _page_of(_ref("compiled/service_at_location_list.json")),
                FILTERS,
            ),
            "/service_at_locations/{id}": services_at,
            "/taxonomies": _get(
                "Taxonomies", _page_of(_ref("taxonomy.json")), [_param("page"), _param("per_page")]
            ),
            "/taxonomies/{id}": taxonomy,
            "/taxonomy_terms": _get(
                "Taxonomy terms",
                _page_of(_ref("taxonomy_term.json")),
                [_param("page"), _param("per_page")],
            ),
            "/taxonomy_terms/{id}": term,
        },
        "components": {
            "schemas": {
                "Page": {
                    "type": "object",
                    "required": [
                        "total_items",
                        "total_pages",
                        "page_number",
                        "size",
                        "first_page",
                        "last_page",
                        "empty",
                        "contents",
                    ],
                    "properties": {
                        "total_items": {"type": "integer"},
                        "total_pages": {"type": "integer"},
                        "page_number": {"type": "integer"},
                        "size": {"type": "integer", "description": "items on this page"},
                        "first_page": {"type": "boolean"},
                        "last_page": {"type": "boolean"},
                        "empty": {"type": "boolean"},
                    },
                },
                "Error": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "integer"},
                        "status": {"type": "string"},
                        "message": {"type": "string"},
                        "errors": {"type": "object"},
                    },
                },
            },
            "parameters": {
                "search": _query(
                    "search",
                    "string",
                    "Words in a service's or its organisation's "
                    "name or description (case-insensitive).",
                ),
                "page": _query("page", "integer", "Page number, from 1.", minimum=1),
                "per_page": _query(
                    "per_page",
                    "integer",
                    "Items a page (default 50, at most MAX_PAGE_SIZE).",
                    minimum=1,
                ),
                "taxonomy_term_id": _query(
                    "taxonomy_term_id", "string", "Services with this taxonomy term.", fmt="uuid"
                ),
                "taxonomy_id": _query(
                    "taxonomy_id", "string", "Services with any term of this taxonomy.", fmt="uuid"
                ),
                "minimum_age": _query(
                    "minimum_age",
                    "number",
                    "Services whose minimum age is at least this.",
                    minimum=0,
                ),
                "maximum_age": _query(
                    "maximum_age",
                    "number",
                    "Services whose maximum age is at most this.",
                    minimum=0,
                ),
                "modified_after": _query(
                    "modified_after",
                    "string",
                    "Services changed on or after this time (ISO 8601 with an offset).",
                    fmt="date-time",
                ),
            },
        },
    }


def _query(
    name: str, kind: str, description: str, fmt: str | None = None, minimum: int | None = None
) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": kind}
    if fmt:
        schema["format"] = fmt
    if minimum is not None:
        schema["minimum"] = minimum
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }
