"""Signed-in pages: a server-side session carried by a cookie.

The cookie holds only ids (the user's and the session's) and when it was last used, signed
with a key derived from ``JWT_SECRET_KEY``; it is HttpOnly, SameSite=Strict, Secure outside
development (and then named ``__Host-…``). The session itself is the API's own record
(``AuthSession``): every page request loads the user and session exactly as the API's hook
does (``auth.load_actor``), so a sign-out, a deactivation or a revoked session ends the page
session on every worker at once. No token is ever made for the pages or sent to the browser.

A session unused for ``PAGE_IDLE`` is revoked the next time its cookie is seen; a copy of the
cookie cannot be kept alive, because its last-use time is signed and only moves forward.
"""

from __future__ import annotations

import hashlib
import time
import uuid

from flask import Flask, current_app, session
from flask.sessions import SecureCookieSessionInterface

from partnership_api import auth
from partnership_api.actors import Actor

# Seconds between two writes of the last-use time (the cookie is not rewritten on every page).
SEEN_RESOLUTION = 60


class PageSessionInterface(SecureCookieSessionInterface):
    salt = "partnership-page-session"
    digest_method = staticmethod(hashlib.sha256)


def init_session(app: Flask) -> None:
    production = app.config.get("APP_ENV") != "development"
    app.session_interface = PageSessionInterface()
    app.config.update(
        SESSION_COOKIE_NAME="__Host-partnership" if production else "partnership",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=production,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_PATH="/",
        SESSION_COOKIE_DOMAIN=None,
        SESSION_REFRESH_EACH_REQUEST=False,
    )


def begin(user_id: uuid.UUID, session_id: uuid.UUID) -> None:
    """After a successful sign-in: a fresh cookie (a new CSRF token too) for this session."""
    session.clear()
    session["uid"] = str(user_id)
    session["sid"] = str(session_id)
    session["seen"] = int(time.time())


def end() -> None:
    session.clear()


def _ended(reason: str) -> None:
    session.clear()
    session["ended"] = reason  # for the sign-in page to say why


def why_ended() -> str | None:
    """Why the last page session ended ("idle", "ended"), once; None when it was not ended."""
    return session.pop("ended", None)


def signed_in_actor() -> Actor | None:
    """The signed-in user of this page request, or None."""
    user_id, session_id, seen = session.get("uid"), session.get("sid"), session.get("seen")
    if not (user_id and session_id and isinstance(seen, int)):
        return None
    now = int(time.time())
    idle = current_app.config["PAGE_IDLE"].total_seconds()
    if now - seen > idle:
        import partnership_api.web.adapter as adapter

        adapter.end_idle_session(uuid.UUID(session_id), uuid.UUID(user_id))
        _ended("idle")
        return None
    actor = auth.load_actor({"sub": user_id, "sid": session_id})
    if actor is None:  # signed out elsewhere, revoked, expired, or the user was deactivated
        _ended("ended")
        return None
    if now - seen >= SEEN_RESOLUTION:
        session["seen"] = now
    return actor
