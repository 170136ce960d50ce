"""Referral statistics: counts only, small numbers suppressed."""

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
        "any count from 1 to 4 is suppressed, and totals cannot give a suppressed count away"
    ),
)


@blp.route("/referrals")
class ReferralStatistics(MethodView):
    @blp.rate_limited
    @blp.arguments(ReferralStatsQueryArgsSchema, location="query")
    @blp.response(200, ReferralStatsSchema)
    @blp.alt_response(401, description="Not signed in")
    def get(self, args):
        """Count referrals by month, kind, risk level, status, receiving organisation or area

        The commissioner's office (its analysts too) counts the whole partnership; everyone
        else counts their own organisation's referrals, sent or received. Counts from 1 to 4
        are suppressed, and further cells (or the total) are suppressed where a total would
        otherwise let a suppressed count be worked out by subtraction.
        """
        return stats.referral_statistics(current_actor(), args)
