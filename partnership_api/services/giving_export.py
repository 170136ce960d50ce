"""The projects as a 360Giving data package: no personal data and no RAG commentary.

Each grant goes to the project's lead organisation and its delivery partners, each identified
as the Organisation Identifier standard says: ``GB-CHC-`` and its charity number, else
``GB-COH-`` and its company number, else (neither held) our prefix and our own id. A project
without an award date is left out of the grants, never given an invented one, and named in the
answer's ``report`` so that someone adds it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa

from partnership_api import context, policy
from partnership_api.database import db
from partnership_api.models.base import utcnow
from partnership_api.models.funding import (
    Fund,
    Project,
)
from partnership_api.models.partnership import AREAS, Organisation
from partnership_api.policy import Actor
from partnership_api.services.projects import SpendTotals, spend_totals

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


def _org_identifier(prefix: str, organisation: Organisation) -> str:
    """A registered number where held; otherwise the standard's fallback, our prefix and id."""
    if organisation.charity_number:
        return f"GB-CHC-{organisation.charity_number}"
    if organisation.company_number:
        return f"GB-COH-{organisation.company_number}"
    return f"{prefix}-ORG-{organisation.id}"


def _organization(prefix: str, organisation: Organisation) -> dict:
    """An organisation as 360Giving's ``Organization``: identifier, name, registered numbers."""
    shown = {"id": _org_identifier(prefix, organisation), "name": organisation.name}
    if organisation.charity_number:
        shown["charityNumber"] = organisation.charity_number
    if organisation.company_number:
        shown["companyNumber"] = organisation.company_number
    return shown


def _geo_code_type(code: str) -> str:
    return "UA" if code.startswith("E06") else "LAD"


def giving_export(actor: Actor) -> dict:
    """The projects as a 360Giving data package; no personal data and no RAG commentary."""
    policy.require(actor, "funding.export")
    prefix = context.setting("GRANT_ID_PREFIX")
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
    left_out = []
    for project in projects:
        if project.awarded_on is None:
            left_out.append(
                {
                    "project_id": project.id,
                    "title": project.title,
                    "reason": "no_award_date",
                    "message": "No award date: set awarded_on on the project to publish it.",
                }
            )
            continue
        fund = funds[project.fund_id]
        recipients = [
            organisations[org_id]
            for org_id in dict.fromkeys(
                [project.lead_organisation_id, *project.delivery_organisation_ids]
            )
        ]
        if commissioner is not None:
            funder = _organization(prefix, commissioner)
        else:
            funder = {"id": f"{prefix}-FUNDER-{fund.id}", "name": fund.funder}
        grant = {
            "id": f"{prefix}-{project.id}",
            "title": project.title,
            "description": project.description or project.title,
            "currency": "GBP",
            "amountAwarded": pounds(project.amount_awarded_pence),
            "amountDisbursed": pounds(spend.get(project.id, SpendTotals()).spent_pence),
            "awardDate": _as_datetime(project.awarded_on),
            "recipientOrganization": [_organization(prefix, org) for org in recipients],
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
        "report": {"left_out": left_out},
    }
    if commissioner is not None:
        package["publisher"] = {
            "identifier": _org_identifier(prefix, commissioner),
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
