"""Funds, projects, milestones, spend, outputs, the funding summary, the 360Giving export."""

from __future__ import annotations

import re

import marshmallow as ma
from marshmallow import validate

from partnership_api.models.funding import (
    CATEGORIES,
    PERIOD_PATTERN,
    PROJECT_STATUSES,
    RAG_VALUES,
    STARTING_PROJECT_STATUSES,
)
from partnership_api.schemas.bounds import AREA, INT64, VERSION, one_of
from partnership_api.schemas.common import (
    AreaCode,
    NonEmptyText,
    ResponseSchema,
    StrictSchema,
    Text,
)

# £10 billion in pence: far beyond any award, well inside a 64-bit sum of many lines.
MAX_PENCE = 10**12
MAX_COUNT = 10**9
ID = validate.Range(min=1, max=2**31 - 1)


def Pence(**kwargs) -> ma.fields.Integer:  # noqa: N802 - a field factory reads like a field
    """Whole pence: an integer, never a float or a string of pounds."""
    return ma.fields.Integer(
        strict=True,
        validate=validate.Range(min=0, max=MAX_PENCE),
        metadata={"description": "whole pence", "example": 1234567},
        **kwargs,
    )


def Rag(**kwargs) -> ma.fields.String:  # noqa: N802
    return ma.fields.String(validate=validate.OneOf(RAG_VALUES), **kwargs)


# --- funds ---------------------------------------------------------------------------------------


class FundSchema(ResponseSchema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    funder = ma.fields.String(required=True)
    round = ma.fields.String(allow_none=True)
    description = ma.fields.String(allow_none=True)
    starts_on = ma.fields.Date(allow_none=True)
    ends_on = ma.fields.Date(allow_none=True)
    version = ma.fields.Integer(
        required=True, metadata={**VERSION, "description": "changes with every change; the ETag"}
    )
    updated_at = ma.fields.AwareDateTime()


class FundCreateSchema(StrictSchema):
    name = NonEmptyText(200, required=True)
    funder = NonEmptyText(200, required=True)
    round = Text(50, allow_none=True)
    description = Text(5000, allow_none=True)
    starts_on = ma.fields.Date(allow_none=True)
    ends_on = ma.fields.Date(allow_none=True)

    @ma.validates_schema
    def _dates_in_order(self, data, **kwargs):
        start, end = data.get("starts_on"), data.get("ends_on")
        if start and end and end < start:
            raise ma.ValidationError("Ends before it starts.", "ends_on")


class FundUpdateSchema(FundCreateSchema):
    name = NonEmptyText(200)
    funder = NonEmptyText(200)


class FundQueryArgsSchema(StrictSchema):
    funder = Text(200)


# --- projects ------------------------------------------------------------------------------------


class RagSchema(StrictSchema):
    delivery = Rag(allow_none=True)
    spend = Rag(allow_none=True)
    risk = Rag(allow_none=True)


class RagAnswerSchema(ResponseSchema):
    delivery = ma.fields.String(allow_none=True, required=True, metadata=one_of(RAG_VALUES))
    spend = ma.fields.String(allow_none=True, required=True, metadata=one_of(RAG_VALUES))
    risk = ma.fields.String(allow_none=True, required=True, metadata=one_of(RAG_VALUES))


class ProjectSchema(ResponseSchema):
    id = ma.fields.Integer(required=True)
    fund_id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    category = ma.fields.String(required=True, metadata=one_of(CATEGORIES))
    lead_organisation_id = ma.fields.Integer(required=True)
    delivery_organisation_ids = ma.fields.List(ma.fields.Integer(), required=True)
    areas = ma.fields.List(ma.fields.String(metadata=AREA), required=True)
    amount_awarded_pence = ma.fields.Integer(required=True)
    awarded_on = ma.fields.Date(allow_none=True)
    planned_start = ma.fields.Date(allow_none=True)
    planned_end = ma.fields.Date(allow_none=True)
    actual_start = ma.fields.Date(allow_none=True)
    actual_end = ma.fields.Date(allow_none=True)
    status = ma.fields.String(required=True, metadata=one_of(PROJECT_STATUSES))
    cancellation_reason = ma.fields.String(allow_none=True)
    rag = ma.fields.Nested(RagAnswerSchema, required=True)
    rag_commentary = ma.fields.String(allow_none=True)
    spent_pence = ma.fields.Integer(
        required=True, metadata={**INT64, "description": "sum of the spend lines' actual_pence"}
    )
    forecast_pence = ma.fields.Integer(
        required=True,
        metadata={
            "description": "expected outturn: each ended quarter's actual where reported, "
            "else its forecast; each quarter not yet over, its forecast; summed"
        },
    )
    # One per quarter of the project's life: at most 4 a year over a project's few years.
    periods_without_actual = ma.fields.List(
        ma.fields.String(metadata={"maxLength": 7}),
        required=True,
        metadata={
            "maxItems": 400,
            "description": "quarters that have ended with no actual reported yet (null: not "
            "known, which is not zero); spent_pence counts none of them",
        },
    )
    remaining_pence = ma.fields.Integer(
        required=True,
        metadata={**INT64, "description": "award minus spent; negative when overspent"},
    )
    overspent = ma.fields.Boolean(
        required=True, metadata={"description": "spent_pence is more than the award"}
    )
    forecast_overspend = ma.fields.Boolean(
        required=True, metadata={"description": "forecast_pence is more than the award"}
    )
    version = ma.fields.Integer(required=True, metadata=VERSION)
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()
    last_update_at = ma.fields.AwareDateTime(
        metadata={"description": "the last change to the project, its milestones, spend or outputs"}
    )


class ProjectCreateSchema(StrictSchema):
    fund_id = ma.fields.Integer(required=True, validate=ID)
    title = NonEmptyText(200, required=True)
    description = Text(5000, load_default="")
    category = ma.fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    lead_organisation_id = ma.fields.Integer(required=True, validate=ID)
    delivery_organisation_ids = ma.fields.List(
        ma.fields.Integer(validate=ID), validate=validate.Length(max=20), load_default=list
    )
    areas = ma.fields.List(AreaCode(), validate=validate.Length(max=20), load_default=list)
    amount_awarded_pence = Pence(required=True)
    awarded_on = ma.fields.Date(
        required=True,
        metadata={"description": "the day the award was made (360Giving's awardDate)"},
    )
    planned_start = ma.fields.Date(allow_none=True)
    planned_end = ma.fields.Date(allow_none=True)
    status = ma.fields.String(
        load_default="planned",
        validate=validate.OneOf(
            STARTING_PROJECT_STATUSES,
            error="A new project starts as planned or in_delivery, not {input}.",
        ),
        metadata={
            "description": "planned (the default) or in_delivery; a project is completed or "
            "cancelled later, with PATCH"
        },
    )
    actual_start = ma.fields.Date(
        metadata={"description": "in_delivery only: when delivery began (default today)"}
    )
    rag = ma.fields.Nested(RagSchema)
    rag_commentary = Text(5000, allow_none=True)

    @ma.validates_schema
    def _dates_in_order(self, data, **kwargs):
        start, end = data.get("planned_start"), data.get("planned_end")
        if start and end and end < start:
            raise ma.ValidationError("Ends before it starts.", "planned_end")
        if "actual_start" in data and data.get("status") != "in_delivery":
            raise ma.ValidationError(
                "Only a project recorded as in_delivery has started.", "actual_start"
            )


class ProjectUpdateSchema(StrictSchema):
    """Commissioner staff change any field; a delivery partner only ``rag`` and commentary."""

    fund_id = ma.fields.Integer(validate=ID)
    title = NonEmptyText(200)
    description = Text(5000)
    category = ma.fields.String(validate=validate.OneOf(CATEGORIES))
    lead_organisation_id = ma.fields.Integer(validate=ID)
    delivery_organisation_ids = ma.fields.List(
        ma.fields.Integer(validate=ID), validate=validate.Length(max=20)
    )
    areas = ma.fields.List(AreaCode(), validate=validate.Length(max=20))
    amount_awarded_pence = Pence()
    awarded_on = ma.fields.Date(metadata={"description": "corrected, never removed"})
    planned_start = ma.fields.Date(allow_none=True)
    planned_end = ma.fields.Date(allow_none=True)
    actual_start = ma.fields.Date(allow_none=True)
    actual_end = ma.fields.Date(allow_none=True)
    status = ma.fields.String(
        validate=validate.OneOf(PROJECT_STATUSES),
        metadata={
            "description": "planned → in_delivery → completed, or cancelled (with "
            "cancellation_reason) from planned or in_delivery; anything else is 409"
        },
    )
    cancellation_reason = NonEmptyText(2000)
    rag = ma.fields.Nested(RagSchema)
    rag_commentary = Text(5000, allow_none=True)


class ProjectQueryArgsSchema(StrictSchema):
    fund_id = ma.fields.Integer(validate=ID)
    status = ma.fields.String(validate=validate.OneOf(PROJECT_STATUSES))
    category = ma.fields.String(validate=validate.OneOf(CATEGORIES))
    area = AreaCode()
    rag = Rag(metadata={"description": "projects with this rating on any of the three"})
    delivery_organisation_id = ma.fields.Integer(validate=ID)


# --- milestones, spend, outputs ------------------------------------------------------------------


class MilestoneSchema(ResponseSchema):
    id = ma.fields.Integer(required=True)
    project_id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    due_on = ma.fields.Date(required=True)
    completed_on = ma.fields.Date(allow_none=True)
    overdue = ma.fields.Boolean(
        required=True, metadata={"description": "due before today and not completed"}
    )
    version = ma.fields.Integer(required=True, metadata=VERSION)
    updated_at = ma.fields.AwareDateTime()


class MilestoneCreateSchema(StrictSchema):
    title = NonEmptyText(200, required=True)
    due_on = ma.fields.Date(required=True)
    completed_on = ma.fields.Date(allow_none=True)


class MilestoneUpdateSchema(StrictSchema):
    title = NonEmptyText(200, metadata={"description": "commissioner's office only"})
    due_on = ma.fields.Date(metadata={"description": "commissioner's office only"})
    completed_on = ma.fields.Date(allow_none=True)


def PERIOD(value: str) -> None:  # noqa: N802 - used like marshmallow's validators
    """A calendar quarter written like 2026-Q3 (the whole value: no trailing newline)."""
    if not re.fullmatch(PERIOD_PATTERN, value):
        raise ma.ValidationError("A quarter written like 2026-Q3.")


class SpendLineSchema(ResponseSchema):
    id = ma.fields.Integer(required=True)
    project_id = ma.fields.Integer(required=True)
    period = ma.fields.String(
        required=True,
        metadata={"maxLength": 7, "pattern": "^(20[0-9]{2})-Q([1-4])$", "example": "2026-Q3"},
    )
    actual_pence = ma.fields.Integer(allow_none=True, required=True)
    forecast_pence = ma.fields.Integer(allow_none=True, required=True)
    version = ma.fields.Integer(required=True, metadata=VERSION)
    updated_at = ma.fields.AwareDateTime()


class SpendHistorySchema(ResponseSchema):
    at = ma.fields.AwareDateTime(required=True)
    change = ma.fields.String(
        required=True,
        validate=validate.OneOf(("reported", "corrected")),
        metadata={"description": "reported (first figures) or corrected"},
    )
    organisation_id = ma.fields.Integer(
        allow_none=True, required=True, metadata={"description": "whose user made the change"}
    )
    actual_pence = ma.fields.Integer(allow_none=True, required=True)
    forecast_pence = ma.fields.Integer(allow_none=True, required=True)


class SpendLineCreateSchema(StrictSchema):
    period = ma.fields.String(
        required=True,
        validate=[validate.Length(equal=7), PERIOD],
        metadata={"example": "2026-Q3", "pattern": PERIOD_PATTERN},
    )
    actual_pence = Pence(allow_none=True, load_default=None)
    forecast_pence = Pence(allow_none=True, load_default=None)


class SpendLineUpdateSchema(StrictSchema):
    actual_pence = Pence(allow_none=True)
    forecast_pence = Pence(allow_none=True)


class OutputSchema(ResponseSchema):
    id = ma.fields.Integer(required=True)
    project_id = ma.fields.Integer(required=True)
    metric = ma.fields.String(required=True)
    unit = ma.fields.String(required=True)
    target = ma.fields.Integer(allow_none=True, required=True)
    actual = ma.fields.Integer(required=True)
    version = ma.fields.Integer(required=True, metadata=VERSION)
    updated_at = ma.fields.AwareDateTime()


COUNT = validate.Range(min=0, max=MAX_COUNT)


class OutputCreateSchema(StrictSchema):
    metric = NonEmptyText(200, required=True, metadata={"example": "cameras installed"})
    unit = NonEmptyText(40, required=True, metadata={"example": "cameras"})
    target = ma.fields.Integer(strict=True, validate=COUNT, allow_none=True, load_default=None)
    actual = ma.fields.Integer(strict=True, validate=COUNT, load_default=0)


class OutputUpdateSchema(StrictSchema):
    metric = NonEmptyText(200, metadata={"description": "commissioner's office only"})
    unit = NonEmptyText(40, metadata={"description": "commissioner's office only"})
    target = ma.fields.Integer(
        strict=True,
        validate=COUNT,
        allow_none=True,
        metadata={"description": "commissioner's office only"},
    )
    actual = ma.fields.Integer(strict=True, validate=COUNT)
