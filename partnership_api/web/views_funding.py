"""Pages: the funding dashboard and projects."""

from __future__ import annotations

import json

from flask import Response, abort, flash, g, redirect, request, url_for

import partnership_api.web.adapter as adapter
import partnership_api.web.adapter_funding as adapter_funding
import partnership_api.web.presenters as presenters
from partnership_api.services.projects import today
from partnership_api.web.forms_funding import (
    MilestoneForm,
    OutputForm,
    ProjectFilterForm,
    ProjectForm,
    ProjectStatusForm,
    SpendForm,
    count_of,
)
from partnership_api.web.pages import blp, organisation_choices
from partnership_api.web.render import render_page

# --- funding ------------------------------------------------------------------------------------


@blp.route("/funding")
def funding():
    """Per fund awarded, spent, forecast and remaining, a chart, RAG counts, what needs
    attention."""
    page = presenters.funding_page(
        g.actor, adapter.funding_summary(g.actor), adapter_funding.projects(g.actor)
    )
    return render_page("funding.html", "Funding", page=page)


@blp.route("/projects")
def projects():
    """Every project, filtered by fund, status, rating and area, in the order chosen."""
    funds = adapter_funding.funds(g.actor)
    form = ProjectFilterForm(request.args)
    form.fund.choices = [("", "Any fund")] + [(str(f.id), f.name) for f in funds]
    if not form.validate():
        # A choice that is not on the list (a link edited by hand): the list unfiltered.
        form = ProjectFilterForm(formdata=None)
        form.fund.choices = [("", "Any fund")] + [(str(f.id), f.name) for f in funds]
    listed = adapter_funding.project_list(g.actor, presenters.project_filters(form))
    page = presenters.projects_page(listed, {f.id: f.name for f in funds}, form)
    return render_page(
        "projects.html",
        "Projects",
        page=page,
        form=form,
        can_add_project=adapter.can(g.actor, "project.change"),
    )


def _download(body: str, mimetype: str, filename: str) -> Response:
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@blp.route("/projects.csv")
def projects_csv():
    """The projects as CSV, as the API's export answers it (same filters, same policy)."""
    args = {k: v for k, v in request.args.items() if k in presenters.PROJECT_FILTERS and v}
    query = {presenters.PROJECT_FILTERS[k]: v for k, v in args.items()}
    return _download(adapter_funding.projects_csv(g.actor, query), "text/csv", "projects.csv")


@blp.route("/funding/360giving.json")
def giving_export():
    """The 360Giving data package, as the API's export answers it."""
    body = json.dumps(adapter_funding.giving_export(g.actor), ensure_ascii=False, indent=1)
    return _download(body, "application/json", "360giving.json")


@blp.route("/projects/<int:project_id>/outputs", methods=["POST"])
def project_output(project_id):
    """An output the project will count (what, its unit, its target, delivered so far)."""
    form = OutputForm()
    if form.validate_on_submit():
        data = {
            "metric": form.metric.data.strip(),
            "unit": form.unit.data.strip(),
            "target": count_of(form.target.data),
            "actual": count_of(form.delivered.data) or 0,
        }
        try:
            adapter_funding.add_output(g.actor, project_id, data)
        except adapter.Refusal as refusal:
            if refusal.status not in (409, 422):
                raise
            if not presenters.api_errors_onto(form, refusal.errors, OutputForm.API_FIELDS):
                form.form_errors.append(refusal.message)
        else:
            flash(f"Output {data['metric']} added.", "success")
            return redirect(url_for("web.project", project_id=project_id), code=303)
    return _project_view(project_id, output_form=form, status=400)


# --- projects -----------------------------------------------------------------------------------


@blp.route("/projects/new", methods=["GET", "POST"])
def new_project():
    """The commissioner's office adds a project."""
    adapter.require(g.actor, "project.change")  # a 403 page, audited, as the API's
    form = ProjectForm()
    funds = adapter_funding.funds(g.actor)
    form.fund_id.choices = [("", "Choose a fund")] + [(str(f.id), f.name) for f in funds]
    form.lead_organisation_id.choices = organisation_choices()
    form.delivery_organisation_ids.choices = organisation_choices()
    if form.validate_on_submit():
        data = {
            "fund_id": int(form.fund_id.data),
            "title": form.title.data,
            "description": form.description.data or "",
            "category": form.category.data,
            "lead_organisation_id": int(form.lead_organisation_id.data),
            "delivery_organisation_ids": [
                int(i) for i in form.delivery_organisation_ids.data or []
            ],
            "areas": list(form.areas.data or []),
            "amount_awarded_pence": form.amount_awarded.pence,
            "awarded_on": form.awarded_on.data.isoformat(),
        }
        try:
            made = adapter_funding.create_project(g.actor, data)
        except adapter.Refusal as refusal:
            if refusal.status not in (409, 422):
                raise
            if not presenters.api_errors_onto(form, refusal.errors, ProjectForm.API_FIELDS):
                form.form_errors.append(refusal.message)
        else:
            flash(f"Project {made.title} added.", "success")
            return redirect(url_for("web.project", project_id=made.id), code=303)
    return render_page(
        "project_new.html",
        "Add a project",
        status=400 if form.errors else 200,
        has_errors=bool(form.errors),
        form=form,
    )


def _project_view(
    project_id,
    *,
    spend_form=None,
    milestone_form=None,
    status_form=None,
    output_form=None,
    conflict=None,
    status=200,
):
    shown = adapter_funding.project(g.actor, project_id)
    page = presenters.project_page(
        g.actor,
        shown,
        adapter.organisation_names(g.actor),
        {f.id: f.name for f in adapter_funding.funds(g.actor)},
        adapter_funding.may_progress(g.actor, shown["item"]),
        conflict,
    )
    spend_form = spend_form or SpendForm(formdata=None)
    spend_form.period.choices = _quarters(shown["spend"])
    milestone_form = milestone_form or MilestoneForm(formdata=None)
    output_form = output_form or OutputForm(formdata=None)
    if status_form is None:
        status_form = ProjectStatusForm(
            formdata=None, data=presenters.status_form_data(shown["project"])
        )
    forms = [spend_form, milestone_form, output_form, status_form]
    return render_page(
        "project.html",
        shown["project"]["title"],
        status=status,
        has_errors=any(f.errors for f in forms) or conflict is not None,
        page=page,
        spend_form=spend_form,
        milestone_form=milestone_form,
        status_form=status_form,
        output_form=output_form,
        forms=forms,
    )


def _quarters(lines: list[dict]) -> list[tuple[str, str]]:
    return presenters.quarter_choices(today(), {line["period"] for line in lines})


@blp.route("/projects/<int:project_id>")
def project(project_id):
    """A project: milestones, quarterly spend against the award, outputs against targets,
    and the forms the role may use."""
    return _project_view(project_id)


@blp.route("/projects/<int:project_id>/spend", methods=["POST"])
def project_spend(project_id):
    form = SpendForm()
    form.period.choices = _quarters(adapter_funding.project(g.actor, project_id)["spend"])
    if form.validate_on_submit():
        data = {
            "period": form.period.data,
            "actual_pence": form.actual.pence,
            "forecast_pence": form.forecast.pence,
        }
        try:
            adapter_funding.report_spend(g.actor, project_id, data)
        except adapter.Refusal as refusal:
            if refusal.status not in (409, 422):
                raise
            errors = presenters.errors_in_words(refusal.errors)
            if not presenters.api_errors_onto(form, errors, SpendForm.API_FIELDS):
                form.form_errors.append(presenters.quarters_in_words(refusal.message))
        else:
            flash(f"Spend for {presenters.quarter_words(data['period'])} reported.", "success")
            return redirect(url_for("web.project", project_id=project_id), code=303)
    return _project_view(project_id, spend_form=form, status=400)


@blp.route("/projects/<int:project_id>/milestones", methods=["POST"])
def project_milestone(project_id):
    form = MilestoneForm()
    if form.validate_on_submit():
        data = {"title": form.title.data, "due_on": form.due_on.data.isoformat()}
        try:
            adapter_funding.add_milestone(g.actor, project_id, data)
        except adapter.Refusal as refusal:
            if refusal.status not in (409, 422):
                raise
            if not presenters.api_errors_onto(form, refusal.errors, MilestoneForm.API_FIELDS):
                form.form_errors.append(refusal.message)
        else:
            flash("Milestone added.", "success")
            return redirect(url_for("web.project", project_id=project_id), code=303)
    return _project_view(project_id, milestone_form=form, status=400)


@blp.route("/projects/<int:project_id>/status", methods=["POST"])
def project_status(project_id):
    """Status and ratings (the commissioner's office), with the version read as If-Match."""
    form = ProjectStatusForm()
    if form.validate_on_submit():
        try:
            version = int(form.version.data or "")
        except ValueError:
            abort(400)
        data = {
            "status": form.status.data,
            "rag": {
                "delivery": form.rag_delivery.data or None,
                "spend": form.rag_spend.data or None,
                "risk": form.rag_risk.data or None,
            },
            "rag_commentary": form.rag_commentary.data or None,
        }
        if form.status.data == "cancelled" and (form.cancellation_reason.data or "").strip():
            data["cancellation_reason"] = form.cancellation_reason.data.strip()
        try:
            adapter_funding.change_project(g.actor, project_id, version, data)
        except adapter.Refusal as refusal:
            if refusal.status == 412:
                shown = adapter_funding.project(g.actor, project_id)["project"]
                conflict = (
                    f"It was changed at {presenters.on_day(shown['updated_at'])}, after you "
                    "opened this page; your change was not saved. The form now shows the "
                    "project as it is."
                )
                fresh = ProjectStatusForm(formdata=None, data=presenters.status_form_data(shown))
                return _project_view(project_id, status_form=fresh, conflict=conflict, status=409)
            if refusal.status not in (409, 422):
                raise
            errors = presenters.errors_in_words(refusal.errors)
            if not presenters.api_errors_onto(form, errors, ProjectStatusForm.API_FIELDS):
                form.form_errors.append(presenters.statuses_in_words(refusal.message))
        else:
            flash("Project saved.", "success")
            return redirect(url_for("web.project", project_id=project_id), code=303)
    return _project_view(project_id, status_form=form, status=400)


import partnership_api.web.views_project_items  # noqa: E402, F401 - its pages, on this blueprint
