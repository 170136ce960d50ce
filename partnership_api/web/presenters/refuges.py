"""A refuge's page: its spaces, its report's freshness and history, the holds on its beds."""

from __future__ import annotations

from partnership_api.web.presenters.beds import SPACE_WORDS, facility_words, freshness
from partnership_api.web.presenters.common import (
    area_names,
    dataclass,
    on_day,
    tel_link,
    time_left,
)

# --- a refuge -----------------------------------------------------------------------------------


@dataclass
class RefugePage:
    refuge: dict
    details: list[dict]
    spaces: list[dict]
    freshness: dict
    history: list[dict]
    can_report: bool
    conflict: dict | None = None
    holds: list[dict] | None = None  # live holds on its beds: its own staff only
    warnings: list[str] | None = None


def refuge_page(
    refuge: dict, can_report: bool, stale_after, conflict: dict | None = None
) -> RefugePage:
    shown = refuge["availability"]
    details = [
        ("Areas", area_names(refuge["areas"])),
        ("Takes", "; ".join(facility_words(refuge["facilities"]))),
    ]
    if refuge["address"]:  # the policy gave it: this is the refuge's own organisation
        details.append(("Address (never shown outside your organisation)", refuge["address"]))
    spaces = [
        {
            "type": SPACE_WORDS.get(s["space_type"], s["space_type"]),
            "total": s["total"],
            "vacant": s["vacant"],
            "held": s["held"],
            "available": s["available"],
        }
        for s in shown["spaces"]
    ]
    reports = refuge["history"]  # newest first
    history = [
        {
            "when": on_day(report["reported_at"]),
            "who": report["reported_by"] or "",
            # The same figures as the report before: someone confirmed them ("Still accurate").
            "what": "confirmed unchanged"
            if i + 1 < len(reports) and report["spaces"] == reports[i + 1]["spaces"]
            else space_words(report["spaces"] or []),
        }
        for i, report in enumerate(reports)
    ]
    rows = [{"key": {"text": k}, "value": {"text": v}} for k, v in details]
    rows.insert(2, {"key": {"text": "Phone"}, "value": phone_value(refuge["phone"])})
    return RefugePage(
        refuge=refuge,
        details=rows,
        spaces=spaces,
        freshness=freshness(shown["updated_at"], shown["stale"], stale_after)
        | {"by": shown["updated_by"] or "nobody yet"},
        history=history,
        can_report=can_report,
        conflict=conflict,
        holds=None
        if refuge.get("holds") is None
        else [refuge_hold_row(hold, refuge["id"]) for hold in refuge["holds"]],
        warnings=[w for w in [overcommitted_words(shown)] if w],
    )


def phone_value(phone: str | None) -> dict:
    """A summary list value: the number as a ``tel:`` link (escaped by the macro's html)."""
    if not phone:
        return {"text": "Not given"}
    return {"html": tel_link(phone)}


def household_words(household: dict) -> str:
    """ "2 children (a son of 14)", "no children"."""
    children = household.get("children", 0)
    if not children:
        return "No children"
    words = f"{children} child{'ren' if children != 1 else ''}"
    sons = household.get("son_ages") or []
    if sons:
        each = ", ".join(str(age) for age in sons)
        words += f" (son{'s' if len(sons) != 1 else ''} aged {each})"
    return words


def refuge_hold_row(hold: dict, refuge_id: int) -> dict:
    """A hold on the refuge's beds as its staff read it: for which referral, placed by whom,
    for what household, until when (UK time), and where to release it."""
    return {
        "id": str(hold["id"]),
        "reference": hold["referral_reference"],
        "referral_href": f"/referrals/{hold['referral_id']}",
        "placed_by": hold["placed_by_organisation"] or "Unknown",
        "space": SPACE_WORDS.get(hold["space_type"], hold["space_type"]),
        "space_type": hold["space_type"],
        "household": household_words(hold.get("household") or {}),
        "until": on_day(hold["expires_at"]),
        "left": time_left(hold["expires_at"]),
        "release_href": f"/refuges/{refuge_id}/holds/{hold['id']}/release",
    }


def overcommitted_words(availability: dict) -> str:
    """ "more family spaces are held (2) than are vacant (1): none are available until a
    hold ends or you release one." for each overcommitted type; "" when none is."""
    said = []
    for space in availability.get("spaces", []):
        if space.get("overcommitted"):
            kind = SPACE_WORDS.get(space["space_type"], space["space_type"]).lower()
            said.append(
                f"more {kind} spaces are held ({space['held']}) than are vacant ({space['vacant']})"
            )
    if not said:
        return ""
    return "; ".join(said) + ": none are available until a hold ends or you release one."


def availability_form_data(shown: dict) -> dict:
    data = {"version": str(shown["version"])}
    for s in shown["spaces"]:
        data[f"{s['space_type']}_total"] = s["total"]
        data[f"{s['space_type']}_vacant"] = s["vacant"]
    return data


def space_words(spaces: list[dict]) -> str:
    """ "single 1 of 4 vacant, family 2 of 3 vacant"."""
    return (
        ", ".join(
            f"{SPACE_WORDS.get(s['space_type'], s['space_type']).lower()} "
            f"{s['vacant']} of {s['total']} vacant"
            for s in spaces
        )
        or "no spaces"
    )


def conflict_words(current: dict, typed: list[dict] | None) -> dict:
    """A conflicting edit: who changed the report, when, to what; and what was typed (None:
    the figures were being confirmed as they were, "Still accurate")."""

    return {
        "who": current["updated_by"] or "someone",
        "when": on_day(current["updated_at"]),
        "theirs": space_words(current["spaces"]),
        "yours": space_words(typed) if typed is not None else None,
    }
