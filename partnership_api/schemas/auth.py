from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from partnership_api.models.partnership import ORGANISATION_KINDS, ROLES
from partnership_api.schemas.bounds import INT32_MAX, NAME_LENGTH, one_of
from partnership_api.schemas.common import ResponseSchema, StrictSchema


class LoginSchema(StrictSchema):
    username = ma.fields.String(required=True, validate=validate.Length(min=1, max=80))
    password = ma.fields.String(
        required=True, load_only=True, validate=validate.Length(min=1, max=256)
    )


class TokenPairSchema(ResponseSchema):
    access_token = ma.fields.String(required=True, metadata={"maxLength": 2048})
    refresh_token = ma.fields.String(required=True, metadata={"maxLength": 2048})
    token_type = ma.fields.String(
        required=True, metadata={**one_of(("Bearer",)), "example": "Bearer"}
    )
    expires_in = ma.fields.Integer(
        required=True, metadata={"minimum": 1, "maximum": INT32_MAX, "description": "seconds"}
    )


class OrganisationRefSchema(ResponseSchema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True, metadata=NAME_LENGTH)
    kind = ma.fields.String(required=True, metadata=one_of(ORGANISATION_KINDS))


class MeSchema(ResponseSchema):
    id = ma.fields.UUID(required=True)
    username = ma.fields.String(required=True)
    full_name = ma.fields.String(metadata=NAME_LENGTH)
    role = ma.fields.String(required=True, metadata=one_of(ROLES))
    partnership_admin = ma.fields.Boolean(required=True)
    organisation = ma.fields.Nested(OrganisationRefSchema, required=True)
