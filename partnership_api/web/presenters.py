"""Per page, what its template shows: service results turned into words, rows and links.

Templates hold no logic and no access decision; what a page offers is asked of the policy
(through ``adapter.can``) here, and the services still decide when anything is used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from partnership_api.actors import Actor
from partnership_api.models.base import utcnow
from partnership_api.models.partnership import AREAS
from partnership_api.web import adapter, charts
from partnership_api.web.charts import pounds

SERVICE_NAME = "Partnership"


@dataclass
class Layout:
    title: str
    service_name: str
    navigation: list[dict]
    signed_in_as: str | None


# (path, text, the policy function the link needs, or None for everyone signed in)
NAVIGATION = (
    ("/", "Home", None),
    ("/beds", "Find a bed space", None),
    ("/referrals", "Referrals", "referral.read"),
    ("/funding", "Funding", None),
    ("/users", "Users", "user.manage"),
)


def page_title(what: str, has_errors: bool = False) -> str:
    """ "What – Partnership", with "Error: " first when a form came back with errors."""
    return f"{'Error: ' if has_errors else ''}{what} – {SERVICE_NAME}"


def layout(actor: Actor | None, what: str, path: str, has_errors: bool = False) -> Layout:
    navigation = []
    if actor is not None:
        for href, text, needs in NAVIGATION:
            if needs is None or adapter.can(actor, needs):
                current = path == href or (href != "/" and path.startswith(href + "/"))
                navigation.append({"href": href, "text": text, "active": current or path == href})
    return Layout(
        title=page_title(what, has_errors),
        service_name=SERVICE_NAME,
        navigation=navigation,
        signed_in_as=f"{actor.username} ({actor.org_name})" if actor else None,
    )


# --- words for times --------------------------------------------------------------------------


def ago(when: datetime | None, now: datetime | None = None) -> str:
    """ "3 minutes ago", "2 hours ago", "yesterday", "5 days ago"; "never" for no time."""
    if when is None:
        return "never"
    seconds = int(((now or utcnow()) - when).total_seconds())
    if seconds < 60:
        return "just now"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''} ago"
    hours = minutes // 60
    if hours < 24:
        return f"{hours} hour{'s' if hours != 1 else ''} ago"
    days = hours // 24
    return "yesterday" if days == 1 else f"{days} days ago"


def time_left(until: datetime | None, now: datetime | None = None) -> str:
    """ "2 hours 5 minutes left", "overdue by 3 hours"."""
    if until is None:
        return ""
    seconds = int((until - (now or utcnow())).total_seconds())
    late = seconds < 0
    seconds = abs(seconds)
    hours, minutes = seconds // 3600, (seconds % 3600) // 60
    if hours >= 48:
        words = f"{hours // 24} days"
    elif hours:
        words = (
            f"{hours} hour{'s' if hours != 1 else ''} {minutes} minute{'s' if minutes != 1 else ''}"
        )
    else:
        words = f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"overdue by {words}" if late else f"{words} left"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def on_day(when: datetime | None) -> str:
    return when.strftime("%-d %b %Y, %H:%M") if when else ""


@dataclass
class SignInPage:
    action: str
    errors: list[dict] = field(default_factory=list)
    notice: str | None = None


SIGNED_OUT_NOTICES = {
    "idle": "You were signed out because you did nothing for a while. Sign in again.",
    "ended": "Your session has ended. Sign in again.",
}


def sign_in_page(form, action: str, refused: str | None, ended: str | None) -> SignInPage:
    errors = [
        {"text": messages[0], "href": f"#{getattr(form, name).id}"}
        for name, messages in form.errors.items()
        if name != "csrf_token"
    ]
    if refused:
        errors.insert(0, {"text": refused, "href": f"#{form.username.id}"})
    return SignInPage(action=action, errors=errors, notice=SIGNED_OUT_NOTICES.get(ended or ""))


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


# --- the bed board ------------------------------------------------------------------------------

SPACE_WORDS = {"single": "Single", "family": "Family", "accessible": "Accessible"}
# Fresh until this share of the stale limit has passed, then ageing, then (the service says) stale.
AGEING_SHARE = 0.25


def area_names(codes) -> str:
    return ", ".join(AREAS.get(code, code) for code in codes) or "no area"


def freshness(updated_at: datetime | None, stale: bool, stale_after) -> dict:
    """Words and a colour: never colour alone."""
    if stale or updated_at is None:
        return {"text": "Stale", "colour": "red", "ago": f"confirmed {ago(updated_at)}"}
    if utcnow() - updated_at > stale_after * AGEING_SHARE:
        return {"text": "Ageing", "colour": "yellow", "ago": f"confirmed {ago(updated_at)}"}
    return {"text": "Fresh", "colour": "green", "ago": f"confirmed {ago(updated_at)}"}


def facility_words(facilities: dict) -> list[str]:
    words = []
    if facilities.get("max_children") is not None:
        words.append(f"takes up to {facilities['max_children']} children")
    if facilities.get("max_son_age") is not None:
        words.append(f"takes sons up to {facilities['max_son_age']}")
    words.append(
        "wheelchair accessible"
        if facilities.get("wheelchair_accessible")
        else "no wheelchair access"
    )
    words.append("accepts NRPF" if facilities.get("accepts_nrpf") else "cannot accept NRPF")
    words.append("accepts pets" if facilities.get("accepts_pets") else "no pets")
    if facilities.get("languages"):
        words.append("languages: " + ", ".join(facilities["languages"]))
    return words


def why_not(refuge, availability: dict, args: dict) -> list[str]:
    """Why a refuge is not in the results, in the words a worker would use."""
    facilities = refuge["facilities"] or {}
    areas = set(refuge["areas"])
    reasons = []
    if args.get("area") and not areas.intersection(args["area"]):
        reasons.append(f"serves {area_names(refuge['areas'])}, not the areas chosen")
    if args.get("exclude_area") and areas.intersection(args["exclude_area"]):
        reasons.append(
            f"serves {area_names(areas.intersection(args['exclude_area']))}, an area she must avoid"
        )
    children = args.get("children")
    if children and (
        facilities.get("max_children") is None or facilities["max_children"] < children
    ):
        reasons.append(f"takes up to {facilities.get('max_children') or 0} children")
    son = args.get("oldest_son_age")
    if son is not None and (
        facilities.get("max_son_age") is None or facilities["max_son_age"] < son
    ):
        limit = facilities.get("max_son_age")
        reasons.append(f"takes sons up to {limit}" if limit is not None else "cannot take sons")
    if args.get("wheelchair") and not facilities.get("wheelchair_accessible"):
        reasons.append("no wheelchair access")
    if args.get("nrpf") and not facilities.get("accepts_nrpf"):
        reasons.append("cannot accept NRPF")
    if args.get("pets") and not facilities.get("accepts_pets"):
        reasons.append("cannot take pets")
    if not reasons:
        wanted = wanted_space_words(args)
        reasons.append(f"no {wanted} space available now")
    return reasons


def wanted_space_words(args: dict) -> str:
    if args.get("space_type"):
        return SPACE_WORDS[args["space_type"]].lower()
    if args.get("wheelchair"):
        return "accessible"
    if args.get("children"):
        return "family"
    return "matching"


@dataclass
class BedBoard:
    searched: bool
    results: list[dict]
    not_fitting: list[dict]
    summary: str
    referral_choices: list[tuple[str, str]]
    can_hold: bool


def search_args(form) -> dict:
    """The bed search's arguments from the household-first form (only what was given)."""
    args: dict = {}
    if form.children.data is not None:
        args["children"] = form.children.data
    if form.oldest_son_age.data is not None:
        args["oldest_son_age"] = form.oldest_son_age.data
    if form.space_type.data:
        args["space_type"] = form.space_type.data
    for need in form.needs.data or []:
        args[need] = True
    if form.area.data:
        args["area"] = list(form.area.data)
    if form.exclude_area.data:
        args["exclude_area"] = list(form.exclude_area.data)
    return args


def bed_board(
    actor: Actor,
    args: dict | None,
    found: list[dict],
    refuges: list[dict],
    open_referrals: list[dict],
    stale_after,
) -> BedBoard:
    names = {refuge["id"]: refuge for refuge in refuges}
    results = []
    for item in found:
        updated = item["updated_at"]
        if isinstance(updated, str):
            updated = datetime.fromisoformat(updated)
        results.append(
            {
                "refuge_id": item["refuge_id"],
                "name": item["name"],
                "areas": area_names(item["areas"]),
                "spaces": [
                    {
                        "type": s["space_type"],
                        "words": f"{s['available']} {SPACE_WORDS[s['space_type']].lower()}",
                    }
                    for s in item["spaces"]
                ],
                "facilities": facility_words(item["facilities"] or {}),
                "freshness": freshness(updated, item["stale"], stale_after),
                "phone": (names.get(item["refuge_id"]) or {}).get("phone"),
            }
        )
    not_fitting = []
    if args is not None:
        shown = {item["refuge_id"] for item in found}
        for refuge in refuges:
            if refuge["id"] not in shown:
                not_fitting.append(
                    {
                        "name": refuge["name"],
                        "refuge_id": refuge["id"],
                        "reasons": why_not(refuge, refuge["availability"], args),
                    }
                )
    choices = [
        (str(r["id"]), f"{r['reference']} – {r['status']} – {r['risk_level']} risk")
        for r in open_referrals
    ]
    count = len(results)
    summary = (
        f"{count} refuge{'s' if count != 1 else ''} with a space now" if args is not None else ""
    )
    return BedBoard(
        searched=args is not None,
        results=results,
        not_fitting=not_fitting,
        summary=summary,
        referral_choices=choices,
        can_hold=adapter.can(actor, "bed.hold") and bool(choices),
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


def tab_args(tab: str) -> dict:
    return dict(TABS.get(tab, TABS["received"])[1])


@dataclass
class Inbox:
    tab: str
    tabs: list[dict]
    rows: list[dict]
    total: int
    pagination: dict | None
    can_create: bool


def inbox(actor: Actor, tab: str, rows: list[dict], total: int, page: int, names: dict) -> Inbox:
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
                {"number": n, "href": f"/referrals?tab={tab}&page={n}", "current": n == page}
                for n in range(max(1, page - 2), min(last, page + 2) + 1)
            ],
        }
        if page > 1:
            pagination["previous"] = {"href": f"/referrals?tab={tab}&page={page - 1}"}
        if page < last:
            pagination["next"] = {"href": f"/referrals?tab={tab}&page={page + 1}"}
    tabs = [
        {"key": key, "text": text, "href": f"/referrals?tab={key}", "current": key == tab}
        for key, (text, _args) in TABS.items()
    ]
    return Inbox(tab, tabs, shown, total, pagination, adapter.can(actor, "referral.create"))


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


def referral_page(
    actor: Actor, r: dict, events: list[dict], names: dict, services: list
) -> ReferralPage:
    subject, contact = r.get("subject") or {}, r.get("safe_contact") or {}
    household, needs, consent = (
        r.get("household") or {},
        r.get("needs") or {},
        r.get("consent") or {},
    )
    service_names = {sid: name for sid, name, _kind, _org in services}
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
        ("Safe phone", contact.get("phone") or "None"),
        ("Safe times", contact.get("safe_times") or "None"),
        ("Safe to call", _yes(contact.get("safe_to_call"))),
        ("May leave a message", _yes(contact.get("may_leave_message"))),
        (
            "Children",
            f"{household.get('children', 0)}"
            + (
                f" (ages {', '.join(str(a) for a in household.get('child_ages') or [])})"
                if household.get("child_ages")
                else ""
            ),
        ),
        (
            "Needs",
            ", ".join(k for k in ("wheelchair", "nrpf", "pets") if needs.get(k)).replace(
                "nrpf", "NRPF"
            )
            or "None",
        ),
        (
            "Consent",
            "Given"
            if consent.get("given")
            else f"Not given – {consent.get('lawful_basis')}: {consent.get('rationale')}",
        ),
        ("Summary", r.get("summary", "")),
    ]
    if r.get("decline_reason"):
        rows.append(("Decline reason", r["decline_reason"].replace("_", " ")))
    if r.get("outcome"):
        rows.append(("Outcome", r["outcome"]))
    timeline = [
        {
            "when": on_day(e["at"]),
            "what": (e["kind"] or "").replace("_", " ").capitalize(),
            "who": f"{e.get('username') or 'someone'} ({names.get(e['organisation_id'], '')})",
            "note": e.get("note") or "",
            "reason": (e.get("reason_code") or "").replace("_", " "),
        }
        for e in events
    ]
    receiver = actor.org_id == r["to_organisation_id"]
    sender = actor.org_id == r["from_organisation_id"]
    actions = []
    if adapter.can(actor, "referral.act"):
        if r["status"] == "submitted" and receiver:
            actions += ["accept", "decline", "redirect"]
        if r["status"] == "submitted" and sender:
            actions.append("withdraw")
        if r["status"] == "accepted" and receiver:
            actions.append("close")
    bed_search = None
    if (
        r["kind"] == "victim"
        and r["status"] in ("submitted", "accepted")
        and adapter.can(actor, "bed.hold")
    ):
        query = [f"referral={r['id']}", f"children={household.get('children', 0)}"]
        sons_ages = household.get("child_ages") or []
        if sons_ages:
            query.append(f"oldest_son_age={max(sons_ages)}")
        for need in ("wheelchair", "nrpf", "pets"):
            if needs.get(need):
                query.append(f"needs={need}")
        bed_search = "/beds?" + "&".join(query) + "#results"
    hold = r.get("hold")
    hold_words = None
    if hold:
        until = hold["expires_at"]
        hold_words = (
            f"A {hold['space_type']} space is held until {on_day(until)} ({time_left(until)})."
        )
    onward = [
        (str(sid), f"{name} ({org})")
        for sid, name, kind, org in services
        if sid != r["to_service_id"]
        and kind
        in (("refuge", "victim_support") if r["kind"] == "victim" else ("perpetrator_programme",))
    ]
    return ReferralPage(
        referral=r,
        rows=[{"key": {"text": k}, "value": {"text": v}} for k, v in rows],
        timeline=timeline,
        actions=actions,
        bed_search=bed_search,
        hold=hold_words,
        can_note=adapter.can(actor, "referral.act") and r["status"] in ("submitted", "accepted"),
        services=onward,
    )


def referral_data(form) -> dict:
    """The API's referral body from the form (the API's schema checks it)."""
    ages_text = (form.child_ages.data or "").strip()
    try:
        ages = [int(a) for a in ages_text.replace(" ", "").split(",") if a] if ages_text else []
    except ValueError:
        ages = ages_text  # the schema names the field and says what is wrong
    needs = set(form.needs.data or [])
    consent_given = form.consent_given.data == "yes"
    return {
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
        "household": {"children": form.children.data or 0, "child_ages": ages},
        "needs": {
            "wheelchair": "wheelchair" in needs,
            "nrpf": "nrpf" in needs,
            "pets": "pets" in needs,
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


def api_errors_onto(form, errors: dict, fields: dict, path: tuple = ()) -> bool:
    """Put the API schema's errors on the form's fields; True when any found a field."""
    placed = False
    for key, value in errors.items():
        if isinstance(value, dict):
            placed = api_errors_onto(form, value, fields, path + (key,)) or placed
            continue
        name = fields.get(path + (key,)) or fields.get((key,))
        if name is None and path and path[-1] in ("json",):
            name = fields.get((key,))
        messages = value if isinstance(value, list) else [value]
        if name is not None:
            getattr(form, name).errors = list(getattr(form, name).errors or []) + [
                str(m) for m in messages
            ]
            placed = True
    return placed


ACTION_DONE = {
    "accept": "accepted",
    "decline": "declined",
    "redirect": "redirected",
    "withdraw": "withdrawn",
    "close": "closed",
}


def refusal_words(refusal) -> str:
    """A refusal's message, with its field errors in words."""
    details = []

    def walk(errors, path=()):
        for key, value in errors.items():
            if isinstance(value, dict):
                walk(value, path if key == "json" else path + (key,))
            else:
                messages = value if isinstance(value, list) else [value]
                label = " ".join(path + (key,)).replace("_", " ")
                details.append(f"{label}: {' '.join(str(m) for m in messages)}")

    walk(refusal.errors or {})
    return " ".join([refusal.message] + details) if details else refusal.message


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


def refuge_page(
    refuge: dict, can_report: bool, stale_after, conflict: dict | None = None
) -> RefugePage:
    shown = refuge["availability"]
    details = [
        ("Areas", area_names(refuge["areas"])),
        ("Takes", "; ".join(facility_words(refuge["facilities"]))),
        ("Phone", refuge["phone"] or "None given"),
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
    history = [
        {
            "when": on_day(report.reported_at),
            "who": report.reported_by or "",
            "what": space_words(report.spaces or []),
        }
        for report in refuge["history"]
    ]
    return RefugePage(
        refuge=refuge,
        details=[{"key": {"text": k}, "value": {"text": v}} for k, v in details],
        spaces=spaces,
        freshness=freshness(shown["updated_at"], shown["stale"], stale_after)
        | {"by": shown["updated_by"] or "nobody yet"},
        history=history,
        can_report=can_report,
        conflict=conflict,
    )


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


def conflict_words(current: dict, typed: list[dict]) -> dict:
    """A conflicting edit: who changed the report, when, to what; and what was typed."""

    return {
        "who": current["updated_by"] or "someone",
        "when": on_day(current["updated_at"]),
        "theirs": space_words(current["spaces"]),
        "yours": space_words(typed),
    }


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


# --- users --------------------------------------------------------------------------------------


def users_page(actor: Actor, users: list, names: dict) -> list[dict]:
    return [
        {
            "id": user.id,
            "username": user.username,
            "full_name": user.full_name or "",
            "organisation": names.get(user.organisation_id, ""),
            "role": user.role,
            "active": user.active,
            "status": {"text": "Active", "colour": "green"}
            if user.active
            else {"text": "Deactivated", "colour": "grey"},
            "partnership_admin": user.partnership_admin,
            # Only the partnership admin manages a partnership admin (the policy's rule).
            "manageable": user.id != actor.user_id
            and (actor.partnership_admin or not user.partnership_admin),
        }
        for user in users
    ]


USER_CHANGES = {
    "role": "role changed",
    "deactivate": "deactivated, signed out everywhere",
    "activate": "reactivated",
    "password": "password reset, signed out everywhere",
}
