"""Refuges: their facilities and bed spaces, reported by their own staff. Never addresses."""

from __future__ import annotations

import uuid

from flask.views import MethodView

from partnership_api.api_auth import current_actor
from partnership_api.resources.common import if_match, page_asked, shown_page
from partnership_api.schemas.beds import (
    AvailabilityReportSchema,
    AvailabilitySchema,
    AvailabilityUpdateSchema,
    HoldReleaseSchema,
    RefugeHoldSchema,
    RefugeQueryArgsSchema,
    RefugeSchema,
)
from partnership_api.services import availability, availability_report, refuge_holds
from partnership_api.smorest import Blueprint, json_response

blp = Blueprint(
    "Refuges",
    __name__,
    url_prefix="/api/v1/refuges",
    description=(
        "Refuge services, their facilities and bed spaces. `available = vacant − live holds`. "
        "A refuge's address never appears here, whoever asks."
    ),
)

ETAG_HEADER = {
    "ETag": {
        "description": "The report version; send it back as If-Match",
        "schema": {"type": "string"},
    }
}
IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": True,
    "description": "The ETag of the availability as last read",
    "schema": {"type": "string"},
}


def _with_etag(shown: dict):
    etag = availability.etag_for(shown["refuge_id"], shown["version"])
    return shown, 200, {"ETag": f'"{etag}"'}


@blp.route("")
class Refuges(MethodView):
    @blp.arguments(RefugeQueryArgsSchema, location="query")
    @blp.response(200, RefugeSchema(many=True))
    @blp.alt_response(401, description="Not signed in")
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """List refuges with their facilities and current availability"""
        page = availability.list_refuges(current_actor(), args, page_asked(pagination_parameters))
        return shown_page(page, pagination_parameters)


@blp.route("/<int:refuge_id>/availability")
class RefugeAvailability(MethodView):
    @blp.response(200, AvailabilitySchema, headers=ETAG_HEADER)
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(404, description="No such refuge")
    def get(self, refuge_id):
        """Read a refuge's bed spaces: vacant, held and available now"""
        return _with_etag(availability.read_availability(current_actor(), refuge_id))

    @blp.arguments(AvailabilityUpdateSchema)
    @blp.response(200, AvailabilitySchema, headers=ETAG_HEADER)
    @blp.doc(parameters=[IF_MATCH])
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(403, description="Only the refuge's own staff report its availability")
    @blp.alt_response(404, description="No such refuge")
    @blp.alt_response(412, description="The availability changed since it was read")
    @blp.alt_response(428, description="If-Match is missing")
    def put(self, data, refuge_id):
        """Report a refuge's bed spaces (its own staff; If-Match required)"""
        refuge = availability_report.refuge_for_report(refuge_id)
        shown = availability_report.report_availability(current_actor(), refuge, if_match(), data)
        # Plain JSON, as the schema would dump it (tests/test_lean_responses.py).
        response = json_response(shown)
        response.headers["ETag"] = _with_etag(shown)[2]["ETag"]
        return response


@blp.route("/<int:refuge_id>/availability/confirm")
class RefugeAvailabilityConfirm(MethodView):
    @blp.response(200, AvailabilitySchema, headers=ETAG_HEADER)
    @blp.doc(parameters=[IF_MATCH])
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(403, description="Only the refuge's own staff confirm its availability")
    @blp.alt_response(404, description="No such refuge")
    @blp.alt_response(412, description="The availability changed since it was read")
    @blp.alt_response(428, description="If-Match is missing")
    def post(self, refuge_id):
        """Confirm a refuge's bed spaces are still accurate (its own staff; If-Match required)

        The figures stay as they are; the report gets a new version (and ETag), a row in the
        history and the audit trail, and is no longer stale.
        """
        refuge = availability_report.refuge_for_report(refuge_id)
        shown = availability_report.confirm(current_actor(), refuge, if_match())
        response = json_response(shown)
        response.headers["ETag"] = _with_etag(shown)[2]["ETag"]
        return response


@blp.route("/<int:refuge_id>/availability/history")
class RefugeAvailabilityHistory(MethodView):
    @blp.response(200, AvailabilityReportSchema(many=True))
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(404, description="No such refuge")
    @blp.paginate()
    def get(self, refuge_id, pagination_parameters):
        """List a refuge's availability reports, newest first"""
        page = availability.availability_history(
            current_actor(), refuge_id, page_asked(pagination_parameters)
        )
        return shown_page(page, pagination_parameters)


@blp.route("/<int:refuge_id>/holds")
class RefugeHolds(MethodView):
    @blp.response(200, RefugeHoldSchema(many=True))
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(403, description="Only the refuge's own staff see the holds on its beds")
    @blp.alt_response(404, description="No such refuge")
    def get(self, refuge_id):
        """List the live holds on a refuge's beds (its own staff)

        Who placed each (their organisation), for which referral (its reference), the space
        type, and until when.
        """
        return refuge_holds.refuge_holds(current_actor(), refuge_id)


@blp.route("/<int:refuge_id>/holds/<uuid:hold_id>/release")
class RefugeHoldRelease(MethodView):
    @blp.arguments(HoldReleaseSchema)
    @blp.response(200, RefugeHoldSchema)
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(403, description="Only the refuge's own staff release holds on its beds")
    @blp.alt_response(404, description="No such refuge, or no such live hold on its beds")
    def post(self, data, refuge_id, hold_id: uuid.UUID):
        """Release a hold on the refuge's beds, with a reason (its own staff)

        The space is available again at once; the reason goes on the referral's timeline and
        in the audit trail, and the referral's sender cannot hold it again before the hold
        would have ended.
        """
        return refuge_holds.release_by_refuge(current_actor(), refuge_id, hold_id, data)
