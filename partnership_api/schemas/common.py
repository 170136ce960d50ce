"""Pieces shared by the schemas of every resource."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from partnership_api.models.partnership import AREAS


class StrictSchema(ma.Schema):
    """Request bodies and query strings: unknown fields are an error, never silently ignored."""

    class Meta:
        unknown = ma.RAISE


class ResponseSchema(ma.Schema):
    """Answers list exactly the fields they declare."""

    class Meta:
        ordered = True


def AreaCode(**kwargs) -> ma.fields.String:  # noqa: N802 - a field factory reads like a field
    """An ONS GSS code of one of the county's districts."""
    return ma.fields.String(
        validate=validate.OneOf(sorted(AREAS), error="Not a district of the county: {input}."),
        metadata={"description": "ONS GSS code", "example": "E07000197"},
        **kwargs,
    )


def Text(max_length: int, **kwargs) -> ma.fields.String:  # noqa: N802
    """Free text with a length cap."""
    return ma.fields.String(validate=validate.Length(max=max_length), **kwargs)


def NonEmptyText(max_length: int, **kwargs) -> ma.fields.String:  # noqa: N802
    return ma.fields.String(validate=validate.Length(min=1, max=max_length), **kwargs)
