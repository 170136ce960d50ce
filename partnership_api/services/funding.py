"""Funding initiatives: funds, projects and their progress, the summary and the 360Giving export.

Who may do what (``policy.py``, after ``shared/domain.md``): every signed-in user reads; the
commissioner's staff create and change everything; staff of a project's delivery organisations
report its progress (milestones, spend, outputs, RAG and commentary) and nothing else.
A delivery partner adds milestones and marks them completed, but moving a milestone's due date
or retitling it, and changing an output's target, are the commissioner's: a partner cannot
quietly rebaseline its own deadlines or targets.

Changes carry ``If-Match`` with the ETag of the version read (missing → 428, stale → 412) and
are applied by a conditional ``UPDATE … WHERE version = :read``. Every change is audited with
the project's lead organisation as the subject.

Money is whole pence (Python ints, ``BigInteger`` columns). A project's ``spent_pence`` is the
sum of its spend lines' ``actual_pence``; ``forecast_pence`` is its expected outturn: for each
quarter the actual where reported, else the forecast, summed. Spend lines: one per project and
quarter; a second POST for the same quarter is 409 (correct a line with PATCH
``…/spend/{period}``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import sqlalchemy as sa
from flask import current_app
from flask_smorest import abort
from werkzeug.datastructures import ETags

from partnership_api import audit, policy
from partnership_api.extensions import db
from partnership_api.models.base import utcnow
from partnership_api.models.funding import (
    OPEN_PROJECT_STATUSES,
    PERIOD_PATTERN,
    PROJECT_STATUSES,
    PROJECT_TRANSITIONS,
    RAG_DIMENSIONS,
    RAG_VALUES,
    Fund,
    Milestone,
    Output,
    Project,
    ProjectArea,
    ProjectDeliveryOrganisation,
    SpendLine,
)
from partnership_api.models.partnership import AREAS, Organisation
from partnership_api.policy import Actor

# The summary's thresholds for "needs attention".
SPEND_TIME_GAP_POINTS = 25  # spend % of award and time % elapsed more than this far apart
NO_UPDATE_DAYS = 91  # no change to the project or its progress for a quarter

# What a delivery partner may change on a project; anything else is the commissioner's.
PROGRESS_FIELDS = frozenset({"rag", "rag_commentary"})
MILESTONE_PROGRESS_FIELDS = frozenset({"completed_on"})
OUTPUT_PROGRESS_FIELDS = frozenset({"actual"})


def today() -> date:
    return utcnow().date()


# --- ETags and conditional updates ---------------------------------------------------------------


def etag_of(item) -> str:
    """The ETag header value of a fund, project, milestone, spend line or output."""
    return f'"{item.version}"'


def _check_if_match(if_match: ETags | None, item) -> None:
    if if_match is None or (not if_match and not if_match.star_tag):
        abort(
            428,
            message="Send If-Match with the ETag of the version you read (GET it first).",
        )
    if if_match.star_tag:
        abort(428, message="If-Match must name the version you read, not '*'.")
    if not if_match.contains(str(item.version)):
        abort(
            412,
            message=f"It has changed since you read it (it is now version {item.version}). "
            "Read it again and reapply your change.",
        )


def _claim(model, item, if_match: ETags | None) -> None:
    """Check ``If-Match``, then move ``item`` to its next version only if nobody else has."""
    _check_if_match(if_match, item)
    now = utcnow()
    claimed = db.session.execute(
        sa.update(model)
        .where(model.id == item.id, model.version == item.version)
        .values(version=item.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        abort(412, message="It changed while you were changing it. Read it again and retry.")
    # The row is ours now; keep the in-memory copy in step without another UPDATE.
    db.session.expire(item, ["version", "updated_at"])


def _touch(project: Project) -> None:
    """Note that the project's progress was updated now (read by "no update for a quarter")."""
    db.session.execute(
        sa.update(Project)
        .where(Project.id == project.id)
        .values(last_update_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.expire(project, ["last_update_at"])


# --- lookups -------------------------------------------------------------------------------------


def get_fund(fund_id: int) -> Fund:
    fund = db.session.get(Fund, fund_id)
    if fund is None:
        abort(404, message="Not found.")
    return fund


def get_project(project_id: int) -> Project:
    project = db.session.get(Project, project_id)
    if project is None:
        abort(404, message="Not found.")
    return project


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


def _unprocessable(field: str, message: str) -> None:
    abort(422, message=message, errors={"json": {field: [message]}})


def _check_fund(fund_id: int) -> None:
    if db.session.get(Fund, fund_id) is None:
        _unprocessable("fund_id", "No such fund.")


def _check_organisations(ids: Iterable[int], field: str) -> None:
    wanted = set(ids)
    if not wanted:
        return
    found = set(db.session.scalars(sa.select(Organisation.id).where(Organisation.id.in_(wanted))))
    if wanted - found:
        _unprocessable(field, f"No such organisation: {sorted(wanted - found)}.")


# --- funds ---------------------------------------------------------------------------------------


def list_funds_stmt(args: dict) -> sa.Select:
    stmt = sa.select(Fund).order_by(Fund.id)
    if "funder" in args:
        stmt = stmt.where(Fund.funder == args["funder"])
    return stmt


def _fund_name_free(name: str, fund_id: int | None = None) -> None:
    stmt = sa.select(Fund.id).where(Fund.name == name)
    if fund_id is not None:
        stmt = stmt.where(Fund.id != fund_id)
    if db.session.scalar(stmt) is not None:
        abort(409, message="A fund with that name exists.", errors={"json": {"name": ["Taken."]}})


def create_fund(actor: Actor, data: dict) -> Fund:
    policy.require(actor, "fund.change")
    _fund_name_free(data["name"])
    fund = Fund(**data)
    db.session.add(fund)
    db.session.flush()
    audit.record("fund.create", "fund", fund.id, details={"name": fund.name})
    db.session.commit()
    return fund


def update_fund(actor: Actor, fund_id: int, data: dict, if_match: ETags | None) -> Fund:
    policy.require(actor, "fund.change")
    fund = get_fund(fund_id)
    _claim(Fund, fund, if_match)
    if "name" in data:
        _fund_name_free(data["name"], fund.id)
    starts = data.get("starts_on", fund.starts_on)
    ends = data.get("ends_on", fund.ends_on)
    if starts and ends and ends < starts:
        _unprocessable("ends_on", "Ends before it starts.")
    for key, value in data.items():
        setattr(fund, key, value)
    audit.record("fund.update", "fund", fund.id, details={"fields": sorted(data)})
    db.session.commit()
    return fund


# --- projects ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpendTotals:
    spent_pence: int = 0
    forecast_pence: int = 0


def spend_totals(project_ids: Iterable[int]) -> dict[int, SpendTotals]:
    """Each project's spent and forecast pence, summed by the database in one grouped query."""
    ids = list(project_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(
            SpendLine.project_id,
            sa.func.coalesce(sa.func.sum(SpendLine.actual_pence), 0),
            sa.func.coalesce(
                sa.func.sum(sa.func.coalesce(SpendLine.actual_pence, SpendLine.forecast_pence)), 0
            ),
        )
        .where(SpendLine.project_id.in_(ids))
        .group_by(SpendLine.project_id)
    )
    # PostgreSQL sums bigints as numeric (Decimal): int() of a whole Decimal is exact.
    return {pid: SpendTotals(int(spent), int(forecast)) for pid, spent, forecast in rows}


def present_project(project: Project, totals: SpendTotals | None = None) -> dict:
    """A project with its spend computed from its lines."""
    if totals is None:
        totals = spend_totals([project.id]).get(project.id, SpendTotals())
    award = project.amount_awarded_pence
    return {
        "id": project.id,
        "fund_id": project.fund_id,
        "title": project.title,
        "description": project.description,
        "category": project.category,
        "lead_organisation_id": project.lead_organisation_id,
        "delivery_organisation_ids": project.delivery_organisation_ids,
        "areas": project.areas,
        "amount_awarded_pence": award,
        "awarded_on": project.awarded_on,
        "planned_start": project.planned_start,
        "planned_end": project.planned_end,
        "actual_start": project.actual_start,
        "actual_end": project.actual_end,
        "status": project.status,
        "cancellation_reason": project.cancellation_reason,
        "rag": project.rag,
        "rag_commentary": project.rag_commentary,
        "spent_pence": totals.spent_pence,
        "forecast_pence": totals.forecast_pence,
        "remaining_pence": award - totals.spent_pence,
        "overspent": totals.spent_pence > award,
        "forecast_overspend": totals.forecast_pence > award,
        "version": project.version,
        "created_at": project.created_at,
        "updated_at": project.updated_at,
        "last_update_at": project.last_update_at,
    }


def present_projects(projects: list[Project]) -> list[dict]:
    totals = spend_totals(p.id for p in projects)
    return [present_project(p, totals.get(p.id, SpendTotals())) for p in projects]


def list_projects_stmt(args: dict) -> sa.Select:
    """Projects, filtered; every signed-in user reads every project."""
    stmt = sa.select(Project).order_by(Project.id)
    for field in ("fund_id", "status", "category"):
        if field in args:
            stmt = stmt.where(getattr(Project, field) == args[field])
    if "area" in args:
        stmt = stmt.where(
            Project.id.in_(
                sa.select(ProjectArea.project_id).where(ProjectArea.gss_code == args["area"])
            )
        )
    if "delivery_organisation_id" in args:
        stmt = stmt.where(
            Project.id.in_(
                sa.select(ProjectDeliveryOrganisation.project_id).where(
                    ProjectDeliveryOrganisation.organisation_id == args["delivery_organisation_id"]
                )
            )
        )
    if "rag" in args:
        rag = args["rag"]
        stmt = stmt.where(
            sa.or_(Project.rag_delivery == rag, Project.rag_spend == rag, Project.rag_risk == rag)
        )
    return stmt


def _set_rag(project: Project, rag: dict) -> None:
    for dimension, value in rag.items():
        setattr(project, f"rag_{dimension}", value)


def create_project(actor: Actor, data: dict) -> Project:
    policy.require(actor, "project.change")
    _check_fund(data["fund_id"])
    _check_organisations([data["lead_organisation_id"]], "lead_organisation_id")
    _check_organisations(data["delivery_organisation_ids"], "delivery_organisation_ids")
    rag = data.pop("rag", None) or {}
    project = Project(**data)
    _set_rag(project, rag)
    db.session.add(project)
    db.session.flush()
    audit.record(
        "project.create",
        "project",
        project.id,
        subject_organisation_id=project.lead_organisation_id,
        details={"fund_id": project.fund_id, "amount_awarded_pence": project.amount_awarded_pence},
    )
    db.session.commit()
    return project


def _authorize_project_change(actor: Actor, project: Project, fields: Iterable[str]) -> None:
    """Progress fields need ``project.progress``; anything else ``project.change``."""
    if set(fields) <= PROGRESS_FIELDS:
        policy.authorize(actor, "project.progress", project)
    else:
        policy.authorize(actor, "project.change", project)


def _require_for(actor: Actor, fields: Iterable[str], progress_fields: frozenset) -> None:
    policy.require(
        actor, "project.progress" if set(fields) <= progress_fields else "project.change"
    )


def update_project(actor: Actor, project_id: int, data: dict, if_match: ETags | None) -> Project:
    _require_for(actor, data, PROGRESS_FIELDS)
    project = get_project(project_id)
    _authorize_project_change(actor, project, data)
    _claim(Project, project, if_match)

    old_status = project.status
    new_status = data.pop("status", old_status)
    reason = data.pop("cancellation_reason", None)
    if new_status != old_status:
        if new_status not in PROJECT_TRANSITIONS[old_status]:
            abort(
                409,
                message=f"The project is {old_status}; it cannot become {new_status}.",
                errors={"json": {"status": [f"Current status: {old_status}."]}},
            )
        if new_status == "cancelled" and not reason:
            _unprocessable("cancellation_reason", "Say why the project is cancelled.")
        if new_status == "in_delivery" and "actual_start" not in data and not project.actual_start:
            data["actual_start"] = today()
        if new_status == "completed" and "actual_end" not in data and not project.actual_end:
            data["actual_end"] = today()
    if reason is not None:
        if new_status != "cancelled":
            _unprocessable(
                "cancellation_reason", "Only a project being or already cancelled has a reason."
            )
        project.cancellation_reason = reason

    if "fund_id" in data:
        _check_fund(data["fund_id"])
    if "lead_organisation_id" in data:
        _check_organisations([data["lead_organisation_id"]], "lead_organisation_id")
    if "delivery_organisation_ids" in data:
        _check_organisations(data["delivery_organisation_ids"], "delivery_organisation_ids")
    for start_field, end_field in (
        ("planned_start", "planned_end"),
        ("actual_start", "actual_end"),
    ):
        start = data.get(start_field, getattr(project, start_field))
        end = data.get(end_field, getattr(project, end_field))
        if start and end and end < start:
            _unprocessable(end_field, "Ends before it starts.")

    fields = sorted(data) + (["status"] if new_status != old_status else [])
    if reason is not None:
        fields.append("cancellation_reason")
    _set_rag(project, data.pop("rag", None) or {})
    for key, value in data.items():
        setattr(project, key, value)
    project.status = new_status
    project.last_update_at = utcnow()
    details: dict = {"fields": sorted(set(fields))}
    if new_status != old_status:
        details["from_status"], details["to_status"] = old_status, new_status
    audit.record(
        "project.transition" if new_status != old_status else "project.update",
        "project",
        project.id,
        subject_organisation_id=project.lead_organisation_id,
        details=details,
    )
    db.session.commit()
    return project


# --- milestones, spend and outputs ---------------------------------------------------------------


def _progress_on(actor: Actor, project_id: int, fields: Iterable[str], progress_fields) -> Project:
    """Load the project and check the caller may make this progress change to it."""
    fields = set(fields)
    _require_for(actor, fields, progress_fields)
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
    _claim(type(item), item, if_match)
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


def create_spend_line(actor: Actor, project_id: int, data: dict) -> SpendLine:
    project = _progress_on(actor, project_id, (), frozenset())
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


# --- the summary ---------------------------------------------------------------------------------


def _empty_totals() -> dict:
    return {
        "project_count": 0,
        "awarded_pence": 0,
        "spent_pence": 0,
        "forecast_pence": 0,
        "remaining_pence": 0,
        "by_status": dict.fromkeys(PROJECT_STATUSES, 0),
        "by_rag": {d: dict.fromkeys((*RAG_VALUES, "not_rated"), 0) for d in RAG_DIMENSIONS},
    }


def _add(totals: dict, project, spend: SpendTotals) -> None:
    totals["project_count"] += 1
    totals["awarded_pence"] += project.amount_awarded_pence
    totals["spent_pence"] += spend.spent_pence
    totals["forecast_pence"] += spend.forecast_pence
    totals["remaining_pence"] = totals["awarded_pence"] - totals["spent_pence"]
    totals["by_status"][project.status] += 1
    for dimension in RAG_DIMENSIONS:
        totals["by_rag"][dimension][getattr(project, f"rag_{dimension}") or "not_rated"] += 1


def _percent(part: Fraction) -> int:
    return round(part * 100)


def _attention_reasons(project, spend: SpendTotals, overdue: int, on: date, now) -> list[dict]:
    reasons = []
    if spend.spent_pence > project.amount_awarded_pence and project.status != "cancelled":
        over = spend.spent_pence - project.amount_awarded_pence
        reasons.append({"code": "overspent", "message": f"Spent {over} pence more than the award."})
    if project.status not in OPEN_PROJECT_STATUSES:
        return reasons
    red = [d for d in RAG_DIMENSIONS if getattr(project, f"rag_{d}") == "red"]
    if red:
        reasons.append({"code": "red_rag", "message": f"Rated red for {', '.join(red)}."})
    if overdue:
        reasons.append(
            {
                "code": "overdue_milestones",
                "message": f"{overdue} milestone{'s' if overdue != 1 else ''} overdue.",
            }
        )
    start = project.actual_start or project.planned_start
    end = project.planned_end
    award = project.amount_awarded_pence
    if project.status == "in_delivery" and start and end and end > start and award > 0:
        elapsed = Fraction(min(max((on - start).days, 0), (end - start).days), (end - start).days)
        spent = Fraction(spend.spent_pence, award)
        gap = (spent - elapsed) * 100
        if abs(gap) > SPEND_TIME_GAP_POINTS:
            ahead = gap > 0
            reasons.append(
                {
                    "code": "spend_ahead_of_time" if ahead else "spend_behind_time",
                    "message": f"{_percent(spent)}% of the award spent with "
                    f"{_percent(elapsed)}% of the time elapsed.",
                }
            )
    if project.last_update_at < now - timedelta(days=NO_UPDATE_DAYS):
        reasons.append(
            {
                "code": "no_recent_update",
                "message": f"No update since {project.last_update_at.date().isoformat()} "
                f"(more than {NO_UPDATE_DAYS} days).",
            }
        )
    return reasons


def funding_summary(actor: Actor) -> dict:
    """Totals per fund and overall, counts by status and RAG, and projects needing attention.

    Three queries whatever the number of projects: the projects, their spend (grouped) and
    their overdue milestones (grouped). Money is summed as Python ints: exact to the penny.
    """
    now = utcnow()
    on = now.date()
    funds = db.session.scalars(sa.select(Fund).order_by(Fund.id)).all()
    projects = db.session.execute(
        sa.select(
            Project.id,
            Project.fund_id,
            Project.title,
            Project.status,
            Project.lead_organisation_id,
            Project.amount_awarded_pence,
            Project.planned_start,
            Project.planned_end,
            Project.actual_start,
            Project.rag_delivery,
            Project.rag_spend,
            Project.rag_risk,
            Project.last_update_at,
        ).order_by(Project.id)
    ).all()
    spend = spend_totals(p.id for p in projects)
    overdue = dict(
        db.session.execute(
            sa.select(Milestone.project_id, sa.func.count())
            .where(Milestone.completed_on.is_(None), Milestone.due_on < on)
            .group_by(Milestone.project_id)
        ).all()
    )
    overall = _empty_totals()
    per_fund = {
        f.id: {"fund_id": f.id, "name": f.name, "funder": f.funder, **_empty_totals()}
        for f in funds
    }
    attention = []
    for project in projects:
        lines = spend.get(project.id, SpendTotals())
        _add(overall, project, lines)
        _add(per_fund[project.fund_id], project, lines)
        reasons = _attention_reasons(project, lines, overdue.get(project.id, 0), on, now)
        if reasons:
            attention.append(
                {
                    "project_id": project.id,
                    "fund_id": project.fund_id,
                    "title": project.title,
                    "status": project.status,
                    "lead_organisation_id": project.lead_organisation_id,
                    "reasons": reasons,
                }
            )
    return {
        "as_of": on,
        "thresholds": {
            "spend_time_gap_points": SPEND_TIME_GAP_POINTS,
            "no_update_days": NO_UPDATE_DAYS,
        },
        "overall": overall,
        "funds": list(per_fund.values()),
        "attention": attention,
    }


# --- the 360Giving export ------------------------------------------------------------------------

GIVING_VERSION = "1.4"
EXPORTED_STATUSES = ("planned", "in_delivery", "completed")  # a cancelled award is withdrawn


def pounds(pence: int) -> int | float:
    """Pence as pounds for the standard: exact via Decimal, then a JSON number (1234.57)."""
    amount = Decimal(pence) / 100
    return int(amount) if pence % 100 == 0 else float(amount)


def _as_datetime(day: date) -> str:
    """A day as a full date-time: the standard's date fields match exactly one of their forms."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC).isoformat()


def _org_identifier(prefix: str, organisation_id: int) -> str:
    # No registered identifiers are held, so the standard's fallback: our prefix + our own id.
    return f"{prefix}-ORG-{organisation_id}"


def _geo_code_type(code: str) -> str:
    return "UA" if code.startswith("E06") else "LAD"


def giving_export(actor: Actor) -> dict:
    """The projects as a 360Giving data package; no personal data and no RAG commentary."""
    prefix = current_app.config["GRANT_ID_PREFIX"]
    now = utcnow()
    projects = db.session.scalars(
        sa.select(Project).where(Project.status.in_(EXPORTED_STATUSES)).order_by(Project.id)
    ).all()
    funds = {f.id: f for f in db.session.scalars(sa.select(Fund))}
    organisations = {o.id: o for o in db.session.scalars(sa.select(Organisation))}
    commissioner = next(
        (o for o in sorted(organisations.values(), key=lambda o: o.id) if o.kind == "commissioner"),
        None,
    )
    spend = spend_totals(p.id for p in projects)
    grants = []
    for project in projects:
        fund = funds[project.fund_id]
        lead = organisations[project.lead_organisation_id]
        if commissioner is not None:
            funder = {"id": _org_identifier(prefix, commissioner.id), "name": commissioner.name}
        else:
            funder = {"id": f"{prefix}-FUNDER-{fund.id}", "name": fund.funder}
        award_day = project.awarded_on or fund.starts_on or project.created_at.date()
        grant = {
            "id": f"{prefix}-{project.id}",
            "title": project.title,
            "description": project.description or project.title,
            "currency": "GBP",
            "amountAwarded": pounds(project.amount_awarded_pence),
            "amountDisbursed": pounds(spend.get(project.id, SpendTotals()).spent_pence),
            "awardDate": _as_datetime(award_day),
            "recipientOrganization": [{"id": _org_identifier(prefix, lead.id), "name": lead.name}],
            "fundingOrganization": [funder],
            "grantProgramme": [{"code": f"{prefix}-FUND-{fund.id}", "title": fund.name}],
            "dateModified": project.last_update_at.isoformat(),
        }
        planned = _event(project.planned_start, project.planned_end)
        if planned:
            grant["plannedDates"] = [planned]
        actual = _event(project.actual_start, project.actual_end)
        if actual:
            grant["actualDates"] = [actual]
        if project.areas:
            grant["beneficiaryLocation"] = [
                {
                    "name": AREAS[code],
                    "geoCode": code,
                    "geoCodeType": _geo_code_type(code),
                    "countryCode": "GB",
                }
                for code in project.areas
            ]
        grants.append(grant)
    package = {
        "title": "Funding initiatives of the domestic-abuse partnership",
        "description": "Projects funded through the commissioner's office, as 360Giving grants.",
        "identifier": f"{prefix}-projects-{now.date().isoformat()}",
        "issued": now.isoformat(),
        "modified": now.isoformat(),
        "version": GIVING_VERSION,
        "grants": grants,
    }
    if commissioner is not None:
        package["publisher"] = {
            "identifier": _org_identifier(prefix, commissioner.id),
            "name": commissioner.name,
        }
    return package


def _event(start: date | None, end: date | None) -> dict | None:
    if start is None:
        return None
    event = {"startDate": _as_datetime(start)}
    if end is not None:
        event["endDate"] = _as_datetime(end)
    return event
