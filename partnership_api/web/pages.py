"""The web pages' blueprint: thin views that load through the adapter, present and render.

Every page needs a signed-in page session (``session.py``) except the sign-in page and the
assets; every POST carries a CSRF token and comes from this site. An object the policy hides
is a 404 page, a refused function a 403 page (``errors.py``), exactly as the API answers.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, g, redirect, request, url_for

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


@blp.before_request
def sign_in_page_request():
    g.actor = None
    if request.endpoint == "web.asset":
        return None
    actor = session.signed_in_actor()
    if actor is None and request.endpoint not in OPEN_PAGES:
        target = request.full_path if request.method == "GET" else None
        return redirect(url_for("web.sign_in", next=safe_next(target)), code=303)
    if request.method == "POST":
        csrf.protect()  # a 400 page when the token is missing, wrong or from another session
    if request.endpoint in OPEN_PAGES:
        g.page_actor = actor
        return None
    g.actor = actor
    # A GET page only reads (and writes its audit events): on PostgreSQL without a
    # transaction, as the API's GETs (auth.begin_read).
    g.read_only = request.method == "GET"
    return None


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
            session.begin(user_id, session_id)
            return redirect(next_page or url_for("web.home"), code=303)
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
