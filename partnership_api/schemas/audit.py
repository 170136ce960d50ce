"""The audit trail as the API shows it: who did what to what, when, from where, and the outcome."""

from __future__ import annotations

from datetime import UTC, datetime

import marshmallow as ma
from marshmallow import validate

from partnership_api.schemas.bounds import USERNAME_LENGTH
from partnership_api.schemas.common import FullMatch, ResponseSchema, StrictSchema

OUTCOMES = ("allowed", "refused")
DB_ID = validate.Range(min=1, max=2**31 - 1)
CODE = FullMatch(r"^[a-z0-9_.]+$", error="Lower-case letters, digits, '_' and '.' only.")
RESOURCE_ID = FullMatch(r"^[A-Za-z0-9._:-]+$", error="Not a resource id.")
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, tzinfo=UTC)


def _time_in_range(value: datetime) -> None:
    if not EARLIEST <= value <= LATEST:
        raise ma.ValidationError("Must be between the years 2000 and 2999.")


class AuditEventSchema(ResponseSchema):
    id = ma.fields.UUID(
        required=True,
        metadata={"description": "the event's own id (random: not its place in the chain)"},
    )
    at = ma.fields.AwareDateTime(required=True)
    user_id = ma.fields.UUID(
        allow_none=True,
        metadata={"description": "null for another organisation's users (see organisation_id)"},
    )
    username = ma.fields.String(
        allow_none=True,
        metadata={
            **USERNAME_LENGTH,
            "description": "null for another organisation's users (see organisation_id)",
        },
    )
    organisation_id = ma.fields.Integer(
        allow_none=True, metadata={"description": "the organisation of the user who acted"}
    )
    action = ma.fields.String(required=True, metadata={"example": "referral.read"})
    resource_type = ma.fields.String(required=True, metadata={"example": "referral"})
    resource_id = ma.fields.String(allow_none=True)
    request_id = ma.fields.String(allow_none=True, metadata={"maxLength": 64})
    client_address = ma.fields.String(
        allow_none=True,
        metadata={"maxLength": 64, "description": "null for another organisation's users"},
    )
    outcome = ma.fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    subject_organisation_id = ma.fields.Integer(
        allow_none=True, metadata={"description": "the organisation the record is about"}
    )
    related_organisation_id = ma.fields.Integer(
        allow_none=True, metadata={"description": "another organisation the record is about"}
    )
    details = ma.fields.Dict(
        allow_none=True, metadata={"description": "codes and field names only, no personal data"}
    )
    prev_hash = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            "maxLength": 64,
            "pattern": "^[0-9a-f]{64}$",
            "description": "hash of the event before (the partnership admin only)",
        },
    )
    hash = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            "maxLength": 64,
            "pattern": "^[0-9a-f]{64}$",
            "description": "SHA-256 of this event (the partnership admin only)",
        },
    )


class AuditEventQueryArgsSchema(StrictSchema):
    user_id = ma.fields.UUID()
    organisation_id = ma.fields.Integer(
        validate=DB_ID, metadata={"description": "the acting user's organisation"}
    )
    action = ma.fields.String(
        validate=[validate.Length(min=1, max=60), CODE], metadata={"example": "referral.read"}
    )
    resource_type = ma.fields.String(
        validate=[validate.Length(min=1, max=40), CODE], metadata={"example": "referral"}
    )
    resource_id = ma.fields.String(validate=[validate.Length(min=1, max=64), RESOURCE_ID])
    outcome = ma.fields.String(validate=validate.OneOf(OUTCOMES))
    from_ = ma.fields.AwareDateTime(
        data_key="from",
        default_timezone=UTC,
        validate=_time_in_range,
        metadata={"description": "events at or after this time (UTC when no offset is given)"},
    )
    to = ma.fields.AwareDateTime(
        default_timezone=UTC,
        validate=_time_in_range,
        metadata={"description": "events before this time (UTC when no offset is given)"},
    )

    @ma.validates_schema
    def _range(self, data: dict, **_kwargs) -> None:
        if "from_" in data and "to" in data and data["from_"] > data["to"]:
            raise ma.ValidationError("Must not be before 'from'.", field_name="to")
