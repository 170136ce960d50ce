"""The funding dashboard and a project's page."""

from __future__ import annotations

import partnership_api.web.adapter as adapter
import partnership_api.web.charts as charts
from partnership_api.web.charts import pounds
from partnership_api.web.presenters.common import (
    Actor,
    area_names,
    dataclass,
)

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
    p = shown["project"]
    rag = p.get("rag") or {}
    rows = [
        ("Fund", fund_names.get(p["fund_id"], "")),
        ("Category", p["category"].replace("_", " ").capitalize()),
        ("Lead", names.get(p["lead_organisation_id"], "")),
        (
            "Delivery partners",
            ", ".join(names.get(i, "") for i in p["delivery_organisation_ids"]) or "None",
        ),
        ("Areas", area_names(p["areas"])),
        ("Status", p["status"].replace("_", " ").capitalize()),
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
                f"{d}: {RAG_WORDS[rag.get(d) or 'not_rated']}"
                for d in ("delivery", "spend", "risk")
            ),
        ),
    ]
    if p.get("rag_commentary"):
        rows.append(("Commentary", p["rag_commentary"]))
    milestones = [
        {
            "title": m["title"],
            "due": m["due_on"].strftime("%-d %b %Y"),
            "state": "Done " + m["completed_on"].strftime("%-d %b %Y")
            if m["completed_on"]
            else ("Overdue" if m["overdue"] else "Not done"),
            "colour": "green" if m["completed_on"] else ("red" if m["overdue"] else "grey"),
        }
        for m in shown["milestones"]
    ]
    spend = [
        {
            "period": line["period"],
            "actual": pounds(line["actual_pence"])
            if line["actual_pence"] is not None
            else "Not reported",
            "forecast": pounds(line["forecast_pence"])
            if line["forecast_pence"] is not None
            else "None",
        }
        for line in shown["spend"]
    ]
    groups = [("Award", [charts.Bar("Awarded", p["amount_awarded_pence"], "awarded")])]
    running_actual = running_forecast = 0
    for line in shown["spend"]:
        running_actual += line["actual_pence"] or 0
        running_forecast += (
            line["actual_pence"]
            if line["actual_pence"] is not None
            else (line["forecast_pence"] or 0)
        )
        groups.append(
            (
                f"{line['period']} (to date)",
                [
                    charts.Bar("Spent", running_actual, "spent"),
                    charts.Bar("Forecast", running_forecast, "forecast"),
                ],
            )
        )
    chart = charts.grouped_bars(
        "Spend to date by quarter, against the award", groups, "spend-chart"
    )
    outputs = [
        {
            "metric": o["metric"],
            "unit": o["unit"],
            "target": o["target"] if o["target"] is not None else "None set",
            "actual": o["actual"],
            "met": "Met" if o["target"] is not None and o["actual"] >= o["target"] else "Not yet",
        }
        for o in shown["outputs"]
    ]
    return ProjectPage(
        project=p,
        rows=[{"key": {"text": k}, "value": {"text": v}} for k, v in rows],
        milestones=milestones,
        spend=spend,
        chart=chart,
        outputs=outputs,
        can_progress=can_progress,
        can_change=adapter.can(actor, "project.change"),
        conflict=conflict,
    )


def status_form_data(p: dict) -> dict:
    rag = p.get("rag") or {}
    return {
        "version": str(p["version"]),
        "status": p["status"],
        "rag_delivery": rag.get("delivery") or "",
        "rag_spend": rag.get("spend") or "",
        "rag_risk": rag.get("risk") or "",
        "rag_commentary": p.get("rag_commentary") or "",
    }
