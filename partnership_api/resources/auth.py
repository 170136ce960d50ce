"""Signing in and out."""

from __future__ import annotations

from flask.views import MethodView

from partnership_api.api_auth import current_actor, refresh_claims
from partnership_api.ratelimits import client_address
from partnership_api.schemas.auth import LoginSchema, MeSchema, TokenPairSchema
from partnership_api.services import signin
from partnership_api.smorest import Blueprint

blp = Blueprint(
    "Auth", __name__, url_prefix="/api/v1", description="Sign-in with JWT bearer tokens"
)


@blp.route("/auth/login")
class Login(MethodView):
    @blp.public
    @blp.arguments(LoginSchema)
    @blp.response(200, TokenPairSchema)
    @blp.alt_response(401, description="Wrong username or password (the same answer for both)")
    @blp.alt_response(
        429,
        description="Too many attempts from your address, or too many wrong passwords for "
        "this name from your address (Retry-After says when to try again)",
    )
    def post(self, data):
        """Sign in: an access token (15 minutes) and a refresh token"""
        return signin.login(data["username"], data["password"], client_address())


@blp.route("/auth/refresh")
class Refresh(MethodView):
    @blp.public
    @blp.doc(security=[{"bearerAuth": []}])
    @blp.response(200, TokenPairSchema)
    @blp.alt_response(401, description="Missing, expired, revoked or reused refresh token")
    @blp.alt_response(429, description="Too many failed authentications from your address")
    def post(self):
        """Rotate the refresh token (send it as Bearer); the old one stops working"""
        return signin.refresh(refresh_claims(), client_address())


@blp.route("/auth/logout")
class Logout(MethodView):
    @blp.response(204)
    @blp.alt_response(401, description="Not signed in")
    def post(self):
        """Sign out: this session's access and refresh tokens stop working at once"""
        signin.logout(current_actor())


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, MeSchema)
    @blp.alt_response(401, description="Not signed in")
    def get(self):
        """The signed-in user and their organisation"""
        actor = current_actor()
        return {
            "id": actor.user_id,
            "username": actor.username,
            "role": actor.role,
            "partnership_admin": actor.partnership_admin,
            "organisation": {"id": actor.org_id, "name": actor.org_name, "kind": actor.org_kind},
        }
