"""Services offered by the organisations: refuges, victim support, programmes, helplines."""

from __future__ import annotations

from flask.views import MethodView

from partnership_api import policy
from partnership_api.api_auth import current_actor
from partnership_api.models.partnership import Service
from partnership_api.resources.common import (
    ETAG_HEADER,
    IF_MATCH_PARAMETER,
    if_match,
    page_asked,
    shown_page,
)
from partnership_api.schemas.partnership import (
    ServiceCreateSchema,
    ServiceQueryArgsSchema,
    ServiceSchema,
    ServiceUpdateSchema,
)
from partnership_api.services import partnership, versions
from partnership_api.smorest import Blueprint, created

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
        **directory_fields(service),
    }
    if policy.sees_address(actor, service):
        shown["address"] = service.address
    return shown


def directory_fields(service: Service) -> dict:
    """The organisation admin's choices for the public directory (/oruk)."""
    return {
        "public": service.public,
        "public_id": service.public_id,
        "description": service.description,
        "eligibility": service.eligibility,
        "minimum_age": service.minimum_age,
        "maximum_age": service.maximum_age,
        "languages": service.languages or [],
        "opening_hours": service.opening_hours or [],
        "taxonomy_terms": service.taxonomy_terms,
    }


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
    @blp.response(201, ServiceSchema, headers=ETAG_HEADER)
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(
        403, description="Not the partnership admin, nor the admin of the service's organisation"
    )
    def post(self, data):
        """Add a service (partnership admin, or an org admin for their own organisation)"""
        service = partnership.create_service(current_actor(), data)
        return created(
            present(service),
            "Services.ServiceById",
            {"ETag": versions.etag_of(service)},
            service_id=service.id,
        )


@blp.route("/<int:service_id>")
class ServiceById(MethodView):
    @blp.response(200, ServiceSchema, headers=ETAG_HEADER)
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(404, description="No such service")
    def get(self, service_id):
        """Read one service, with its ETag (an address only for its own organisation)"""
        service = partnership.get_service(current_actor(), service_id)
        return present(service), {"ETag": versions.etag_of(service)}

    @blp.arguments(ServiceUpdateSchema)
    @blp.response(200, ServiceSchema, headers=ETAG_HEADER)
    @blp.doc(parameters=[IF_MATCH_PARAMETER])
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(
        403, description="Not the partnership admin, nor the admin of the service's organisation"
    )
    @blp.alt_response(404, description="No such service")
    @blp.alt_response(412, description="The service changed since the ETag sent in If-Match")
    @blp.alt_response(428, description="If-Match is missing, or names more than one version")
    def patch(self, data, service_id):
        """Change a service (partnership admin, or its own organisation's admin; If-Match)

        `facilities` is merged field by field: the fields sent change, the others stay.
        """
        actor = current_actor()
        service = partnership.get_service(actor, service_id)
        service = partnership.update_service(actor, service, data, if_match())
        return present(service), {"ETag": versions.etag_of(service)}
