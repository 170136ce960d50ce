"""The projects as a CSV file, for a spreadsheet: one row per project, the filters of the list.

The same projects and figures as the API's list (``projects.list_projects``): everyone signed
in who may export the funding (``funding.export``, as the 360Giving export) gets every project
matching the filters. No personal data and no RAG commentary. Money is pounds with two decimals
(exact, from whole pence); areas and organisations are named, not coded. A cell a spreadsheet
would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return)
is written with a leading apostrophe, as OWASP advises against CSV injection.
"""

from __future__ import annotations

import csv
import io

import sqlalchemy as sa

from partnership_api import policy
from partnership_api.areas import AREAS
from partnership_api.database import db
from partnership_api.models.funding import Fund
from partnership_api.models.partnership import Organisation
from partnership_api.policy import Actor
from partnership_api.services.projects import listing, present_projects

COLUMNS = (
    "Project id",
    "Title",
    "Fund",
    "Category",
    "Lead organisation",
    "Delivery partners",
    "Areas",
    "Status",
    "Awarded on",
    "Awarded (£)",
    "Spent (£)",
    "Forecast outturn (£)",
    "Remaining (£)",
    "Quarters ended without an actual",
    "Delivery rating",
    "Spend rating",
    "Risk rating",
)
CATEGORY_WORDS = {
    "street_lighting": "Street lighting",
    "cctv": "CCTV",
    "education_campaign": "Education campaign",
    "vulnerability_training": "Vulnerability training",
    "safe_space": "Safe space",
    "target_hardening": "Target hardening",
    "other": "Other",
}
STATUS_WORDS = {
    "planned": "Planned",
    "in_delivery": "In delivery",
    "completed": "Completed",
    "cancelled": "Cancelled",
}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def pounds(pence: int) -> str:
    """Whole pence as pounds with two decimals, exactly: 125050 → "1250.50"."""
    sign = "-" if pence < 0 else ""
    whole, part = divmod(abs(pence), 100)
    return f"{sign}{whole}.{part:02d}"


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _rating(value: str | None) -> str:
    return value.capitalize() if value else "Not rated"


def projects_csv(actor: Actor, args: dict) -> str:
    """Every project matching ``args`` (the list's filters) as CSV text, by id."""
    policy.require(actor, "funding.export")
    projects = present_projects(list(db.session.scalars(listing(args))))
    funds = dict(db.session.execute(sa.select(Fund.id, Fund.name)).all())
    names = dict(db.session.execute(sa.select(Organisation.id, Organisation.name)).all())
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for p in projects:
        rag = p["rag"]
        writer.writerow(
            _cell(value)
            for value in (
                p["id"],
                p["title"],
                funds.get(p["fund_id"], ""),
                CATEGORY_WORDS.get(p["category"], p["category"]),
                names.get(p["lead_organisation_id"], ""),
                "; ".join(names.get(i, "") for i in p["delivery_organisation_ids"]),
                "; ".join(AREAS.get(code, code) for code in p["areas"]),
                STATUS_WORDS.get(p["status"], p["status"]),
                p["awarded_on"].isoformat() if p["awarded_on"] else "",
                pounds(p["amount_awarded_pence"]),
                pounds(p["spent_pence"]),
                pounds(p["forecast_pence"]),
                pounds(p["remaining_pence"]),
                "; ".join(p["periods_without_actual"]),
                _rating(rag["delivery"]),
                _rating(rag["spend"]),
                _rating(rag["risk"]),
            )
        )
    return out.getvalue()
