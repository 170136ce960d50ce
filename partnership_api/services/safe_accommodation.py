"""The safe-accommodation duty on a referral's lifecycle: where she is fleeing from, the
household a referral belongs to, why a household was not supported, the admission (a stay
begins, with its placement authority) and the end of the stay.

``referrals`` calls these inside its own transactions: ``on_create`` as a referral is made,
``transition_values`` for the columns its conditional UPDATE writes, and ``after_transition``
once the status has changed (a stay begins on an accepted refuge referral and ends when the
referral is closed).
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa

from partnership_api.database import db
from partnership_api.domain_errors import Invalid
from partnership_api.models.partnership import Service
from partnership_api.models.referrals import Referral
from partnership_api.models.safe_accommodation import Stay
from partnership_api.policy import Actor
from partnership_api.services.referral_reads import visible

# Every reason code a client may send, mapped onto the return's list: (reason, need, text).
# The legacy codes of the first API stay accepted; none is left as free text only.
REASONS: dict[str, tuple[str, str | None, str | None]] = {
    "no_capacity": ("no_capacity", None, None),
    "needs_not_met_disability": ("needs_not_met", "disability", None),
    "needs_not_met_nrpf": ("needs_not_met", "nrpf", None),
    "needs_not_met_older_sons": ("needs_not_met", "older_sons", None),
    "needs_not_met_larger_family": ("needs_not_met", "larger_family", None),
    "needs_not_met_substance_use": ("needs_not_met", "substance_use", None),
    "needs_not_met_mental_health": ("needs_not_met", "mental_health", None),
    "declined_offer": ("declined_offer", None, None),
    "risk_too_high": ("risk_too_high", None, None),
    "other": ("other", None, "not given"),
    # Legacy codes (before the return's list): the same mapping as migration 0009.
    "not_eligible": ("other", None, "not eligible"),
    "outside_area": ("other", None, "outside the service's area"),
    "declined_by_person": ("declined_offer", None, None),
    "unable_to_contact": ("other", None, "unable to contact"),
}
# A referral withdrawn without a reason lapsed for a reason nobody gave.
WITHDRAWN_WITHOUT_REASON = ("other", None, "withdrawn by the referrer")
STAY_ENDED_WITHOUT_REASON = ("other", "closed without a reason given", "unknown")


def reason_of(code: str, text: str | None = None) -> tuple[str, str | None, str | None]:
    """The return's (reason, need, text) for a reason code and the text given with ``other``."""
    reason, need, default_text = REASONS[code]
    if reason == "other":
        return reason, need, (text or default_text)
    return reason, need, None


def on_create(actor: Actor, referral: Referral, body: dict, follows: Referral | None) -> None:
    """Where she is fleeing from (the subject's area unless told) and the household: a new one,
    or the household of the referral this one follows (a second try for the same family)."""
    referral.fleeing_from = body.get("fleeing_from") or referral.subject_area
    referral.household_id = follows.household_id if follows is not None else referral.id


def followed(actor: Actor, referral_id: uuid.UUID) -> Referral:
    """The earlier referral a new one follows: one the caller's organisation may read and that
    ended without support (declined, withdrawn or redirected)."""
    earlier = visible(actor, referral_id, "referral.read")
    if earlier.status not in ("declined", "withdrawn", "redirected"):
        raise Invalid.on(
            "follows_referral_id",
            "follows_referral_id: only a referral that was declined, withdrawn or redirected "
            "can be followed by a new one for the same household.",
            "Must be a declined, withdrawn or redirected referral.",
        )
    return earlier


def transition_values(referral: Referral, action: str, data: dict) -> dict:
    """The return's columns a transition writes with its status, once its fields are checked
    against what the referral is: a placement or a stay's end only for a refuge (422, before
    anything is written)."""
    refuge = db.session.scalar(sa.select(Service.kind).where(Service.id == referral.to_service_id))
    if action == "accept" and data.get("placement_area") and refuge != "refuge":
        raise Invalid.on(
            "placement_area",
            "placement_area: only a referral to a refuge is placed somewhere.",
            "Only when a refuge accepts.",
        )
    ending = [f for f in ("end_reason", "end_reason_text", "destination") if data.get(f)]
    if action == "close" and ending and db.session.get(Stay, referral.id) is None:
        raise Invalid.on(
            ending[0],
            f"{ending[0]}: only the close of a stay in a refuge takes it.",
            "Only when a refuge closes a stay.",
        )
    code = data.get("reason_code")
    if action in ("decline", "redirect") and code:
        reason = reason_of(code, data.get("reason_text"))
    elif action == "withdraw":
        reason = reason_of(code, data.get("reason_text")) if code else WITHDRAWN_WITHOUT_REASON
    else:
        return {}
    return dict(
        not_supported_reason=reason[0], not_supported_need=reason[1], not_supported_text=reason[2]
    )


def after_transition(referral: Referral, action: str, data: dict, now: datetime) -> None:
    """An accepted refuge referral is an admission (a stay begins); closing it ends the stay."""
    if action == "accept":
        service = db.session.get(Service, referral.to_service_id)
        if service is None or service.kind != "refuge":
            return
        areas = service.areas
        placement = data.get("placement_area") or (areas[0] if len(areas) == 1 else None)
        referral.placement_area = placement
        children = int((referral.household or {}).get("children") or 0)
        db.session.add(
            Stay(
                referral_id=referral.id,
                household_id=referral.household_id or referral.id,
                refuge_id=service.id,
                organisation_id=service.organisation_id,
                fleeing_from=referral.fleeing_from,
                placement_area=placement,
                admitted_at=now,
                adults=[],
                children=children,
                characteristics_consent=False,
                characteristics=[],
                updated_at=now,
            )
        )
    elif action == "close":
        stay = db.session.get(Stay, referral.id)
        if stay is None or stay.ended_at is not None:
            return
        default_reason, default_text, default_destination = STAY_ENDED_WITHOUT_REASON
        reason = data.get("end_reason") or default_reason
        stay.ended_at = now
        stay.end_reason = reason
        stay.end_reason_text = (
            (data.get("end_reason_text") or default_text) if reason == "other" else None
        )
        stay.destination = data.get("destination") or default_destination
        stay.updated_at = now


def length_of_stay_days(stay: Stay, now: datetime) -> int:
    """Whole days from admission to the end of the stay (or to now, while it goes on)."""
    return max(((stay.ended_at or now) - stay.admitted_at).days, 0)
