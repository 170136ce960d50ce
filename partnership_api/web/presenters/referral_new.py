"""Making a referral: the form's first values (from a bed search's "Refer and hold here"), the
body the API is sent, "Check your answers" and the confirmation."""

from __future__ import annotations

from partnership_api.services.referral_rules import RECEIVING_KINDS
from partnership_api.web.presenters.common import AREAS, dataclass, day, on_day, tel_link, time_left
from partnership_api.web.presenters.referrals import _yes, children_words, needs_words
from partnership_api.web.presenters.words import SERVICE_KIND_WORDS


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


# --- making a referral: the form, "Check your answers", the confirmation -------------------------


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
        if s["kind"] in RECEIVING_KINDS
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
