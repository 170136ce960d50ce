"""The web pages' blueprint: thin views that load through the adapter, present and render.

Every page needs a signed-in page session (``session.py``) except the sign-in page and the
assets; every POST carries a CSRF token and comes from this site. An object the policy hides
is a 404 page, a refused function a 403 page (``errors.py``), exactly as the API answers.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, g, jsonify, redirect, request, url_for
from flask_wtf.csrf import validate_csrf
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from wtforms.validators import ValidationError

import partnership_api.web.adapter as adapter
import partnership_api.web.assets as assets
import partnership_api.web.presenters as presenters
import partnership_api.web.session as session
from partnership_api.ratelimits import client_address
from partnership_api.web.forms import SignInForm
from partnership_api.web.render import render_page
from partnership_api.web.security import csrf

blp = Blueprint("web", __name__)
assets.register(blp)

# Pages anyone may open; every other page needs a signed-in session.
OPEN_PAGES = frozenset({"web.sign_in", "web.asset"})
# Asking how long the session has left is not a use of it.
NOT_A_USE = frozenset({"web.session_time_left"})
# Forms that are never kept after an idle sign-out (nothing typed in them).
NEVER_KEPT = frozenset({"web.sign_out", "web.stay_signed_in"})
KEPT_NOTICE = "We kept what you typed. Check it, then send it again."


@blp.before_request
def sign_in_page_request():
    g.actor = None
    if request.endpoint == "web.asset":
        return None
    actor = session.signed_in_actor(touch=request.endpoint not in NOT_A_USE)
    if actor is None and request.endpoint not in OPEN_PAGES:
        if request.method == "POST":
            return keep_form_sent_after_idle()
        target = request.full_path if request.method == "GET" else None
        return redirect(url_for("web.sign_in", next=safe_next(target)), code=303)
    if request.method == "POST":
        csrf.protect()  # a 400 page when the token is missing, wrong or from another session
    if request.endpoint in OPEN_PAGES:
        g.page_actor = actor
        return None
    g.actor = actor
    if request.method == "GET":
        restore_kept_form(actor)  # a write of its own, before the page's reads
    # A GET page only reads (and writes its audit events): on PostgreSQL without a
    # transaction, as the API's GETs (auth.begin_read).
    g.read_only = request.method == "GET"
    return None


@blp.app_context_processor
def session_timeout() -> dict:
    """For base.html's timeout warning: only on a signed-in page."""
    return {"session_timeout": session.timeout() if g.get("actor") is not None else None}


@blp.errorhandler(adapter.Refusal)
def refused(refusal: adapter.Refusal):
    from werkzeug.exceptions import HTTPException

    from partnership_api.web.errors import error_page

    error = HTTPException(refusal.message)
    error.code = refusal.status
    return error_page(error, refusal.message)


def organisation_choices() -> list[tuple[str, str]]:
    """(id, name) of every organisation, for a form's choices."""
    return [(str(i), name) for i, name in sorted(adapter.organisation_names(g.actor).items())]


def safe_next(target: str | None) -> str | None:
    """Only a path of this site (never ``//host`` or a full URL) is followed after sign-in."""
    if not target:
        return None
    target = target.rstrip("?")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or target.startswith("/sign-"):
        return None
    return target


# --- signing in and out -------------------------------------------------------------------------


@blp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    """Sign in with a username and password: the API's own checks, lock and shared counters
    (``signin``: per address, per address and name, failed authentications)."""
    next_page = safe_next(request.args.get("next"))
    if request.method == "GET" and g.get("page_actor") is not None:
        return redirect(next_page or url_for("web.home"), code=303)
    form = SignInForm()
    refused, status, retry_after = None, 200, None
    if form.validate_on_submit():
        try:
            user_id, session_id = adapter.sign_in(
                form.username.data, form.password.data, client_address()
            )
        except adapter.Refusal as refusal:
            if refusal.status not in (401, 429):
                raise
            refused, status, retry_after = refusal.message, refusal.status, refusal.retry_after
        else:
            kept = session.kept_ticket()
            session.begin(user_id, session_id)
            back_to = _kept_form_for(user_id, kept)
            return redirect(back_to or next_page or url_for("web.home"), code=303)
    elif request.method == "POST":
        status = 400
    action = url_for("web.sign_in", next=next_page) if next_page else url_for("web.sign_in")
    page = presenters.sign_in_page(form, action, refused, session.why_ended())
    response = render_page(
        "sign_in.html", "Sign in", status=status, has_errors=bool(page.errors), form=form, page=page
    )
    if status == 429:
        response.headers["Retry-After"] = str(retry_after if retry_after is not None else 60)
    return response


@blp.route("/session/stay-signed-in", methods=["POST"])
def stay_signed_in():
    """The timeout warning's "Stay signed in": this session is used now (CSRF-checked)."""
    session.stay_signed_in()
    return _no_store(jsonify(session.timeout()))


@blp.route("/session/time-left")
def session_time_left():
    """How long this session has before the idle sign-out (asking is not a use of it)."""
    return _no_store(jsonify(session.timeout()))


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


# --- a form sent after an idle sign-out, kept and given back ----------------------------------


def keep_form_sent_after_idle():
    """A POST after the session ended. When it is a form of this site's pages, sent with the
    CSRF token of the session that ended idle, its fields are kept (sealed) for that person,
    and after signing in again they land back on that form with what they typed. Nothing is
    done with the form itself."""
    back_to = _page_of_form(request.full_path)
    user_id = session.idle_user()
    if user_id is None or back_to is None or request.endpoint in NEVER_KEPT:
        return redirect(url_for("web.sign_in", next=back_to or _referring_page()), code=303)
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        return redirect(url_for("web.sign_in", next=back_to), code=303)
    earlier = session.kept_ticket()
    if earlier is not None:
        session.discard_kept_form(earlier)
    fields = [
        (name, value) for name, value in request.form.items(multi=True) if name != "csrf_token"
    ]
    ticket = session.keep_form(user_id, back_to, fields)
    if ticket is not None:
        session.hold_ticket(ticket)
    return redirect(url_for("web.sign_in", next=back_to), code=303)


def _page_of_form(target: str) -> str | None:
    """The page a form is on, when it posts to its own page (a GET of the same path)."""
    path = safe_next(target)
    if path is None:
        return None
    try:
        endpoint, _ = current_app.url_map.bind("localhost").match(urlsplit(path).path, "GET")
    except HTTPException:
        return None
    return None if endpoint in OPEN_PAGES or endpoint == "web.asset" else path


def _referring_page() -> str | None:
    """The page of this site the form was sent from, to go back to after signing in."""
    parts = urlsplit(request.referrer or "")
    if parts.netloc != request.host:
        return None
    return safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))


def _kept_form_for(user_id, kept) -> str | None:
    """After signing in: a form this browser kept goes back to its sender only; anyone else
    signing in makes it go for good."""
    if kept is None:
        return None
    back_to = session.kept_form_path(kept, user_id)
    if back_to is None:
        session.discard_kept_form(kept)
        return None
    session.hold_ticket(kept, "restore")
    return back_to


def restore_kept_form(actor) -> None:
    """On the first page after signing in again: the kept form's fields fill the forms of
    that page (``session.init_session``), with a fresh CSRF token, and are then forgotten."""
    ticket = session.kept_ticket("restore")
    if ticket is None:
        return
    session.drop_ticket("restore")
    found = session.take_kept_form(ticket, actor.user_id)
    if found is None:
        return
    back_to, fields = found
    if safe_next(request.full_path) != back_to:
        return  # they went elsewhere first: the form is not forced onto another page
    g.kept_form = MultiDict(fields)
    flash(KEPT_NOTICE, "success")


@blp.route("/sign-out", methods=["POST"])
def sign_out():
    """Sign out: this session ends at once, for the pages and on every worker."""
    adapter.sign_out(g.actor)
    session.end()
    flash("You have signed out.", "success")
    return redirect(url_for("web.sign_in"), code=303)


# --- the start page ---------------------------------------------------------------------------


@blp.route("/")
def home():
    """What needs doing now, for this role."""
    page = presenters.home_page(g.actor, adapter.home_facts(g.actor))
    return render_page("home.html", "Home", page=page)
