"""The funding summary: totals per fund and overall, and the projects that need attention."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

import sqlalchemy as sa

from partnership_api import policy
from partnership_api.database import db
from partnership_api.models.base import utcnow
from partnership_api.models.funding import (
    OPEN_PROJECT_STATUSES,
    PROJECT_STATUSES,
    RAG_DIMENSIONS,
    RAG_VALUES,
    Fund,
    Milestone,
    Project,
)
from partnership_api.policy import Actor
from partnership_api.services.projects import SpendTotals, spend_totals

# The summary's thresholds for "needs attention".
SPEND_TIME_GAP_POINTS = 25  # spend % of award and time % elapsed more than this far apart
NO_UPDATE_DAYS = 91  # no change to the project or its progress for a quarter

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


def _listed(periods: tuple[str, ...]) -> str:
    if len(periods) == 1:
        return periods[0]
    return f"{', '.join(periods[:-1])} and {periods[-1]}"


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
    missing = spend.periods_without_actual
    if missing:
        reasons.append(
            {
                "code": "spend_not_reported",
                "message": f"No actual spend reported for {_listed(missing)}, "
                f"{'which have' if len(missing) > 1 else 'which has'} ended.",
            }
        )
    start = project.actual_start or project.planned_start
    end = project.planned_end
    award = project.amount_awarded_pence
    if project.status == "in_delivery" and start and end and end > start and award > 0:
        elapsed = Fraction(min(max((on - start).days, 0), (end - start).days), (end - start).days)
        spent = Fraction(spend.spent_pence, award)
        gap = (spent - elapsed) * 100
        # With actuals missing, what is spent is only known to be at least spent_pence: ahead
        # of time can be said, behind cannot (no actual yet is not zero).
        if gap > SPEND_TIME_GAP_POINTS or (gap < -SPEND_TIME_GAP_POINTS and not missing):
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
    policy.require(actor, "funding.summary")
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
