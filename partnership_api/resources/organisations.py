"""Organisations of the partnership."""

from __future__ import annotations

from flask.views import MethodView

from partnership_api.api_auth import current_actor
from partnership_api.resources.common import page_asked, shown_page
from partnership_api.schemas.partnership import (
    OrganisationCreateSchema,
    OrganisationSchema,
    OrganisationUpdateSchema,
)
from partnership_api.services import partnership
from partnership_api.smorest import Blueprint, created

blp = Blueprint(
    "Organisations",
    __name__,
    url_prefix="/api/v1/organisations",
    description="The police, the commissioner's office and the providers",
)


@blp.route("")
class Organisations(MethodView):
    @blp.response(200, OrganisationSchema(many=True))
    @blp.alt_response(401, description="Not signed in")
    @blp.paginate()
    def get(self, pagination_parameters):
        """List the partnership's organisations"""
        page = partnership.list_organisations(current_actor(), page_asked(pagination_parameters))
        return shown_page(page, pagination_parameters)

    @blp.arguments(OrganisationCreateSchema)
    @blp.response(201, OrganisationSchema)
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(403, description="Only the partnership admin adds organisations")
    @blp.alt_response(409, description="An organisation with that name exists")
    def post(self, data):
        """Add an organisation (partnership admin)"""
        organisation = partnership.create_organisation(current_actor(), data)
        return created(
            organisation, "Organisations.OrganisationById", organisation_id=organisation.id
        )


@blp.route("/<int:organisation_id>")
class OrganisationById(MethodView):
    @blp.response(200, OrganisationSchema)
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(404, description="No such organisation")
    def get(self, organisation_id):
        """Read one organisation"""
        return partnership.get_organisation(current_actor(), organisation_id)

    @blp.arguments(OrganisationUpdateSchema)
    @blp.response(200, OrganisationSchema)
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(403, description="Only the partnership admin changes organisations")
    @blp.alt_response(404, description="No such organisation")
    @blp.alt_response(409, description="An organisation with that name exists")
    def patch(self, data, organisation_id):
        """Change an organisation's name, areas or registered charity and company numbers
        (partnership admin)"""
        return partnership.update_organisation(current_actor(), organisation_id, data)
