"""The rules of a referral itself: when a response is due, when it is overdue, its reference,
and which services a referral of each kind may go to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from partnership_api.domain_errors import Invalid
from partnership_api.extensions import db
from partnership_api.models.partnership import Service
from partnership_api.models.referrals import RECEIVING_SERVICE_KINDS, ReferenceCounter, Referral

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


def next_reference(year: int) -> str:
    """The next ``REF-YYYY-NNNNNN``: the year's counter row is locked by the UPDATE until commit."""
    take = (
        sa.update(ReferenceCounter)
        .where(ReferenceCounter.year == year)
        .values(last_number=ReferenceCounter.last_number + 1)
        .returning(ReferenceCounter.last_number)
        .execution_options(synchronize_session=False)
    )
    number = db.session.execute(take).scalar_one_or_none()
    if number is None:
        try:
            with db.session.begin_nested():
                db.session.add(ReferenceCounter(year=year, last_number=0))
        except IntegrityError:
            pass  # another request made the year's row first; take a number from it
        number = db.session.execute(take).scalar_one()
    return f"REF-{year}-{number:06d}"


def receiving_service(kind: str, service_id: int, field: str = "to_service_id") -> Service:
    """The service a referral of this kind may go to, or a 422 naming ``field``."""
    service = db.session.get(Service, service_id)
    if service is None or not service.active:
        raise Invalid.on(field, f"{field}: no such service.", "No such service.")
    allowed = RECEIVING_SERVICE_KINDS[kind]
    if service.kind not in allowed:
        wanted = " or ".join(allowed)
        raise Invalid.on(
            field,
            f"{field}: a {kind} referral can only go to a {wanted} service, not a {service.kind}.",
            f"A {kind} referral can only go to a {wanted} service.",
        )
    return service


def is_overdue(referral: Referral, now: datetime) -> bool:
    return referral.status == "submitted" and now > referral.response_due_at
