"""The referral inbox: tabs, sortable columns, pages (``/referrals``)."""

from __future__ import annotations

import partnership_api.web.adapter as adapter
from partnership_api.web.presenters.common import (
    Actor,
    dataclass,
    field,
    on_day,
    time_left,
    utcnow,
)

# --- referrals ----------------------------------------------------------------------------------

TABS = {
    "received": ("Received", {"direction": "received"}),
    "sent": ("Sent", {"direction": "sent"}),
    "overdue": ("Overdue", {"direction": "received", "overdue": True}),
    "closed": ("Closed", {"status": "closed"}),
}
RISK_COLOURS = {"high": "red", "medium": "orange", "standard": "grey"}
STATUS_COLOURS = {
    "submitted": "blue",
    "accepted": "green",
    "declined": "orange",
    "redirected": "purple",
    "withdrawn": "grey",
    "closed": "grey",
}
PAGE_SIZE = 20
# Sortable columns: ?sort= → (its header, the order a first click gives).
SORTS = {"received": ("Received", "desc"), "due": ("Response due", "asc")}
ORDERS = ("asc", "desc")
ARIA_SORT = {"asc": "ascending", "desc": "descending"}


def tab_args(tab: str) -> dict:
    return dict(TABS.get(tab, TABS["received"])[1])


def sort_asked(sort: str | None, order: str | None) -> tuple[str, str] | None:
    """The inbox's order from ``?sort=&order=`` (received, newest first, when not given);
    None for values that are neither."""
    sort = sort or "received"
    if sort not in SORTS:
        return None
    order = order or SORTS[sort][1]
    return (sort, order) if order in ORDERS else None


def inbox_href(tab: str, sort: tuple[str, str], page: int = 1) -> str:
    """A link within the inbox that keeps the order (the default order is left out)."""
    query = f"/referrals?tab={tab}"
    if sort != ("received", "desc"):
        query += f"&sort={sort[0]}&order={sort[1]}"
    return query + (f"&page={page}" if page > 1 else "")


@dataclass
class Inbox:
    tab: str
    tabs: list[dict]
    rows: list[dict]
    total: int
    pagination: dict | None
    can_create: bool
    columns: dict = field(default_factory=dict)  # sortable column → header, href, aria-sort
    caption: str = "Referrals, newest first"


def _columns(tab: str, sort: tuple[str, str]) -> dict:
    columns = {}
    for key, (text, first) in SORTS.items():
        current = sort[0] == key
        # A click on the sorted column turns it round; on another, sorts by it.
        order = ("asc" if sort[1] == "desc" else "desc") if current else first
        columns[key] = {
            "text": text,
            "href": inbox_href(tab, (key, order)),
            "aria_sort": ARIA_SORT[sort[1]] if current else "none",
        }
    return columns


CAPTIONS = {
    ("received", "desc"): "newest first",
    ("received", "asc"): "oldest first",
    ("due", "asc"): "response due soonest first",
    ("due", "desc"): "response due latest first",
}


def inbox(
    actor: Actor,
    tab: str,
    rows: list[dict],
    total: int,
    page: int,
    names: dict,
    sort: tuple[str, str] = ("received", "desc"),
    receives: bool = True,
) -> Inbox:
    now = utcnow()
    shown = []
    for r in rows:
        hold = r.get("hold")
        shown.append(
            {
                "id": r["id"],
                "reference": r["reference"],
                "name": (r.get("subject") or {}).get("name", ""),
                "kind": r["kind"],
                "risk": {
                    "text": r["risk_level"].capitalize(),
                    "colour": RISK_COLOURS[r["risk_level"]],
                },
                "marac": "MARAC" if r["marac"] else "",
                "status": {"text": r["status"].capitalize(), "colour": STATUS_COLOURS[r["status"]]},
                "from": names.get(r["from_organisation_id"], ""),
                "to": names.get(r["to_organisation_id"], ""),
                "received": on_day(r["created_at"]),
                "due": on_day(r["response_due_at"]) if r["status"] == "submitted" else "",
                "due_words": time_left(r["response_due_at"], now)
                if r["status"] == "submitted"
                else "",
                "overdue": r["overdue"],
                "hold": f"held, {time_left(hold['expires_at'], now)}" if hold else "",
            }
        )
    last = max((total - 1) // PAGE_SIZE + 1, 1)
    pagination = None
    if last > 1:
        pagination = {
            "items": [
                {"number": n, "href": inbox_href(tab, sort, n), "current": n == page}
                for n in range(max(1, page - 2), min(last, page + 2) + 1)
            ],
        }
        if page > 1:
            pagination["previous"] = {"href": inbox_href(tab, sort, page - 1)}
        if page < last:
            pagination["next"] = {"href": inbox_href(tab, sort, page + 1)}
    tabs = [
        {"key": key, "text": text, "href": inbox_href(key, sort), "current": key == tab}
        for key, (text, _args) in TABS.items()
        # An organisation that only sends (the police) has nothing received to list.
        if receives or key not in ("received", "overdue") or key == tab
    ]
    return Inbox(
        tab,
        tabs,
        shown,
        total,
        pagination,
        adapter.can(actor, "referral.create"),
        _columns(tab, sort),
        f"Referrals, {CAPTIONS[sort]}",
    )
