"""Pages: one milestone, quarter or output of a project, with the change the role may make.

Each form carries the version it was drawn from, sent as If-Match: a change made by someone
else in between is shown as a conflict with the figures as they now are, never overwritten.
"""

from __future__ import annotations

from flask import abort, flash, g, redirect, url_for

import partnership_api.web.adapter as adapter
import partnership_api.web.adapter_funding as adapter_funding
import partnership_api.web.presenters as presenters
from partnership_api.services.projects import today
from partnership_api.web.forms_funding import (
    MilestoneDoneForm,
    OutputRecordForm,
    SpendCorrectionForm,
    count_of,
)
from partnership_api.web.pages import blp
from partnership_api.web.render import render_page


def _version(form) -> int:
    try:
        return int(form.version.data or "")
    except ValueError:
        abort(400)


def _project(project_id: int) -> tuple[dict, bool, bool]:
    """The project as shown, whether this actor reports its progress, and whether it changes
    the commissioner's fields."""
    shown = adapter_funding.project(g.actor, project_id)
    item = shown["item"]
    may_progress = adapter_funding.may_progress(g.actor, item)
    return shown["project"], may_progress, adapter_funding.may_change(g.actor, item)


def _refused(refusal: adapter.Refusal, form, fields: dict) -> None:
    if refusal.status not in (409, 422):
        raise refusal
    errors = presenters.errors_in_words(refusal.errors)
    if not presenters.api_errors_onto(form, errors, fields):
        form.form_errors.append(presenters.quarters_in_words(refusal.message))


def _back(project_id: int):
    return redirect(url_for("web.project", project_id=project_id), code=303)


# --- a milestone: mark it done ------------------------------------------------------------------


@blp.route("/projects/<int:project_id>/milestones/<int:milestone_id>", methods=["GET", "POST"])
def milestone(project_id, milestone_id):
    """A milestone; its delivery partners and the commissioner's office mark it done."""
    project, may_progress, _ = _project(project_id)
    shown = adapter_funding.milestone(g.actor, project_id, milestone_id)
    form = MilestoneDoneForm()
    conflict, status = None, 200
    if form.is_submitted():
        if form.validate():
            if form.done_on.data > today():
                form.done_on.errors = ["The day it was done must be today or in the past"]
            else:
                try:
                    adapter_funding.complete_milestone(
                        g.actor, project_id, milestone_id, _version(form), form.done_on.data
                    )
                except adapter.Refusal as refusal:
                    if refusal.status != 412:
                        _refused(refusal, form, MilestoneDoneForm.API_FIELDS)
                    else:
                        shown = adapter_funding.milestone(g.actor, project_id, milestone_id)
                        conflict = presenters.changed_meanwhile(shown["updated_at"])
                        form = _milestone_form(shown)
                        status = 409
                else:
                    flash(f"Milestone {shown['title']} marked as done.", "success")
                    return _back(project_id)
        status = status if conflict else 400
    else:
        form = _milestone_form(shown)
    return render_page(
        "milestone.html",
        shown["title"],
        status=status,
        has_errors=bool(form.errors) or conflict is not None,
        page=presenters.milestone_page(project, shown, may_progress, conflict),
        form=form,
    )


def _milestone_form(shown: dict) -> MilestoneDoneForm:
    return MilestoneDoneForm(
        formdata=None,
        data={"version": str(shown["version"]), "done_on": shown["completed_on"] or today()},
    )


# --- a quarter's spend: correct it, see its history ---------------------------------------------


def _pounds_typed(pence: int | None) -> str:
    return "" if pence is None else f"{pence // 100}.{pence % 100:02d}"


def _spend_form(line: dict) -> SpendCorrectionForm:
    return SpendCorrectionForm(
        formdata=None,
        data={
            "version": str(line["version"]),
            "actual": _pounds_typed(line["actual_pence"]),
            "forecast": _pounds_typed(line["forecast_pence"]),
        },
    )


@blp.route("/projects/<int:project_id>/spend/<string:period>", methods=["GET", "POST"])
def spend_line(project_id, period):
    """A quarter's spend with every figure it has had; correct it (If-Match)."""
    project, may_progress, _ = _project(project_id)
    line, history = adapter_funding.spend_line(g.actor, project_id, period)
    form = SpendCorrectionForm()
    conflict, status = None, 200
    if form.is_submitted():
        status = 400
        if form.validate():
            data = {"actual_pence": form.actual.pence, "forecast_pence": form.forecast.pence}
            try:
                adapter_funding.correct_spend(g.actor, project_id, period, _version(form), data)
            except adapter.Refusal as refusal:
                if refusal.status != 412:
                    _refused(refusal, form, SpendCorrectionForm.API_FIELDS)
                else:
                    line, history = adapter_funding.spend_line(g.actor, project_id, period)
                    conflict = presenters.changed_meanwhile(line["updated_at"])
                    form, status = _spend_form(line), 409
            else:
                words = presenters.quarter_words(period)
                flash(f"Spend for {words} corrected; the earlier figures are kept.", "success")
                return _back(project_id)
    else:
        form = _spend_form(line)
    names = adapter.organisation_names(g.actor)
    return render_page(
        "spend_line.html",
        f"Spend for {presenters.quarter_words(period)}",
        status=status,
        has_errors=bool(form.errors) or conflict is not None,
        page=presenters.spend_page(project, line, history, names, may_progress, conflict),
        form=form,
    )


# --- an output: record what was delivered -------------------------------------------------------


def _output_form(shown: dict) -> OutputRecordForm:
    target = "" if shown["target"] is None else str(shown["target"])
    return OutputRecordForm(
        formdata=None,
        data={"version": str(shown["version"]), "actual": str(shown["actual"]), "target": target},
    )


@blp.route("/projects/<int:project_id>/outputs/<int:output_id>", methods=["GET", "POST"])
def output(project_id, output_id):
    """An output against its target; delivery partners record what was delivered, the
    commissioner's office also sets the target."""
    project, may_progress, may_change = _project(project_id)
    shown = adapter_funding.output(g.actor, project_id, output_id)
    form = OutputRecordForm()
    conflict, status = None, 200
    if form.is_submitted():
        status = 400
        if form.validate():
            data = {"actual": count_of(form.actual.data)}
            if may_change:
                data["target"] = count_of(form.target.data)
            try:
                adapter_funding.record_output(g.actor, project_id, output_id, _version(form), data)
            except adapter.Refusal as refusal:
                if refusal.status != 412:
                    _refused(refusal, form, OutputRecordForm.API_FIELDS)
                else:
                    shown = adapter_funding.output(g.actor, project_id, output_id)
                    conflict = presenters.changed_meanwhile(shown["updated_at"])
                    form, status = _output_form(shown), 409
            else:
                flash(f"Output {shown['metric']} saved.", "success")
                return _back(project_id)
    else:
        form = _output_form(shown)
    return render_page(
        "output.html",
        shown["metric"],
        status=status,
        has_errors=bool(form.errors) or conflict is not None,
        page=presenters.output_page(project, shown, may_progress, conflict),
        form=form,
        may_set_target=may_change,
    )
