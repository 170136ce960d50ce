"""Funds: the pots of money (Safer Streets, Safety of Women at Night) projects are paid from."""

from __future__ import annotations

from flask.views import MethodView

from partnership_api.api_auth import current_actor
from partnership_api.resources.common import (
    ETAG_HEADER,
    IF_MATCH_PARAMETER,
    if_match,
    page_asked,
    shown_page,
)
from partnership_api.schemas.funding import (
    FundCreateSchema,
    FundQueryArgsSchema,
    FundSchema,
    FundUpdateSchema,
)
from partnership_api.services import funds, versions
from partnership_api.smorest import Blueprint, created

blp = Blueprint(
    "Funds",
    __name__,
    url_prefix="/api/v1/funds",
    description="Funds the commissioner's office has won; everyone signed in reads them",
)


@blp.route("")
class Funds(MethodView):
    @blp.arguments(FundQueryArgsSchema, location="query")
    @blp.response(200, FundSchema(many=True))
    @blp.alt_response(401, description="Not signed in")
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """List funds"""
        page = funds.list_funds(current_actor(), args, page_asked(pagination_parameters))
        return shown_page(page, pagination_parameters)

    @blp.arguments(FundCreateSchema)
    @blp.response(201, FundSchema, headers=ETAG_HEADER)
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(403, description="Only the commissioner's office adds funds")
    @blp.alt_response(409, description="A fund with that name exists")
    def post(self, data):
        """Add a fund (commissioner's office)"""
        fund = funds.create_fund(current_actor(), data)
        return created(fund, "Funds.FundById", {"ETag": versions.etag_of(fund)}, fund_id=fund.id)


@blp.route("/<int:fund_id>")
class FundById(MethodView):
    @blp.response(200, FundSchema, headers=ETAG_HEADER)
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(404, description="No such fund")
    def get(self, fund_id):
        """Read one fund, with its ETag"""
        fund = funds.get_fund(current_actor(), fund_id)
        return fund, {"ETag": versions.etag_of(fund)}

    @blp.arguments(FundUpdateSchema)
    @blp.response(200, FundSchema, headers=ETAG_HEADER)
    @blp.doc(parameters=[IF_MATCH_PARAMETER])
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(403, description="Only the commissioner's office changes funds")
    @blp.alt_response(404, description="No such fund")
    @blp.alt_response(409, description="A fund with that name exists")
    @blp.alt_response(412, description="The fund changed since the ETag sent in If-Match")
    @blp.alt_response(428, description="If-Match is missing")
    def patch(self, data, fund_id):
        """Change a fund (commissioner's office; If-Match)"""
        fund = funds.update_fund(current_actor(), fund_id, data, if_match())
        return fund, {"ETag": versions.etag_of(fund)}
