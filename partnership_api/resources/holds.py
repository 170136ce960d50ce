"""Holds: one bed space kept for a referral while the refuge decides."""

from __future__ import annotations

import uuid

from flask.views import MethodView

from partnership_api.api_auth import current_actor
from partnership_api.schemas.beds import HoldCreateSchema, HoldSchema
from partnership_api.services import holds
from partnership_api.smorest import Blueprint, created

blp = Blueprint(
    "Holds",
    __name__,
    url_prefix="/api/v1/referrals",
    description=(
        "Hold one bed space at a refuge for a victim's referral, for HOLD_TTL (4 hours by "
        "default). It lapses by itself, is released when the referral is declined, withdrawn, "
        "redirected or closed, and becomes an admission when that refuge accepts it."
    ),
)


@blp.route("/<uuid:referral_id>/hold")
class ReferralHold(MethodView):
    @blp.arguments(HoldCreateSchema)
    @blp.response(201, HoldSchema)
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(403, description="Your role cannot hold bed spaces")
    @blp.alt_response(404, description="No such referral, or not one your organisation may see")
    @blp.alt_response(
        409,
        description="No such space available, the referral already holds one, or its status "
        "does not allow a hold",
    )
    def post(self, data, referral_id: uuid.UUID):
        """Hold one bed space at a refuge for this referral"""
        hold = holds.place_hold(current_actor(), referral_id, data)
        return created(hold, "Holds.ReferralHold", referral_id=referral_id)

    @blp.response(204)
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(403, description="Your role cannot hold bed spaces")
    @blp.alt_response(404, description="No such referral, or it holds no bed space")
    def delete(self, referral_id: uuid.UUID):
        """Release this referral's bed hold"""
        holds.release_hold(current_actor(), referral_id)
