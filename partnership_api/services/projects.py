"""Projects bought with the funds: reading them with their spend, adding and changing them.

Who may do what (``policy.py``, after ``shared/domain.md``): every signed-in user reads; the
commissioner's staff create and change everything; staff of a project's delivery organisations
report its progress (milestones, spend, outputs, RAG and commentary) and nothing else
(``policy.project_action`` tells progress from change). A delivery partner adds milestones and
marks them completed, but moving a milestone's due date or retitling it, and changing an
output's target, are the commissioner's: a partner cannot quietly rebaseline its own deadlines
or targets.

Changes carry ``If-Match`` with the ETag of the version read (missing → 428, stale → 412) and
are applied by a conditional ``UPDATE … WHERE version = :read``. Every change is audited with
the project's lead organisation as the subject.

Money is whole pence (Python ints, ``BigInteger`` columns). A project's ``spent_pence`` is the
sum of its spend lines' ``actual_pence``; ``forecast_pence`` is its expected outturn: for each
quarter that has ended the actual where reported, else the forecast; for a quarter not yet over
its forecast (an actual is refused until the quarter ends, so a zero typed in early cannot hide
the forecast). "No actual yet" (null) is not zero: an ended quarter without an actual is listed
in ``periods_without_actual``. Spend lines: one per project and quarter; a second POST for the
same quarter is 409 (correct a line with PATCH ``…/spend/{period}``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from partnership_api import audit, events, policy
from partnership_api.database import db
from partnership_api.domain_errors import Conflict, Invalid, NotFound
from partnership_api.models.base import utcnow
from partnership_api.models.funding import (
    PROJECT_TRANSITIONS,
    STARTING_PROJECT_STATUSES,
    Project,
    ProjectArea,
    ProjectDeliveryOrganisation,
    SpendLine,
    period_of,
)
from partnership_api.models.partnership import Organisation
from partnership_api.pagination import Page, PageRequest, page_of
from partnership_api.policy import Actor
from partnership_api.services.funds import check_fund
from partnership_api.services.versions import IfMatch, claim


def today() -> date:
    return utcnow().date()


def get_project(actor: Actor, project_id: int) -> Project:
    policy.require(actor, "project.read")
    return load_project(project_id)


def load_project(project_id: int) -> Project:
    project = db.session.get(Project, project_id)
    if project is None:
        raise NotFound()
    return project


def project_for_change(actor: Actor, project_id: int, part: str, fields: Iterable[str]) -> Project:
    """The project, once the policy allows this change to this ``part`` of it (the project
    itself, a milestone, a spend line or an output): ``project.progress`` when every field is
    progress, else ``project.change`` (``policy.project_action``)."""
    action = policy.project_action(part, fields)
    policy.require(actor, action)
    project = load_project(project_id)
    policy.authorize(actor, action, project)
    return project


def _check_organisations(ids: Iterable[int], field: str) -> None:
    wanted = set(ids)
    if not wanted:
        return
    found = set(db.session.scalars(sa.select(Organisation.id).where(Organisation.id.in_(wanted))))
    if wanted - found:
        raise Invalid.on(field, f"No such organisation: {sorted(wanted - found)}.")


# --- projects ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpendTotals:
    spent_pence: int = 0
    forecast_pence: int = 0
    # Quarters that have ended with no actual reported (null: not known, which is not zero).
    periods_without_actual: tuple[str, ...] = ()


def spend_totals(project_ids: Iterable[int]) -> dict[int, SpendTotals]:
    """Each project's spent and forecast pence and its ended quarters without an actual.

    Two queries for any number of projects: the sums grouped by the database, and the
    quarters still waiting for their actual.
    """
    ids = list(project_ids)
    if not ids:
        return {}
    current = period_of(today())
    ended = SpendLine.period < current
    outturn = sa.case(
        (ended, sa.func.coalesce(SpendLine.actual_pence, SpendLine.forecast_pence)),
        else_=sa.func.coalesce(SpendLine.forecast_pence, SpendLine.actual_pence),
    )
    rows = db.session.execute(
        sa.select(
            SpendLine.project_id,
            sa.func.coalesce(sa.func.sum(SpendLine.actual_pence), 0),
            sa.func.coalesce(sa.func.sum(outturn), 0),
        )
        .where(SpendLine.project_id.in_(ids))
        .group_by(SpendLine.project_id)
    )
    missing: dict[int, list[str]] = {}
    for pid, period in db.session.execute(
        sa.select(SpendLine.project_id, SpendLine.period)
        .where(SpendLine.project_id.in_(ids), ended, SpendLine.actual_pence.is_(None))
        .order_by(SpendLine.project_id, SpendLine.period)
    ):
        missing.setdefault(pid, []).append(period)
    # PostgreSQL sums bigints as numeric (Decimal): int() of a whole Decimal is exact.
    return {
        pid: SpendTotals(int(spent), int(forecast), tuple(missing.get(pid, ())))
        for pid, spent, forecast in rows
    }


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
        "periods_without_actual": list(totals.periods_without_actual),
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


def list_projects(actor: Actor, args: dict, page: PageRequest) -> Page:
    """Projects, filtered, with their spend; every signed-in user reads every project."""
    policy.require(actor, "project.read")
    found = page_of(listing(args), page)
    return Page(present_projects(found.items), found.total)


def listing(args: dict) -> sa.Select:
    """The projects matching the list's filters, by id (the list and the CSV both read it)."""
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
    check_fund(data["fund_id"])
    _check_organisations([data["lead_organisation_id"]], "lead_organisation_id")
    _check_organisations(data["delivery_organisation_ids"], "delivery_organisation_ids")
    status = data.setdefault("status", "planned")
    if status not in STARTING_PROJECT_STATUSES:
        raise Invalid.on(
            "status", f"status: a new project starts as planned or in_delivery, not {status}."
        )
    if data.get("awarded_on") is None:
        raise Invalid.on("awarded_on", "awarded_on: say when the award was made.")
    rag = data.pop("rag", None) or {}
    project = Project(**data)
    if project.status == "in_delivery" and project.actual_start is None:
        project.actual_start = today()
    _set_rag(project, rag)
    db.session.add(project)
    db.session.flush()
    audit.record(
        "project.create",
        "project",
        project.id,
        subject_organisation_id=project.lead_organisation_id,
        details={
            "fund_id": project.fund_id,
            "amount_awarded_pence": project.amount_awarded_pence,
            "status": project.status,
        },
    )
    db.session.commit()
    return project


def update_project(actor: Actor, project_id: int, data: dict, if_match: IfMatch | None) -> Project:
    """Change a project's plan or progress, and move its status along ``PROJECT_TRANSITIONS``;
    audited, and heard by its lead and delivery partners when its status or ratings moved."""
    project = project_for_change(actor, project_id, "project", data)
    claim(Project, project, if_match)
    old_status = project.status
    new_status = data.pop("status", old_status)
    reason = data.pop("cancellation_reason", None)
    if new_status != old_status:
        _check_move(project, old_status, new_status, reason, data)
    if reason is not None and new_status != "cancelled":
        raise Invalid.on(
            "cancellation_reason", "Only a project being or already cancelled has a reason."
        )
    _check_references(data)
    _check_dates(project, data)
    fields = sorted(data) + (["status"] if new_status != old_status else [])
    if reason is not None:
        fields.append("cancellation_reason")
    changed = _apply(project, data, new_status, reason)
    _record_update(project, old_status, fields, changed)
    db.session.commit()
    return project


# The date a project's status fills in when the project enters it without one.
_DATE_ON_ENTERING = {"in_delivery": "actual_start", "completed": "actual_end"}


def _check_move(project: Project, old: str, new: str, reason: str | None, data: dict) -> None:
    """A move ``PROJECT_TRANSITIONS`` allows (else 409); a cancellation says why; starting or
    completing fills in its date when none is given."""
    if new not in PROJECT_TRANSITIONS[old]:
        raise Conflict.on(
            "status",
            f"The project is {old}; it cannot become {new}.",
            f"Current status: {old}.",
        )
    if new == "cancelled" and not reason:
        raise Invalid.on("cancellation_reason", "Say why the project is cancelled.")
    field = _DATE_ON_ENTERING.get(new)
    if field and field not in data and not getattr(project, field):
        data[field] = today()


def _check_references(data: dict) -> None:
    """The fund and the organisations a change names exist (422 naming the field)."""
    if "fund_id" in data:
        check_fund(data["fund_id"])
    if "lead_organisation_id" in data:
        _check_organisations([data["lead_organisation_id"]], "lead_organisation_id")
    if "delivery_organisation_ids" in data:
        _check_organisations(data["delivery_organisation_ids"], "delivery_organisation_ids")


def _check_dates(project: Project, data: dict) -> None:
    """Nothing ends before it starts, planned or actual, counting the dates not changed."""
    for start_field, end_field in (
        ("planned_start", "planned_end"),
        ("actual_start", "actual_end"),
    ):
        start = data.get(start_field, getattr(project, start_field))
        end = data.get(end_field, getattr(project, end_field))
        if start and end and end < start:
            raise Invalid.on(end_field, "Ends before it starts.")


def _apply(project: Project, data: dict, new_status: str, reason: str | None) -> list[str]:
    """The change written onto the project; what its partners hear moved (status, ratings)."""
    moved_status, rag_before = new_status != project.status, project.rag
    if reason is not None:
        project.cancellation_reason = reason
    _set_rag(project, data.pop("rag", None) or {})
    changed = [
        name
        for name, moved in (("status", moved_status), ("rag", project.rag != rag_before))
        if moved
    ]
    for key, value in data.items():
        setattr(project, key, value)
    project.status = new_status
    project.last_update_at = utcnow()
    return changed


def _record_update(project: Project, old_status: str, fields: list[str], changed: list[str]):
    """The audit event (a transition when the status moved) and the partners' event."""
    details: dict = {"fields": sorted(set(fields))}
    moved = project.status != old_status
    if moved:
        details["from_status"], details["to_status"] = old_status, project.status
    audit.record(
        "project.transition" if moved else "project.update",
        "project",
        project.id,
        subject_organisation_id=project.lead_organisation_id,
        details=details,
    )
    if changed:
        events.emit(
            "project.changed",
            [project.lead_organisation_id, *project.delivery_organisation_ids],
            project_id=project.id,
            changed=changed,
        )
