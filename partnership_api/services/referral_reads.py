"""Reading referrals: the one way a referral is shown (``shown``: one prebuilt statement with
its live hold, ``direct.statements.READ_ONE``), a single read (audited), and the timeline.

Audit events about a referral name the sending organisation as their subject and the receiving
one as related (``parties``), so both organisations' admins see them.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa

from partnership_api import audit, direct, policy
from partnership_api.database import db
from partnership_api.direct import statements as prebuilt
from partnership_api.domain_errors import Invalid, NotFound
from partnership_api.models.base import utcnow
from partnership_api.models.partnership import User
from partnership_api.models.referrals import (
    Referral,
    ReferralEvent,
)
from partnership_api.policy import Actor
from partnership_api.services.referral_rules import is_overdue, not_supported_shown, out_of_area


def parties(referral: Referral) -> dict:
    return {
        "subject_organisation_id": referral.from_organisation_id,
        "related_organisation_id": referral.to_organisation_id,
    }


def load(referral_id: uuid.UUID) -> Referral:
    referral = db.session.get(Referral, referral_id)
    if referral is None:
        raise NotFound()
    return referral


def visible(actor: Actor, referral_id: uuid.UUID, action: str = "referral.read") -> Referral:
    referral = load(referral_id)
    policy.authorize(actor, action, referral)
    return referral


# --- what callers see -------------------------------------------------------------------------


def hold_shown(hold_id, referral_id, refuge_id: int, space_type: str, expires_at) -> dict:
    return {
        "id": hold_id,
        "referral_id": referral_id,
        "refuge_id": refuge_id,
        "space_type": space_type,
        "expires_at": expires_at,
    }


# The hot reads (one referral, a page of the inbox) read each referral and its live hold in one
# prebuilt statement (``direct.statements.READ_ONE``, ``direct.referral_page``), as plain rows:
# the same fields ``present`` shows, without the ORM's bookkeeping.


def row_shown(row: sa.Row, now: datetime) -> dict:
    hold = None
    if row.hold_id is not None:
        hold = hold_shown(
            row.hold_id, row.id, row.hold_service_id, row.hold_space_type, row.hold_expires_at
        )
    return _shown(row, hold, now)


def _shown(referral: Referral | sa.Row, hold: dict | None, now: datetime) -> dict:
    return {
        "id": referral.id,
        "reference": referral.reference,
        # The column is the authority: it is set when the referral is made and never lowered.
        "do_not_contact": referral.do_not_contact,
        "kind": referral.kind,
        "status": referral.status,
        "from_organisation_id": referral.from_organisation_id,
        "to_organisation_id": referral.to_organisation_id,
        "to_service_id": referral.to_service_id,
        "risk_level": referral.risk_level,
        "dash_score": referral.dash_score,
        "marac": referral.marac,
        "subject": referral.subject,
        "safe_contact": {**referral.safe_contact, "do_not_contact": referral.do_not_contact},
        "household": referral.household,
        "needs": referral.needs,
        "consent": referral.consent,
        "summary": referral.summary,
        "decline_reason": referral.decline_reason,
        "not_supported": not_supported_shown(referral),
        "fleeing_from": referral.fleeing_from,
        "placement_area": referral.placement_area,
        "out_of_area": out_of_area(referral.fleeing_from, referral.placement_area),
        "household_id": referral.household_id,
        "outcome": referral.outcome,
        "created_at": referral.created_at,
        "updated_at": referral.updated_at,
        "response_due_at": referral.response_due_at,
        "overdue": is_overdue(referral, now),
        "redirected_to": referral.redirected_to_id,
        "redirected_from": referral.redirected_from_id,
        "hold": hold,
    }


# --- reading and listing ----------------------------------------------------------------------


def shown(referral_id: uuid.UUID) -> dict:
    """A referral as partners see it, with its live hold: the one reader every answer uses
    (a read, a page of the inbox, a referral just made, replayed or moved on). ``NotFound``
    when there is no such referral; the caller has asked the policy."""
    return row_shown(*_row(referral_id))


def _row(referral_id: uuid.UUID) -> tuple[sa.Row, datetime]:
    now = utcnow()
    found = direct.rows(prebuilt.READ_ONE, {"referral_id": referral_id, "now": now})
    if not found:
        raise NotFound()
    return found[0], now


def read(actor: Actor, referral_id: uuid.UUID) -> dict:
    """One referral; 404 when the caller's organisation neither sent nor received it."""
    policy.require(actor, "referral.read")
    referral, now = _row(referral_id)
    policy.authorize(actor, "referral.read", referral)
    answer = row_shown(referral, now)
    audit.record("referral.read", "referral", referral.id, **parties(referral))
    db.session.commit()
    return answer


def read_for_bed_search(actor: Actor, referral_id: uuid.UUID) -> dict:
    """What a bed search for this referral needs: its household, needs and subject's area
    (and, for a page that offers to hold a space for it, its reference, status and where it
    is addressed).

    Only for a victim's referral the caller's organisation sent or received (404 otherwise,
    403 for a role that never reads referrals); the read is audited like any other.
    """
    policy.require(actor, "referral.read")
    referral = visible(actor, referral_id)
    if referral.kind != "victim":
        raise Invalid.on(
            "for_referral",
            "for_referral: bed spaces are searched for a victim's referral, not a perpetrator's.",
            "A perpetrator's referral.",
            location="query",
        )
    found = {
        "household": referral.household,
        "needs": referral.needs,
        "subject_area": referral.subject_area,
        "id": referral.id,
        "reference": referral.reference,
        "status": referral.status,
        "to_service_id": referral.to_service_id,
        "to_organisation_id": referral.to_organisation_id,
    }
    audit.record(
        "referral.read",
        "referral",
        referral.id,
        details={"view": "bed_search"},
        **parties(referral),
    )
    db.session.commit()
    return found


def events(actor: Actor, referral_id: uuid.UUID) -> list[dict]:
    """The referral's timeline, oldest first (a read of the referral, audited as one)."""
    policy.require(actor, "referral.read")
    referral = visible(actor, referral_id)
    rows = db.session.execute(
        sa.select(ReferralEvent, User.username)
        .outerjoin(User, User.id == ReferralEvent.user_id)
        .where(ReferralEvent.referral_id == referral.id)
        .order_by(ReferralEvent.id)
    ).all()
    audit.record(
        "referral.read", "referral", referral.id, details={"view": "events"}, **parties(referral)
    )
    db.session.commit()
    return [event_shown(event, username, actor) for event, username in rows]


def event_shown(event: ReferralEvent, username: str | None, reader: Actor | None = None) -> dict:
    """One step of a timeline. Who took it (user id and username) is shown only within the
    organisation they acted for (``policy.sees_person``); others, a third party to an onward
    referral included, see the organisation (issue 25)."""
    person = reader is None or policy.sees_person(reader, event.organisation_id)
    return {
        "id": event.id,
        "referral_id": event.referral_id,
        "at": event.at,
        "kind": event.kind,
        "user_id": event.user_id if person else None,
        "username": username if person else None,
        "organisation_id": event.organisation_id,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "reason_code": event.reason_code,
        "note": event.note,
        "details": event.details,
    }
