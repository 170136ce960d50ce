"""Holds: one bed space kept for a victim's referral while the refuge decides.

Holds serve real placements (the policy's ``bed_hold.place``): a space is held only at the
refuge the referral is addressed (or redirected) to, by the referral's sender or that refuge's
own staff; an organisation never refers to its own services, so it cannot hold its
neighbours' beds for made-up people. A referral holds at most one space at a time; a user, an
organisation, and an organisation at one refuge hold at most so many at once, and an
organisation whose hold a refuge released waits before holding there again
(``services.hold_caps``); a released hold is not placed again within its lifetime except by
the refuge. The refuge sees every hold
on its beds and its staff can release one with a reason (``services.refuge_holds``), on the
referral's timeline and in the audit trail.

A hold locks its referral's row and then the ``bed_spaces`` row of its type (``FOR UPDATE`` on
PostgreSQL; SQLite serialises writers already) before it counts the live holds and adds its
own, so two officers cannot take the last space at once. The referral service calls
``on_referral_transition`` inside a transition's transaction. A hold is live by one condition,
``models.beds.live_hold``; referrals show theirs through ``referral_reads``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import sqlalchemy as sa

from partnership_api import audit, context, events, policy
from partnership_api.database import db
from partnership_api.domain_errors import Conflict, Invalid, NotFound
from partnership_api.models.base import utcnow
from partnership_api.models.beds import (
    BedHold,
    BedSpace,
    RefugeAvailability,
    live_hold,
)
from partnership_api.models.partnership import Service
from partnership_api.models.referrals import (
    FINISHED_STATUSES,
    OPEN_STATUSES,
    Referral,
    ReferralEvent,
)
from partnership_api.policy import Actor
from partnership_api.services import hold_caps
from partnership_api.services.availability import held_by_type
from partnership_api.services.search_cache import mark_changed

# The steps that finish a referral (declined, withdrawn, redirected, closed) release its hold.
RELEASING_ACTIONS = {
    action: step.leads_to
    for action, step in policy.TRANSITIONS.items()
    if step.leads_to in FINISHED_STATUSES
}


# --- holds ------------------------------------------------------------------------------------


def live_holds(referral_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, BedHold]:
    """The live (active, unexpired) hold of each of these referrals, in one query."""
    ids = list(referral_ids)
    if not ids:
        return {}
    rows = db.session.scalars(
        sa.select(BedHold).where(BedHold.referral_id.in_(ids), live_hold(utcnow()))
    )
    return {hold.referral_id: hold for hold in rows}


def _referral_for_hold(actor: Actor, referral_id: uuid.UUID) -> Referral:
    """The referral, locked for this transaction; 404 unless the caller may see it."""
    policy.require(actor, "bed.hold")
    referral = db.session.scalar(
        sa.select(Referral)
        .where(Referral.id == referral_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if referral is None:
        raise NotFound()
    policy.authorize(actor, "referral.hold", referral)
    return referral


def _hold_event(actor: Actor, referral: Referral, hold: BedHold, kind: str, **extra) -> None:
    db.session.add(
        ReferralEvent(
            referral_id=referral.id,
            kind=kind,
            user_id=actor.user_id,
            organisation_id=actor.org_id,
            details={
                "hold_id": str(hold.id),
                "refuge_id": hold.service_id,
                "space_type": hold.space_type,
                "expires_at": hold.expires_at.isoformat(),
                **extra,
            },
        )
    )


def audit_hold(
    actor: Actor, action: str, referral: Referral, hold: BedHold, refuge_org_id: int, **extra
) -> None:
    audit.record(
        action,
        "bed_hold",
        hold.id,
        actor=actor,
        subject_organisation_id=referral.from_organisation_id,
        related_organisation_id=refuge_org_id,
        details={
            "referral_id": str(referral.id),
            "refuge_id": hold.service_id,
            "space_type": hold.space_type,
            **extra,
        },
    )


def place_hold(actor: Actor, referral_id: uuid.UUID, data: dict) -> BedHold:
    """Hold one space of a type at a refuge for a referral, for ``HOLD_TTL``."""
    referral = _referral_for_hold(actor, referral_id)
    hold = hold_space(actor, referral, data["refuge_id"], data["space_type"])
    db.session.commit()
    return hold


def hold_space(actor: Actor, referral: Referral, refuge_id: int, space_type: str) -> BedHold:
    """Hold a space for ``referral`` (locked by the caller, who commits): the rules above,
    then the count of live holds under the ``bed_spaces`` row's lock."""
    policy.require(actor, "bed.hold")
    _check_holdable(referral, refuge_id)
    refuge = _open_refuge(refuge_id)
    now = utcnow()
    policy.authorize(
        actor,
        "bed_hold.place",
        policy.HoldAttempt(
            referral=referral,
            refuge_id=refuge.id,
            refuge_organisation_id=refuge.organisation_id,
            earlier_hold_lasts_until=_earlier_hold_lasts_until(referral.id, refuge.id, now),
        ),
    )
    _check_no_live_hold(referral)
    _tidy_expired(referral, now)
    _check_space_free(refuge, space_type, now)
    reached = hold_caps.check(actor, refuge, now)
    hold = _new_hold(actor, referral, refuge, space_type, now)
    hold_caps.alert_reached(actor, refuge, reached)
    return hold


def _check_holdable(referral: Referral, refuge_id: int) -> None:
    """A victim's open referral, not already accepted by this refuge (409 otherwise)."""
    if referral.kind != "victim":
        raise Conflict("Bed spaces are held only for a victim's referral.")
    if referral.status not in OPEN_STATUSES:
        raise Conflict(
            f"This referral is {referral.status}; a bed space can be held only while "
            "it is submitted or accepted."
        )
    if referral.status == "accepted" and referral.to_service_id == refuge_id:
        raise Conflict(
            "This refuge has already accepted the referral: record the admission in "
            "its availability rather than holding a space."
        )


def _open_refuge(refuge_id: int) -> Service:
    refuge = db.session.get(Service, refuge_id)
    if refuge is None or refuge.kind != "refuge" or not refuge.active:
        raise Invalid.on("refuge_id", "No such refuge.", "Not an open refuge service.")
    return refuge


def _check_no_live_hold(referral: Referral) -> None:
    current = live_holds([referral.id]).get(referral.id)
    if current is not None:
        raise Conflict(
            f"This referral already holds a {current.space_type} space until "
            f"{current.expires_at.isoformat()}; release it first."
        )


def _tidy_expired(referral: Referral, now) -> None:
    """An expired hold of this referral is tidied away (its ``hold.lapsed`` event written, as
    the worker's sweep would) so that the one-active-hold index allows the new one."""
    expired = db.session.scalars(
        sa.select(BedHold)
        .where(
            BedHold.referral_id == referral.id,
            BedHold.state == "active",
            BedHold.expires_at <= now,
        )
        .with_for_update()
    ).all()
    for old in expired:
        old.state, old.ended_at, old.end_reason = "lapsed", old.expires_at, "expired"
        emit_hold("hold.lapsed", referral, old, key=f"hold.lapsed:{old.id}")


def _check_space_free(refuge: Service, space_type: str, now) -> None:
    """A space of this type vacant and not held, counted under its ``bed_spaces`` row's lock
    (two officers cannot take the last space at once)."""
    space = db.session.scalar(
        sa.select(BedSpace)
        .where(BedSpace.service_id == refuge.id, BedSpace.space_type == space_type)
        .with_for_update()
    )
    if space is None:
        raise Conflict(f"{refuge.name} has no {space_type} spaces.")
    counted = db.session.execute(
        held_by_type(
            sa.and_(BedHold.service_id == refuge.id, BedHold.space_type == space_type), now
        )
    ).first()
    held = counted.held if counted else 0
    if space.vacant - held <= 0:
        raise Conflict(
            f"No {space_type} space is available at {refuge.name} now "
            f"({space.vacant} vacant, {held} held)."
        )


def _new_hold(actor: Actor, referral: Referral, refuge: Service, space_type: str, now) -> BedHold:
    """The hold, on the referral's timeline, in the audit trail and the events."""
    hold = BedHold(
        id=uuid.uuid4(),
        referral_id=referral.id,
        service_id=refuge.id,
        space_type=space_type,
        state="active",
        created_at=now,
        expires_at=now + context.setting("HOLD_TTL"),
        created_by_user_id=actor.user_id,
    )
    db.session.add(hold)
    referral.updated_at = now
    _hold_event(actor, referral, hold, "hold_placed")
    mark_changed()
    db.session.flush()
    audit_hold(
        actor,
        "bed_hold.place",
        referral,
        hold,
        refuge.organisation_id,
        expires_at=hold.expires_at.isoformat(),
    )
    emit_hold("hold.placed", referral, hold)
    return hold


def _earlier_hold_lasts_until(referral_id: uuid.UUID, refuge_id: int, now):
    """Until when a released hold of this referral at this refuge would have lasted, if that
    is still to come (releasing and holding again must not renew a hold)."""
    return db.session.scalar(
        sa.select(sa.func.max(BedHold.expires_at)).where(
            BedHold.referral_id == referral_id,
            BedHold.service_id == refuge_id,
            BedHold.state == "released",
            BedHold.expires_at > now,
        )
    )


def release_hold(actor: Actor, referral_id: uuid.UUID) -> None:
    """Release the referral's live hold; its space is available again at once."""
    referral = _referral_for_hold(actor, referral_id)
    hold = live_holds([referral.id]).get(referral.id)
    if hold is None:
        raise NotFound("This referral holds no bed space.")
    now = utcnow()
    # Released early, it still counts as held until then for renewal (``bed_hold.place``).
    hold.state, hold.ended_at, hold.end_reason = "released", now, "released"
    referral.updated_at = now
    _hold_event(actor, referral, hold, "hold_released", reason="released")
    mark_changed()
    db.session.flush()
    refuge_org_id = db.session.scalar(
        sa.select(Service.organisation_id).where(Service.id == hold.service_id)
    )
    audit_hold(actor, "bed_hold.release", referral, hold, refuge_org_id, reason="released")
    emit_hold("hold.released", referral, hold)
    db.session.commit()


def on_referral_transition(actor: Actor, referral: Referral, action: str) -> None:
    """Release the hold when a referral is declined, withdrawn, redirected or closed; admit on
    accept by the refuge it is held at (vacant goes down by one).

    Runs in the transition's transaction (the caller commits), so the hold and the status
    change together. Accepted by another refuge, the hold is released; accepted by a service
    that is not a refuge (victim support), the hold stays.
    """
    hold = live_holds([referral.id]).get(referral.id)
    if hold is None:
        return
    now = utcnow()
    refuge_org_id = db.session.scalar(
        sa.select(Service.organisation_id).where(Service.id == hold.service_id)
    )
    if action == "accept" and hold.service_id == referral.to_service_id:
        # The held space becomes an admission: one fewer vacant space, in the same transaction.
        admitted = db.session.execute(
            sa.update(BedSpace)
            .where(
                BedSpace.service_id == hold.service_id,
                BedSpace.space_type == hold.space_type,
                BedSpace.vacant > 0,
            )
            .values(vacant=BedSpace.vacant - 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        # The refuge's figures changed: a PUT made with the ETag read before the admission
        # must get 412, not silently put the admitted family's room back on offer.
        db.session.execute(
            sa.update(RefugeAvailability)
            .where(RefugeAvailability.service_id == hold.service_id)
            .values(version=RefugeAvailability.version + 1)
            .execution_options(synchronize_session=False)
        )
        hold.state, hold.ended_at, hold.end_reason = "admitted", now, "accepted"
        kind = "hold_admitted" if admitted else "hold_admitted_without_vacancy"
        action_name, reason = "bed_hold.admit", "accepted"
    elif action in RELEASING_ACTIONS or action == "accept":
        receiving_kind = db.session.scalar(
            sa.select(Service.kind).where(Service.id == referral.to_service_id)
        )
        if action == "accept" and receiving_kind != "refuge":
            return
        reason = RELEASING_ACTIONS.get(action, "accepted_elsewhere")
        hold.state, hold.ended_at, hold.end_reason = "released", now, reason
        kind, action_name = "hold_released", "bed_hold.release"
    else:
        return
    _hold_event(actor, referral, hold, kind, reason=reason)
    mark_changed()
    db.session.flush()
    audit_hold(actor, action_name, referral, hold, refuge_org_id, reason=reason)
    emit_hold("hold.admitted" if hold.state == "admitted" else "hold.released", referral, hold)


def emit_hold(event_type: str, referral: Referral, hold: BedHold, key: str | None = None) -> None:
    """A hold's event, in the transaction of its change: heard by the referral's parties."""
    events.emit_for_referral(
        event_type,
        referral,
        hold_id=hold.id,
        refuge_id=hold.service_id,
        space_type=hold.space_type,
        key=key,
    )
