"""Referral statistics: counts only, small numbers suppressed."""

from __future__ import annotations

from datetime import date

import marshmallow as ma
from marshmallow import validate

from partnership_api.models.referrals import REFERRAL_KINDS, RISK_LEVELS, STATUSES
from partnership_api.schemas.bounds import AREA, COUNT, INT32_MAX, one_of
from partnership_api.schemas.common import ResponseSchema, StrictSchema

GROUP_BY = ("month", "kind", "risk_level", "status", "to_organisation", "area")
DAYS = validate.Range(
    min=date(2000, 1, 1), max=date(2999, 12, 31), error="Must be between 2000 and 2999."
)


class ReferralStatsQueryArgsSchema(StrictSchema):
    group_by = ma.fields.List(
        ma.fields.String(validate=validate.OneOf(GROUP_BY)),
        load_default=list,
        validate=validate.Length(max=len(GROUP_BY)),
        metadata={"description": "repeatable; the dimensions to count by"},
    )
    from_ = ma.fields.Date(
        data_key="from",
        validate=DAYS,
        metadata={"description": "referrals made on or after this day (UTC)"},
    )
    to = ma.fields.Date(
        validate=DAYS, metadata={"description": "referrals made on or before this day (UTC)"}
    )

    @ma.validates_schema
    def _check(self, data: dict, **_kwargs) -> None:
        if len(set(data.get("group_by", []))) != len(data.get("group_by", [])):
            raise ma.ValidationError("Name each dimension once.", field_name="group_by")
        if "from_" in data and "to" in data and data["from_"] > data["to"]:
            raise ma.ValidationError("Must not be before 'from'.", field_name="to")


class SuppressedCountSchema(ResponseSchema):
    count = ma.fields.Integer(
        allow_none=True,
        required=True,
        metadata={
            **COUNT,
            "description": "rounded to the nearest 5; null when suppressed (0 to 4)",
        },
    )
    suppressed = ma.fields.Boolean(required=True)


class StatsGroupSchema(SuppressedCountSchema):
    month = ma.fields.String(
        metadata={"maxLength": 7, "pattern": "^[0-9]{4}-[0-9]{2}$", "example": "2026-11"}
    )
    kind = ma.fields.String(metadata=one_of(REFERRAL_KINDS))
    risk_level = ma.fields.String(metadata=one_of(RISK_LEVELS))
    status = ma.fields.String(metadata=one_of(STATUSES))
    to_organisation = ma.fields.Integer(
        metadata={
            "minimum": 1,
            "maximum": INT32_MAX,
            "description": "receiving organisation's id",
        }
    )
    area = ma.fields.String(allow_none=True, metadata={**AREA, "description": "ONS GSS code"})


class ReferralStatsSchema(ResponseSchema):
    group_by = ma.fields.List(ma.fields.String(metadata=one_of(GROUP_BY)), required=True)
    from_ = ma.fields.Date(data_key="from", allow_none=True)
    to = ma.fields.Date(allow_none=True)
    groups = ma.fields.List(ma.fields.Nested(StatsGroupSchema), required=True)
    total = ma.fields.Nested(SuppressedCountSchema, required=True)
    suppression_threshold = ma.fields.Integer(
        required=True,
        metadata={
            "minimum": 1,
            "maximum": 1000,
            "description": "counts below this, zero included, are null",
        },
    )
    rounding_base = ma.fields.Integer(
        required=True,
        metadata={
            "minimum": 1,
            "maximum": 100,
            "format": "int32",
            "description": "every other count is rounded to a multiple of it",
        },
    )
