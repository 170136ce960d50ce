"""The safe-accommodation duty: stays, commissioned bed spaces, the annual return and the
unmet-need figures."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from partnership_api.models.safe_accommodation import (
    ACCOMMODATION_TYPES,
    ADULT_SEXES,
    CHARACTERISTICS,
    DESTINATIONS,
    NOT_SUPPORTED_REASONS,
    STAY_END_REASONS,
    TRANS_STATUSES,
    UNMET_NEEDS,
)
from partnership_api.schemas.bounds import COUNT, GSS_CODE, SMALL, one_of
from partnership_api.schemas.common import EnglishAreaCode, ResponseSchema, StrictSchema
from partnership_api.schemas.stats import DAYS, SuppressedCountSchema
from partnership_api.services.safe_accommodation_return import LENGTH_BANDS
from partnership_api.services.stats import MAX_CELLS
from partnership_api.services.unmet_need import HOUSEHOLD_SIZES

MAX_ADULTS = 10
MAX_CHILDREN = 20

# --- stays ------------------------------------------------------------------------------------


class AdultSchema(StrictSchema):
    sex = ma.fields.String(required=True, validate=validate.OneOf(ADULT_SEXES))
    trans = ma.fields.String(
        required=True,
        validate=validate.OneOf(TRANS_STATUSES),
        metadata={"description": "whether the adult is trans, as the return asks"},
    )


class StayChangeSchema(StrictSchema):
    adults = ma.fields.List(
        ma.fields.Nested(AdultSchema), validate=validate.Length(min=1, max=MAX_ADULTS)
    )
    children = ma.fields.Integer(validate=validate.Range(min=0, max=MAX_CHILDREN))
    characteristics_consent = ma.fields.Boolean(
        metadata={
            "description": "the resident agreed to her characteristics being recorded; "
            "false erases any recorded"
        }
    )
    characteristics = ma.fields.List(
        ma.fields.String(validate=validate.OneOf(CHARACTERISTICS)),
        validate=validate.Length(max=len(CHARACTERISTICS)),
        metadata={"description": "the return's specialist characteristics; only with consent"},
    )
    placement_area = EnglishAreaCode(
        metadata={"description": "the local authority where she is placed (ONS GSS code)"}
    )


class AdultOutSchema(ResponseSchema):
    sex = ma.fields.String(required=True, metadata=one_of(ADULT_SEXES))
    trans = ma.fields.String(required=True, metadata=one_of(TRANS_STATUSES))


class StaySchema(ResponseSchema):
    referral_id = ma.fields.UUID(required=True)
    household_id = ma.fields.UUID(required=True)
    refuge_id = ma.fields.Integer(required=True)
    fleeing_from = ma.fields.String(allow_none=True, required=True, metadata=GSS_CODE)
    placement_area = ma.fields.String(allow_none=True, required=True, metadata=GSS_CODE)
    out_of_area = ma.fields.Boolean(allow_none=True, required=True)
    admitted_at = ma.fields.AwareDateTime(required=True)
    ended_at = ma.fields.AwareDateTime(allow_none=True, required=True)
    end_reason = ma.fields.String(
        allow_none=True, required=True, validate=validate.OneOf(STAY_END_REASONS)
    )
    end_reason_text = ma.fields.String(allow_none=True, required=True, metadata={"maxLength": 200})
    destination = ma.fields.String(
        allow_none=True, required=True, validate=validate.OneOf(DESTINATIONS)
    )
    length_of_stay_days = ma.fields.Integer(
        required=True, metadata={**COUNT, "description": "to the end of the stay, or to now"}
    )
    adults = ma.fields.List(
        ma.fields.Nested(AdultOutSchema), required=True, metadata={"maxItems": 10}
    )
    children = ma.fields.Integer(required=True, metadata={"minimum": 0, "maximum": 20})
    characteristics_consent = ma.fields.Boolean(required=True)
    characteristics = ma.fields.List(
        ma.fields.String(metadata=one_of(CHARACTERISTICS)),
        required=True,
        metadata={"maxItems": len(CHARACTERISTICS)},
    )


# --- commissioned bed spaces ------------------------------------------------------------------


class CommissionedLineSchema(StrictSchema):
    accommodation_type = ma.fields.String(
        required=True, validate=validate.OneOf(ACCOMMODATION_TYPES)
    )
    spaces = ma.fields.Integer(required=True, validate=validate.Range(min=0, max=10000))


class CommissionedSpacesReportSchema(StrictSchema):
    spaces = ma.fields.List(
        ma.fields.Nested(CommissionedLineSchema),
        required=True,
        validate=validate.Length(max=len(ACCOMMODATION_TYPES)),
        metadata={"description": "every type commissioned; a type left out has none"},
    )

    @ma.validates_schema
    def _each_type_once(self, data: dict, **_kwargs) -> None:
        kinds = [line["accommodation_type"] for line in data.get("spaces", [])]
        if len(kinds) != len(set(kinds)):
            raise ma.ValidationError("Name each accommodation type once.", field_name="spaces")


class CommissionedLineOutSchema(ResponseSchema):
    accommodation_type = ma.fields.String(required=True, metadata=one_of(ACCOMMODATION_TYPES))
    spaces = ma.fields.Integer(required=True, metadata=COUNT)


class CommissionedSpacesSchema(ResponseSchema):
    refuge_id = ma.fields.Integer(required=True)
    spaces = ma.fields.List(
        ma.fields.Nested(CommissionedLineOutSchema),
        required=True,
        metadata={"maxItems": len(ACCOMMODATION_TYPES)},
    )
    total = ma.fields.Integer(required=True, metadata=COUNT)
    reported_at = ma.fields.AwareDateTime(allow_none=True, required=True)


# --- the return -------------------------------------------------------------------------------


class ReturnQueryArgsSchema(StrictSchema):
    year = ma.fields.Integer(
        required=True,
        validate=validate.Range(min=2021, max=2999),
        metadata={
            "description": "the financial year starting 1 April of this year",
            "example": 2025,
        },
    )
    format = ma.fields.String(
        load_default="json",
        validate=validate.OneOf(("json", "csv")),
        metadata={"description": "`csv`: the same figures as a CSV ready to paste"},
    )


class ReasonCountSchema(SuppressedCountSchema):
    reason = ma.fields.String(
        required=True, metadata=one_of(dict.fromkeys((*NOT_SUPPORTED_REASONS, *STAY_END_REASONS)))
    )


class NeedCountSchema(SuppressedCountSchema):
    need = ma.fields.String(
        required=True, validate=validate.OneOf(UNMET_NEEDS), metadata=one_of(UNMET_NEEDS)
    )


class MonthSchema(ResponseSchema):
    month = ma.fields.String(
        required=True,
        metadata={"maxLength": 7, "pattern": "^[0-9]{4}-[0-9]{2}$", "example": "2025-04"},
    )
    households_referred = ma.fields.Nested(SuppressedCountSchema, required=True)
    supported = ma.fields.Nested(SuppressedCountSchema, required=True)
    not_supported = ma.fields.Nested(SuppressedCountSchema, required=True)
    not_supported_by_reason = ma.fields.List(
        ma.fields.Nested(ReasonCountSchema),
        required=True,
        metadata={"maxItems": len(NOT_SUPPORTED_REASONS)},
    )


def _count(description: str) -> ma.fields.Nested:
    return ma.fields.Nested(
        SuppressedCountSchema, required=True, metadata={"description": description}
    )


class ReturnReferralsSchema(ResponseSchema):
    households_referred = _count("households whose first referral to a refuge was in the year")
    referrals_received = _count("the referrals to refuges those households made")
    supported = _count("households admitted from any of their referrals")
    not_supported = _count("households not admitted whose last referral was declined or lapsed")
    in_progress = _count("households whose last referral is still waiting for an answer")
    not_supported_by_reason = ma.fields.List(
        ma.fields.Nested(ReasonCountSchema),
        required=True,
        metadata={"maxItems": len(NOT_SUPPORTED_REASONS)},
    )
    needs_not_met_by_need = ma.fields.List(
        ma.fields.Nested(NeedCountSchema), required=True, metadata={"maxItems": len(UNMET_NEEDS)}
    )
    by_month = ma.fields.List(
        ma.fields.Nested(MonthSchema), required=True, metadata={"maxItems": 12}
    )


class AdultCountSchema(SuppressedCountSchema):
    sex = ma.fields.String(required=True, metadata=one_of(ADULT_SEXES))
    trans = ma.fields.String(required=True, metadata=one_of(TRANS_STATUSES))


class CharacteristicCountSchema(SuppressedCountSchema):
    characteristic = ma.fields.String(required=True, metadata=one_of(CHARACTERISTICS))


class ReturnSupportedSchema(ResponseSchema):
    households = _count("households in a refuge at any time in the year")
    admitted_in_year = _count("of them, admitted in the year")
    placed_in_own_district = _count("placed in the district she fled from")
    placed_in_another_district = _count("placed out of area")
    placement_not_known = _count("either district not recorded")
    from_outside_the_partnership = _count("fleeing from a district outside the partnership")
    adults = _count("adults supported")
    adults_by_sex_and_trans_status = ma.fields.List(
        ma.fields.Nested(AdultCountSchema),
        required=True,
        metadata={"maxItems": len(ADULT_SEXES) * len(TRANS_STATUSES)},
    )
    children = _count("children supported")
    characteristics_consent_given = _count("households whose resident consented to recording")
    specialist_characteristics = ma.fields.List(
        ma.fields.Nested(CharacteristicCountSchema),
        required=True,
        metadata={"maxItems": len(CHARACTERISTICS)},
    )


class DestinationCountSchema(SuppressedCountSchema):
    destination = ma.fields.String(required=True, metadata=one_of(DESTINATIONS))


class LengthCountSchema(SuppressedCountSchema):
    length_of_stay = ma.fields.String(
        required=True, metadata=one_of([band for band, _low, _high in LENGTH_BANDS])
    )


class ReturnEndingsSchema(ResponseSchema):
    stays_ended = _count("stays that ended in the year")
    by_reason = ma.fields.List(
        ma.fields.Nested(ReasonCountSchema),
        required=True,
        metadata={"maxItems": len(STAY_END_REASONS)},
    )
    by_destination = ma.fields.List(
        ma.fields.Nested(DestinationCountSchema),
        required=True,
        metadata={"maxItems": len(DESTINATIONS)},
    )
    by_length_of_stay = ma.fields.List(
        ma.fields.Nested(LengthCountSchema),
        required=True,
        metadata={"maxItems": len([band for band, _low, _high in LENGTH_BANDS])},
    )


class BedSpacesLineSchema(ResponseSchema):
    accommodation_type = ma.fields.String(required=True, metadata=one_of(ACCOMMODATION_TYPES))
    spaces = ma.fields.Integer(required=True, metadata=COUNT)


class ReturnBedSpacesSchema(ResponseSchema):
    by_accommodation_type = ma.fields.List(
        ma.fields.Nested(BedSpacesLineSchema),
        required=True,
        metadata={"maxItems": len(ACCOMMODATION_TYPES)},
    )
    total = ma.fields.Integer(required=True, metadata=COUNT)
    as_at = ma.fields.Date(required=True, metadata={"description": "the year's last day"})


class DisclosureSchema(ResponseSchema):
    rule = ma.fields.String(required=True, metadata={"maxLength": 1000})
    suppression_threshold = ma.fields.Integer(required=True, metadata=SMALL)
    rounding_base = ma.fields.Integer(required=True, metadata=SMALL)


class SafeAccommodationReturnSchema(ResponseSchema):
    year = ma.fields.Integer(required=True, metadata={"minimum": 2021, "maximum": 2999})
    financial_year = ma.fields.String(
        required=True,
        metadata={"maxLength": 7, "pattern": "^[0-9]{4}-[0-9]{2}$", "example": "2025-26"},
    )
    from_ = ma.fields.Date(data_key="from", required=True)
    to = ma.fields.Date(required=True)
    referrals = ma.fields.Nested(ReturnReferralsSchema, required=True)
    households_supported = ma.fields.Nested(ReturnSupportedSchema, required=True)
    stays_ended = ma.fields.Nested(ReturnEndingsSchema, required=True)
    commissioned_bed_spaces = ma.fields.Nested(ReturnBedSpacesSchema, required=True)
    disclosure = ma.fields.Nested(DisclosureSchema, required=True)


# --- unmet need -------------------------------------------------------------------------------

UNMET_GROUP_BY = ("reason", "need", "household_size", "origin_area")


class UnmetNeedQueryArgsSchema(StrictSchema):
    group_by = ma.fields.List(
        ma.fields.String(validate=validate.OneOf(UNMET_GROUP_BY)),
        load_default=list,
        validate=validate.Length(max=len(UNMET_GROUP_BY)),
        metadata={"description": "repeatable: reason, need, household_size, origin_area"},
    )
    from_ = ma.fields.Date(data_key="from", validate=DAYS, metadata={"description": "UK day"})
    to = ma.fields.Date(validate=DAYS, metadata={"description": "UK day, inclusive"})

    @ma.validates_schema
    def _check(self, data: dict, **_kwargs) -> None:
        if len(set(data.get("group_by", []))) != len(data.get("group_by", [])):
            raise ma.ValidationError("Name each dimension once.", field_name="group_by")
        if "from_" in data and "to" in data and data["from_"] > data["to"]:
            raise ma.ValidationError("Must not be before 'from'.", field_name="to")


class UnmetNeedGroupSchema(SuppressedCountSchema):
    reason = ma.fields.String(validate=validate.OneOf(NOT_SUPPORTED_REASONS))
    need = ma.fields.String(allow_none=True, metadata=one_of(UNMET_NEEDS))
    household_size = ma.fields.String(metadata=one_of(HOUSEHOLD_SIZES))
    origin_area = ma.fields.String(
        metadata={
            "maxLength": 30,
            "description": "a district of the partnership, outside_the_partnership or not_known",
        }
    )


class UnmetNeedSchema(ResponseSchema):
    group_by = ma.fields.List(
        ma.fields.String(metadata=one_of(UNMET_GROUP_BY)),
        required=True,
        metadata={"maxItems": len(UNMET_GROUP_BY)},
    )
    from_ = ma.fields.Date(data_key="from", required=True)
    to = ma.fields.Date(required=True)
    groups = ma.fields.List(
        ma.fields.Nested(UnmetNeedGroupSchema), required=True, metadata={"maxItems": MAX_CELLS}
    )
    total = ma.fields.Nested(SuppressedCountSchema, required=True)
    suppression_threshold = ma.fields.Integer(required=True, metadata=SMALL)
    rounding_base = ma.fields.Integer(required=True, metadata=SMALL)
