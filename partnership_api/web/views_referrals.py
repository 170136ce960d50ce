"""Pages: the referral inbox, a new referral, a referral and its actions."""

from __future__ import annotations

import uuid

from flask import abort, flash, g, redirect, request, url_for

import partnership_api.web.adapter as adapter
import partnership_api.web.presenters as presenters
from partnership_api.web.forms import (
    NoteForm,
    ReferralForm,
    TransitionForm,
)
from partnership_api.web.pages import blp
from partnership_api.web.render import render_page

# --- referrals ----------------------------------------------------------------------------------


@blp.route("/referrals")
def referrals():
    """The inbox and outbox: tabs Received, Sent, Overdue, Closed; sortable by received and
    by response due (``?sort=received|due&order=asc|desc``, kept across tabs and pages);
    paginated."""
    tab = request.args.get("tab", "received")
    if tab not in presenters.TABS:
        abort(404)
    sort = presenters.sort_asked(request.args.get("sort"), request.args.get("order"))
    if sort is None:
        abort(400)
    try:
        page = max(int(request.args.get("page", "1")), 1)
    except ValueError:
        abort(400)
    rows, total = adapter.referral_page(
        g.actor, presenters.tab_args(tab), page, presenters.PAGE_SIZE, sort
    )
    shown = presenters.inbox(
        g.actor, tab, rows, total, page, adapter.organisation_names(g.actor), sort
    )
    title = f"Referrals: {presenters.TABS[tab][0].lower()}"
    return render_page("referrals.html", title, page=shown)


@blp.route("/referrals/new", methods=["GET", "POST"])
def new_referral():
    """Make a referral; a double submit makes one (the idempotency key is in the form)."""
    adapter.require(g.actor, "referral.create")  # a 403 page, audited, as the API's
    form = ReferralForm()
    services = adapter.receiving_services(g.actor)
    form.to_service_id.choices = [("", "Choose a service")] + [
        (str(sid), f"{name} ({org})") for sid, name, _kind, org in services
    ]
    if request.method == "GET":
        form.idempotency_key.data = str(uuid.uuid4())
    status = 200
    if form.validate_on_submit():
        try:
            key = str(uuid.UUID(form.idempotency_key.data or ""))
        except ValueError:
            abort(400)
        try:
            shown, created = adapter.make_referral(g.actor, presenters.referral_data(form), key)
        except adapter.Refusal as refusal:
            if refusal.status != 422:
                raise
            if not presenters.api_errors_onto(form, refusal.errors, ReferralForm.API_FIELDS):
                form.form_errors.append(refusal.message)
        else:
            flash(
                f"Referral {shown['reference']} made."
                if created
                else f"Referral {shown['reference']} was already made.",
                "success",
            )
            return redirect(url_for("web.referral", referral_id=shown["id"]), code=303)
    if form.errors:
        status = 400
    return render_page(
        "referral_new.html",
        "Make a referral",
        status=status,
        has_errors=bool(form.errors),
        form=form,
    )


@blp.route("/referrals/<uuid:referral_id>")
def referral(referral_id):
    """One referral (its sender and receiver only; audited as the API read), its timeline
    and the actions its status allows."""
    shown, events = adapter.read_referral(g.actor, referral_id)
    page = presenters.referral_page(
        g.actor,
        shown,
        events,
        adapter.organisation_names(g.actor),
        adapter.receiving_services(g.actor),
    )
    return render_page(
        "referral.html",
        f"Referral {shown['reference']}",
        page=page,
        transition=TransitionForm(formdata=None),
        note=NoteForm(formdata=None),
    )


@blp.route("/referrals/<uuid:referral_id>/actions", methods=["POST"])
def act(referral_id):
    """Accept, decline, redirect, withdraw or close (the API's transition, its rules)."""
    form = TransitionForm()
    data = {"action": form.action.data}
    for name in ("reason_code", "to_service_id", "outcome", "note"):
        value = getattr(form, name).data
        if value not in (None, ""):
            data[name] = int(value) if name == "to_service_id" and value.isdigit() else value
    try:
        adapter.act_on_referral(g.actor, referral_id, data)
    except adapter.Refusal as refusal:
        if refusal.status not in (409, 422):
            raise
        flash(f"Not done: {presenters.refusal_words(refusal)}", "problem")
    else:
        flash(f"Referral {presenters.ACTION_DONE.get(data['action'], 'changed')}.", "success")
    return redirect(url_for("web.referral", referral_id=referral_id), code=303)


@blp.route("/referrals/<uuid:referral_id>/notes", methods=["POST"])
def note(referral_id):
    form = NoteForm()
    try:
        adapter.add_note(g.actor, referral_id, form.text.data or "")
    except adapter.Refusal as refusal:
        if refusal.status not in (409, 422):
            raise
        flash(f"The note was not added: {presenters.refusal_words(refusal)}", "problem")
    else:
        flash("Note added.", "success")
    return redirect(url_for("web.referral", referral_id=referral_id), code=303)


@blp.route("/referrals/<uuid:referral_id>/hold/release", methods=["POST"])
def release(referral_id):
    adapter.release_hold(g.actor, referral_id)
    flash("The space is no longer held.", "success")
    return redirect(url_for("web.referral", referral_id=referral_id), code=303)
