"""The projects list, and the pages of a project's milestone, quarter and output."""

from __future__ import annotations

from urllib.parse import urlencode

from partnership_api.services.project_export import STATUS_WORDS
from partnership_api.web.charts import pounds
from partnership_api.web.presenters.common import dataclass, day, on_day
from partnership_api.web.presenters.funding import (
    NOT_GIVEN,
    RAG_COLOURS,
    RAG_WORDS,
    money_or,
    quarter_words,
    words_of,
)

# The list's orders: (key of a shown project, largest first?)
PROJECT_SORTS = {
    "title": (lambda p: p["title"].lower(), False),
    "awarded": (lambda p: p["amount_awarded_pence"], True),
    "spent": (lambda p: p["spent_pence"], True),
    "remaining": (lambda p: p["remaining_pence"], True),
    "status": (lambda p: list(STATUS_WORDS).index(p["status"]), False),
    "updated": (lambda p: p["last_update_at"], False),
}
# The filters' names on the page and in the API's query.
PROJECT_FILTERS = {"fund": "fund_id", "status": "status", "rag": "rag", "area": "area"}


def project_filters(form) -> dict:
    """The API's query for what the filter form chose (empty choices left out)."""
    chosen = {name: getattr(form, name).data for name in PROJECT_FILTERS}
    return {PROJECT_FILTERS[name]: value for name, value in chosen.items() if value}


@dataclass
class ProjectsPage:
    rows: list[dict]
    count: str
    csv_href: str
    filtered: bool


def projects_page(projects: list[dict], fund_names: dict, form) -> ProjectsPage:
    key, largest_first = PROJECT_SORTS.get(form.sort.data or "title", PROJECT_SORTS["title"])
    rows = []
    for p in sorted(projects, key=key, reverse=largest_first):
        rag = p["rag"] or {}
        rows.append(
            {
                "href": f"/projects/{p['id']}",
                "title": p["title"],
                "fund": fund_names.get(p["fund_id"], NOT_GIVEN),
                "status": words_of(p["status"], STATUS_WORDS),
                "ratings": [
                    {
                        "dimension": d.capitalize(),
                        "text": RAG_WORDS[rag.get(d) or "not_rated"],
                        "colour": RAG_COLOURS[rag.get(d) or "not_rated"],
                    }
                    for d in ("delivery", "spend", "risk")
                ],
                "awarded": pounds(p["amount_awarded_pence"]),
                "spent": pounds(p["spent_pence"]),
                "remaining": pounds(p["remaining_pence"]),
                "updated": day(p["last_update_at"]),
            }
        )
    query = {name: getattr(form, name).data for name in PROJECT_FILTERS if getattr(form, name).data}
    return ProjectsPage(
        rows=rows,
        count=f"{len(rows)} project{'' if len(rows) == 1 else 's'}",
        csv_href="/projects.csv" + (f"?{urlencode(query)}" if query else ""),
        filtered=bool(query),
    )


@dataclass
class ItemPage:
    """A milestone, a quarter or an output of a project, with its form when the role may."""

    project: dict
    heading: str
    rows: list[dict]
    history: list[dict]
    may_change: bool
    conflict: str | None = None


def _rows(pairs) -> list[dict]:
    return [{"key": {"text": k}, "value": {"text": v}} for k, v in pairs]


def milestone_page(project: dict, m: dict, may_change: bool, conflict=None) -> ItemPage:
    state = "Done " + day(m["completed_on"]) if m["completed_on"] else "Not done"
    if not m["completed_on"] and m["overdue"]:
        state = "Not done: overdue"
    return ItemPage(
        project=project,
        heading=m["title"],
        rows=_rows([("Due", day(m["due_on"])), ("State", state)]),
        history=[],
        may_change=may_change,
        conflict=conflict,
    )


def spend_page(
    project: dict, line: dict, history: list[dict], names: dict, may_change: bool, conflict=None
) -> ItemPage:
    shown = [
        {
            "when": on_day(h["at"]),
            "change": "First reported" if h["change"] == "reported" else "Corrected",
            "by": names.get(h["organisation_id"], "Not recorded"),
            "actual": money_or(h["actual_pence"], "Not reported"),
            "forecast": money_or(h["forecast_pence"], NOT_GIVEN),
        }
        for h in reversed(history)  # newest first
    ]
    return ItemPage(
        project=project,
        heading=quarter_words(line["period"]),
        rows=_rows(
            [
                ("Spent", money_or(line["actual_pence"], "Not reported")),
                ("Forecast", money_or(line["forecast_pence"], NOT_GIVEN)),
                ("Last changed", on_day(line["updated_at"])),
            ]
        ),
        history=shown,
        may_change=may_change,
        conflict=conflict,
    )


def output_page(project: dict, o: dict, may_change: bool, conflict=None) -> ItemPage:
    target = f"{o['target']:,} {o['unit']}" if o["target"] is not None else "No target set"
    return ItemPage(
        project=project,
        heading=o["metric"],
        rows=_rows([("Target", target), ("Delivered so far", f"{o['actual']:,} {o['unit']}")]),
        history=[],
        may_change=may_change,
        conflict=conflict,
    )


def changed_meanwhile(changed_at) -> str:
    return (
        f"It was changed on {on_day(changed_at)}, after you opened this page; your change was "
        "not saved. The page now shows it as it is: check it and save again if still needed."
    )
