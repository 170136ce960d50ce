"""The holds on a refuge's beds, as its own staff see them: who placed each (their
organisation), for which referral reference, until when; and releasing one with a reason, on
the referral's timeline and in the audit trail. The referral's sender cannot then simply hold
the space again (``policy``'s ``bed_hold.place``)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from partnership_api import audit, policy
from partnership_api.database import db
from partnership_api.domain_errors import NotFound
from partnership_api.models.base import utcnow
from partnership_api.models.beds import BedHold, live_hold
from partnership_api.models.partnership import Organisation, Service, User
from partnership_api.models.referrals import Referral, ReferralEvent
from partnership_api.policy import Actor
from partnership_api.services.holds import audit_hold, emit_hold
from partnership_api.services.search_cache import mark_changed


def _refuge_of(actor: Actor, refuge_id: int) -> Service:
    refuge = db.session.get(Service, refuge_id)
    if refuge is None or refuge.kind != "refuge":
        raise NotFound()
    policy.authorize(actor, "refuge.holds", refuge)
    return refuge


def _hold_rows(refuge_id: int, now, hold_id: uuid.UUID | None = None) -> list[dict]:
    placed_by = aliased(Organisation)
    stmt = (
        sa.select(
            BedHold,
            Referral.reference,
            Referral.from_organisation_id,
            Referral.household,
            User.organisation_id.label("placed_by_organisation_id"),
            placed_by.name.label("placed_by_organisation"),
        )
        .join(Referral, Referral.id == BedHold.referral_id)
        .outerjoin(User, User.id == BedHold.created_by_user_id)
        .outerjoin(placed_by, placed_by.id == User.organisation_id)
        .where(BedHold.service_id == refuge_id)
    )
    if hold_id is None:
        stmt = stmt.where(live_hold(now)).order_by(BedHold.expires_at, BedHold.id)
    else:
        stmt = stmt.where(BedHold.id == hold_id)
    return [
        {
            "id": hold.id,
            "referral_id": hold.referral_id,
            "referral_reference": reference,
            "referral_from_organisation_id": from_org,
            "placed_by_organisation_id": placed_org_id,
            "placed_by_organisation": placed_org,
            "refuge_id": hold.service_id,
            "space_type": hold.space_type,
            "state": hold.state,
            "created_at": hold.created_at,
            "expires_at": hold.expires_at,
            "ended_at": hold.ended_at,
            "end_reason": hold.end_reason,
            # The refuge receives the referral and may read it: how many children come, and
            # the sons' ages (what decides a space), never a name.
            "household": household_summary(household),
        }
        for hold, reference, from_org, household, placed_org_id, placed_org in db.session.execute(
            stmt
        )
    ]


def household_summary(household: dict | None) -> dict:
    household = household or {}
    detail = household.get("children_detail") or []
    return {
        "children": household.get("children", 0),
        "son_ages": sorted(c["age"] for c in detail if c.get("sex") == "male"),
    }


def refuge_holds(actor: Actor, refuge_id: int) -> list[dict]:
    """Every live hold on a refuge's beds, soonest to end first: who placed it (their
    organisation), for which referral, until when. The refuge's own staff only."""
    _refuge_of(actor, refuge_id)
    shown = _hold_rows(refuge_id, utcnow())
    audit.record(
        "bed_hold.list",
        "refuge",
        refuge_id,
        subject_organisation_id=actor.org_id,
        details={"shown": len(shown)},
    )
    db.session.commit()
    return shown


def release_by_refuge(actor: Actor, refuge_id: int, hold_id: uuid.UUID, data: dict) -> dict:
    """The refuge's staff release a hold on its beds, with a reason: on the referral's timeline
    (the reason and any note) and in the audit trail (the reason). Its space is available
    again at once, and the referral's sender cannot simply hold it again (``bed_hold.place``)."""
    refuge = _refuge_of(actor, refuge_id)
    now = utcnow()
    hold = db.session.scalar(
        sa.select(BedHold)
        .where(BedHold.id == hold_id, BedHold.service_id == refuge.id, live_hold(now))
        .with_for_update()
    )
    if hold is None:
        raise NotFound("No such live hold on this refuge's beds.")
    referral = db.session.get(Referral, hold.referral_id)
    hold.state, hold.ended_at, hold.end_reason = "released", now, "released_by_refuge"
    referral.updated_at = now
    db.session.add(
        ReferralEvent(
            referral_id=referral.id,
            at=now,
            kind="hold_released",
            user_id=actor.user_id,
            organisation_id=actor.org_id,
            reason_code=data["reason_code"],
            note=data.get("note"),
            details={
                "hold_id": str(hold.id),
                "refuge_id": hold.service_id,
                "space_type": hold.space_type,
                "expires_at": hold.expires_at.isoformat(),
                "reason": "released_by_refuge",
            },
        )
    )
    mark_changed()
    db.session.flush()
    audit_hold(
        actor,
        "bed_hold.release",
        referral,
        hold,
        refuge.organisation_id,
        reason="released_by_refuge",
        reason_code=data["reason_code"],
    )
    emit_hold("hold.released", referral, hold)
    db.session.commit()
    return _hold_rows(refuge.id, now, hold.id)[0]
