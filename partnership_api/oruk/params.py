"""Query parameters of the directory: checked before anything is read, refused with a JSON 422."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app
from flask_smorest import abort
from marshmallow import validate
from werkzeug.datastructures import MultiDict

NO_CONTROL_CHARACTERS = validate.Regexp(
    r"^[^\x00-\x1f\x7f]*$", error="Control characters are not allowed."
)
DEFAULT_PER_PAGE = 50


class PageArgs(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    page = ma.fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = ma.fields.Integer(load_default=DEFAULT_PER_PAGE, validate=validate.Range(min=1))


class ServiceArgs(PageArgs):
    search = ma.fields.String(validate=[validate.Length(max=200), NO_CONTROL_CHARACTERS])
    taxonomy_term_id = ma.fields.UUID()
    taxonomy_id = ma.fields.UUID()
    minimum_age = ma.fields.Float(allow_nan=False, validate=validate.Range(min=0, max=150))
    maximum_age = ma.fields.Float(allow_nan=False, validate=validate.Range(min=0, max=150))
    modified_after = ma.fields.AwareDateTime(
        format="iso",
        metadata={"description": "ISO 8601 with a UTC offset, e.g. 2026-11-21T02:14:00+00:00"},
    )


PAGE_ARGS = PageArgs()
SERVICE_ARGS = ServiceArgs()


def load(schema: ma.Schema, given: MultiDict) -> dict[str, Any]:
    """The parameters, or a 422 naming every one that is wrong (each may appear once)."""
    repeated = sorted(key for key, values in given.lists() if len(values) > 1)
    if repeated:
        abort(
            422,
            message="Give each parameter once.",
            errors={"query": dict.fromkeys(repeated, ["Given more than once."])},
        )
    try:
        args = schema.load(given.to_dict())
    except ma.ValidationError as error:
        abort(422, message="The query parameters are not valid.", errors={"query": error.messages})
    largest = int(current_app.config["MAX_PAGE_SIZE"])
    if args["per_page"] > largest:
        abort(
            422,
            message="The query parameters are not valid.",
            errors={"query": {"per_page": [f"Must be between 1 and {largest}."]}},
        )
    return args
