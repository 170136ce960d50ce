"""Turn every failure into a JSON answer; never show a traceback or SQL outside debug.

The domain's errors (``domain_errors.py``) are answered by one handler, with the status,
message and field errors they carry; a policy refusal is first counted and written to the audit
trail once per actor, object and window, in a transaction of its own (``services.refusals``),
and an actor past ``REFUSAL_LIMIT`` refusals gets 429 for anything refused or not found.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, g, request
from flask_limiter.errors import RateLimitExceeded
from flask_smorest import abort
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from werkzeug.exceptions import (
    HTTPException,
    InternalServerError,
    ServiceUnavailable,
    TooManyRequests,
)

from partnership_api.domain_errors import DomainError, NotFound, Refused, Throttled
from partnership_api.extensions import api, db
from partnership_api.services import refusals

log = logging.getLogger("partnership_api.errors")


def _rollback() -> None:
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection may be gone; nothing more to undo
        log.warning("rollback failed", extra={"request_id": g.get("request_id")})


TOO_MANY_REQUESTS = "Too many requests. Try again later."


def domain_error_response(error: DomainError):
    """The API's JSON answer to a domain error: exactly what ``abort`` would have made."""
    extra: dict = {}
    if error.fields:
        extra["errors"] = {error.location: error.fields}
    if isinstance(error, Throttled) and error.retry_after is not None:
        extra["headers"] = {"Retry-After": str(error.retry_after)}
    try:
        abort(error.status, message=error.message, **extra)
    except HTTPException as http_error:
        return api.handle_http_exception(http_error)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(RateLimitExceeded)
    def rate_limited(error: RateLimitExceeded):
        # One message whichever limit was hit, and never the limit itself. At sign-in it is
        # the account lock's message, so a throttled unknown name reads like a locked account.
        from partnership_api.services.signin import LOCKED

        message = LOCKED if request.endpoint == "Auth.Login" else TOO_MANY_REQUESTS
        return api.handle_http_exception(TooManyRequests(message))

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        if isinstance(error, Refused | NotFound):
            try:
                if isinstance(error, Refused):
                    refusals.record(error)  # written once per actor, object and window
                # Past its refusal budget an actor gets 429 for hidden and missing alike.
                error = refusals.slowed_down(g.get("actor")) or error
            except DBAPIError as db_error:  # the refusal must be kept: if not, an outage
                return database_unavailable(db_error)
        return domain_error_response(error)

    @app.errorhandler(IntegrityError)
    def integrity_error(error: IntegrityError):
        _rollback()
        log.info("integrity error: %s", type(error.orig).__name__)
        try:
            abort(409, message="The change conflicts with the current state of the data.")
        except HTTPException as http_error:
            return api.handle_http_exception(http_error)

    @app.errorhandler(DataError)
    def data_error(error: DataError):
        # A value the database refuses to store or compare (out of range, an encoding it
        # cannot hold): the request's fault, not an outage. Nothing was written.
        _rollback()
        log.info("data error: %s", type(error.orig).__name__)
        try:
            abort(422, message="A value in the request cannot be stored. Check the values sent.")
        except HTTPException as http_error:
            return api.handle_http_exception(http_error)

    @app.errorhandler(OperationalError)
    @app.errorhandler(DBAPIError)
    def database_unavailable(error: DBAPIError):
        _rollback()
        if isinstance(error, IntegrityError):
            return integrity_error(error)
        if isinstance(error, DataError):
            return data_error(error)
        log.error("database unavailable: %s", type(getattr(error, "orig", error)).__name__)
        exc = ServiceUnavailable("The database is unavailable. Try again shortly.")
        response = api.handle_http_exception(exc)
        if isinstance(response, Response):  # a page (web/errors.py)
            response.headers["Retry-After"] = "5"
            return response
        payload, code, headers = response
        headers["Retry-After"] = "5"
        return payload, code, headers

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        if isinstance(error, HTTPException):
            return api.handle_http_exception(error)
        _rollback()
        log.exception("unhandled error", extra={"request_id": g.get("request_id")})
        if current_app.debug:
            raise error
        return api.handle_http_exception(InternalServerError())
