"""Per page, what its template shows: service results turned into words, rows and links.

Templates hold no logic and no access decision; what a page offers is asked of the policy
(through ``adapter.can``) here, and the services still decide when anything is used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from markupsafe import Markup

import partnership_api.web.adapter as adapter
from partnership_api.actors import Actor
from partnership_api.models.base import utcnow
from partnership_api.models.partnership import AREAS

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


# Pages under another path that belong to a menu item.
SECTIONS = {"/funding": ("/projects", "/exports"), "/beds": ("/refuges/",)}


def page_title(what: str, has_errors: bool = False) -> str:
    """ "What – Partnership", with "Error: " first when a form came back with errors."""
    return f"{'Error: ' if has_errors else ''}{what} – {SERVICE_NAME}"


def layout(actor: Actor | None, what: str, path: str, has_errors: bool = False) -> Layout:
    navigation = []
    if actor is not None:
        for href, text, needs in NAVIGATION:
            if needs is None or adapter.can(actor, needs):
                current = path == href or (href != "/" and path.startswith(href + "/"))
                # Projects belong to Funding, users' pages to Users.
                current = current or any(path.startswith(p) for p in SECTIONS.get(href, ()))
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


# Times are stored in UTC and shown as people in the county read them: UK time, with the date.
UK = ZoneInfo("Europe/London")


def uk_time(when: datetime | str) -> datetime:
    """A stored time (UTC; naive means UTC) as UK local time (GMT or BST)."""
    if isinstance(when, str):
        when = datetime.fromisoformat(when)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UK)


def clock(when: datetime | str) -> str:
    """ "2:30am", "9am", "midday", "midnight": the GOV.UK style for times, in UK time."""
    local = uk_time(when)
    if local.minute == 0 and local.hour in (0, 12):
        return "midnight" if local.hour == 0 else "midday"
    hour = local.hour % 12 or 12
    minutes = f":{local.minute:02d}" if local.minute else ""
    return f"{hour}{minutes}{'am' if local.hour < 12 else 'pm'}"


def day(when: date | datetime | str | None) -> str:
    """ "1 July 2026" (a date; a time is taken in UK time first)."""
    if when is None:
        return ""
    if isinstance(when, str):
        when = datetime.fromisoformat(when) if "T" in when else date.fromisoformat(when)
    if isinstance(when, datetime):
        when = uk_time(when).date()
    return f"{when.day} {when:%B %Y}"


def on_day(when: datetime | str | None) -> str:
    """ "1 July 2026 at 2:30am": a stored UTC time as people in the UK read it."""
    if not when:
        return ""
    return f"{day(uk_time(when))} at {clock(when)}"


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


def tel_link(phone: str) -> Markup:
    """A phone number as a ``tel:`` link a phone can call with one tap (text escaped)."""
    digits = "".join(ch for ch in phone if ch.isdigit() or ch == "+")
    return Markup('<a class="govuk-link" href="tel:{}">{}</a>').format(digits, phone)


def area_names(codes) -> str:
    return ", ".join(AREAS.get(code, code) for code in codes) or "no area"
