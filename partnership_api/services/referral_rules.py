"""The rules of a referral itself: when a response is due, when it is overdue, its reference,
and which services a referral of each kind may go to."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from partnership_api.database import db
from partnership_api.domain_errors import Invalid
from partnership_api.models.partnership import Service
from partnership_api.models.referrals import (  # noqa: F401 (RECEIVING_KINDS: for the pages)
    RECEIVING_KINDS,
    RECEIVING_SERVICE_KINDS,
    Referral,
)

WORKING_TIME = ZoneInfo("Europe/London")
HIGH_RISK_RESPONSE = timedelta(hours=24)
WORKING_DAYS_TO_RESPOND = 2


def response_due(created_at: datetime, risk_level: str) -> datetime:
    """24 hours for high risk; otherwise 2 working days (Monday to Friday, UK time)."""
    if risk_level == "high":
        return created_at + HIGH_RISK_RESPONSE
    day = created_at.astimezone(WORKING_TIME)
    counted = 0
    while counted < WORKING_DAYS_TO_RESPOND:
        day += timedelta(days=1)  # wall-clock arithmetic: the same local time, across DST
        if day.weekday() < 5:
            counted += 1
    return day.astimezone(UTC)


# Crockford's base 32: no I, L, O or U, so a reference read out over the phone is not misheard.
REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_LENGTH = 8


def next_reference(year: int) -> str:
    """A new ``REF-YYYY-XXXXXXXX``: eight random characters (40 bits) after the year.

    Not a sequence: a partner that sees two of its own references learns nothing about how
    many referrals other organisations made in between. The unique index refuses the rare
    repeat (a 409 the caller can retry; with an ``Idempotency-Key`` safely)."""
    code = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
    return f"REF-{year}-{code}"


def may_receive(kind: str, service_kind: str) -> bool:
    """Whether a service of ``service_kind`` may receive a referral of this ``kind``."""
    return service_kind in RECEIVING_SERVICE_KINDS.get(kind, ())


def receiving_service(kind: str, service_id: int, field: str = "to_service_id") -> Service:
    """The service a referral of this kind may go to, or a 422 naming ``field``."""
    service = db.session.get(Service, service_id)
    if service is None or not service.active:
        raise Invalid.on(field, f"{field}: no such service.", "No such service.")
    if not may_receive(kind, service.kind):
        wanted = " or ".join(RECEIVING_SERVICE_KINDS[kind])
        raise Invalid.on(
            field,
            f"{field}: a {kind} referral can only go to a {wanted} service, not a {service.kind}.",
            f"A {kind} referral can only go to a {wanted} service.",
        )
    return service


def is_overdue(referral: Referral, now: datetime) -> bool:
    return referral.status == "submitted" and now > referral.response_due_at


def out_of_area(fleeing_from: str | None, placement_area: str | None) -> bool | None:
    """Placed outside the district she fled from; None while either is unknown."""
    if not fleeing_from or not placement_area:
        return None
    return fleeing_from != placement_area


def not_supported_shown(referral) -> dict | None:
    """Why the household was not supported here, coded from the return's list (or None)."""
    if referral.not_supported_reason is None:
        return None
    return {
        "reason": referral.not_supported_reason,
        "need": referral.not_supported_need,
        "text": referral.not_supported_text,
    }
