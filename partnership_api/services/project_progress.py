"""A project's progress: milestones, quarterly spend lines and outputs, each under If-Match."""

from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa

from partnership_api import audit, policy
from partnership_api.database import db
from partnership_api.domain_errors import Conflict, Invalid, NotFound
from partnership_api.models.audit import AuditEvent
from partnership_api.models.base import utcnow
from partnership_api.models.funding import (
    PERIOD_PATTERN,
    Milestone,
    Output,
    Project,
    SpendLine,
    period_has_ended,
)
from partnership_api.pagination import Page, PageRequest, page_of
from partnership_api.policy import Actor
from partnership_api.services.projects import load_project, project_for_change, today
from partnership_api.services.versions import IfMatch, claim


def _milestone(project_id: int, milestone_id: int) -> Milestone:
    milestone = db.session.get(Milestone, milestone_id)
    if milestone is None or milestone.project_id != project_id:
        raise NotFound()
    return milestone


def _spend_line(project_id: int, period: str) -> SpendLine:
    if not re.fullmatch(PERIOD_PATTERN, period):
        raise NotFound()  # never sends a malformed period to the database
    line = db.session.scalar(
        sa.select(SpendLine).where(SpendLine.project_id == project_id, SpendLine.period == period)
    )
    if line is None:
        raise NotFound()
    return line


def _output(project_id: int, output_id: int) -> Output:
    output = db.session.get(Output, output_id)
    if output is None or output.project_id != project_id:
        raise NotFound()
    return output


def get_milestone(actor: Actor, project_id: int, milestone_id: int) -> Milestone:
    policy.require(actor, "project.read")
    return _milestone(project_id, milestone_id)


def get_spend_line(actor: Actor, project_id: int, period: str) -> SpendLine:
    policy.require(actor, "project.read")
    return _spend_line(project_id, period)


def get_output(actor: Actor, project_id: int, output_id: int) -> Output:
    policy.require(actor, "project.read")
    return _output(project_id, output_id)


def _touch(project: Project) -> None:
    """Note that the project's progress was updated now (read by "no update for a quarter")."""
    db.session.execute(
        sa.update(Project)
        .where(Project.id == project.id)
        .values(last_update_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.expire(project, ["last_update_at"])


# --- milestones, spend and outputs ---------------------------------------------------------------


def _record(action: str, kind: str, item, project: Project, details: dict) -> None:
    audit.record(
        action,
        kind,
        item.id,
        subject_organisation_id=project.lead_organisation_id,
        details={"project_id": project.id, **details},
    )


def _add_item(project: Project, item, action: str, kind: str, details: dict):
    """Add a milestone, spend line or output to a project: one audited commit."""
    db.session.add(item)
    db.session.flush()
    _touch(project)
    _record(action, kind, item, project, details)
    db.session.commit()
    return item


def _change_item(
    project: Project, item, data: dict, if_match: IfMatch | None, action: str, kind: str, details
) -> object:
    """Change a project's item under If-Match; ``details(item)`` is audited after the change."""
    claim(type(item), item, if_match)
    for key, value in data.items():
        setattr(item, key, value)
    _touch(project)
    _record(action, kind, item, project, details(item))
    db.session.commit()
    return item


def present_milestone(milestone: Milestone, on: date | None = None) -> dict:
    on = on or today()
    return {
        "id": milestone.id,
        "project_id": milestone.project_id,
        "title": milestone.title,
        "due_on": milestone.due_on,
        "completed_on": milestone.completed_on,
        "overdue": milestone.completed_on is None and milestone.due_on < on,
        "version": milestone.version,
        "updated_at": milestone.updated_at,
    }


def list_milestones(actor: Actor, project_id: int, page: PageRequest) -> Page:
    """A project's milestones, soonest due first."""
    stmt = (
        sa.select(Milestone)
        .where(Milestone.project_id == project_id)
        .order_by(Milestone.due_on, Milestone.id)
    )
    return _listed(actor, project_id, stmt, page, present_milestone)


def _listed(actor: Actor, project_id: int, stmt: sa.Select, page: PageRequest, present) -> Page:
    """One page of a project's items, as shown (404 when there is no such project)."""
    policy.require(actor, "project.read")
    load_project(project_id)
    found = page_of(stmt, page)
    return Page([present(item) for item in found.items], found.total)


def create_milestone(actor: Actor, project_id: int, data: dict) -> Milestone:
    # Adding a milestone is progress: a delivery partner may plan its own steps.
    project = project_for_change(actor, project_id, "milestone", ())
    milestone = Milestone(project_id=project.id, **data)
    return _add_item(
        project, milestone, "milestone.create", "milestone", {"due_on": str(data["due_on"])}
    )


def update_milestone(
    actor: Actor, project_id: int, milestone_id: int, data: dict, if_match: IfMatch | None
) -> Milestone:
    project = project_for_change(actor, project_id, "milestone", data)
    milestone = _milestone(project.id, milestone_id)
    return _change_item(
        project,
        milestone,
        data,
        if_match,
        "milestone.update",
        "milestone",
        lambda _: {"fields": sorted(data)},
    )


def present_spend_line(line: SpendLine) -> dict:
    return {
        "id": line.id,
        "project_id": line.project_id,
        "period": line.period,
        "actual_pence": line.actual_pence,
        "forecast_pence": line.forecast_pence,
        "version": line.version,
        "updated_at": line.updated_at,
    }


def list_spend_lines(actor: Actor, project_id: int, page: PageRequest) -> Page:
    """A project's quarterly spend lines, oldest quarter first."""
    stmt = sa.select(SpendLine).where(SpendLine.project_id == project_id)
    return _listed(actor, project_id, stmt.order_by(SpendLine.period), page, present_spend_line)


def spend_history(actor: Actor, project_id: int, period: str) -> list[dict]:
    """A quarter's spend as first reported and after each correction, oldest first.

    Read from the audit trail, which keeps every figure a line has had (a correction records
    the figures before it and after it): when, by which organisation, and the figures then.
    No username: the organisation is what the partnership needs to see here. A line whose
    first report left no event (loaded before the trail, or by an import) starts with the
    figures the first correction found, at the line's creation, by an organisation unknown.
    """
    policy.require(actor, "project.read")
    line = _spend_line(load_project(project_id).id, period)
    events = db.session.scalars(
        sa.select(AuditEvent)
        .where(
            AuditEvent.resource_type == "spend",
            AuditEvent.resource_id == str(line.id),
            AuditEvent.action.in_(("spend.create", "spend.update")),
            AuditEvent.outcome == "allowed",
        )
        .order_by(AuditEvent.id)
    ).all()
    history = [
        _figures(event.at, event.action, event.organisation_id, event.details or {})
        for event in events
    ]
    if not events or events[0].action != "spend.create":
        first = (events[0].details or {}).get("before") if events else _spend_details(line)
        history.insert(0, _figures(line.created_at, "spend.create", None, first or {}))
    return history


def _figures(at, action: str, organisation_id: int | None, figures: dict) -> dict:
    return {
        "at": at,
        "change": "reported" if action == "spend.create" else "corrected",
        "organisation_id": organisation_id,
        "actual_pence": figures.get("actual_pence"),
        "forecast_pence": figures.get("forecast_pence"),
    }


def _actual_only_when_ended(period: str, actual_pence: int | None) -> None:
    """An actual is what was spent in a quarter that is over; before then it is a forecast."""
    if actual_pence is not None and not period_has_ended(period, today()):
        raise Invalid.on(
            "actual_pence",
            f"actual_pence: {period} has not ended; report its forecast_pence now and its "
            "actual once the quarter is over.",
            f"{period} has not ended: an actual is reported once the quarter is over.",
        )


def create_spend_line(actor: Actor, project_id: int, data: dict) -> SpendLine:
    project = project_for_change(actor, project_id, "spend", ())
    _actual_only_when_ended(data["period"], data.get("actual_pence"))
    existing = db.session.scalar(
        sa.select(SpendLine.id).where(
            SpendLine.project_id == project.id, SpendLine.period == data["period"]
        )
    )
    if existing is not None:
        raise Conflict.on(
            "period",
            f"There is already a spend line for {data['period']}: change it with PATCH "
            f"…/spend/{data['period']} and its ETag.",
            "Already reported.",
        )
    line = SpendLine(project_id=project.id, **data)
    return _add_item(project, line, "spend.create", "spend", _spend_details(line))


def _spend_details(line: SpendLine) -> dict:
    return {
        "period": line.period,
        "actual_pence": line.actual_pence,
        "forecast_pence": line.forecast_pence,
    }


def update_spend_line(
    actor: Actor, project_id: int, period: str, data: dict, if_match: IfMatch | None
) -> SpendLine:
    project = project_for_change(actor, project_id, "spend", ())
    line = _spend_line(project.id, period)
    _actual_only_when_ended(line.period, data.get("actual_pence"))
    before = _spend_details(line)
    return _change_item(
        project,
        line,
        data,
        if_match,
        "spend.update",
        "spend",
        lambda changed: {"before": before, **_spend_details(changed)},
    )


def present_output(output: Output) -> dict:
    return {
        "id": output.id,
        "project_id": output.project_id,
        "metric": output.metric,
        "unit": output.unit,
        "target": output.target,
        "actual": output.actual,
        "version": output.version,
        "updated_at": output.updated_at,
    }


def list_outputs(actor: Actor, project_id: int, page: PageRequest) -> Page:
    """A project's outputs: what it has delivered against its targets."""
    stmt = sa.select(Output).where(Output.project_id == project_id).order_by(Output.id)
    return _listed(actor, project_id, stmt, page, present_output)


def create_output(actor: Actor, project_id: int, data: dict) -> Output:
    project = project_for_change(actor, project_id, "output", ())
    output = Output(project_id=project.id, **data)
    return _add_item(project, output, "output.create", "output", {"metric": output.metric})


def update_output(
    actor: Actor, project_id: int, output_id: int, data: dict, if_match: IfMatch | None
) -> Output:
    project = project_for_change(actor, project_id, "output", data)
    output = _output(project.id, output_id)
    return _change_item(
        project,
        output,
        data,
        if_match,
        "output.update",
        "output",
        lambda _: {"fields": sorted(data)},
    )
