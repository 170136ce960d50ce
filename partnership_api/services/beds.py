"""Bed spaces and holds: what the referral lifecycle needs from them.

The referral service calls ``on_referral_transition`` inside a transition's transaction, and
``live_holds`` to show each referral's hold.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import sqlalchemy as sa

from partnership_api.extensions import db
from partnership_api.models.base import utcnow
from partnership_api.models.beds import BedHold, BedSpace
from partnership_api.models.referrals import Referral, ReferralEvent
from partnership_api.policy import Actor

RELEASING_ACTIONS = {"decline": "declined", "withdraw": "withdrawn", "redirect": "redirected"}


def live_holds(referral_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, BedHold]:
    """The live (active, unexpired) hold of each of these referrals, in one query."""
    ids = list(referral_ids)
    if not ids:
        return {}
    rows = db.session.scalars(
        sa.select(BedHold).where(
            BedHold.referral_id.in_(ids), BedHold.state == "active", BedHold.expires_at > utcnow()
        )
    )
    return {hold.referral_id: hold for hold in rows}


def on_referral_transition(actor: Actor, referral: Referral, action: str) -> None:
    """Release the hold when a referral is declined, withdrawn or redirected; admit on accept.

    Runs in the transition's transaction, so the hold and the status change together.
    """
    hold = live_holds([referral.id]).get(referral.id)
    if hold is None:
        return
    now = utcnow()
    if action in RELEASING_ACTIONS:
        hold.state, hold.ended_at, hold.end_reason = "released", now, RELEASING_ACTIONS[action]
        kind = "hold_released"
    elif action == "accept" and hold.service_id == referral.to_service_id:
        # The held space becomes an admission: one fewer vacant space, in the same transaction.
        admitted = db.session.execute(
            sa.update(BedSpace)
            .where(BedSpace.service_id == hold.service_id,
                   BedSpace.space_type == hold.space_type, BedSpace.vacant > 0)
            .values(vacant=BedSpace.vacant - 1)
        ).rowcount
        hold.state, hold.ended_at, hold.end_reason = "admitted", now, "accepted"
        kind = "hold_admitted" if admitted else "hold_admitted_without_vacancy"
    else:
        return
    db.session.add(ReferralEvent(
        referral_id=referral.id, kind=kind, user_id=actor.user_id, organisation_id=actor.org_id,
        details={"hold_id": str(hold.id), "refuge_id": hold.service_id,
                 "space_type": hold.space_type},
    ))
