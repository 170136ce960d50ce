"""Referral statistics: counts only, rounded to 5, small numbers (zero too) suppressed."""

from __future__ import annotations

from flask.views import MethodView

from partnership_api.auth import current_actor
from partnership_api.schemas.stats import ReferralStatsQueryArgsSchema, ReferralStatsSchema
from partnership_api.services import stats
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
