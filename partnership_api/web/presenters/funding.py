"""The funding dashboard and a project's page."""

from __future__ import annotations

import re
from datetime import date

import partnership_api.web.adapter as adapter
import partnership_api.web.charts as charts
from partnership_api.models.partnership import AREAS
from partnership_api.services.project_export import CATEGORY_WORDS, STATUS_WORDS
from partnership_api.web.charts import pounds
from partnership_api.web.presenters.common import (
    Actor,
    dataclass,
    day,
)

NOT_GIVEN = "Not given"

# --- quarters: stored as calendar quarters ("2026-Q2"), shown as the funders' financial year ---

QUARTER_MONTHS = {1: ("January", "March"), 2: ("April", "June"), 3: ("July", "September")}
QUARTER_MONTHS[4] = ("October", "December")
PERIOD = re.compile(r"\b(20[0-9]{2})-Q([1-4])\b")


def quarter_words(period: str) -> str:
    """ "2026-Q2" → "Q1 2026-27 (April to June 2026)": the financial year runs April to March."""
    found = PERIOD.fullmatch(period)
    if not found:
        return period
    year, quarter = int(found.group(1)), int(found.group(2))
    starts = year if quarter >= 2 else year - 1
    first, last = QUARTER_MONTHS[quarter]
    return f"Q{(quarter - 2) % 4 + 1} {starts}-{(starts + 1) % 100:02d} ({first} to {last} {year})"


def quarters_in_words(text: str) -> str:
    """Every quarter written like 2026-Q2 in a message, in the financial year's words."""
    return PERIOD.sub(lambda m: quarter_words(m.group(0)), text)


def quarter_choices(today: date, reported: set[str]) -> list[tuple[str, str]]:
    """The quarters a spend line may be reported for, newest first: from three financial years
    before this one to a year ahead, less those already reported."""
    index = today.year * 4 + (today.month - 1) // 3  # this calendar quarter, counted from 0
    fy_start = index - (index % 4 - 1) % 4  # its financial year's first (April to June)
    periods = [f"{i // 4}-Q{i % 4 + 1}" for i in range(index + 4, fy_start - 13, -1)]
    return [("", "Choose a quarter")] + [
        (p, quarter_words(p)) for p in periods if p not in reported
    ]


def words_of(value: str | None, words: dict) -> str:
    return words.get(value, value.replace("_", " ").capitalize()) if value else NOT_GIVEN


def areas_in_words(codes) -> str:
    return ", ".join(AREAS.get(code, code) for code in codes) or NOT_GIVEN


# --- funding ------------------------------------------------------------------------------------

RAG_WORDS = {"green": "Green", "amber": "Amber", "red": "Red", "not_rated": "Not rated"}
RAG_COLOURS = {"green": "green", "amber": "yellow", "red": "red", "not_rated": "grey"}


@dataclass
class FundingPage:
    funds: list[dict]
    chart: object
    rag: list[dict]
    attention: list[dict]
    overall: dict
    overall_projects: int
    can_add_project: bool


def money_row(totals: dict) -> dict:
    return {
        "awarded": pounds(totals["awarded_pence"]),
        "spent": pounds(totals["spent_pence"]),
        "forecast": pounds(totals["forecast_pence"]),
        "remaining": pounds(totals["remaining_pence"]),
    }


def funding_page(actor: Actor, summary: dict, projects: list[dict]) -> FundingPage:
    titles = {p["id"]: p["title"] for p in projects}
    funds = [
        {"name": f["name"], "funder": f["funder"], "projects": f["project_count"], **money_row(f)}
        for f in summary["funds"]
    ]
    chart = charts.grouped_bars(
        "Awarded, spent and forecast spend per fund",
        [
            (
                f["name"],
                [
                    charts.Bar("Awarded", f["awarded_pence"], "awarded"),
                    charts.Bar("Spent", f["spent_pence"], "spent"),
                    charts.Bar("Forecast", f["forecast_pence"], "forecast"),
                ],
            )
            for f in summary["funds"]
        ],
        "funds-chart",
    )
    rag = []
    for dimension, counts in summary["overall"]["by_rag"].items():
        rag.append(
            {
                "dimension": dimension.capitalize(),
                "counts": [
                    {"text": f"{RAG_WORDS[value]}: {count}", "colour": RAG_COLOURS[value]}
                    for value, count in counts.items()
                ],
            }
        )
    attention = [
        {
            "title": titles.get(item["project_id"], item["title"]),
            "href": f"/projects/{item['project_id']}",
            "reasons": [reason["message"] for reason in item["reasons"]],
        }
        for item in summary["attention"]
    ]
    return FundingPage(
        funds=funds,
        chart=chart,
        rag=rag,
        attention=attention,
        overall=money_row(summary["overall"]),
        overall_projects=sum(f["project_count"] for f in summary["funds"]),
        can_add_project=adapter.can(actor, "project.change"),
    )


@dataclass
class ProjectPage:
    project: dict
    rows: list[dict]
    milestones: list[dict]
    spend: list[dict]
    chart: object
    outputs: list[dict]
    can_progress: bool
    can_change: bool
    conflict: str | None = None


def project_page(
    actor: Actor, shown: dict, names: dict, fund_names: dict, can_progress: bool, conflict=None
) -> ProjectPage:
    """A project's page: its facts, milestones, spend (with its chart) and outputs; the links
    to report progress only for those who may (``can_progress``, asked of the policy)."""
    p = shown["project"]
    base = f"/projects/{p['id']}"
    return ProjectPage(
        project=p,
        rows=[
            {"key": {"text": k}, "value": {"text": v}}
            for k, v in _project_rows(p, names, fund_names)
        ],
        milestones=[_milestone_row(m, base, can_progress) for m in shown["milestones"]],
        spend=[_spend_row(line, base, can_progress) for line in shown["spend"]],
        chart=_spend_chart(p, shown["spend"]),
        outputs=[_output_row(o, base, can_progress) for o in shown["outputs"]],
        can_progress=can_progress,
        can_change=adapter.can(actor, "project.change"),
        conflict=conflict,
    )


def _project_rows(p: dict, names: dict, fund_names: dict) -> list[tuple[str, str]]:
    rag = p.get("rag") or {}
    rows = [
        ("Fund", fund_names.get(p["fund_id"], "")),
        ("Category", words_of(p["category"], CATEGORY_WORDS)),
        ("Lead", names.get(p["lead_organisation_id"], "")),
        (
            "Delivery partners",
            ", ".join(names.get(i, "") for i in p["delivery_organisation_ids"]) or NOT_GIVEN,
        ),
        ("Areas", areas_in_words(p["areas"])),
        ("Status", words_of(p["status"], STATUS_WORDS)),
        ("Awarded on", day(p["awarded_on"]) or NOT_GIVEN),
        ("Awarded", pounds(p["amount_awarded_pence"])),
        ("Spent", pounds(p["spent_pence"]) + (" (overspent)" if p["overspent"] else "")),
        (
            "Forecast",
            pounds(p["forecast_pence"]) + (" (over the award)" if p["forecast_overspend"] else ""),
        ),
        ("Remaining", pounds(p["remaining_pence"])),
        (
            "Ratings",
            ", ".join(
                f"{d.capitalize()}: {RAG_WORDS[rag.get(d) or 'not_rated']}"
                for d in ("delivery", "spend", "risk")
            ),
        ),
    ]
    if p.get("rag_commentary"):
        rows.append(("Commentary", p["rag_commentary"]))
    return rows


def _milestone_row(m: dict, base: str, can_progress: bool) -> dict:
    """A milestone, done (green), overdue (red) or not done (grey); its link to mark it done."""
    done, overdue = m["completed_on"], m["overdue"]
    return {
        "title": m["title"],
        "due": day(m["due_on"]),
        "state": "Done " + day(done) if done else ("Overdue" if overdue else "Not done"),
        "colour": "green" if done else ("red" if overdue else "grey"),
        "href": f"{base}/milestones/{m['id']}" if can_progress and not done else None,
    }


def _spend_row(line: dict, base: str, can_progress: bool) -> dict:
    return {
        "period": quarter_words(line["period"]),
        "actual": money_or(line["actual_pence"], "Not reported"),
        "forecast": money_or(line["forecast_pence"], NOT_GIVEN),
        "href": f"{base}/spend/{line['period']}",
        "link": "Correct" if can_progress else "See changes",
    }


def _spend_chart(p: dict, lines: list[dict]):
    """The award, then each quarter's spend and forecast to date (a quarter not yet reported
    counts its forecast)."""
    groups = [("Award", [charts.Bar("Awarded", p["amount_awarded_pence"], "awarded")])]
    running_actual = running_forecast = 0
    for line in lines:
        actual = line["actual_pence"]
        running_actual += actual or 0
        running_forecast += actual if actual is not None else (line["forecast_pence"] or 0)
        groups.append(
            (
                f"{quarter_words(line['period']).split(' (')[0]}, to date",
                [
                    charts.Bar("Spent", running_actual, "spent"),
                    charts.Bar("Forecast", running_forecast, "forecast"),
                ],
            )
        )
    return charts.grouped_bars("Spend to date by quarter, against the award", groups, "spend-chart")


def _output_row(o: dict, base: str, can_progress: bool) -> dict:
    target = o["target"]
    return {
        "metric": o["metric"],
        "unit": o["unit"],
        "target": f"{target:,}" if target is not None else "No target set",
        "actual": f"{o['actual']:,}",
        "met": "No target" if target is None else ("Met" if o["actual"] >= target else "Not yet"),
        "href": f"{base}/outputs/{o['id']}" if can_progress else None,
    }


def money_or(pence: int | None, otherwise: str) -> str:
    return pounds(pence) if pence is not None else otherwise


def status_form_data(p: dict) -> dict:
    rag = p.get("rag") or {}
    return {
        "version": str(p["version"]),
        "status": p["status"],
        "rag_delivery": rag.get("delivery") or "",
        "rag_spend": rag.get("spend") or "",
        "rag_risk": rag.get("risk") or "",
        "rag_commentary": p.get("rag_commentary") or "",
        "cancellation_reason": p.get("cancellation_reason") or "",
    }


def statuses_in_words(text: str) -> str:
    """ "The project is in_delivery" → "The project is in delivery"."""
    for status, words in STATUS_WORDS.items():
        text = re.sub(rf"\b{status}\b", words.lower(), text)
    return text


def errors_in_words(errors: dict) -> dict:
    """The API's field errors with quarters in the financial year's words and statuses in
    words (no internal names in what a person reads)."""
    return {
        key: errors_in_words(value)
        if isinstance(value, dict)
        else [
            statuses_in_words(quarters_in_words(str(m)))
            for m in (value if isinstance(value, list) else [value])
        ]
        for key, value in errors.items()
    }
