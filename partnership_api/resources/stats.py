"""Referral statistics: counts only, rounded to 5, small numbers (zero too) suppressed."""

from __future__ import annotations

from flask import Response
from flask.views import MethodView

from partnership_api.api_auth import current_actor
from partnership_api.schemas.safe_accommodation import (
    ReturnQueryArgsSchema,
    SafeAccommodationReturnSchema,
    UnmetNeedQueryArgsSchema,
    UnmetNeedSchema,
)
from partnership_api.schemas.stats import ReferralStatsQueryArgsSchema, ReferralStatsSchema
from partnership_api.services import safe_accommodation_return, stats, unmet_need
from partnership_api.smorest import Blueprint

blp = Blueprint(
    "Statistics",
    __name__,
    url_prefix="/api/v1/stats",
    description=(
        "Referral figures for commissioning and oversight: counts only, never personal data; "
        "every cell is listed, counts from 0 to 4 are suppressed alike and all others rounded "
        "to the nearest 5, so no two figures differ by a count from 1 to 4"
    ),
)


@blp.route("/referrals")
class ReferralStatistics(MethodView):
    @blp.rate_limited
    @blp.arguments(ReferralStatsQueryArgsSchema, location="query")
    @blp.response(200, ReferralStatsSchema)
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(422, description="A bad question, or a table of too many cells")
    def get(self, args):
        """Count referrals by month, kind, risk level, status, receiving organisation or area

        The commissioner's office (its analysts too) counts the whole partnership; everyone
        else counts their own organisation's referrals, sent or received. Every cell is listed,
        empty ones too; counts from 0 to 4 are suppressed alike and every other count (and the
        total) is rounded to the nearest 5, so subtracting one published figure from another,
        across questions, date ranges or groupings, never gives a count from 1 to 4. A table
        of more than 5,000 cells is a 422: ask a narrower question.
        """
        return stats.referral_statistics(current_actor(), args)


# The return as JSON, or (``format=csv``) the same figures as CSV.
RETURN_CONTENT = {
    "application/json": {"schema": {"$ref": "#/components/schemas/SafeAccommodationReturn"}},
    "text/csv": {"schema": {"type": "string", "maxLength": 1000000}},
}


@blp.route("/safe-accommodation-return")
class SafeAccommodationReturn(MethodView):
    @blp.rate_limited
    @blp.arguments(ReturnQueryArgsSchema, location="query")
    @blp.response(
        200,
        SafeAccommodationReturnSchema,
        description="The return; with `format=csv`, the same figures as text/csv "
        "(section, measure, category, value; a suppressed figure is `[c]`)",
    )
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(403, description="Only the commissioner's office reads the return")
    @blp.alt_response(422, description="No such year")
    @blp.doc(responses={"200": {"description": "The return", "content": RETURN_CONTENT}})
    def get(self, args):
        """The annual safe-accommodation return of a financial year (April to March)

        Every figure the council returns under the Domestic Abuse Act 2021 (Part 4): households
        referred to refuges, supported and not supported (by reason and unmet need, month by
        month), who was supported (adults by sex and trans status, children, specialist
        characteristics given with consent), how stays ended (reason, destination, length),
        and commissioned bed spaces by accommodation type. Counts of people and households are
        rounded to the nearest 5, and counts from 0 to 4 suppressed alike: see `disclosure`.
        """
        answer = safe_accommodation_return.safe_accommodation_return(current_actor(), args["year"])
        if args["format"] == "csv":
            filename = f"safe-accommodation-return-{answer['financial_year']}.csv"
            return Response(
                safe_accommodation_return.as_csv(answer),
                mimetype="text/csv",
                headers={"Content-Disposition": f'attachment; filename="{filename}"'},
            )
        return answer


@blp.route("/unmet-need")
class UnmetNeed(MethodView):
    @blp.rate_limited
    @blp.arguments(UnmetNeedQueryArgsSchema, location="query")
    @blp.response(200, UnmetNeedSchema)
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(403, description="Only the commissioner's office reads these figures")
    @blp.alt_response(422, description="A bad question, or a table of too many cells")
    def get(self, args):
        """Households that could not be placed in a refuge, and why, for the needs assessment

        Households whose first referral to a refuge was made in the range and who were not
        supported, grouped by the reason of their last refusal, the unmet need, household size
        (adults and children) or the area she fled from. Every cell is listed; counts are
        rounded to 5 and those from 0 to 4 suppressed, as everywhere.
        """
        return unmet_need.unmet_need(current_actor(), args)
