"""The start page and the users page."""

from __future__ import annotations

from dataclasses import field
from datetime import timedelta

import partnership_api.web.adapter as adapter
from partnership_api.web.presenters.common import (
    Actor,
    ago,
    dataclass,
    on_day,
    time_left,
    utcnow,
)

# --- the start page -----------------------------------------------------------------------------


@dataclass
class Task:
    text: str
    href: str
    count: int | None = None
    tag: str | None = None  # words shown in a tag: "Overdue", "Stale"
    tag_colour: str | None = None


@dataclass
class HomeChange:
    """One line of "Since you last looked": what happened, when (UK time), where to see it."""

    text: str
    href: str
    link_text: str
    when: str
    tag: dict | None = None


@dataclass
class HomePage:
    heading: str
    tasks: list[Task]
    links: list[dict]
    changes: list[HomeChange] = field(default_factory=list)
    changes_since: str = ""
    changes_more: bool = False
    sent: list[dict] = field(default_factory=list)
    awaiting: list[dict] = field(default_factory=list)
    holds: list[dict] = field(default_factory=list)


# A live hold ending within this is shown as ending soon.
_ENDING_SOON = timedelta(hours=1)
_DECLINE_WORDS = {
    "no_capacity": "no capacity",
    "not_eligible": "not eligible",
    "outside_area": "outside the area they serve",
    "declined_by_person": "the person said no",
    "unable_to_contact": "could not make contact",
    "other": "another reason (see the timeline)",
}
_SPACE_WORDS = {"single": "single", "family": "family", "accessible": "accessible"}
_STATUS_WORDS = {
    "submitted": ("Waiting for an answer", "blue"),
    "accepted": ("Accepted", "green"),
    "declined": ("Declined", "orange"),
    "redirected": ("Passed on", "purple"),
    "withdrawn": ("Withdrawn", "grey"),
    "closed": ("Closed", "grey"),
}
_RAG_WORDS = {"delivery": "delivery", "spend": "spend", "risk": "risk"}


def _decline_words(reason: str | None) -> str:
    return _DECLINE_WORDS.get(reason or "", "no reason given")


def _status_tag(referral: dict) -> dict:
    text, colour = _STATUS_WORDS.get(referral["status"], (referral["status"].capitalize(), "grey"))
    if referral["status"] == "declined":
        text = f"Declined: {_decline_words(referral.get('decline_reason'))}"
    return {"text": text, "colour": colour}


def _ending_soon(until, now) -> bool:
    return until is not None and now < until <= now + _ENDING_SOON


def home_page(actor: Actor, facts: dict) -> HomePage:
    now = utcnow()
    names = facts.get("names", {})
    tasks: list[Task] = []
    if "new" in facts:
        tasks.append(Task("New referrals to respond to", "/referrals?tab=received", facts["new"]))
        if facts["overdue"]:
            tasks.append(
                Task(
                    "Referrals overdue for a response",
                    "/referrals?tab=overdue",
                    facts["overdue"],
                    "Overdue",
                    "red",
                )
            )
        tasks.append(
            Task(
                "Referrals you sent waiting for an answer",
                "/referrals?tab=sent",
                facts["sent_waiting"],
            )
        )
    for refuge in facts.get("own_refuges", []):
        shown = refuge["availability"]
        words = f"{refuge['name']}: bed spaces confirmed {ago(shown['updated_at'])}"
        href = f"/refuges/{refuge['id']}"
        if shown["stale"]:
            tasks.append(Task(words, href, None, "Stale – confirm now", "red"))
        else:
            tasks.append(Task(words, href, None, "Up to date", "green"))
    attention = facts["funding"]["attention"]
    if attention:
        tasks.append(
            Task(
                "Funded projects needing attention",
                "/funding#attention",
                len(attention),
                "Needs attention",
                "orange",
            )
        )
    links = [{"href": "/beds", "text": "Find a refuge bed space"}]
    if adapter.can(actor, "referral.create"):
        links.append({"href": "/referrals/new", "text": "Make a referral"})
    links.append({"href": "/funding", "text": "Funding dashboard"})
    page = HomePage(heading=f"{actor.org_name}", tasks=tasks, links=links)
    page.sent = [_sent_row(r, names, now) for r in facts.get("sent", [])]
    page.awaiting = [_awaiting_row(r, names, now) for r in facts.get("awaiting", [])]
    page.holds = [_refuge_holds(refuge, holds, now) for refuge, holds in facts.get("holds", [])]
    looked = facts.get("changes") or {"changes": [], "since": None, "more": False}
    page.changes = _ending_soon_changes(page, now) + [
        change for change in map(_change, looked["changes"]) if change is not None
    ]
    page.changes_since = (
        f"Since you last looked, on {on_day(looked['since'])}"
        if looked["since"]
        else "In the last day"
    )
    page.changes_more = looked["more"]
    return page


def _sent_row(referral: dict, names: dict, now) -> dict:
    hold = referral.get("hold")
    until = hold["expires_at"] if hold else None
    return {
        "id": referral["id"],
        "reference": referral["reference"],
        "to": names.get(referral["to_organisation_id"], ""),
        "status": _status_tag(referral),
        "sent": on_day(referral["created_at"]),
        "hold": f"Space held until {on_day(until)}" if until else "",
        "hold_until": until,
        "hold_ending_soon": _ending_soon(until, now),
    }


def _awaiting_row(referral: dict, names: dict, now) -> dict:
    return {
        "id": referral["id"],
        "reference": referral["reference"],
        "from": names.get(referral["from_organisation_id"], ""),
        "risk": referral["risk_level"].capitalize(),
        "due": on_day(referral["response_due_at"]),
        "due_words": time_left(referral["response_due_at"], now),
        "overdue": referral["response_due_at"] < now,
    }


def _refuge_holds(refuge: dict, holds: list[dict], now) -> dict:
    return {
        "name": refuge["name"],
        "href": f"/refuges/{refuge['id']}",
        "rows": [
            {
                "reference": hold["referral_reference"],
                "placed_by": hold["placed_by_organisation"] or "",
                "space": _SPACE_WORDS.get(hold["space_type"], hold["space_type"]),
                "until": on_day(hold["expires_at"]),
                "until_at": hold["expires_at"],
                "ending_soon": _ending_soon(hold["expires_at"], now),
            }
            for hold in holds
        ],
    }


def _ending_soon_changes(page: HomePage, now) -> list[HomeChange]:
    """Holds ending within the hour: on the referrals sent, and on the refuge's own beds."""
    soon = []
    for row in page.sent:
        if row["hold_ending_soon"]:
            soon.append(
                HomeChange(
                    f"The space held for {row['reference']} ends at {on_day(row['hold_until'])}",
                    f"/referrals/{row['id']}",
                    row["reference"],
                    time_left(row["hold_until"], now),
                    {"text": "Hold ending soon", "colour": "red"},
                )
            )
    for refuge in page.holds:
        for hold in refuge["rows"]:
            if hold["ending_soon"]:
                soon.append(
                    HomeChange(
                        f"The hold for {hold['reference']} at {refuge['name']} ends at "
                        f"{hold['until']}",
                        refuge["href"],
                        refuge["name"],
                        time_left(hold["until_at"], now),
                        {"text": "Hold ending soon", "colour": "red"},
                    )
                )
    return soon


def _change(change: dict) -> HomeChange | None:
    """One event in words, from the viewer's side."""
    kind = change["type"]
    when = on_day(change["occurred_at"])
    if "project" in change:
        project = change["project"]
        href, title = f"/projects/{project['id']}", project["title"]
        if kind == "project.milestone_overdue":
            milestone = change.get("milestone") or "a milestone"
            return HomeChange(
                f"{title}: “{milestone}” is past its due date",
                href,
                title,
                when,
                {"text": "Milestone overdue", "colour": "orange"},
            )
        if "rag" in project["changed"] and project["red"]:
            rated = ", ".join(_RAG_WORDS.get(k, k) for k in project["red"])
            return HomeChange(
                f"{title} is now rated red ({rated})",
                href,
                title,
                when,
                {"text": "Red", "colour": "red"},
            )
        if "status" in project["changed"]:
            return HomeChange(f"{title} is now {project['status']}", href, title, when)
        return HomeChange(f"{title}: its RAG rating changed", href, title, when)
    referral = change.get("referral")
    if referral is None:
        return None
    ref, href = referral["reference"], f"/referrals/{referral['id']}"
    receiver = change.get("to_organisation") or "the receiving service"
    sender = change.get("from_organisation") or "the referrer"
    refuge = change.get("refuge") or "a refuge"
    hold = change.get("hold") or {}
    words = {
        # Their own organisation's new referrals are not news to them.
        "referral.created": (None, None)
        if referral["sent"]
        else (f"New referral {ref} from {sender}", ("New", "blue")),
        "referral.accepted": (f"{ref} was accepted by {receiver}", ("Accepted", "green")),
        "referral.declined": (
            f"{ref} was declined by {receiver}: {_decline_words(referral['decline_reason'])}",
            ("Declined", "orange"),
        ),
        "referral.redirected": (
            f"{ref} was passed on by {receiver} to {change.get('service') or 'another service'}",
            ("Passed on", "purple"),
        ),
        "referral.withdrawn": (f"{ref} was withdrawn by {sender}", ("Withdrawn", "grey")),
        "referral.closed": (f"{ref} was closed by {receiver}", ("Closed", "grey")),
        "referral.overdue": (f"{ref} has had no answer in time", ("Overdue", "red")),
        "hold.placed": (
            f"A {_SPACE_WORDS.get(hold.get('space_type', ''), '')} space was held at {refuge} for "
            f"{ref}" + (f" until {on_day(hold['expires_at'])}" if hold.get("expires_at") else ""),
            ("Held", "blue"),
        ),
        "hold.released": (
            f"The space held at {refuge} for {ref} was released",
            ("Released", "grey"),
        ),
        "hold.lapsed": (
            f"The space held at {refuge} for {ref} lapsed: its time ran out",
            ("Lapsed", "orange"),
        ),
        "hold.admitted": (f"{ref} was admitted at {refuge}", ("Admitted", "green")),
    }
    text, tag = words.get(kind, (None, None))
    if text is None:
        return None
    return HomeChange(
        " ".join(text.split()),
        href,
        ref,
        when,
        {"text": tag[0], "colour": tag[1]} if tag else None,
    )
