"""Signing in and out."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView

from partnership_api import auth
from partnership_api.auth import current_actor
from partnership_api.extensions import limiter
from partnership_api.schemas.auth import LoginSchema, MeSchema, TokenPairSchema
from partnership_api.services import signin
from partnership_api.smorest import Blueprint

blp = Blueprint(
    "Auth", __name__, url_prefix="/api/v1", description="Sign-in with JWT bearer tokens"
)


def _login_rate() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _account_rate() -> str:
    # The same threshold as the account lock, so an unknown username is throttled exactly
    # like a real one and the answer never tells which it was.
    config = current_app.config
    return f"{config['LOGIN_FAILURES_BEFORE_LOCK']} per {config['LOGIN_LOCK_MINUTES']} minutes"


def _login_username() -> str:
    from flask import request

    body = request.get_json(silent=True)
    name = body.get("username") if isinstance(body, dict) else None
    return f"login-user:{str(name)[:80].lower()}" if name else "login-user:-"


def _failed(response) -> bool:
    return response.status_code in (401, 429)


@blp.route("/auth/login")
class Login(MethodView):
    decorators = [
        limiter.limit(_login_rate, scope="login-address"),
        limiter.limit(
            _account_rate, key_func=_login_username, deduct_when=_failed, scope="login-account"
        ),
    ]

    @blp.public
    @blp.arguments(LoginSchema)
    @blp.response(200, TokenPairSchema)
    @blp.alt_response(401, description="Wrong username or password (the same answer for both)")
    @blp.alt_response(429, description="Too many attempts; the account or address is locked")
    def post(self, data):
        """Sign in: an access token (15 minutes) and a refresh token"""
        return signin.login(data["username"], data["password"])


@blp.route("/auth/refresh")
class Refresh(MethodView):
    @blp.public
    @blp.doc(security=[{"bearerAuth": []}])
    @blp.response(200, TokenPairSchema)
    @blp.alt_response(401, description="Missing, expired, revoked or reused refresh token")
    def post(self):
        """Rotate the refresh token (send it as Bearer); the old one stops working"""
        return signin.refresh(auth.bearer_claims(refresh=True))


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
