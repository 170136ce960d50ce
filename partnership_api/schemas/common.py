"""Pieces shared by the schemas of every resource."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

import marshmallow as ma
from marshmallow import validate

from partnership_api.models.partnership import AREAS


def _format_character_ranges() -> str:
    """Every Unicode format character (category Cf) this Python knows, as regex ranges: the
    direction marks (U+061C, U+200E/F), zero-width ones (U+200B-D, U+2060), the byte-order
    mark (U+FEFF), the soft hyphen, the tags. They live in these planes only."""
    codes = [
        code
        for block in (range(0x30000), range(0xE0000, 0xE1000))
        for code in block
        if unicodedata.category(chr(code)) == "Cf"
    ]
    ranges: list[tuple[int, int]] = []
    for code in codes:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    return "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in ranges
    )


# C0 control characters (NUL included) other than tab, line feed and carriage return, DEL, C1
# controls, lone UTF-16 surrogates, every format character (Unicode Cf: the bidirectional
# embeddings, overrides, isolates and marks, zero-width and invisible characters, the
# byte-order mark) and the line and paragraph separators (U+2028, U+2029): no field needs them,
# a database cannot store some, and the rest make a note, a name or a phone number read
# differently from what it says ("\u061c07700 900123" showed as "900123 07700"; issue 25).
CONTROL_CHARACTERS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029"
    + _format_character_ranges()
    + "]"
)
CONTROL_CHARACTERS_MESSAGE = (
    "Control characters (such as NUL), invisible formatting characters (such as direction "
    "marks and zero-width spaces) and line or paragraph separators are not allowed."
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


class FullMatch(validate.Regexp):
    """``validate.Regexp`` matched against the whole value: a pattern's ``$`` also matches
    before a trailing newline, so ``"police.officer\n"`` passed ``^…$`` (issue 25). The
    pattern (shown in the OpenAPI document) is unchanged."""

    def __call__(self, value: str) -> str:
        if self.regex.fullmatch(value) is None:
            raise ma.ValidationError(self._format_error(value))
        return value


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


def _current_english_district(value: str) -> None:
    from partnership_api.local_authorities import CURRENT

    if value not in CURRENT:
        raise ma.ValidationError(f"Not a current English local authority district: {value}.")


def EnglishAreaCode(**kwargs) -> ma.fields.String:  # noqa: N802
    """An ONS GSS code of any current English local authority district (in the county or not):
    the list shipped in ``reference/english_local_authorities.json``."""
    metadata = {
        "pattern": "^E0[6-9][0-9]{6}$",
        "example": "E07000197",
        "description": "ONS GSS code",
    }
    metadata.update(kwargs.pop("metadata", {}))
    return ma.fields.String(
        validate=[validate.Length(equal=9), _current_english_district],
        metadata=metadata,
        **kwargs,
    )


def Text(max_length: int, **kwargs) -> ma.fields.String:  # noqa: N802
    """Free text with a length cap."""
    return ma.fields.String(validate=validate.Length(max=max_length), **kwargs)


def NonEmptyText(max_length: int, **kwargs) -> ma.fields.String:  # noqa: N802
    return ma.fields.String(validate=validate.Length(min=1, max=max_length), **kwargs)
