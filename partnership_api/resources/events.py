"""The catch-up feed: every event the caller's organisation may hear, oldest first."""

from __future__ import annotations

from flask.views import MethodView

from partnership_api.api_auth import current_actor
from partnership_api.events import feed
from partnership_api.resources.common import page_asked, shown_page
from partnership_api.schemas.events import EventQueryArgsSchema, EventSchema
from partnership_api.smorest import Blueprint, json_response

blp = Blueprint(
    "Events",
    __name__,
    url_prefix="/api/v1/events",
    description=(
        "What happened, as thin events (ids only, never personal data): read the detail "
        "through the API, which checks need to know. The same events go to webhooks."
    ),
)


@blp.route("")
class Events(MethodView):
    @blp.rate_limited
    @blp.arguments(EventQueryArgsSchema, location="query")
    @blp.response(200, EventSchema(many=True))
    @blp.alt_response(401, description="Not signed in")
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """List the events your organisation may hear, oldest first

        Keep the `cursor` of the last event you read and ask again with `after=` it: a
        partner system that was down, or never set up a webhook, misses nothing. A cursor is
        your organisation's alone and tells nothing of other organisations' events: another
        organisation's cursor, or an old position number, is refused (422). A referral's
        events (and its holds' and alerts') reach only the organisations that sent and
        received it, and only roles that read referrals; availability reaches everyone;
        projects reach the commissioner's office and the project's partners.
        """
        page = feed.list_events(current_actor(), args, page_asked(pagination_parameters))
        return json_response(shown_page(page, pagination_parameters))
