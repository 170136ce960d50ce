"""Signed-in pages: a server-side session carried by a cookie.

The cookie holds only ids (the user's and the session's) and when it was last used, signed
with a key derived from ``JWT_SECRET_KEY``; it is HttpOnly, SameSite=Strict, Secure outside
development (and then named ``__Host-…``). The session itself is the API's own record
(``AuthSession``): every page request loads the user and session exactly as the API's hook
does (``auth.load_actor``), so a sign-out, a deactivation or a revoked session ends the page
session on every worker at once. No token is ever made for the pages or sent to the browser.

A session unused for ``PAGE_IDLE`` is revoked the next time its cookie is seen; a copy of the
cookie cannot be kept alive, because its last-use time is signed and only moves forward.

Before that, each page warns (``static/timeout.js``, GOV.UK's timeout warning) and offers
"Stay signed in": a POST with the CSRF token that moves the last use to now. Without
JavaScript the session simply ends as before. When an idle session ends, the cookie keeps the
signed-out user's id and CSRF token (nothing else): a form that person then sends is kept,
sealed, for them alone (``services.kept_forms``), and given back when they sign in again.
"""

from __future__ import annotations

import hashlib
import time
import uuid

from flask import Flask, current_app, session
from flask.sessions import SecureCookieSessionInterface

from partnership_api import auth
from partnership_api.actors import Actor
from partnership_api.services import kept_forms

# Seconds between two writes of the last-use time (the cookie is not rewritten on every page).
SEEN_RESOLUTION = 60
# How long before the idle sign-out the page warns (at most half of ``PAGE_IDLE``).
WARN_BEFORE = 5 * 60
# The cookie's own key for Flask-WTF's CSRF token (``WTF_CSRF_FIELD_NAME``'s default).
CSRF_KEY = "csrf_token"


class PageSessionInterface(SecureCookieSessionInterface):
    salt = "partnership-page-session"
    digest_method = staticmethod(hashlib.sha256)

    def open_session(self, app: Flask, request):
        # A request without the cookie (every API request: tokens, never cookies) gets an
        # empty session without building the signing serializer first (Flask builds one per
        # request, about 2 % of a bed search); with the cookie, Flask's own check, unchanged.
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


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
    _forms_take_kept_fields()


def _forms_take_kept_fields() -> None:
    """On the page a kept form is given back on (``g.kept_form``, set on a GET only), every
    form the view builds without form data of its own (from the request, or none) is filled
    from the kept fields: what the person typed, shown and not sent or checked until they
    send it again. The CSRF token is always this page's own."""
    from flask import g, has_request_context
    from flask_wtf import FlaskForm
    from flask_wtf.form import _Auto

    meta = FlaskForm.Meta
    if getattr(meta.wrap_formdata, "takes_kept_fields", False):
        return
    original = meta.wrap_formdata

    def wrap_formdata(self, form, formdata):
        kept = g.get("kept_form") if has_request_context() else None
        if kept is not None and (formdata is _Auto or formdata is None):
            return kept  # only ever on a GET (``pages.restore_kept_form``)
        return original(self, form, formdata)

    wrap_formdata.takes_kept_fields = True  # type: ignore[attr-defined]
    meta.wrap_formdata = wrap_formdata


def begin(user_id: uuid.UUID, session_id: uuid.UUID) -> None:
    """After a successful sign-in: a fresh cookie (a new CSRF token too) for this session."""
    session.clear()
    session["uid"] = str(user_id)
    session["sid"] = str(session_id)
    session["seen"] = int(time.time())


def end() -> None:
    session.clear()


def _ended(reason: str, idle_user: str | None = None) -> None:
    token = session.get(CSRF_KEY)
    session.clear()
    session["ended"] = reason  # for the sign-in page to say why
    if idle_user and token:
        # Only to keep a form this person sends next (``idle_user``): it opens nothing.
        session["idle_uid"] = idle_user
        session[CSRF_KEY] = token


def why_ended() -> str | None:
    """Why the last page session ended ("idle", "ended"), once; None when it was not ended."""
    return session.pop("ended", None)


def signed_in_actor(touch: bool = True) -> Actor | None:
    """The signed-in user of this page request, or None. ``touch=False`` (asking how long is
    left) does not count as a use."""
    user_id, session_id, seen = session.get("uid"), session.get("sid"), session.get("seen")
    if not (user_id and session_id and isinstance(seen, int)):
        return None
    now = int(time.time())
    idle = current_app.config["PAGE_IDLE"].total_seconds()
    if now - seen > idle:
        import partnership_api.web.adapter as adapter

        adapter.end_idle_session(uuid.UUID(session_id), uuid.UUID(user_id))
        _ended("idle", user_id)
        return None
    actor = auth.load_actor({"sub": user_id, "sid": session_id})
    if actor is None:  # signed out elsewhere, revoked, expired, or the user was deactivated
        _ended("ended")
        return None
    if touch and now - seen >= SEEN_RESOLUTION:
        session["seen"] = now
    return actor


def stay_signed_in() -> None:
    """ "Stay signed in": this session's last use is now (it only ever moves forward)."""
    session["seen"] = max(int(time.time()), int(session.get("seen", 0)))


def timeout() -> dict:
    """For the page's timeout warning: seconds until the idle sign-out, and how long before
    it to warn."""
    idle = int(current_app.config["PAGE_IDLE"].total_seconds())
    ends_in = max(0, int(session.get("seen", 0)) + idle - int(time.time()))
    return {"ends_in": ends_in, "warn_before": min(WARN_BEFORE, idle // 2)}


# --- a form sent after an idle sign-out ---------------------------------------------------------


def idle_user() -> uuid.UUID | None:
    """Whose idle session ended in this browser, when a form of theirs may be kept."""
    try:
        return uuid.UUID(session["idle_uid"])
    except (KeyError, ValueError, TypeError):
        return None


def kept_ticket(name: str = "kept") -> kept_forms.Ticket | None:
    """The ticket of a kept form this browser holds (``kept``: waiting for its sender to sign
    in; ``restore``: to fill its form on the next page)."""
    held = session.get(name)
    try:
        return kept_forms.Ticket(uuid.UUID(held["id"]), str(held["key"]))
    except (KeyError, ValueError, TypeError):
        return None


def hold_ticket(ticket: kept_forms.Ticket, name: str = "kept") -> None:
    session[name] = {"id": str(ticket.form_id), "key": ticket.key}


def drop_ticket(name: str) -> None:
    session.pop(name, None)


# The kept form's own service (no API has it): sealing, checking whose it is, giving it back.
keep_form = kept_forms.keep
kept_form_path = kept_forms.path_of
take_kept_form = kept_forms.take
discard_kept_form = kept_forms.discard
