from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from partnership_api.schemas.common import ResponseSchema, StrictSchema


class LoginSchema(StrictSchema):
    username = ma.fields.String(required=True, validate=validate.Length(min=1, max=80))
    password = ma.fields.String(
        required=True, load_only=True, validate=validate.Length(min=1, max=256)
    )


class TokenPairSchema(ResponseSchema):
    access_token = ma.fields.String(required=True)
    refresh_token = ma.fields.String(required=True)
    token_type = ma.fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = ma.fields.Integer(required=True, metadata={"description": "seconds"})


class OrganisationRefSchema(ResponseSchema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)


class MeSchema(ResponseSchema):
    id = ma.fields.UUID(required=True)
    username = ma.fields.String(required=True)
    full_name = ma.fields.String()
    role = ma.fields.String(required=True)
    partnership_admin = ma.fields.Boolean(required=True)
    organisation = ma.fields.Nested(OrganisationRefSchema, required=True)
