"""Pages: the referral inbox, a new referral, a referral and its actions."""

from __future__ import annotations

import uuid

from flask import abort, flash, g, redirect, request, url_for

import partnership_api.web.adapter as adapter
import partnership_api.web.adapter_beds as adapter_beds
import partnership_api.web.presenters as presenters
from partnership_api.web.forms import (
    CloseForm,
    DeclineForm,
    NoteForm,
    ReferralForm,
    TransitionForm,
    WithdrawForm,
)
from partnership_api.web.pages import blp
from partnership_api.web.render import render_page

# --- referrals ----------------------------------------------------------------------------------


@blp.route("/referrals")
def referrals():
    """The inbox and outbox: tabs Received, Sent, Overdue, Closed; sortable by received and
    by response due (``?sort=received|due&order=asc|desc``, kept across tabs and pages);
    paginated."""
    receives = adapter.receives_referrals(g.actor)
    tab = request.args.get("tab") or ("received" if receives else "sent")
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
        g.actor, tab, rows, total, page, adapter.organisation_names(g.actor), sort, receives
    )
    title = f"Referrals: {presenters.TABS[tab][0].lower()}"
    return render_page("referrals.html", title, page=shown)


@blp.route("/referrals/new", methods=["GET", "POST"])
def new_referral():
    """Make a referral in three steps: the form (filled from a bed search's "Refer and hold
    here": the refuge, the space, her household), "Check your answers", then sent with its
    hold in one call and a confirmation saying what happens next. Before the check, a refuge
    is checked against her household by the bed search's own rule. A double submit makes one
    referral (the idempotency key is in the form)."""
    adapter.require(g.actor, "referral.create")  # a 403 page, audited, as the API's
    services = adapter.services_detail(g.actor)
    if request.method == "GET":
        form = ReferralForm(formdata=None, data=presenters.referral_form_data(request.args))
        form.idempotency_key.data = str(uuid.uuid4())
    else:
        form = ReferralForm()
    presenters.offer_services(form, services)
    step = request.form.get("step", "check")
    status = 200
    if request.method == "POST" and step != "change" and form.validate_on_submit():
        refuge = presenters.chosen_refuge(form, services)
        if refuge is not None:
            problems = _fit_problems(form, refuge)
            if problems:
                form.to_service_id.errors = list(form.to_service_id.errors) + problems
        elif form.hold_space_type.data:
            form.to_service_id.errors = list(form.to_service_id.errors) + [
                "A space can be held only at a refuge: choose a refuge, or make the referral "
                "without holding a space"
            ]
        if not form.errors:
            _check(form)
        if not form.errors and step == "send":
            sent = _send(form)
            if sent is not None:
                return sent
        elif not form.errors:
            return render_page(
                "referral_check.html",
                "Check your answers before sending the referral",
                page=presenters.check_answers(form, services),
                carried=presenters.carried_fields(request.form),
            )
    if form.errors:
        status = 400
    return render_page(
        "referral_new.html",
        "Make a referral",
        status=status,
        has_errors=bool(form.errors),
        form=form,
        page=presenters.referral_form_page(form, services),
    )


def _fit_problems(form, refuge: dict) -> list[str]:
    """Whether her household fits this refuge (and a space of the type to hold is free): the
    bed search's own answer for the household the form describes."""
    args = presenters.household_search_args(form)
    space_type = form.hold_space_type.data or None
    if space_type:
        args["space_type"] = space_type
    try:
        found, _refuges = adapter_beds.bed_board(g.actor, args)
    except adapter.Refusal as refusal:
        if refusal.status != 422:
            raise
        return [presenters.refusal_words(refusal)]
    reasons = presenters.fit_problems(refuge, args, found, space_type)
    if not reasons:
        return []
    return [f"{refuge['name']} does not fit her household: {'; '.join(reasons)}"]


def _check(form) -> None:
    """The API's own checks (a DASH score of 14 or more is high risk…) on the form's fields,
    before "Check your answers", so nothing the API would refuse is shown as ready to send."""
    try:
        adapter.check_referral(presenters.referral_data(form))
    except adapter.Refusal as refusal:
        if refusal.status != 422:
            raise
        if not presenters.api_errors_onto(form, refusal.errors, ReferralForm.API_FIELDS):
            form.form_errors.append(presenters.refusal_words(refusal))


def _send(form):
    try:
        key = str(uuid.UUID(form.idempotency_key.data or ""))
    except ValueError:
        abort(400)
    try:
        shown, created = adapter.make_referral(g.actor, presenters.referral_data(form), key)
    except adapter.Refusal as refusal:
        if refusal.status not in (409, 422):
            raise
        if not presenters.api_errors_onto(form, refusal.errors, ReferralForm.API_FIELDS):
            form.form_errors.append(presenters.refusal_words(refusal))
        return None
    if not created:
        flash(f"Referral {shown['reference']} was already sent.", "success")
    return redirect(url_for("web.referral_sent", referral_id=shown["id"]), code=303)


@blp.route("/referrals/<uuid:referral_id>/sent")
def referral_sent(referral_id):
    """The confirmation (GOV.UK pattern): the reference, the space held and until when, and
    what happens next. Only its sender's organisation sees it (the referral's read rule)."""
    shown, _events = adapter.read_referral(g.actor, referral_id)
    if shown["from_organisation_id"] != g.actor.org_id:
        abort(404)
    page = presenters.sent_page(shown, adapter.services_detail(g.actor))
    return render_page("referral_sent.html", "Referral sent", page=page)


@blp.route("/referrals/<uuid:referral_id>")
def referral(referral_id):
    """One referral (its sender and receiver only; audited as the API read), its timeline
    and the actions its status allows."""
    return _referral_view(referral_id)


def _referral_view(
    referral_id, problems: list[dict] | None = None, note_form=None, status: int = 400
):
    """The referral's page; ``problems`` (a refused action or note) in the error summary,
    each linked to the field it is about."""
    shown, events = adapter.read_referral(g.actor, referral_id)
    page = presenters.referral_page(
        g.actor,
        shown,
        events,
        adapter.organisation_names(g.actor),
        adapter.services_detail(g.actor),
        presenters.areas_to_avoid(shown),
    )
    return render_page(
        "referral.html",
        f"Referral {shown['reference']}",
        status=status if problems else 200,
        has_errors=bool(problems),
        page=page,
        problems=problems or [],
        transition=TransitionForm(formdata=None),
        note=note_form or NoteForm(formdata=None),
    )


@blp.route("/referrals/<uuid:referral_id>/actions", methods=["POST"])
def act(referral_id):
    """Accept, decline, redirect, withdraw or close (the API's transition, its rules)."""
    form = TransitionForm()
    if form.action.data in CONFIRMED:  # never one click: the confirmation asks for a reason
        return redirect(
            url_for(f"web.{form.action.data}_referral", referral_id=referral_id), code=303
        )
    data = {"action": form.action.data}
    for name in ("reason_code", "to_service_id", "outcome", "note"):
        value = getattr(form, name).data
        if value not in (None, ""):
            data[name] = int(value) if name == "to_service_id" and value.isdigit() else value
    if data["action"] == "redirect" and "to_service_id" not in data:
        problem = {"text": "Choose the service to pass it on to", "href": "#redirect-to"}
        return _referral_view(referral_id, [problem])
    try:
        adapter.act_on_referral(g.actor, referral_id, data)
    except adapter.Refusal as refusal:
        if refusal.status not in (409, 422):
            raise
        where = "#redirect-to" if data["action"] == "redirect" else "#actions"
        problem = {"text": f"Not done: {presenters.refusal_words(refusal)}", "href": where}
        return _referral_view(referral_id, [problem], status=refusal.status)
    else:
        flash(f"Referral {presenters.ACTION_DONE.get(data['action'], 'changed')}.", "success")
    return redirect(url_for("web.referral", referral_id=referral_id), code=303)


CONFIRMED = ("decline", "withdraw", "close")


@blp.route("/referrals/<uuid:referral_id>/decline", methods=["GET", "POST"])
def decline_referral(referral_id):
    """Decline, on a confirmation page (GOV.UK "are you sure") with a coded reason and a note
    for the sender, both on the referral's timeline and in the audit trail."""
    return _confirmed(referral_id, "decline", DeclineForm)


@blp.route("/referrals/<uuid:referral_id>/withdraw", methods=["GET", "POST"])
def withdraw_referral(referral_id):
    """Withdraw (its sender), on a confirmation page with the reason on the timeline."""
    return _confirmed(referral_id, "withdraw", WithdrawForm)


@blp.route("/referrals/<uuid:referral_id>/close", methods=["GET", "POST"])
def close_referral(referral_id):
    """Close an accepted referral (its receiver): what happened and, for a stay in a refuge,
    why it ended and where she went."""
    return _confirmed(referral_id, "close", CloseForm)


def _confirmed(referral_id, action: str, form_class):
    shown, _events = adapter.read_referral(g.actor, referral_id)
    if action not in presenters.actions_offered(g.actor, shown):
        abort(presenters.not_offered_status(action, shown))
    stay = action == "close" and presenters.is_refuge_stay(shown, adapter.services_detail(g.actor))
    form = form_class(stay=stay) if action == "close" else form_class()
    status = 200
    if request.method == "POST" and form.validate_on_submit():
        data = presenters.transition_data(action, form, stay)
        try:
            adapter.act_on_referral(g.actor, referral_id, data)
        except adapter.Refusal as refusal:
            if refusal.status not in (409, 422):
                raise
            form.form_errors.append(presenters.refusal_words(refusal))
        else:
            flash(f"Referral {shown['reference']} {presenters.ACTION_DONE[action]}.", "success")
            return redirect(url_for("web.referral", referral_id=referral_id), code=303)
    if form.errors:
        status = 400
    return render_page(
        f"referral_{action}.html",
        f"{action.capitalize()} referral {shown['reference']}",
        status=status,
        has_errors=bool(form.errors),
        form=form,
        stay=stay,
        referral=presenters.confirm_summary(shown, adapter.services_detail(g.actor)),
    )


@blp.route("/referrals/<uuid:referral_id>/notes", methods=["POST"])
def note(referral_id):
    form = NoteForm()
    if not form.validate():
        problems = [{"text": message, "href": "#text"} for message in form.text.errors]
        return _referral_view(referral_id, problems, form)
    try:
        adapter.add_note(g.actor, referral_id, form.text.data or "")
    except adapter.Refusal as refusal:
        if refusal.status not in (409, 422):
            raise
        form.text.errors = [presenters.refusal_words(refusal)]
        problems = [{"text": form.text.errors[0], "href": "#text"}]
        return _referral_view(referral_id, problems, form)
    else:
        flash("Note added.", "success")
    return redirect(url_for("web.referral", referral_id=referral_id), code=303)


@blp.route("/referrals/<uuid:referral_id>/hold/release", methods=["POST"])
def release(referral_id):
    adapter_beds.release_hold(g.actor, referral_id)
    flash("The space is no longer held.", "success")
    return redirect(url_for("web.referral", referral_id=referral_id), code=303)
