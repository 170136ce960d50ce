"""Pieces shared by the schemas of every resource."""

from __future__ import annotations

import re
from collections.abc import Mapping

import marshmallow as ma
from marshmallow import validate

from partnership_api.models.partnership import AREAS

# C0 control characters (NUL included) other than tab, line feed and carriage return, DEL, C1
# controls, lone UTF-16 surrogates, and the Unicode bidirectional embeddings, overrides and
# isolates (U+202A-U+202E, U+2066-U+2069): no field needs them, a database cannot store some,
# and the bidirectional ones make a note or a name read differently from what it says.
CONTROL_CHARACTERS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]"
)
CONTROL_CHARACTERS_MESSAGE = (
    "Control characters (such as NUL) and bidirectional text overrides are not allowed."
)


def no_control_characters(value: str) -> None:
    """A validator: refuse text carrying control characters."""
    if isinstance(value, str) and CONTROL_CHARACTERS.search(value):
        raise ma.ValidationError(CONTROL_CHARACTERS_MESSAGE)


def _control_character_errors(value: object) -> object | None:
    """Errors shaped like the input, for every string (key or value) with a control character."""
    if isinstance(value, str):
        return [CONTROL_CHARACTERS_MESSAGE] if CONTROL_CHARACTERS.search(value) else None
    if isinstance(value, Mapping):
        errors = {}
        for key in value:
            if isinstance(key, str) and CONTROL_CHARACTERS.search(key):
                errors[CONTROL_CHARACTERS.sub("?", key)] = [CONTROL_CHARACTERS_MESSAGE]
                continue
            found = _control_character_errors(value.get(key))
            if found:
                errors[key] = found
        return errors or None
    if isinstance(value, list | tuple):
        errors = {
            index: found
            for index, found in enumerate(_control_character_errors(item) for item in value)
            if found
        }
        return errors or None
    return None


class StrictSchema(ma.Schema):
    """Request bodies and query strings: unknown fields are an error, never silently ignored.

    Text with control characters (NUL, escape sequences, lone surrogates) is refused with 422
    before any field is read, wherever it is: a key, a value, a nested object or a list.
    """

    class Meta:
        unknown = ma.RAISE

    @ma.pre_load
    def _refuse_control_characters(self, data, **_kwargs):
        errors = _control_character_errors(data)
        if errors:
            raise ma.ValidationError(errors if isinstance(errors, dict) else {"_schema": errors})
        return data


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
