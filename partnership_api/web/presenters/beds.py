"""The bed board and a refuge's page."""

from __future__ import annotations

import partnership_api.web.adapter as adapter
from partnership_api.web.presenters.common import (
    Actor,
    ago,
    area_names,
    dataclass,
    datetime,
    tel_link,
    utcnow,
)

# --- the bed board ------------------------------------------------------------------------------

SPACE_WORDS = {"single": "Single", "family": "Family", "accessible": "Accessible"}
# Fresh until this share of the stale limit has passed, then ageing, then (the service says) stale.
AGEING_SHARE = 0.25


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


def why_not(refuge, args: dict) -> list[str]:
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
    if args.get("women_only") and not facilities.get("women_only"):
        reasons.append("not women-only")
    language = args.get("language")
    if language and language.casefold() not in {
        str(name).casefold() for name in facilities.get("languages") or ()
    }:
        reasons.append(f"lists no {language} speakers")
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
    can_hold: bool
    referral: dict | None  # the referral the board is for: reference and what it allows
    search_words: str = ""  # the household searched for, in words (the collapsed form's title)
    alert: dict | None = None  # nothing fits: the vacancy alert this search can set
    phones: list[dict] | None = None  # nothing fits: who to call now


# The national 24-hour helpline (run by Refuge): shown whenever nothing fits.
NATIONAL_HELPLINE = {
    "name": "National Domestic Abuse Helpline (free, 24 hours)",
    "phone": "0808 2000 247",
}


def search_words(args: dict) -> str:
    """ "2 children, oldest son 14, wheelchair access, not in Stafford"."""
    said = []
    children = args.get("children")
    if children:
        said.append(f"{children} child{'ren' if children != 1 else ''}")
    if args.get("oldest_son_age") is not None:
        said.append(f"oldest son {args['oldest_son_age']}")
    needs = {
        "wheelchair": "wheelchair access",
        "nrpf": "accepts NRPF",
        "pets": "pets",
        "women_only": "women-only",
    }
    said += [words for key, words in needs.items() if args.get(key)]
    if args.get("language"):
        said.append(f"speaks {args['language']}")
    if args.get("space_type"):
        said.append(f"{SPACE_WORDS[args['space_type']].lower()} space")
    if args.get("area"):
        said.append(f"in {area_names(args['area'])}")
    if args.get("exclude_area"):
        said.append(f"not in {area_names(args['exclude_area'])}")
    return ", ".join(said) or "any household, anywhere"


def refer_href(args: dict, refuge_id: int, space_type: str) -> str:
    """The referral form, for a space at this refuge, carrying the household searched for."""
    from urllib.parse import urlencode

    query: list[tuple[str, str]] = [("refuge", str(refuge_id)), ("space_type", space_type)]
    for key in ("children", "oldest_son_age", "language"):
        if args.get(key) not in (None, ""):
            query.append((key, str(args[key])))
    query += [("needs", need) for need in NEEDS if args.get(need)]
    query += [("exclude_area", code) for code in args.get("exclude_area") or ()]
    return "/referrals/new?" + urlencode(query)


def alert_criteria(args: dict) -> list[tuple[str, str]]:
    """The search as a vacancy alert's fields (hidden in the alert's form)."""
    fields: list[tuple[str, str]] = []
    for key in ("children", "oldest_son_age", "space_type"):
        if args.get(key) not in (None, ""):
            fields.append((key, str(args[key])))
    fields += [(need, "true") for need in ("wheelchair", "nrpf", "pets") if args.get(need)]
    fields += [("area", code) for code in args.get("area") or ()]
    fields += [("exclude_area", code) for code in args.get("exclude_area") or ()]
    return fields


def phones_to_call(services: list[dict]) -> list[dict]:
    """The national helpline, then the partnership's own services that have a number."""
    shown = [NATIONAL_HELPLINE]
    shown += [
        {
            "name": f"{s['name']}" + (f" ({s['hours']})" if s.get("hours") else ""),
            "phone": s["phone"],
        }
        for s in services
        if s.get("phone") and s["kind"] != "perpetrator_programme"
    ]
    return [{"name": item["name"], "tel": tel_link(item["phone"])} for item in shown]


def fit_problems(refuge: dict, args: dict, found: list[dict], space_type: str | None) -> list[str]:
    """Why this household cannot be referred (and, with ``space_type``, a space held) at this
    refuge: the bed search's own answer (``found``: the refuges it returned for ``args``) and,
    when the refuge is not among them, the reasons in words. Empty when it fits."""
    if any(item["refuge_id"] == refuge["id"] for item in found):
        return []
    reasons = why_not(refuge, args)
    if space_type is None:  # no hold asked: only the household must fit, not a space now
        wanted = wanted_space_words(args)
        reasons = [r for r in reasons if r != f"no {wanted} space available now"]
    return reasons


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
    if (form.language.data or "").strip():
        args["language"] = form.language.data.strip()
    return args


NEEDS = ("wheelchair", "nrpf", "pets", "women_only")


def search_form_data(filters: dict, referral_id) -> dict:
    """The household-first form filled from a referral's search (``bed_search.filters_of``)."""
    return {
        "children": filters.get("children"),
        "oldest_son_age": filters.get("oldest_son_age"),
        "needs": [need for need in NEEDS if filters.get(need)],
        "exclude_area": list(filters.get("exclude_area") or ()),
        "language": filters.get("language") or "",
        "referral": str(referral_id),
    }


def _hold_here(actor: Actor, referral: dict | None, refuge_id: int) -> bool:
    """A space is held only at the refuge a submitted referral is made to (the policy's rule,
    which the hold itself checks again)."""
    return (
        referral is not None
        and referral["status"] == "submitted"
        and referral["to_service_id"] == refuge_id
        and adapter.can(actor, "bed.hold")
    )


def _redirect_here(actor: Actor, referral: dict | None, refuge_id: int) -> bool:
    """Its receiver may pass a submitted referral on to this refuge instead (a redirect: the
    way to a space at another refuge)."""
    return (
        referral is not None
        and referral["status"] == "submitted"
        and referral["to_organisation_id"] == actor.org_id
        and referral["to_service_id"] != refuge_id
        and adapter.can(actor, "referral.act")
    )


def bed_board(
    actor: Actor,
    args: dict | None,
    found: list[dict],
    refuges: list[dict],
    referral: dict | None,
    stale_after,
    services: list[dict] | None = None,
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
                "phone": tel_link(phone)
                if (phone := (names.get(item["refuge_id"]) or {}).get("phone"))
                else None,
                "hold_here": _hold_here(actor, referral, item["refuge_id"]),
                "redirect_here": _redirect_here(actor, referral, item["refuge_id"]),
                # No referral yet: refer her here and hold a space in one go.
                "refer": [
                    {
                        "href": refer_href(args or {}, item["refuge_id"], s["space_type"]),
                        "text": f"Refer and hold a {SPACE_WORDS[s['space_type']].lower()} space",
                    }
                    for s in item["spaces"]
                    if s["available"] > 0
                ]
                if referral is None
                and adapter.can(actor, "referral.create")
                and adapter.can(actor, "bed.hold")
                else [],
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
                        "reasons": why_not(refuge, args),
                    }
                )
    count = len(results)
    summary = (
        f"{count} refuge{'s' if count != 1 else ''} with a space now" if args is not None else ""
    )
    shown_referral = None
    if referral is not None:
        shown_referral = {
            "id": str(referral["id"]),
            "reference": referral["reference"],
            "status": referral["status"],
        }
    nothing = args is not None and not results
    alert = None
    if nothing and adapter.can(actor, "vacancy_alert.manage"):
        alert = {"fields": alert_criteria(args), "referral": shown_referral}
    return BedBoard(
        searched=args is not None,
        results=results,
        not_fitting=not_fitting,
        summary=summary,
        can_hold=adapter.can(actor, "bed.hold"),
        referral=shown_referral,
        search_words=search_words(args) if args is not None else "",
        alert=alert,
        phones=phones_to_call(services or []) if nothing else None,
    )
