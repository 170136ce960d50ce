"""The API door's sign-in: the hook that signs in every protected request.

Every route is protected unless its view is marked public (``smorest.mark_public``). The hook
asks flask-jwt-extended to verify the bearer token (HS256 only, signature, expiry, not-before,
type: ``verify_jwt_in_request``) and gives it the two loaders it asks on the way: whether the
token's session is over (``token_in_blocklist_loader``) and who the caller is
(``user_lookup_loader``). Both are answered by the one query of ``auth.load_actor`` (user,
organisation and session together), made once, by the first: a logged-out session or a
deactivated user is refused at once. A refused token is a 401 counted against the caller's
address (``services/throttle.py``), 429 past its limit.
"""

from __future__ import annotations

from flask import Flask, g, request
from flask_jwt_extended import get_current_user, get_jwt, verify_jwt_in_request
from flask_jwt_extended.exceptions import JWTExtendedException, RevokedTokenError, UserLookupError
from flask_smorest import abort
from jwt.exceptions import PyJWTError
from werkzeug.exceptions import NotFound

from partnership_api import auth
from partnership_api.database import db
from partnership_api.extensions import jwt
from partnership_api.policy import Actor
from partnership_api.ratelimits import client_address
from partnership_api.smorest import is_page_endpoint, is_public, is_read_only
from partnership_api.transactions import end_read

# Endpoints that usually answer from a cache, with nothing more from the database: their
# session check borrows a pooled connection of its own, so that no ORM session is made
# (``direct.signed_in``). The same statement and guarantees either way; only the cost differs.
CHECKED_ALONE = frozenset({"Beds.BedSearch"})

# A token's session ended, or its user deactivated: told apart from a bad token in the count.
_ENDED = (RevokedTokenError, UserLookupError)
_REFUSED = (JWTExtendedException, PyJWTError, ValueError, KeyError, TypeError)


def current_actor() -> Actor:
    """The caller of this request (set by the sign-in hook)."""
    actor = g.get("actor")
    if actor is None:  # pragma: no cover - the auth hook guarantees an actor on protected views
        abort(401, message="Authentication required.")
    return actor


def _refuse_token(reason: str) -> None:
    """401, counted against the client's address: its first failure in a window is audited
    (one event however many follow), and past ``AUTH_FAILURE_LIMIT`` the answer is 429."""
    from partnership_api.services import throttle

    address = client_address()
    if throttle.failed_authentication(address, "auth.token", reason):
        abort(
            429,
            message="Too many failed authentications. Try again later.",
            headers={"Retry-After": str(throttle.retry_after(throttle.address_key(address)))},
        )
    abort(401, message="A valid access token is required.")


@jwt.token_verification_loader
def _has_every_claim(_header: dict, claims: dict) -> bool:
    """Only a token with every claim this API writes (``auth.REQUIRED_CLAIMS``) is valid."""
    return all(name in claims for name in auth.REQUIRED_CLAIMS)


@jwt.token_in_blocklist_loader
def _session_is_over(_header: dict, claims: dict) -> bool:
    """An access token's session is over (signed out, revoked, expired) or its user is
    deactivated: read with the caller in one query, kept for ``_caller``. A refresh token's
    session is checked by ``signin.refresh``, with its reuse."""
    if claims.get("type") != "access" or not _has_every_claim(_header, claims):
        return False  # a token short of a claim is refused as invalid, next
    g.signing_in = auth.load_actor(claims, alone=request.endpoint in CHECKED_ALONE)
    return g.signing_in is None


@jwt.user_lookup_loader
def _caller(_header: dict, claims: dict) -> Actor | dict | None:
    """The caller the session check read (no second query); for a refresh token, its claims."""
    if claims.get("type") != "access":
        return claims
    return g.pop("signing_in", None)


def refresh_claims() -> dict | None:
    """The verified claims of this request's bearer refresh token; None when absent or
    invalid (``signin.refresh`` counts that)."""
    try:
        verify_jwt_in_request(refresh=True)
    except _REFUSED:
        return None
    return get_jwt()


def init_auth(app: Flask) -> None:
    @app.teardown_request
    def end_read_without_transaction(_error) -> None:
        # The session normally ends with the app context; this matters where one context
        # serves several requests (tests): a write must never inherit a read's connection.
        end_read(db.session)

    @app.before_request
    def sign_in_request() -> None:
        g.actor = None
        g.read_only = False
        g.pop("bed_search_generation", None)
        adapter_endpoint = request.endpoint
        if adapter_endpoint is None:
            raise request.routing_exception or NotFound()
        view = app.view_functions.get(adapter_endpoint)
        if (
            view is None
            or adapter_endpoint == "static"
            or is_public(adapter_endpoint, view, request.method)
        ):
            return
        if is_page_endpoint(adapter_endpoint):
            return  # signed in by its session cookie, in web/session.py (never by a token)
        if request.method == "OPTIONS":
            return
        given = request.headers.get("Authorization")
        if not given:
            abort(401, message="A valid access token is required.")
        scheme, _, token = given.partition(" ")
        if scheme != "Bearer" and scheme.lower() == "bearer":
            # RFC 7235: the scheme's letter case does not matter (flask-jwt-extended's does).
            request.environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        g.read_only = is_read_only(request.method)
        try:
            verify_jwt_in_request()
        except _ENDED:
            _refuse_token("revoked")
        except _REFUSED:
            _refuse_token("invalid")
        g.actor = get_current_user()
