"""The start page and the users page."""

from __future__ import annotations

import partnership_api.web.adapter as adapter
from partnership_api.web.presenters.common import (
    Actor,
    ago,
    dataclass,
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
class HomePage:
    heading: str
    tasks: list[Task]
    links: list[dict]


def home_page(actor: Actor, facts: dict) -> HomePage:
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
    return HomePage(heading=f"{actor.org_name}", tasks=tasks, links=links)
