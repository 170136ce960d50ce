"""Referrals between partner organisations: making them, the inbox and outbox, the lifecycle."""

from __future__ import annotations

import uuid

from flask.views import MethodView

from partnership_api.api_auth import current_actor
from partnership_api.resources.common import page_asked, shown_page
from partnership_api.schemas.referrals import (
    IdempotencyHeaderSchema,
    NoteCreateSchema,
    ReferralCreateSchema,
    ReferralEventSchema,
    ReferralQueryArgsSchema,
    ReferralSchema,
    TransitionSchema,
)
from partnership_api.services import referral_lists, referral_reads, referrals
from partnership_api.smorest import Blueprint, created, json_response

blp = Blueprint(
    "Referrals",
    __name__,
    url_prefix="/api/v1/referrals",
    description="Referrals between partner organisations, seen only by the organisation that "
    "sent and the one that received each",
)

NOT_SIGNED_IN = "Not signed in"
NO_REFERRALS = "Your role never reads referrals (the commissioner's office, analysts)"
NOT_VISIBLE = "No such referral, or your organisation neither sent nor received it"


@blp.route("")
class Referrals(MethodView):
    @blp.rate_limited
    @blp.arguments(ReferralQueryArgsSchema, location="query")
    @blp.response(200, ReferralSchema(many=True))
    @blp.alt_response(401, description=NOT_SIGNED_IN)
    @blp.alt_response(403, description=NO_REFERRALS)
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """List your organisation's referrals, sent and received, newest first

        `X-Pagination`'s `total` is exact up to 1,000 referrals past the start of the page
        asked for; when more match it reads start + 1,000, so `next_page` is always right and
        `total_pages` grows as you page on.
        """
        page = referral_lists.list_referrals(
            current_actor(), args, page_asked(pagination_parameters)
        )
        return json_response(shown_page(page, pagination_parameters))

    @blp.arguments(IdempotencyHeaderSchema, location="headers")
    @blp.arguments(ReferralCreateSchema)
    @blp.response(201, ReferralSchema)
    @blp.alt_response(
        200,
        schema=ReferralSchema,
        success=True,
        description="A retry with the same Idempotency-Key and body: the original referral; "
        "nothing was created",
    )
    @blp.alt_response(401, description=NOT_SIGNED_IN)
    @blp.alt_response(403, description="Your role cannot make referrals")
    def post(self, headers, data):
        """Make a referral (police; providers onward)

        A victim referral goes to a refuge or victim support service, a perpetrator referral
        to a perpetrator programme (422 naming `to_service_id` otherwise). A DASH score of 14
        or more needs `risk_level` high. Without consent, `consent.lawful_basis` and
        `consent.rationale` are required. Send an `Idempotency-Key`: a retry with the same key
        and body answers 200 with the original referral; the same key with another body, 422.
        """
        shown, made = referrals.create(current_actor(), data, headers.get("idempotency_key"))
        if not made:
            return shown, 200, {"Idempotent-Replayed": "true"}
        return created(shown, "Referrals.ReferralById", referral_id=shown["id"])


@blp.route("/<uuid:referral_id>")
class ReferralById(MethodView):
    @blp.response(200, ReferralSchema)
    @blp.alt_response(401, description=NOT_SIGNED_IN)
    @blp.alt_response(403, description=NO_REFERRALS)
    @blp.alt_response(404, description=NOT_VISIBLE)
    def get(self, referral_id: uuid.UUID):
        """Read one referral (its sender and its recipient only; every read is audited)"""
        return json_response(referral_reads.read(current_actor(), referral_id))


@blp.route("/<uuid:referral_id>/transitions")
class ReferralTransitions(MethodView):
    @blp.arguments(TransitionSchema)
    @blp.response(200, ReferralSchema)
    @blp.alt_response(401, description=NOT_SIGNED_IN)
    @blp.alt_response(
        403,
        description="Your role cannot act on referrals, or this action is the other "
        "organisation's (only the recipient accepts, declines, redirects or closes; only the "
        "sender withdraws)",
    )
    @blp.alt_response(404, description=NOT_VISIBLE)
    @blp.alt_response(
        409, description="The action does not fit the referral's status (the message names it)"
    )
    def post(self, data, referral_id: uuid.UUID):
        """Accept, decline, redirect, withdraw or close a referral

        `submitted` → `accepted` | `declined` (needs `reason_code`) | `redirected` (needs
        `to_service_id`; makes a new submitted referral to that service, carrying the same
        details, linked both ways) | `withdrawn`; `accepted` → `closed` (needs `outcome`).
        """
        return referrals.transition(current_actor(), referral_id, data)


@blp.route("/<uuid:referral_id>/events")
class ReferralEvents(MethodView):
    @blp.response(200, ReferralEventSchema(many=True))
    @blp.alt_response(401, description=NOT_SIGNED_IN)
    @blp.alt_response(403, description=NO_REFERRALS)
    @blp.alt_response(404, description=NOT_VISIBLE)
    def get(self, referral_id: uuid.UUID):
        """A referral's timeline, oldest first (append-only)"""
        return referral_reads.events(current_actor(), referral_id)


@blp.route("/<uuid:referral_id>/notes")
class ReferralNotes(MethodView):
    @blp.arguments(NoteCreateSchema)
    @blp.response(201, ReferralEventSchema)
    @blp.alt_response(401, description=NOT_SIGNED_IN)
    @blp.alt_response(403, description="Your role cannot act on referrals")
    @blp.alt_response(404, description=NOT_VISIBLE)
    def post(self, data, referral_id: uuid.UUID):
        """Add a note to a referral's timeline"""
        note = referrals.add_note(current_actor(), referral_id, data["text"])
        return created(note, "Referrals.ReferralEvents", referral_id=referral_id)
