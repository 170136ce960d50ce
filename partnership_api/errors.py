"""Turn every failure into a JSON answer; never show a traceback or SQL outside debug."""

from __future__ import annotations

import logging

from flask import Flask, current_app, g
from flask_smorest import abort
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from partnership_api.extensions import api, db

log = logging.getLogger("partnership_api.errors")


def _rollback() -> None:
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection may be gone; nothing more to undo
        log.warning("rollback failed", extra={"request_id": g.get("request_id")})


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(IntegrityError)
    def integrity_error(error: IntegrityError):
        _rollback()
        log.info("integrity error: %s", type(error.orig).__name__)
        try:
            abort(409, message="The change conflicts with the current state of the data.")
        except HTTPException as http_error:
            return api.handle_http_exception(http_error)

    @app.errorhandler(OperationalError)
    @app.errorhandler(DBAPIError)
    def database_unavailable(error: DBAPIError):
        _rollback()
        if isinstance(error, IntegrityError):
            return integrity_error(error)
        log.error("database unavailable: %s", type(getattr(error, "orig", error)).__name__)
        exc = ServiceUnavailable("The database is unavailable. Try again shortly.")
        response = api.handle_http_exception(exc)
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
