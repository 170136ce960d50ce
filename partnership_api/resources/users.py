"""Users of each organisation, managed by its admin."""

from __future__ import annotations

import uuid

from flask.views import MethodView

from partnership_api.api_auth import current_actor
from partnership_api.resources.common import page_asked, shown_page
from partnership_api.schemas.partnership import (
    UserCreateSchema,
    UserQueryArgsSchema,
    UserSchema,
    UserUpdateSchema,
)
from partnership_api.services import partnership
from partnership_api.smorest import Blueprint, created

blp = Blueprint(
    "Users",
    __name__,
    url_prefix="/api/v1/users",
    description="Users: org admins manage their own organisation's",
)


@blp.route("")
class Users(MethodView):
    @blp.arguments(UserQueryArgsSchema, location="query")
    @blp.response(200, UserSchema(many=True))
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(403, description="Only organisation admins and the partnership admin")
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """List users (own organisation; all for the partnership admin)"""
        page = partnership.list_users(current_actor(), args, page_asked(pagination_parameters))
        return shown_page(page, pagination_parameters)

    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema)
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(
        403,
        description="Only organisation admins (in their own organisation) and the partnership "
        "admin",
    )
    @blp.alt_response(409, description="That username is taken")
    def post(self, data):
        """Create a user (in your own organisation, unless partnership admin)"""
        user = partnership.create_user(current_actor(), data)
        return created(user, "Users.UserById", user_id=user.id)


@blp.route("/<uuid:user_id>")
class UserById(MethodView):
    @blp.response(200, UserSchema)
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(403, description="Only organisation admins and the partnership admin")
    @blp.alt_response(404, description="No such user, or not one of your organisation")
    def get(self, user_id: uuid.UUID):
        """Read one user"""
        return partnership.get_user(current_actor(), user_id)

    @blp.arguments(UserUpdateSchema)
    @blp.response(200, UserSchema)
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(403, description="Only organisation admins and the partnership admin")
    @blp.alt_response(404, description="No such user, or not one of your organisation")
    def patch(self, data, user_id: uuid.UUID):
        """Change a user's role, deactivate them, or reset their password"""
        actor = current_actor()
        return partnership.update_user(actor, partnership.get_user(actor, user_id), data)
