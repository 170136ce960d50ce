"""The audit trail: read-only, for organisation admins and the partnership admin."""

from __future__ import annotations

from flask.views import MethodView

from partnership_api.api_auth import current_actor
from partnership_api.resources.common import page_asked, shown_page
from partnership_api.schemas.audit import AuditEventQueryArgsSchema, AuditEventSchema
from partnership_api.services import audit_trail
from partnership_api.smorest import Blueprint

blp = Blueprint(
    "Audit",
    __name__,
    url_prefix="/api/v1/audit-events",
    description=(
        "The tamper-evident audit trail: who read or changed what, when, from where, and "
        "whether it was allowed. It cannot be changed through the API."
    ),
)


@blp.route("")
class AuditEvents(MethodView):
    @blp.rate_limited
    @blp.arguments(AuditEventQueryArgsSchema, location="query")
    @blp.response(200, AuditEventSchema(many=True))
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(403, description="Only organisation admins and the partnership admin")
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """List audit events, newest first (own organisation's; all for the partnership admin)"""
        page = audit_trail.list_events(current_actor(), args, page_asked(pagination_parameters))
        return shown_page(page, pagination_parameters)
