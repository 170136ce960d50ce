"""The service's words made a person's words: field and code names, the API's errors on a
form's fields, what happened on a referral's timeline and why (never an internal name on a
page)."""

from __future__ import annotations

import re


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
    "needs_not_met_disability": "Needs not met: disability or wheelchair access",
    "needs_not_met_nrpf": "Needs not met: no recourse to public funds",
    "needs_not_met_older_sons": "Needs not met: older sons",
    "needs_not_met_larger_family": "Needs not met: a larger family",
    "needs_not_met_substance_use": "Needs not met: substance use",
    "needs_not_met_mental_health": "Needs not met: mental health",
    "declined_offer": "She declined the offer",
    "risk_too_high": "The risk is too high for the setting",
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


SERVICE_KIND_WORDS = {
    "refuge": "refuge",
    "victim_support": "victim support",
    "perpetrator_programme": "perpetrator programme",
    "helpline": "helpline",
}
