"""The safe-accommodation duty: a resident's stay (the refuge's own organisation only) and a
refuge's commissioned bed spaces by accommodation type."""

from __future__ import annotations

import uuid

from flask.views import MethodView

from partnership_api.api_auth import current_actor
from partnership_api.schemas.safe_accommodation import (
    CommissionedSpacesReportSchema,
    CommissionedSpacesSchema,
    StayChangeSchema,
    StaySchema,
)
from partnership_api.services import commissioned_spaces, stays
from partnership_api.smorest import Blueprint

blp = Blueprint(
    "Safe accommodation",
    __name__,
    url_prefix="/api/v1",
    description=(
        "The safe-accommodation duty (Domestic Abuse Act 2021, Part 4): a resident's stay in a "
        "refuge, from admission to its end, read and recorded only by the refuge's own "
        "organisation; and each refuge's commissioned bed spaces by accommodation type"
    ),
)


@blp.route("/referrals/<uuid:referral_id>/stay")
class ReferralStay(MethodView):
    @blp.response(200, StaySchema)
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(403, description="Your role cannot read stays")
    @blp.alt_response(404, description="No stay, or not at one of your organisation's refuges")
    def get(self, referral_id: uuid.UUID):
        """Read the stay an admitted referral began (the refuge's own staff only)"""
        return stays.read(current_actor(), referral_id)

    @blp.arguments(StayChangeSchema)
    @blp.response(200, StaySchema)
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(403, description="Your role cannot record stays")
    @blp.alt_response(404, description="No stay, or not at one of your organisation's refuges")
    def patch(self, data, referral_id: uuid.UUID):
        """Record who stayed, their characteristics (with consent) and the placement authority"""
        return stays.change(current_actor(), referral_id, data)


@blp.route("/refuges/<int:refuge_id>/commissioned-spaces")
class CommissionedSpaces(MethodView):
    @blp.response(200, CommissionedSpacesSchema)
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(404, description="No such refuge")
    def get(self, refuge_id: int):
        """Read a refuge's commissioned bed spaces by accommodation type, as last reported"""
        return commissioned_spaces.read(current_actor(), refuge_id)

    @blp.arguments(CommissionedSpacesReportSchema)
    @blp.response(200, CommissionedSpacesSchema)
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(403, description="Only the refuge's own staff report its spaces")
    @blp.alt_response(404, description="No such refuge")
    def put(self, data, refuge_id: int):
        """Report a refuge's commissioned bed spaces by accommodation type (its own staff)"""
        return commissioned_spaces.report(current_actor(), refuge_id, data)
