"""A resident's stay in a refuge, read and recorded only by the refuge's own organisation:
who stayed (adults by sex and trans status, children), the "specialist characteristics" the
resident agreed to have recorded, the placement authority, and how the stay ended.

A stay begins when the refuge accepts the referral and ends when it closes it
(``safe_accommodation.after_transition``). Every read is audited as a read of personal data.
"""

from __future__ import annotations

import uuid

from partnership_api import audit, events, policy
from partnership_api.database import db
from partnership_api.domain_errors import Invalid, NotFound
from partnership_api.models.base import utcnow
from partnership_api.models.referrals import Referral
from partnership_api.models.safe_accommodation import Stay
from partnership_api.policy import Actor
from partnership_api.services.referral_rules import out_of_area
from partnership_api.services.safe_accommodation import length_of_stay_days

NOT_KNOWN_ADULT = {"sex": "not_known", "trans": "not_known"}


def shown(stay: Stay) -> dict:
    return {
        "referral_id": stay.referral_id,
        "household_id": stay.household_id,
        "refuge_id": stay.refuge_id,
        "fleeing_from": stay.fleeing_from,
        "placement_area": stay.placement_area,
        "out_of_area": out_of_area(stay.fleeing_from, stay.placement_area),
        "admitted_at": stay.admitted_at,
        "ended_at": stay.ended_at,
        "end_reason": stay.end_reason,
        "end_reason_text": stay.end_reason_text,
        "destination": stay.destination,
        "length_of_stay_days": length_of_stay_days(stay, utcnow()),
        "adults": stay.adults,
        "children": stay.children,
        "characteristics_consent": stay.characteristics_consent,
        "characteristics": stay.characteristics,
    }


def _stay(actor: Actor, referral_id: uuid.UUID, action: str) -> Stay:
    """The stay, or 404 unless it is at one of the actor's organisation's refuges."""
    policy.require(actor, action)
    stay = db.session.get(Stay, referral_id)
    if stay is None:
        raise NotFound()
    policy.authorize(actor, action, stay)
    return stay


def read(actor: Actor, referral_id: uuid.UUID) -> dict:
    """The stay of an admitted referral, for the refuge's own staff."""
    stay = _stay(actor, referral_id, "stay.read")
    answer = shown(stay)
    audit.record(
        "stay.read", "stay", stay.referral_id, subject_organisation_id=stay.organisation_id
    )
    db.session.commit()
    return answer


def change(actor: Actor, referral_id: uuid.UUID, data: dict) -> dict:
    """Record who stayed, the characteristics given with consent, and the placement authority.

    Characteristics are kept only with the resident's consent: without it they are refused
    (422), and withdrawing consent erases those recorded.
    """
    stay = _stay(actor, referral_id, "stay.change")
    consent = data.get("characteristics_consent", stay.characteristics_consent)
    characteristics = data.get("characteristics", stay.characteristics if consent else [])
    if characteristics and not consent:
        raise Invalid.on(
            "characteristics",
            "characteristics: recorded only with the resident's consent "
            "(characteristics_consent: true).",
            "Only with characteristics_consent: true.",
        )
    if "adults" in data:
        stay.adults = [dict(adult) for adult in data["adults"]]
    if "children" in data:
        stay.children = data["children"]
    if "placement_area" in data:
        stay.placement_area = data["placement_area"]
        referral = db.session.get(Referral, stay.referral_id)
        referral.placement_area = data["placement_area"]
    stay.characteristics_consent = bool(consent)
    stay.characteristics = sorted(set(characteristics))
    stay.updated_at = utcnow()
    db.session.flush()
    audit.record(
        "stay.change",
        "stay",
        stay.referral_id,
        subject_organisation_id=stay.organisation_id,
        details={"fields": sorted(data)},
    )
    events.emit(
        "stay.changed",
        [stay.organisation_id],
        referral_id=stay.referral_id,
        refuge_id=stay.refuge_id,
    )
    answer = shown(stay)
    db.session.commit()
    return answer
