"""Bed search: where a woman (and her children) can go tonight. No addresses."""

from __future__ import annotations

from flask import Response
from flask.views import MethodView

from partnership_api.api_auth import current_actor
from partnership_api.schemas.beds import BedSearchArgsSchema, BedSearchResultSchema
from partnership_api.services import bed_search
from partnership_api.smorest import Blueprint

blp = Blueprint(
    "Beds",
    __name__,
    url_prefix="/api/v1/beds",
    description="Search the county's refuges for a matching space available now",
)


@blp.route("/search")
class BedSearch(MethodView):
    @blp.rate_limited
    @blp.arguments(BedSearchArgsSchema, location="query")
    @blp.response(200, BedSearchResultSchema(many=True))
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(403, description="for_referral: your role never reads referrals")
    @blp.alt_response(
        404,
        description="for_referral: no such referral, or your organisation neither sent "
        "nor received it",
    )
    def get(self, args):
        """Find refuges with a matching space available now, freshest reports first

        With `for_referral`, the referral's household, needs and (when the risk comes from
        home) the subject's area fill every filter not given; explicit filters win, and areas
        to keep out add up.
        """
        answer = bed_search.search(current_actor(), args)
        return Response(answer.json, status=200, mimetype="application/json")
