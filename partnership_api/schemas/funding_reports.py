"""Schemas of the funding summary and the 360Giving export."""

from __future__ import annotations

import marshmallow as ma

from partnership_api.models.funding import PROJECT_STATUSES
from partnership_api.schemas.bounds import ATTENTION_CODES, COUNT, INT64, one_of
from partnership_api.schemas.common import ResponseSchema

# --- the summary ---------------------------------------------------------------------------------


class RagCountsSchema(ResponseSchema):
    green = ma.fields.Integer(required=True, metadata=COUNT)
    amber = ma.fields.Integer(required=True, metadata=COUNT)
    red = ma.fields.Integer(required=True, metadata=COUNT)
    not_rated = ma.fields.Integer(required=True, metadata=COUNT)


class RagCountsByDimensionSchema(ResponseSchema):
    delivery = ma.fields.Nested(RagCountsSchema, required=True)
    spend = ma.fields.Nested(RagCountsSchema, required=True)
    risk = ma.fields.Nested(RagCountsSchema, required=True)


class StatusCountsSchema(ResponseSchema):
    planned = ma.fields.Integer(required=True, metadata=COUNT)
    in_delivery = ma.fields.Integer(required=True, metadata=COUNT)
    completed = ma.fields.Integer(required=True, metadata=COUNT)
    cancelled = ma.fields.Integer(required=True, metadata=COUNT)


class TotalsSchema(ResponseSchema):
    project_count = ma.fields.Integer(required=True, metadata=COUNT)
    awarded_pence = ma.fields.Integer(required=True, metadata=INT64)
    spent_pence = ma.fields.Integer(required=True, metadata=INT64)
    forecast_pence = ma.fields.Integer(required=True, metadata=INT64)
    remaining_pence = ma.fields.Integer(required=True, metadata=INT64)
    by_status = ma.fields.Nested(StatusCountsSchema, required=True)
    by_rag = ma.fields.Nested(RagCountsByDimensionSchema, required=True)


class FundTotalsSchema(TotalsSchema):
    fund_id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    funder = ma.fields.String(required=True)


class AttentionReasonSchema(ResponseSchema):
    code = ma.fields.String(
        required=True,
        metadata={
            **one_of(ATTENTION_CODES),
            "description": "red_rag, overdue_milestones, spend_not_reported (an ended quarter "
            "without its actual), spend_ahead_of_time, spend_behind_time (not said while "
            "actuals are missing), no_recent_update or overspent",
        },
    )
    message = ma.fields.String(required=True, metadata={"maxLength": 200})


class AttentionSchema(ResponseSchema):
    project_id = ma.fields.Integer(required=True)
    fund_id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata=one_of(PROJECT_STATUSES))
    lead_organisation_id = ma.fields.Integer(required=True)
    reasons = ma.fields.List(
        ma.fields.Nested(AttentionReasonSchema),
        required=True,
        metadata={"maxItems": len(ATTENTION_CODES)},
    )


class ThresholdsSchema(ResponseSchema):
    spend_time_gap_points = ma.fields.Integer(
        required=True, metadata={"minimum": 0, "maximum": 100}
    )
    no_update_days = ma.fields.Integer(required=True, metadata={"minimum": 1, "maximum": 3660})


class FundingSummarySchema(ResponseSchema):
    as_of = ma.fields.Date(required=True)
    thresholds = ma.fields.Nested(ThresholdsSchema, required=True)
    overall = ma.fields.Nested(TotalsSchema, required=True)
    funds = ma.fields.List(ma.fields.Nested(FundTotalsSchema), required=True)
    attention = ma.fields.List(ma.fields.Nested(AttentionSchema), required=True)


# --- the 360Giving export ------------------------------------------------------------------------


class PublisherSchema(ResponseSchema):
    identifier = ma.fields.String(metadata={"maxLength": 200})
    name = ma.fields.String(required=True)


class LeftOutSchema(ResponseSchema):
    project_id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True, metadata={"maxLength": 200})
    reason = ma.fields.String(
        required=True,
        metadata={
            "description": "no_award_date: the project has no awarded_on",
            "enum": ["no_award_date"],
        },
    )
    message = ma.fields.String(required=True, metadata={"maxLength": 200})


class ExportReportSchema(ResponseSchema):
    """Not part of the 360Giving standard: what the publisher must fix before publishing."""

    left_out = ma.fields.List(
        ma.fields.Nested(LeftOutSchema),
        required=True,
        metadata={"description": "projects not exported as grants, and why"},
    )


class GrantPackageSchema(ResponseSchema):
    """A 360Giving data package (standard 1.4): each grant as the standard's schema gives it."""

    title = ma.fields.String()
    description = ma.fields.String()
    identifier = ma.fields.String(metadata={"maxLength": 200})
    issued = ma.fields.String(metadata={"maxLength": 32, "format": "date-time"})
    modified = ma.fields.String(metadata={"maxLength": 32, "format": "date-time"})
    version = ma.fields.String(metadata={"maxLength": 10})
    publisher = ma.fields.Nested(PublisherSchema)
    grants = ma.fields.List(
        ma.fields.Dict(),
        required=True,
        metadata={"description": "360Giving grants (amounts in pounds, as the standard requires)"},
    )
    report = ma.fields.Nested(
        ExportReportSchema,
        required=True,
        metadata={"description": "for the publisher, not the standard: projects left out"},
    )
