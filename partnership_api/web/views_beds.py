"""Pages: the bed board, holding a space, a refuge's spaces."""

from __future__ import annotations

import uuid

from flask import abort, flash, g, redirect, request, url_for

import partnership_api.web.adapter as adapter
import partnership_api.web.adapter_beds as adapter_beds
import partnership_api.web.presenters as presenters
from partnership_api.web.forms_beds import (
    AvailabilityForm,
    BedSearchForm,
    ConfirmAvailabilityForm,
    ReleaseHoldForm,
)
from partnership_api.web.pages import blp
from partnership_api.web.render import render_page

# --- bed spaces ---------------------------------------------------------------------------------


@blp.route("/beds")
def beds():
    """Household-first bed search: spaces now, freshness in words and colour, and why the
    other refuges do not fit. Opened for a referral (``for_referral`` fills the search from
    it; ``referral`` keeps it through later searches): hold a space for it at the refuge it
    is made to, or (its receiver) redirect it to a refuge that fits."""
    form = BedSearchForm(request.args)
    args = None
    found: list[dict] = []
    refuges: list[dict] = []
    selected = None  # the referral the board is for, if any: the one a space can be held for
    for_referral = request.args.get("for_referral")
    referral = for_referral or request.args.get("referral")
    if referral:
        try:
            referral_id = uuid.UUID(referral)
        except ValueError:
            abort(404)
        filled, selected = adapter_beds.referral_for_bed_search(g.actor, referral_id)
        if for_referral:  # from the referral's page: the board filled from her household
            form = BedSearchForm(
                formdata=None, data=presenters.search_form_data(filled, referral_id)
            )
    if request.args and form.validate():
        args = presenters.search_args(form)
        try:
            found, refuges = adapter_beds.bed_board(g.actor, args)
        except adapter.Refusal as refusal:
            if refusal.status != 422:
                raise
            form.form_errors.append(refusal.message)
            args = None
    page = presenters.bed_board(
        g.actor,
        args,
        found,
        refuges,
        selected,
        adapter_beds.stale_after(),
        # Nothing fits: who she (or the officer) can call now.
        adapter.services_detail(g.actor) if args is not None and not found else None,
    )
    return render_page(
        "beds.html",
        "Find a bed space",
        status=400 if form.errors else 200,
        has_errors=bool(form.errors),
        form=form,
        page=page,
    )


@blp.route("/beds/hold", methods=["POST"])
def hold():
    """Hold a space for one of the organisation's open referrals (the API's own rules)."""
    try:
        referral_id = uuid.UUID(request.form.get("referral", ""))
        refuge_id = int(request.form.get("refuge_id", ""))
    except ValueError:
        abort(400)
    space_type = request.form.get("space_type", "")
    try:
        held = adapter_beds.hold_space(g.actor, referral_id, refuge_id, space_type)
    except adapter.Refusal as refusal:
        if refusal.status not in (409, 422):
            raise
        flash(f"The space was not held: {presenters.refusal_words(refusal)}", "problem")
        return redirect(url_for("web.beds"), code=303)
    flash(f"Space held until {presenters.on_day(held.expires_at)}.", "success")
    return redirect(url_for("web.referral", referral_id=referral_id), code=303)


@blp.route("/beds/alert", methods=["POST"])
def vacancy_alert():
    """Nothing fits now: be told when a space that fits this household opens (the API's
    vacancy alert for a household of the officer's own, for ``VACANCY_ALERT_HOURS``)."""
    criteria: dict = {}
    for key in ("children", "oldest_son_age"):
        value = request.form.get(key, "")
        if value:
            if not value.isdigit():
                abort(400)
            criteria[key] = int(value)
    if request.form.get("space_type"):
        criteria["space_type"] = request.form["space_type"]
    for need in ("wheelchair", "nrpf", "pets"):
        if request.form.get(need) == "true":
            criteria[need] = True
    for key in ("area", "exclude_area"):
        if request.form.getlist(key):
            criteria[key] = request.form.getlist(key)
    try:
        alert = adapter_beds.set_vacancy_alert(g.actor, criteria)
    except adapter.Refusal as refusal:
        if refusal.status not in (409, 422):
            raise
        flash(f"The alert was not set: {presenters.refusal_words(refusal)}", "problem")
        return redirect(url_for("web.beds"), code=303)
    flash(
        "Alert set: when a space that fits this household opens, it shows on your Home page"
        f" (and by email if you have one) until {presenters.on_day(alert['expires_at'])}.",
        "success",
    )
    return redirect(url_for("web.home"), code=303)


# --- a refuge -----------------------------------------------------------------------------------


CONFIRM = "confirm"  # the "Still accurate" form's field prefix: its ids differ from the report's


@blp.route("/refuges/<int:refuge_id>", methods=["GET", "POST"])
def refuge(refuge_id):
    """A refuge's spaces; its own staff change them (If-Match: a conflict is shown, never
    overwritten) or confirm them as they are; everyone else reads, without the address."""
    shown = adapter_beds.refuge(g.actor, refuge_id)
    conflict = None
    status = 200
    if request.method == "POST":
        form = AvailabilityForm()  # the service refuses anyone but the refuge's own staff
        if form.validate_on_submit():
            version = _version(form)
            try:
                saved = adapter_beds.report_availability(g.actor, refuge_id, version, form.spaces())
            except adapter.Refusal as refusal:
                if refusal.status == 412:
                    shown = adapter_beds.refuge(g.actor, refuge_id)
                    conflict = presenters.conflict_words(shown["availability"], form.spaces())
                    # The form now shows the figures as they are (the message says what was
                    # typed): saving again is a decision made knowing the other change.
                    form = AvailabilityForm(
                        formdata=None,
                        data=presenters.availability_form_data(shown["availability"]),
                    )
                    status = 409
                elif refusal.status == 422:
                    # Every field error on its field (spaces[i].vacant → family_vacant…),
                    # the rest in words: never a 500, never a banner.
                    if not presenters.api_errors_onto(
                        form, refusal.errors, _availability_field(form)
                    ):
                        form.form_errors.append(presenters.refusal_words(refusal))
                else:
                    raise
            else:
                warnings = presenters.overcommitted_words(saved)
                if warnings:
                    flash("Bed spaces saved, but " + warnings, "warning")
                else:
                    flash("Bed spaces saved.", "success")
                return redirect(url_for("web.refuge", refuge_id=refuge_id), code=303)
        if form.errors:
            status = 400
    else:
        form = AvailabilityForm(data=presenters.availability_form_data(shown["availability"]))
    return _refuge_page(shown, form, conflict, status)


@blp.route("/refuges/<int:refuge_id>/confirm", methods=["POST"])
def confirm_refuge(refuge_id):
    """ "Still accurate": one tap confirms the figures the page showed, without changing them
    (the API's confirmation: a stale page is a conflict shown, never a confirmation)."""
    form = ConfirmAvailabilityForm(prefix=CONFIRM)
    version = _version(form)
    try:
        adapter_beds.confirm_availability(g.actor, refuge_id, version)
    except adapter.Refusal as refusal:
        if refusal.status != 412:
            raise
        shown = adapter_beds.refuge(g.actor, refuge_id)
        conflict = presenters.conflict_words(shown["availability"], None)
        fresh = AvailabilityForm(
            formdata=None, data=presenters.availability_form_data(shown["availability"])
        )
        return _refuge_page(shown, fresh, conflict, 409)
    flash("Bed spaces confirmed as still accurate.", "success")
    return redirect(url_for("web.refuge", refuge_id=refuge_id), code=303)


def _availability_field(form):
    def field(path: tuple) -> str | None:
        if len(path) == 3 and path[0] == "spaces" and isinstance(path[1], int):
            return form.field_of(path[1], path[2])
        return None

    return field


@blp.route("/refuges/<int:refuge_id>/holds/<uuid:hold_id>/release", methods=["GET", "POST"])
def release_refuge_hold(refuge_id, hold_id):
    """The refuge releases a hold on its beds: a confirmation with a reason (GOV.UK "are you
    sure"), recorded on the referral's timeline and in the audit trail."""
    shown = adapter_beds.refuge(g.actor, refuge_id)
    if shown["holds"] is None:
        adapter_beds.require_refuge_holds(g.actor, refuge_id)  # a 403/404 page, audited
    hold = next((h for h in shown["holds"] or () if h["id"] == hold_id), None)
    if hold is None:
        abort(404)
    form = ReleaseHoldForm()
    status = 200
    if request.method == "POST" and form.validate_on_submit():
        try:
            adapter_beds.release_refuge_hold(
                g.actor, refuge_id, hold_id, form.reason_code.data, form.note.data or ""
            )
        except adapter.Refusal as refusal:
            if refusal.status not in (404, 409, 422):
                raise
            form.form_errors.append(presenters.refusal_words(refusal))
        else:
            flash(
                f"The {hold['space_type']} space held for {hold['referral_reference']} is "
                "released: it is available again.",
                "success",
            )
            return redirect(url_for("web.refuge", refuge_id=refuge_id), code=303)
    if form.errors:
        status = 400
    return render_page(
        "hold_release.html",
        f"Release the space held for {hold['referral_reference']}",
        status=status,
        has_errors=bool(form.errors),
        form=form,
        refuge=shown,
        hold=presenters.refuge_hold_row(hold, refuge_id),
    )


def _version(form) -> int:
    """The report version a form was drawn from (400 when it is not a number)."""
    try:
        return int(form.version.data or "")
    except ValueError:
        abort(400)


def _refuge_page(shown: dict, form, conflict: dict | None, status: int):
    can_report = adapter_beds.may_report_availability(g.actor, shown)
    confirm = ConfirmAvailabilityForm(
        formdata=None, prefix=CONFIRM, data={"version": str(shown["availability"]["version"])}
    )
    page = presenters.refuge_page(shown, can_report, adapter_beds.stale_after(), conflict)
    return render_page(
        "refuge.html",
        shown["name"],
        status=status,
        has_errors=bool(form.errors) or conflict is not None,
        page=page,
        form=form,
        confirm_form=confirm,
    )
