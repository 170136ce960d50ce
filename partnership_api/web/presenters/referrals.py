"""A referral's page, and the new referral form's data (the inbox: ``inbox.py``)."""

from __future__ import annotations

from markupsafe import Markup

import partnership_api.web.adapter as adapter
from partnership_api.models.referrals import OPEN_STATUSES
from partnership_api.policy import TRANSITIONS
from partnership_api.services.referral_rules import may_receive
from partnership_api.web.presenters.common import (
    AREAS,
    Actor,
    area_names,
    dataclass,
    on_day,
    tel_link,
    time_left,
)
from partnership_api.web.presenters.words import (
    EVENT_WORDS,
    SERVICE_KIND_WORDS,
    in_words,
    reason_words,
)

# --- a referral ---------------------------------------------------------------------------------


def _yes(value) -> str:
    return "Yes" if value else "No"


@dataclass
class ReferralPage:
    referral: dict
    rows: list[dict]
    timeline: list[dict]
    actions: list[str]
    bed_search: str | None
    hold: str | None
    can_note: bool
    services: list[tuple[str, str]]
    not_offered: list[str] | None = None  # refuges kept out of the redirect list, and why


def referral_page(
    actor: Actor,
    r: dict,
    events: list[dict],
    names: dict,
    services: list[dict],
    excluded_areas: list[str] = (),
) -> ReferralPage:
    """A referral's page: its details, its timeline, and what the policy lets this actor do."""
    onward, not_offered = onward_services(r, services, excluded_areas)
    rows = _referral_rows(r, names, services) + _person_rows(r) + _ending_rows(r)
    return ReferralPage(
        referral=r,
        rows=[
            {"key": {"text": k}, "value": {"html": v} if isinstance(v, Markup) else {"text": v}}
            for k, v in rows
        ],
        timeline=[_timeline_entry(e, names) for e in events],
        actions=actions_offered(actor, r),
        bed_search=_bed_search(actor, r),
        hold=_hold_words(r.get("hold")),
        can_note=_takes_notes(actor, r),
        services=onward,
        not_offered=not_offered,
    )


def _referral_rows(r: dict, names: dict, services: list[dict]) -> list[tuple[str, str]]:
    """Which referral: its reference, status, sender, receiver and times."""
    service_names = {s["id"]: s["name"] for s in services}
    receiver = (
        f"{service_names.get(r['to_service_id'], '')} ({names.get(r['to_organisation_id'], '')})"
    )
    return [
        ("Reference", r["reference"]),
        ("Status", r["status"].capitalize()),
        ("From", names.get(r["from_organisation_id"], "")),
        ("To", receiver),
        ("Received", on_day(r["created_at"])),
        ("Response due", on_day(r["response_due_at"])),
    ]


def _person_rows(r: dict) -> list[tuple[str, str]]:
    """Who she is, her risk, how to reach her safely, her household, needs and consent."""
    subject, contact = r.get("subject") or {}, r.get("safe_contact") or {}
    consent = r.get("consent") or {}
    dash = f" (DASH score {r['dash_score']})" if r.get("dash_score") is not None else ""
    return [
        ("Name", subject.get("name", "")),
        ("Date of birth", subject.get("date_of_birth") or "Not given"),
        ("Area", AREAS.get(subject.get("area"), subject.get("area") or "")),
        ("Risk level", f"{r['risk_level'].capitalize()}{dash}"),
        ("MARAC", _yes(r["marac"])),
        ("Do not contact", _yes(r["do_not_contact"])),
        ("Safe phone", tel_link(contact["phone"]) if contact.get("phone") else "Not given"),
        ("Safe times", contact.get("safe_times") or "Not given"),
        ("Safe to call", _yes(contact.get("safe_to_call"))),
        ("May leave a message", _yes(contact.get("may_leave_message"))),
        ("Children", children_words(r.get("household") or {})),
        ("Needs", needs_words(r.get("needs") or {})),
        (
            "Consent",
            "Given"
            if consent.get("given")
            else f"Not given – {consent.get('lawful_basis')}: {consent.get('rationale')}",
        ),
        ("Summary", r.get("summary", "")),
    ]


def _ending_rows(r: dict) -> list[tuple[str, str]]:
    """Why it was declined, or how it ended, once it has."""
    rows = []
    if r.get("decline_reason"):
        rows.append(("Decline reason", reason_words(r["decline_reason"])))
    if r.get("outcome"):
        rows.append(("Outcome", r["outcome"]))
    return rows


def _timeline_entry(e: dict, names: dict) -> dict:
    return {
        "when": on_day(e["at"]),
        "what": EVENT_WORDS.get(e["kind"]) or in_words(e["kind"] or "").capitalize(),
        # Another organisation's people are their organisation (issue 25).
        "who": f"{e['username']} ({names.get(e['organisation_id'], '')})"
        if e.get("username")
        else names.get(e["organisation_id"], "someone"),
        "note": e.get("note") or "",
        "reason": reason_words(e.get("reason_code")),
    }


def _bed_search(actor: Actor, r: dict) -> str | None:
    """The bed search for this referral, while a space may be held for it: it fills the board
    from her household and needs (``bed_search.filters_of``: the oldest son's age)."""
    if (
        r["kind"] == "victim"
        and r["status"] in OPEN_STATUSES
        and adapter.can(actor, "bed.hold")
        and adapter.may(actor, "referral.hold", r)
    ):
        return f"/beds?for_referral={r['id']}#results"
    return None


def _hold_words(hold: dict | None) -> str | None:
    if not hold:
        return None
    until = hold["expires_at"]
    return f"A {hold['space_type']} space is held until {on_day(until)} ({time_left(until)})."


def _takes_notes(actor: Actor, r: dict) -> bool:
    """The page takes notes while the referral is open (the API takes them after too)."""
    return (
        adapter.can(actor, "referral.act")
        and adapter.may(actor, "referral.note", r)
        and r["status"] in OPEN_STATUSES
    )


def actions_offered(actor: Actor, r: dict) -> list[str]:
    """The steps of its lifecycle the policy lets this actor take on the referral now
    (``policy.TRANSITIONS``: which status each needs, and which side takes it)."""
    return [
        action
        for action in TRANSITIONS
        if adapter.can(actor, "referral.act") and adapter.may(actor, f"referral.{action}", r)
    ]


def not_offered_status(action: str, r: dict) -> int:
    """The answer to a step the page does not offer: 409 when the referral's status is not
    the one the step needs (as the API answers), else 403."""
    return 409 if r["status"] != TRANSITIONS[action].needs else 403


def is_refuge_stay(r: dict, services: list[dict]) -> bool:
    """Whether closing this referral ends a stay in a refuge (the return asks why and where)."""
    return any(s["id"] == r["to_service_id"] and s["kind"] == "refuge" for s in services)


def transition_data(action: str, form, stay: bool = False) -> dict:
    """The API's transition body from a confirmation page's form (only what was given)."""
    data: dict = {"action": action}
    note = (getattr(form, "note", None) and form.note.data or "").strip()
    if note:
        data["note"] = note
    if action == "decline":
        data["reason_code"] = form.reason_code.data
        if form.reason_code.data == "other":
            data["reason_text"] = form.reason_text.data.strip()
    if action == "close":
        data["outcome"] = form.outcome.data.strip()
        if stay:
            data["end_reason"] = form.end_reason.data
            data["destination"] = form.destination.data
            if form.end_reason.data == "other":
                data["end_reason_text"] = form.end_reason_text.data.strip()
    return data


def areas_to_avoid(r: dict) -> list[str]:
    """The areas she must not be sent to: her home area when the risk comes from home (the
    bed search's own rule, ``bed_search.filters_of``)."""
    from partnership_api.services.bed_search import filters_of

    subject = r.get("subject") or {}
    return list(filters_of({**r, "subject_area": subject.get("area")}).get("exclude_area", ()))


def confirm_summary(r: dict, services: list[dict]) -> list[dict]:
    """What a confirmation page shows of the referral it asks about."""
    named = {s["id"]: s for s in services}
    service = named.get(r["to_service_id"]) or {}
    rows = [
        ("Reference", r["reference"]),
        ("Referred to", f"{service.get('name', '')} ({service.get('organisation', '')})"),
        ("Risk level", r["risk_level"].capitalize()),
        ("Received", on_day(r["created_at"])),
    ]
    return [{"key": {"text": k}, "value": {"text": v}} for k, v in rows]


def onward_services(
    r: dict, services: list[dict], excluded_areas: list[str]
) -> tuple[list[tuple[str, str]], list[str]]:
    """Where a receiver may pass a referral on: services of the kinds that may receive it,
    never a refuge serving an area she must avoid (those are named with the reason)."""
    offered, kept_out = [], []
    avoid = set(excluded_areas)
    for s in services:
        if s["id"] == r["to_service_id"] or not may_receive(r["kind"], s["kind"]):
            continue
        danger = avoid.intersection(s["areas"]) if s["kind"] == "refuge" else set()
        if danger:
            kept_out.append(f"{s['name']}: serves {area_names(danger)}, an area she must avoid")
            continue
        offered.append(
            (
                str(s["id"]),
                f"{s['name']} ({SERVICE_KIND_WORDS.get(s['kind'], s['kind'])}, "
                f"{s['organisation']})",
            )
        )
    return offered, kept_out


def children_words(household: dict) -> str:
    """ "2: a girl of 4, a boy of 13" (each child's sex when the referrer gave it)."""
    count = household.get("children", 0)
    detail = household.get("children_detail")
    if detail:
        each = [f"a {'boy' if c['sex'] == 'male' else 'girl'} of {c['age']}" for c in detail]
        return f"{count}: {', '.join(each)}"
    ages = household.get("child_ages") or []
    return f"{count}" + (f" (ages {', '.join(str(a) for a in ages)})" if ages else "")


def needs_words(needs: dict) -> str:
    words = {
        "wheelchair": "wheelchair",
        "nrpf": "NRPF",
        "pets": "pets",
        "risk_from_home": "the risk comes from her home area",
    }
    shown = [text for key, text in words.items() if needs.get(key)]
    if needs.get("interpreter_language"):
        shown.append(f"an interpreter ({needs['interpreter_language']})")
    return ", ".join(shown) or "None given"
