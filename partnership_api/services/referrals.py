"""Referrals: making them (idempotently), notes on their timeline, and their lifecycle.

Reading them is ``referral_reads`` (one referral, its timeline) and ``referral_lists`` (the
inbox and outbox).

Every function here asks the policy first, writes the audit trail in the same transaction as
the change it records, and commits. Audit events about a referral name the sending
organisation as their subject and the receiving one as related, so both organisations' admins
see them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from partnership_api import audit, policy
from partnership_api.database import db
from partnership_api.domain_errors import Conflict, Invalid
from partnership_api.events import outbox
from partnership_api.models.base import utcnow
from partnership_api.models.partnership import Service
from partnership_api.models.referrals import (
    Referral,
    ReferralEvent,
)
from partnership_api.policy import Actor
from partnership_api.services import holds, referral_reads, safe_accommodation
from partnership_api.services import referral_idempotency as idempotency
from partnership_api.services.referral_reads import event_shown, parties, visible
from partnership_api.services.referral_rules import next_reference, receiving_service, response_due

# --- making a referral ------------------------------------------------------------------------


def _new_referral(
    actor: Actor,
    body: dict,
    service: Service,
    now: datetime,
    *,
    from_organisation_id: int,
    from_user_id: uuid.UUID | None,
    redirected_from: Referral | None = None,
    reason_code: str | None = None,
    note: str | None = None,
    follows: Referral | None = None,
) -> Referral:
    """A new submitted referral and its ``created`` event. A redirect's new referral carries,
    on that event, who redirected it from which service, and their reason and note: they were
    written for the next service."""
    safe_contact = body["safe_contact"]
    referral = Referral(
        id=uuid.uuid4(),
        reference=next_reference(now.year),
        kind=body["kind"],
        status="submitted",
        version=1,
        from_organisation_id=from_organisation_id,
        from_user_id=from_user_id,
        to_service_id=service.id,
        to_organisation_id=service.organisation_id,
        risk_level=body["risk_level"],
        dash_score=body.get("dash_score"),
        marac=body.get("marac", False),
        subject_area=body["subject"].get("area"),
        do_not_contact=bool(safe_contact.get("do_not_contact")),
        subject=body["subject"],
        safe_contact=safe_contact,
        household=body["household"],
        needs=body["needs"],
        consent=body["consent"],
        summary=body["summary"],
        redirected_from_id=redirected_from.id if redirected_from else None,
        created_at=now,
        updated_at=now,
        status_changed_at=now,
        response_due_at=response_due(now, body["risk_level"]),
    )
    safe_accommodation.on_create(actor, referral, body, follows or redirected_from)
    db.session.add(referral)
    # No relationships link these models, so the unit of work would not know to insert the
    # referral before the rows that point at it: it goes in first, on its own.
    db.session.flush()
    details = None
    if redirected_from is not None:
        details = {
            "redirected_from": str(redirected_from.id),
            "redirected_by_organisation_id": actor.org_id,
            "redirected_from_service_id": redirected_from.to_service_id,
        }
    db.session.add(
        ReferralEvent(
            referral_id=referral.id,
            at=now,
            kind="created",
            user_id=actor.user_id,
            organisation_id=actor.org_id,
            to_status="submitted",
            reason_code=reason_code,
            note=note,
            details=details,
        )
    )
    return referral


def create(actor: Actor, data: dict, idempotency_key: str | None) -> tuple[dict, bool]:
    """Make a referral; with an ``Idempotency-Key``, a retry returns the original instead.

    With ``hold`` (a refuge referral only), a space of that type is held at the same refuge
    in the same transaction: both are made, or neither (409 when the space has gone).

    Returns the referral as shown and whether it was made now (False: a replay). The key's
    row and the referral are committed together; when two requests with one key race, the
    key's primary key lets exactly one commit and the other returns the winner's referral.
    """
    policy.require(actor, "referral.create")
    body = idempotency.stored(data)
    fingerprint = idempotency.fingerprint(body)
    if idempotency_key is not None:
        replayed = idempotency.replay(actor, idempotency_key, fingerprint)
        if replayed is not None:
            return replayed, False
    service = receiving_service(body["kind"], body["to_service_id"])
    policy.authorize(actor, "referral.create", service)
    wanted_hold = body.get("hold")
    if wanted_hold is not None and service.kind != "refuge":
        raise Invalid.on(
            "hold",
            "hold: a space can be held only when the referral goes to a refuge.",
            "Only with a refuge as to_service_id.",
        )
    follows = None
    if body.get("follows_referral_id"):
        follows = safe_accommodation.followed(actor, uuid.UUID(body["follows_referral_id"]))
    now = utcnow()
    referral = _new_referral(
        actor,
        body,
        service,
        now,
        from_organisation_id=actor.org_id,
        from_user_id=actor.user_id,
        follows=follows,
    )
    if idempotency_key is not None:
        idempotency.remember(actor, idempotency_key, fingerprint, referral.id, now)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        if idempotency_key is not None:
            replayed = idempotency.replay(actor, idempotency_key, fingerprint)
            if replayed is not None:
                return replayed, False
        raise
    audit.record(
        "referral.create",
        "referral",
        referral.id,
        details={"reference": referral.reference, "to_service_id": service.id},
        **parties(referral),
    )
    outbox.emit_for_referral("referral.created", referral, to_service_id=service.id)
    if wanted_hold is not None:
        # Both or neither: a 409 here (the space has gone) rolls the referral back too.
        holds.hold_space(actor, referral, service.id, wanted_hold["space_type"])
    answer = referral_reads.shown(referral.id)
    db.session.commit()
    return answer, True


# --- the timeline and the lifecycle -----------------------------------------------------------


def add_note(actor: Actor, referral_id: uuid.UUID, text: str) -> dict:
    """Add a note to the timeline of a referral the caller's organisation sent or received."""
    policy.require(actor, "referral.act")
    referral = visible(actor, referral_id, "referral.note")
    now = utcnow()
    event = ReferralEvent(
        referral_id=referral.id,
        at=now,
        kind="note",
        user_id=actor.user_id,
        organisation_id=actor.org_id,
        note=text,
    )
    db.session.add(event)
    db.session.execute(
        sa.update(Referral)
        .where(Referral.id == referral.id)
        .values(updated_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    audit.record("referral.note", "referral", referral.id, **parties(referral))
    outbox.emit_for_referral("referral.note_added", referral)
    db.session.commit()
    return event_shown(event, actor.username)


def _conflict(action: str, status: str) -> None:
    needed = policy.TRANSITIONS[action].needs
    raise Conflict(
        f"The referral is {status}: only a {needed} referral can be "
        f"{'closed' if action == 'close' else action + 'ed'}."
    )


def transition(actor: Actor, referral_id: uuid.UUID, data: dict) -> dict:
    """Accept, decline, redirect, withdraw or close a referral; exactly one of two racers wins.

    The step is the policy's (``policy.TRANSITIONS``: the status it needs and leads to); what
    each action adds is its handler's (``STEPS``). The status changes with a conditional
    UPDATE (``WHERE status = <the status it needs>``): whoever commits first wins, and the
    other finds no row to change and gets a 409 naming the status the referral now has.
    """
    policy.require(actor, "referral.act")
    action = data["action"]
    referral = visible(actor, referral_id, f"referral.{action}")
    if referral.status != policy.TRANSITIONS[action].needs:
        _conflict(action, referral.status)
    handler = STEPS[action]
    target = handler.target(referral, data)
    now = utcnow()
    _change_status(referral, action, handler.values(data), data, now)
    safe_accommodation.after_transition(referral, action, data, now)
    onward = _pass_on(actor, referral, target, data, now) if target is not None else None
    _record_step(actor, referral, action, data, now, onward)
    answer = referral_reads.shown(referral.id)
    db.session.commit()
    return answer


class Onward(NamedTuple):
    """Where a redirect passed the referral on: the new referral and the service it went to."""

    referral: Referral
    service: Service

    def facts(self) -> dict:
        return {"redirected_to": str(self.referral.id), "to_service_id": self.service.id}


class Handler(NamedTuple):
    """What one action adds to the step: the service it names, the columns it writes."""

    target: Callable[[Referral, dict], Service | None] = lambda referral, data: None
    values: Callable[[dict], dict] = lambda data: {}


def _redirect_target(referral: Referral, data: dict) -> Service:
    """The service a redirect passes the referral on to: one that may receive it, not its own."""
    target = receiving_service(referral.kind, data["to_service_id"])
    if target.id == referral.to_service_id:
        raise Invalid.on(
            "to_service_id",
            "to_service_id: the referral is already addressed to that service.",
            "Already addressed to this service.",
        )
    return target


STEPS: dict[str, Handler] = {
    "accept": Handler(),
    "decline": Handler(values=lambda data: {"decline_reason": data["reason_code"]}),
    "redirect": Handler(target=_redirect_target),
    "withdraw": Handler(),
    "close": Handler(values=lambda data: {"outcome": data["outcome"]}),
}


def _change_status(referral: Referral, action: str, values: dict, data: dict, now) -> None:
    """The conditional UPDATE: only from the status the step needs, or a 409 naming the
    status the referral has now (another request took a step first)."""
    expected, new_status, _side = policy.TRANSITIONS[action]
    values |= {
        "status": new_status,
        "version": Referral.version + 1,
        "updated_at": now,
        "status_changed_at": now,
    }
    values.update(safe_accommodation.transition_values(referral, action, data))
    changed = db.session.execute(
        sa.update(Referral)
        .where(Referral.id == referral.id, Referral.status == expected)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        db.session.rollback()
        current = db.session.scalar(sa.select(Referral.status).where(Referral.id == referral.id))
        _conflict(action, current or "gone")
    db.session.refresh(referral)


def _pass_on(actor: Actor, referral: Referral, target: Service, data: dict, now) -> Onward:
    """A redirect's new referral to ``target``: the same details, the same sender."""
    onward = _new_referral(
        actor,
        _carried_over(referral),
        target,
        now,
        from_organisation_id=referral.from_organisation_id,
        from_user_id=referral.from_user_id,
        redirected_from=referral,
        reason_code=data.get("reason_code"),
        note=data.get("note"),
    )
    db.session.flush()
    referral.redirected_to_id = onward.id
    return Onward(onward, target)


def _record_step(
    actor: Actor, referral: Referral, action: str, data: dict, now, onward: Onward | None
) -> None:
    """The step on the timeline, its events (and the onward referral's), the hold it releases
    or admits, and the audit trail, in the step's transaction."""
    expected, new_status, _side = policy.TRANSITIONS[action]
    db.session.add(
        ReferralEvent(
            referral_id=referral.id,
            at=now,
            kind=new_status,
            user_id=actor.user_id,
            organisation_id=actor.org_id,
            from_status=expected,
            to_status=new_status,
            reason_code=data.get("reason_code"),
            note=data.get("note"),
            details=onward.facts() if onward else None,
        )
    )
    _announce(referral, new_status, onward)
    holds.on_referral_transition(actor, referral, action)
    db.session.flush()
    audit_details = {"from_status": expected, "to_status": new_status}
    if data.get("reason_code"):
        audit_details["reason_code"] = data["reason_code"]
    audit_details |= onward.facts() if onward else {}
    audit.record(
        f"referral.{action}", "referral", referral.id, details=audit_details, **parties(referral)
    )
    if onward is not None:
        _audit_onward(referral, onward)


def _announce(referral: Referral, new_status: str, onward: Onward | None) -> None:
    """The step's event for the referral's parties; a redirect's names the new referral, whose
    own ``referral.created`` follows."""
    if onward is None:
        outbox.emit_for_referral(f"referral.{new_status}", referral)
        return
    outbox.emit_for_referral(
        "referral.redirected",
        referral,
        redirected_to=onward.referral.id,
        to_service_id=onward.service.id,
    )
    outbox.emit_for_referral("referral.created", onward.referral, to_service_id=onward.service.id)


def _audit_onward(referral: Referral, onward: Onward) -> None:
    audit.record(
        "referral.create",
        "referral",
        onward.referral.id,
        details={
            "reference": onward.referral.reference,
            "to_service_id": onward.service.id,
            "redirected_from": str(referral.id),
        },
        **parties(onward.referral),
    )


def _carried_over(referral: Referral) -> dict:
    """The details a redirect carries to the new referral, unchanged."""
    return {
        "kind": referral.kind,
        "risk_level": referral.risk_level,
        "dash_score": referral.dash_score,
        "marac": referral.marac,
        "subject": referral.subject,
        "safe_contact": {**referral.safe_contact, "do_not_contact": referral.do_not_contact},
        "household": referral.household,
        "needs": referral.needs,
        "consent": referral.consent,
        "summary": referral.summary,
        "fleeing_from": referral.fleeing_from,
    }
