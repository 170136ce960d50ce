"""Services offered by the organisations: refuges, victim support, programmes, helplines."""

from __future__ import annotations

from flask.views import MethodView

from partnership_api import policy
from partnership_api.auth import current_actor
from partnership_api.models.partnership import Service
from partnership_api.resources.common import page_asked, shown_page
from partnership_api.schemas.partnership import (
    ServiceCreateSchema,
    ServiceQueryArgsSchema,
    ServiceSchema,
    ServiceUpdateSchema,
)
from partnership_api.services import partnership
from partnership_api.smorest import Blueprint

blp = Blueprint(
    "Services",
    __name__,
    url_prefix="/api/v1/services",
    description="Services a referral can be addressed to",
)


def present(service: Service) -> dict:
    """A service as the caller may see it: a refuge's address only for its own organisation."""
    actor = current_actor()
    shown = {
        "id": service.id,
        "organisation_id": service.organisation_id,
        "name": service.name,
        "kind": service.kind,
        "areas": service.areas,
        "phone": service.phone,
        "hours": service.hours,
        "facilities": service.facilities or {},
        "active": service.active,
    }
    if policy.sees_address(actor, service):
        shown["address"] = service.address
    return shown


@blp.route("")
class Services(MethodView):
    @blp.arguments(ServiceQueryArgsSchema, location="query")
    @blp.response(200, ServiceSchema(many=True))
    @blp.alt_response(401, description="Not signed in")
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """List services, by kind and area"""
        page = partnership.list_services(current_actor(), args, page_asked(pagination_parameters))
        return [present(s) for s in shown_page(page, pagination_parameters)]

    @blp.arguments(ServiceCreateSchema)
    @blp.response(201, ServiceSchema)
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(
        403, description="Not the partnership admin, nor the admin of the service's organisation"
    )
    def post(self, data):
        """Add a service (partnership admin, or an org admin for their own organisation)"""
        return present(partnership.create_service(current_actor(), data))


@blp.route("/<int:service_id>")
class ServiceById(MethodView):
    @blp.response(200, ServiceSchema)
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(404, description="No such service")
    def get(self, service_id):
        """Read one service (a refuge's address only for its own organisation)"""
        return present(partnership.get_service(current_actor(), service_id))

    @blp.arguments(ServiceUpdateSchema)
    @blp.response(200, ServiceSchema)
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(
        403, description="Not the partnership admin, nor the admin of the service's organisation"
    )
    @blp.alt_response(404, description="No such service")
    def patch(self, data, service_id):
        """Change a service (partnership admin, or its own organisation's admin)"""
        actor = current_actor()
        service = partnership.get_service(actor, service_id)
        return present(partnership.update_service(actor, service, data))
