"""A referral's page, and the new referral form's data (the inbox: ``inbox.py``)."""

from __future__ import annotations

import re

from markupsafe import Markup

import partnership_api.web.adapter as adapter
from partnership_api.models.referrals import RECEIVING_SERVICE_KINDS
from partnership_api.web.presenters.common import (
    AREAS,
    Actor,
    area_names,
    dataclass,
    day,
    on_day,
    tel_link,
    time_left,
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
    subject, contact = r.get("subject") or {}, r.get("safe_contact") or {}
    household, needs, consent = (
        r.get("household") or {},
        r.get("needs") or {},
        r.get("consent") or {},
    )
    service_names = {s["id"]: s["name"] for s in services}
    rows = [
        ("Reference", r["reference"]),
        ("Status", r["status"].capitalize()),
        ("From", names.get(r["from_organisation_id"], "")),
        (
            "To",
            f"{service_names.get(r['to_service_id'], '')} "
            f"({names.get(r['to_organisation_id'], '')})",
        ),
        ("Received", on_day(r["created_at"])),
        ("Response due", on_day(r["response_due_at"])),
        ("Name", subject.get("name", "")),
        ("Date of birth", subject.get("date_of_birth") or "Not given"),
        ("Area", AREAS.get(subject.get("area"), subject.get("area") or "")),
        (
            "Risk level",
            f"{r['risk_level'].capitalize()}"
            + (f" (DASH score {r['dash_score']})" if r.get("dash_score") is not None else ""),
        ),
        ("MARAC", _yes(r["marac"])),
        ("Do not contact", _yes(r["do_not_contact"])),
        ("Safe phone", tel_link(contact["phone"]) if contact.get("phone") else "Not given"),
        ("Safe times", contact.get("safe_times") or "Not given"),
        ("Safe to call", _yes(contact.get("safe_to_call"))),
        ("May leave a message", _yes(contact.get("may_leave_message"))),
        ("Children", children_words(household)),
        ("Needs", needs_words(needs)),
        (
            "Consent",
            "Given"
            if consent.get("given")
            else f"Not given – {consent.get('lawful_basis')}: {consent.get('rationale')}",
        ),
        ("Summary", r.get("summary", "")),
    ]
    if r.get("decline_reason"):
        rows.append(("Decline reason", reason_words(r["decline_reason"])))
    if r.get("outcome"):
        rows.append(("Outcome", r["outcome"]))
    timeline = [
        {
            "when": on_day(e["at"]),
            "what": EVENT_WORDS.get(e["kind"]) or in_words(e["kind"] or "").capitalize(),
            "who": f"{e.get('username') or 'someone'} ({names.get(e['organisation_id'], '')})",
            "note": e.get("note") or "",
            "reason": reason_words(e.get("reason_code")),
        }
        for e in events
    ]
    actions = actions_offered(actor, r)
    bed_search = None
    if (
        r["kind"] == "victim"
        and r["status"] in ("submitted", "accepted")
        and adapter.can(actor, "bed.hold")
    ):
        # The bed search for this referral fills the board from its household and needs
        # (``bed_search.filters_of``: the oldest son's age from children_detail).
        bed_search = f"/beds?for_referral={r['id']}#results"
    hold = r.get("hold")
    hold_words = None
    if hold:
        until = hold["expires_at"]
        hold_words = (
            f"A {hold['space_type']} space is held until {on_day(until)} ({time_left(until)})."
        )
    onward, not_offered = onward_services(r, services, excluded_areas)
    return ReferralPage(
        referral=r,
        rows=[
            {"key": {"text": k}, "value": {"html": v} if isinstance(v, Markup) else {"text": v}}
            for k, v in rows
        ],
        timeline=timeline,
        actions=actions,
        bed_search=bed_search,
        hold=hold_words,
        can_note=adapter.can(actor, "referral.act") and r["status"] in ("submitted", "accepted"),
        services=onward,
        not_offered=not_offered,
    )


def actions_offered(actor: Actor, r: dict) -> list[str]:
    """What the page offers on a referral: its receiver accepts, declines or redirects a new
    one and closes an accepted one; its sender withdraws a new one (the service decides)."""
    receiver = actor.org_id == r["to_organisation_id"]
    sender = actor.org_id == r["from_organisation_id"]
    actions = []
    if adapter.can(actor, "referral.act"):
        if r["status"] == "submitted" and receiver:
            actions += ["accept", "decline", "redirect"]
        if r["status"] == "accepted" and receiver:
            actions.append("close")
        if r["status"] == "submitted" and sender:
            actions.append("withdraw")
    return actions


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
    kinds = RECEIVING_SERVICE_KINDS.get(r["kind"], ())
    offered, kept_out = [], []
    avoid = set(excluded_areas)
    for s in services:
        if s["id"] == r["to_service_id"] or s["kind"] not in kinds:
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


# What happened, as a person says it (a kind not listed here is said in words too).
EVENT_WORDS = {
    "created": "Referral made",
    "submitted": "Referral made",
    "accepted": "Accepted",
    "declined": "Declined",
    "redirected": "Passed on to another service",
    "withdrawn": "Withdrawn by the referrer",
    "closed": "Closed",
    "note": "Note",
    "overdue": "No answer by the time due",
    "hold_placed": "Space held",
    "hold_released": "Held space released",
    "hold_lapsed": "Held space lapsed (its time ran out)",
    "hold_admitted": "Admitted to the held space",
    "hold_admitted_without_vacancy": "Admitted (no vacant space was left to count down)",
}


# The coded reasons, as a person says them (a code not listed here is said in words too).
REASON_WORDS = {
    "no_capacity": "No capacity",
    "not_eligible": "Not eligible",
    "outside_area": "Outside our area",
    "declined_by_person": "She declined the offer",
    "unable_to_contact": "Could not contact her",
    "other": "Other",
    "not_suitable": "Not suitable for this household",
    "space_no_longer_free": "The space is no longer free",
    "referral_not_genuine": "The referral did not look genuine",
}


def reason_words(code: str | None) -> str:
    if not code:
        return ""
    return REASON_WORDS.get(code) or in_words(code).capitalize()


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


def referral_data(form) -> dict:
    """The API's referral body from the form (the API's schema checks it)."""
    from partnership_api.web.forms import ages_of  # checked by the form already

    detail = [{"age": age, "sex": "female"} for age in ages_of(form.daughter_ages.data)] + [
        {"age": age, "sex": "male"} for age in ages_of(form.son_ages.data)
    ]
    household: dict = {}
    if form.children.data is not None:
        household["children"] = form.children.data
    if detail:
        household["children_detail"] = detail  # the API checks it agrees with the number
    else:
        household.setdefault("children", 0)
    needs = set(form.needs.data or [])
    consent_given = form.consent_given.data == "yes"
    body = {
        "kind": form.kind.data,
        "to_service_id": int(form.to_service_id.data)
        if (form.to_service_id.data or "").isdigit()
        else form.to_service_id.data,
        "risk_level": form.risk_level.data,
        "dash_score": form.dash_score.data,
        "marac": bool(form.marac.data),
        "subject": {
            "name": form.subject_name.data,
            "date_of_birth": form.subject_date_of_birth.data.isoformat()
            if form.subject_date_of_birth.data
            else None,
            "gender": form.subject_gender.data or None,
            "area": form.subject_area.data,
        },
        "safe_contact": {
            "phone": form.safe_phone.data or None,
            "safe_to_call": bool(form.safe_to_call.data),
            "may_leave_message": bool(form.may_leave_message.data),
            "safe_times": form.safe_times.data or None,
            "do_not_contact": bool(form.do_not_contact.data),
        },
        "household": household,
        "needs": {
            "wheelchair": "wheelchair" in needs,
            "nrpf": "nrpf" in needs,
            "pets": "pets" in needs,
            "risk_from_home": "risk_from_home" in needs,
            "interpreter_language": form.interpreter_language.data or None,
            "other": form.other_needs.data or None,
        },
        "consent": {
            "given": consent_given,
            "lawful_basis": None if consent_given else (form.lawful_basis.data or None),
            "rationale": None if consent_given else (form.rationale.data or None),
        },
        "summary": form.summary.data,
    }
    if form.hold_space_type.data:
        body["hold"] = {"space_type": form.hold_space_type.data}
    return body


def api_errors_onto(form, errors: dict, fields: dict, path: tuple = ()) -> bool:
    """Put the API schema's errors on the form's fields, in words; True when any found a
    field. ``fields`` maps the API's field paths (without list indexes) to the form's names,
    or is a function ``(path) -> name or None`` for forms whose fields follow list positions."""
    placed = False
    for key, value in errors.items():
        if isinstance(value, dict):
            inner = path if key == "json" else path + (key,)
            placed = api_errors_onto(form, value, fields, inner) or placed
            continue
        if callable(fields):
            name = fields(path + (key,))
        else:
            plain = tuple(part for part in path + (key,) if not isinstance(part, int))
            name = fields.get(plain) or fields.get(plain[-1:])
        messages = value if isinstance(value, list) else [value]
        if name is not None:
            getattr(form, name).errors = list(getattr(form, name).errors or []) + [
                in_words(str(m)) for m in messages
            ]
            placed = True
    return placed


# The API's names for things, as a person says them (no internal name reaches a page).
WORDS = {
    "children_detail": "the children's ages",
    "child_ages": "the children's ages",
    "to_service_id": "the service",
    "victim_support": "victim support",
    "perpetrator_programme": "perpetrator programme",
    "dash_score": "DASH score",
    "space_type": "type of space",
    "refuge_id": "refuge",
    "reason_code": "reason",
    "nrpf": "NRPF",
    "oldest_son_age": "oldest son's age",
    "exclude_area": "areas she must avoid",
    "risk_level": "risk level",
    "date_of_birth": "date of birth",
    "safe_contact": "safe contact",
    "lawful_basis": "lawful basis",
}
_WORD = re.compile(r"\b(" + "|".join(sorted(WORDS, key=len, reverse=True)) + r")\b")
_SNAKE = re.compile(r"\b([a-z]+(?:_[a-z]+)+)\b")


PHRASES = {
    "but children_detail describes": "but the ages given are for",
    "the ages in children_detail": "the ages given for each child",
}


def in_words(text: str) -> str:
    """An API message with its field and code names said as words."""
    for phrase, words in PHRASES.items():
        text = text.replace(phrase, words)
    text = _WORD.sub(lambda m: WORDS[m.group(1)], text)
    return _SNAKE.sub(lambda m: m.group(1).replace("_", " "), text)


ACTION_DONE = {
    "accept": "accepted",
    "decline": "declined",
    "redirect": "redirected",
    "withdraw": "withdrawn",
    "close": "closed",
}


def refusal_words(refusal) -> str:
    """A refusal's message, with its field errors in words (never a field's internal name,
    never a list position as a number to join: ``spaces 0 vacant``)."""
    details = []

    def walk(errors, path=()):
        for key, value in errors.items():
            if isinstance(value, dict):
                walk(value, path if key in ("json", "query", "_schema") else path + (key,))
            else:
                messages = value if isinstance(value, list) else [value]
                label = " ".join(
                    f"(item {part + 1})" if isinstance(part, int) else in_words(str(part))
                    for part in path + (key,)
                    if part != "_schema"
                )
                said = " ".join(in_words(str(m)) for m in messages)
                details.append(f"{label.capitalize()}: {said}" if label else said)

    walk(refusal.errors or {})
    message = in_words(refusal.message)
    return " ".join([message] + details) if details else message


# --- making a referral: the form, "Check your answers", the confirmation -------------------------

SERVICE_KIND_WORDS = {
    "refuge": "refuge",
    "victim_support": "victim support",
    "perpetrator_programme": "perpetrator programme",
    "helpline": "helpline",
}
RECEIVING = tuple(dict.fromkeys(k for kinds in RECEIVING_SERVICE_KINDS.values() for k in kinds))


def referral_form_data(args) -> dict:
    """The form's first values from a bed search's "Refer and hold here" (query arguments):
    the refuge and the space to hold, her children, her oldest son's age, her needs, the
    language she speaks. Anything not a plain number or a known choice is left out."""
    data: dict = {}
    refuge = args.get("refuge", "")
    if refuge.isdigit():
        data["to_service_id"] = refuge
        if args.get("space_type") in ("single", "family", "accessible"):
            data["hold_space_type"] = args["space_type"]
    if (args.get("children") or "").isdigit():
        data["children"] = int(args["children"])
    if (args.get("oldest_son_age") or "").isdigit():
        data["son_ages"] = args["oldest_son_age"]
    needs = [n for n in args.getlist("needs") if n in ("wheelchair", "nrpf", "pets")]
    if needs:
        data["needs"] = needs
    language = (args.get("language") or "").strip()[:40]
    if language:
        data["interpreter_language"] = language
    return data


def offer_services(form, services: list[dict]) -> None:
    """The services a referral can go to, named with their kind and organisation."""
    form.to_service_id.choices = [("", "Choose a service")] + [
        (
            str(s["id"]),
            f"{s['name']} ({SERVICE_KIND_WORDS.get(s['kind'], s['kind'])}, {s['organisation']})",
        )
        for s in services
        if s["kind"] in RECEIVING
    ]


def chosen_refuge(form, services: list[dict]) -> dict | None:
    chosen = form.to_service_id.data or ""
    for s in services:
        if str(s["id"]) == chosen and s["kind"] == "refuge":
            return s
    return None


def household_search_args(form) -> dict:
    """The bed search her household asks for, as the referral will say it (the same rule as a
    referral's own bed search, ``bed_search.filters_of``)."""
    from partnership_api.services.bed_search import filters_of
    from partnership_api.web.forms import ages_of

    children = form.children.data or 0
    sons = ages_of(form.son_ages.data)
    daughters = ages_of(form.daughter_ages.data)
    needs = set(form.needs.data or [])
    read = {
        "household": {
            "children": max(children, len(sons) + len(daughters)),
            "children_detail": [{"age": a, "sex": "male"} for a in sons],
        },
        "needs": {
            "wheelchair": "wheelchair" in needs,
            "nrpf": "nrpf" in needs,
            "pets": "pets" in needs,
            "risk_from_home": "risk_from_home" in needs,
        },
        "subject_area": form.subject_area.data,
    }
    return filters_of(read)


@dataclass
class ReferralFormPage:
    hold: str | None  # "A family space at Glow refuge will be held …"


def referral_form_page(form, services: list[dict]) -> ReferralFormPage:
    hold = None
    refuge = chosen_refuge(form, services)
    if form.hold_space_type.data and refuge is not None:
        hold = (
            f"A {form.hold_space_type.data} space at {refuge['name']} will be held for her "
            "when you send this referral, if it is still free. Give each child's age: "
            "refuges decide on the ages of sons."
        )
    return ReferralFormPage(hold=hold)


def carried_fields(posted) -> list[tuple[str, str]]:
    """What the form sent, carried through "Check your answers" as hidden fields (the page
    already holds it; nothing is kept in a cookie)."""
    return [
        (name, value)
        for name, values in posted.lists()
        if name not in ("csrf_token", "step")
        for value in values
    ]


@dataclass
class CheckAnswersPage:
    sections: list[dict]
    hold: str | None


def check_answers(form, services: list[dict]) -> CheckAnswersPage:
    data = referral_data(form)
    named = {str(s["id"]): s for s in services}
    service = named.get(str(data["to_service_id"])) or {}
    subject, contact = data["subject"], data["safe_contact"]
    household = data["household"]
    consent = data["consent"]
    rows_to = [
        ("Who is being referred", "A victim" if data["kind"] == "victim" else "A perpetrator"),
        ("Referred to", f"{service.get('name', '')} ({service.get('organisation', '')})"),
    ]
    hold = None
    if form.hold_space_type.data:
        hold = f"A {form.hold_space_type.data} space at {service.get('name', '')}"
        rows_to.append(("Space to hold", hold))
    person = [
        ("Full name", subject["name"]),
        ("Date of birth", day(subject["date_of_birth"]) or "Not given"),
        ("Gender", subject["gender"] or "Not given"),
        ("Area they live in", AREAS.get(subject["area"], subject["area"])),
    ]
    risk = [
        (
            "DASH risk level",
            data["risk_level"].capitalize()
            + (f" (score {data['dash_score']})" if data["dash_score"] is not None else ""),
        ),
        ("Referred to MARAC", _yes(data["marac"])),
    ]
    safe = [
        ("Do not contact them directly", _yes(contact["do_not_contact"])),
        ("Safe phone number", contact["phone"] or "Not given"),
        ("Safe times to call", contact["safe_times"] or "Not given"),
        ("Safe to call this number", _yes(contact["safe_to_call"])),
        ("A message may be left", _yes(contact["may_leave_message"])),
    ]
    household_rows = [
        ("Children", children_words(household)),
        ("Needs", needs_words(data["needs"])),
    ]
    if data["needs"].get("other"):
        household_rows.append(("Other needs", data["needs"]["other"]))
    consent_rows = [
        (
            "Consent",
            "Given"
            if consent["given"]
            else f"Not given: {consent['lawful_basis']}. {consent['rationale']}",
        ),
        ("Summary", data["summary"]),
    ]
    sections = [
        ("The referral", rows_to, "to_service_id"),
        ("The person", person, "subject_name"),
        ("Risk", risk, "risk_level"),
        ("Safe contact", safe, "do_not_contact"),
        ("Household and needs", household_rows, "children"),
        ("Consent and summary", consent_rows, "consent_given"),
    ]
    return CheckAnswersPage(
        sections=[
            {
                "title": title,
                "field": field,
                "rows": [{"key": {"text": k}, "value": {"text": v}} for k, v in rows],
            }
            for title, rows, field in sections
        ],
        hold=hold,
    )


@dataclass
class SentPage:
    reference: str
    referral_id: str
    to: str
    due: str
    hold: str | None
    phone: str | None


def sent_page(r: dict, services: list[dict]) -> SentPage:
    named = {s["id"]: s for s in services}
    service = named.get(r["to_service_id"]) or {}
    hold = None
    if r.get("hold"):
        until = r["hold"]["expires_at"]
        hold = (
            f"A {r['hold']['space_type']} space is held for her at {service.get('name', '')} "
            f"until {on_day(until)} ({time_left(until)})."
        )
    return SentPage(
        reference=r["reference"],
        referral_id=str(r["id"]),
        to=f"{service.get('name', '')} ({service.get('organisation', '')})",
        due=on_day(r["response_due_at"]),
        hold=hold,
        phone=tel_link(service["phone"]) if service.get("phone") else None,
    )
