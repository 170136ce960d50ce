"""Events that time makes happen, found by the worker: a hold that lapsed, a referral that
went unanswered past its due time, a milestone past its due date.

Each is written once: its event carries a key (``referral.overdue:<id>``…) that the events
table keeps unique, so two workers sweeping at once cannot both write it (the loser's
transaction rolls back and writes nothing).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from partnership_api import audit
from partnership_api.database import db
from partnership_api.events.outbox import emit, emit_for_referral
from partnership_api.models.base import utcnow
from partnership_api.models.beds import BedHold
from partnership_api.models.events import Event
from partnership_api.models.funding import Milestone, Project
from partnership_api.models.referrals import Referral

AT_ONCE = 200
# Referrals overdue for longer than this when first swept are old news: not announced.
OVERDUE_LOOKBACK = timedelta(days=7)


def run(now: datetime | None = None) -> int:
    """Write the events time has made happen since the last sweep; how many."""
    now = now or utcnow()
    try:
        written = _lapsed_holds(now) + _overdue_referrals(now) + _overdue_milestones(now)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # another worker swept the same at the same moment
        return 0
    return written


def _unwritten(keys: list[str]) -> set[str]:
    if not keys:
        return set()
    taken = set(db.session.scalars(sa.select(Event.key).where(Event.key.in_(keys))))
    return set(keys) - taken


def _lapsed_holds(now: datetime) -> int:
    rows = db.session.execute(
        sa.select(BedHold, Referral)
        .join(Referral, Referral.id == BedHold.referral_id)
        .where(BedHold.state == "active", BedHold.expires_at <= now)
        .order_by(BedHold.expires_at)
        .limit(AT_ONCE)
        .with_for_update(of=BedHold, skip_locked=True)
    ).all()
    for hold, referral in rows:
        hold.state, hold.ended_at, hold.end_reason = "lapsed", hold.expires_at, "expired"
        emit_for_referral(
            "hold.lapsed",
            referral,
            hold_id=hold.id,
            refuge_id=hold.service_id,
            space_type=hold.space_type,
            key=f"hold.lapsed:{hold.id}",
        )
        audit.record(
            "bed_hold.lapse",
            "bed_hold",
            hold.id,
            username="system",
            subject_organisation_id=referral.from_organisation_id,
            related_organisation_id=referral.to_organisation_id,
            details={"referral_id": str(referral.id), "refuge_id": hold.service_id},
        )
    return len(rows)


def _overdue_referrals(now: datetime) -> int:
    referrals = db.session.scalars(
        sa.select(Referral)
        .where(
            Referral.status == "submitted",
            Referral.response_due_at <= now,
            Referral.response_due_at > now - OVERDUE_LOOKBACK,
        )
        .order_by(Referral.response_due_at)
        .limit(AT_ONCE)
    ).all()
    keys = {f"referral.overdue:{r.id}": r for r in referrals}
    fresh = _unwritten(list(keys))
    for key in sorted(fresh, key=lambda k: keys[k].response_due_at):
        emit_for_referral("referral.overdue", keys[key], key=key)
    return len(fresh)


def _overdue_milestones(now: datetime) -> int:
    rows = db.session.execute(
        sa.select(Milestone, Project)
        .join(Project, Project.id == Milestone.project_id)
        .where(
            Milestone.completed_on.is_(None),
            Milestone.due_on < now.date(),
            Milestone.due_on >= (now - OVERDUE_LOOKBACK).date(),
        )
        .order_by(Milestone.due_on)
        .limit(AT_ONCE)
    ).all()
    keys = {f"project.milestone_overdue:{m.id}": (m, p) for m, p in rows}
    fresh = _unwritten(list(keys))
    for key in sorted(fresh):
        milestone, project = keys[key]
        emit(
            "project.milestone_overdue",
            [project.lead_organisation_id, *project.delivery_organisation_ids],
            project_id=project.id,
            milestone_id=milestone.id,
            key=key,
        )
    return len(fresh)
