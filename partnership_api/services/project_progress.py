"""A project's progress: milestones, quarterly spend lines and outputs, each under If-Match."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

import sqlalchemy as sa
from flask_smorest import abort
from werkzeug.datastructures import ETags

from partnership_api import audit, policy
from partnership_api.domain_errors import Invalid
from partnership_api.extensions import db
from partnership_api.models.base import utcnow
from partnership_api.models.funding import (
    PERIOD_PATTERN,
    Milestone,
    Output,
    Project,
    SpendLine,
    period_has_ended,
)
from partnership_api.policy import Actor
from partnership_api.services.projects import (
    MILESTONE_PROGRESS_FIELDS,
    OUTPUT_PROGRESS_FIELDS,
    get_project,
    require_for,
    today,
)
from partnership_api.services.versions import claim


def get_milestone(project_id: int, milestone_id: int) -> Milestone:
    milestone = db.session.get(Milestone, milestone_id)
    if milestone is None or milestone.project_id != project_id:
        abort(404, message="Not found.")
    return milestone


def get_spend_line(project_id: int, period: str) -> SpendLine:
    if not re.fullmatch(PERIOD_PATTERN, period):
        abort(404, message="Not found.")  # never sends a malformed period to the database
    line = db.session.scalar(
        sa.select(SpendLine).where(SpendLine.project_id == project_id, SpendLine.period == period)
    )
    if line is None:
        abort(404, message="Not found.")
    return line


def get_output(project_id: int, output_id: int) -> Output:
    output = db.session.get(Output, output_id)
    if output is None or output.project_id != project_id:
        abort(404, message="Not found.")
    return output


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


def _progress_on(actor: Actor, project_id: int, fields: Iterable[str], progress_fields) -> Project:
    """Load the project and check the caller may make this progress change to it."""
    fields = set(fields)
    require_for(actor, fields, progress_fields)
    project = get_project(project_id)
    if fields <= progress_fields:
        policy.authorize(actor, "project.progress", project)
    else:
        policy.authorize(actor, "project.change", project)
    return project


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
    project: Project, item, data: dict, if_match: ETags | None, action: str, kind: str, details
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


def milestones_stmt(project_id: int) -> sa.Select:
    get_project(project_id)
    return (
        sa.select(Milestone)
        .where(Milestone.project_id == project_id)
        .order_by(Milestone.due_on, Milestone.id)
    )


def create_milestone(actor: Actor, project_id: int, data: dict) -> Milestone:
    # Adding a milestone is progress: a delivery partner may plan its own steps.
    project = _progress_on(actor, project_id, (), frozenset())
    milestone = Milestone(project_id=project.id, **data)
    return _add_item(
        project, milestone, "milestone.create", "milestone", {"due_on": str(data["due_on"])}
    )


def update_milestone(
    actor: Actor, project_id: int, milestone_id: int, data: dict, if_match: ETags | None
) -> Milestone:
    project = _progress_on(actor, project_id, data, MILESTONE_PROGRESS_FIELDS)
    milestone = get_milestone(project.id, milestone_id)
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


def spend_stmt(project_id: int) -> sa.Select:
    get_project(project_id)
    return sa.select(SpendLine).where(SpendLine.project_id == project_id).order_by(SpendLine.period)


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
    project = _progress_on(actor, project_id, (), frozenset())
    _actual_only_when_ended(data["period"], data.get("actual_pence"))
    existing = db.session.scalar(
        sa.select(SpendLine.id).where(
            SpendLine.project_id == project.id, SpendLine.period == data["period"]
        )
    )
    if existing is not None:
        abort(
            409,
            message=f"There is already a spend line for {data['period']}: change it with PATCH "
            f"…/spend/{data['period']} and its ETag.",
            errors={"json": {"period": ["Already reported."]}},
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
    actor: Actor, project_id: int, period: str, data: dict, if_match: ETags | None
) -> SpendLine:
    project = _progress_on(actor, project_id, (), frozenset())
    line = get_spend_line(project.id, period)
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


def outputs_stmt(project_id: int) -> sa.Select:
    get_project(project_id)
    return sa.select(Output).where(Output.project_id == project_id).order_by(Output.id)


def create_output(actor: Actor, project_id: int, data: dict) -> Output:
    project = _progress_on(actor, project_id, (), frozenset())
    output = Output(project_id=project.id, **data)
    return _add_item(project, output, "output.create", "output", {"metric": output.metric})


def update_output(
    actor: Actor, project_id: int, output_id: int, data: dict, if_match: ETags | None
) -> Output:
    project = _progress_on(actor, project_id, data, OUTPUT_PROGRESS_FIELDS)
    output = get_output(project.id, output_id)
    return _change_item(
        project,
        output,
        data,
        if_match,
        "output.update",
        "output",
        lambda _: {"fields": sorted(data)},
    )
