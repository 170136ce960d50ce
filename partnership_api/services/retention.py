"""Retention: personal data of finished referrals is kept no longer than needed.

A referral that has been ``closed``, ``declined``, ``withdrawn`` or ``redirected`` for longer
than ``REFERRAL_RETENTION_DAYS`` (by ``status_changed_at``) is pseudonymised: the person's
name, date of birth, contact details, household, needs, the free text (summary, outcome,
consent rationale) and the notes in its timeline are removed. What the figures and the audit
trail need stays: dates, kind, risk level (DASH score, MARAC), area, status, decline reason,
the organisations and services, the reference, and the timeline's events without their notes.
Open referrals (``submitted``, ``accepted``) are never touched. A finished refuge referral's
stay loses who stayed (the adults' sex and trans status) and the characteristics she agreed to
have recorded, and any free text (an ``other`` reason's words) goes too: the safe-accommodation
return of a year that old no longer counts them.

Safe to run daily: a referral is done once (``pseudonymised_at`` is set and selects it out of
every later run), rows are locked in batches (two runs at once skip each other's rows), and
each run writes one audit event with the number changed, zero included.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from partnership_api import audit, context
from partnership_api.database import db
from partnership_api.models.base import utcnow
from partnership_api.models.referrals import FINISHED_STATUSES, Referral, ReferralEvent
from partnership_api.models.safe_accommodation import Stay

BATCH = 500
# Of the consent record, only the non-personal decision is kept; its rationale is free text.
CONSENT_KEPT = ("given", "lawful_basis")
REMOVED = "removed by retention"


def expired(now: datetime, retention_days: int) -> sa.ColumnElement[bool]:
    """Finished longer ago than the retention period, and not yet pseudonymised."""
    cutoff = now - timedelta(days=retention_days)
    return sa.and_(
        Referral.status.in_(FINISHED_STATUSES),
        Referral.status_changed_at < cutoff,
        Referral.pseudonymised_at.is_(None),
    )


def purge_expired(now: datetime | None = None, retention_days: int | None = None) -> int:
    """Pseudonymise every expired referral; commit; return how many were changed."""
    now = now or utcnow()
    if retention_days is None:
        retention_days = int(context.setting("REFERRAL_RETENTION_DAYS"))
    changed = 0
    while True:
        batch = db.session.scalars(
            sa.select(Referral)
            .where(expired(now, retention_days))
            .order_by(Referral.status_changed_at, Referral.id)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        ).all()
        if not batch:
            break
        for referral in batch:
            _pseudonymise(referral, now)
        ids = [referral.id for referral in batch]
        db.session.execute(
            sa.update(ReferralEvent)
            .where(ReferralEvent.referral_id.in_(ids), ReferralEvent.note.is_not(None))
            .values(note=None)
            .execution_options(synchronize_session=False)
        )
        db.session.execute(
            sa.update(Stay)
            .where(Stay.referral_id.in_(ids))
            .values(
                adults=[],
                characteristics=[],
                characteristics_consent=False,
                end_reason_text=sa.case((Stay.end_reason_text.is_(None), None), else_=REMOVED),
            )
            .execution_options(synchronize_session=False)
        )
        changed += len(batch)
        db.session.commit()
    audit.record(
        "retention.purge",
        "referral",
        username="retention",
        details={
            "count": changed,
            "retention_days": retention_days,
            "cutoff": (now - timedelta(days=retention_days)).isoformat(),
        },
    )
    db.session.commit()
    return changed


def _pseudonymise(referral: Referral, now: datetime) -> None:
    consent = referral.consent or {}
    # The area (a district) is not identifying and the figures count by it: it stays.
    referral.subject = {"area": referral.subject_area} if referral.subject_area else {}
    referral.safe_contact = {}
    referral.household = {}
    referral.needs = {}
    referral.consent = {key: consent[key] for key in CONSENT_KEPT if key in consent}
    referral.summary = None
    referral.outcome = None
    if referral.not_supported_text is not None:
        referral.not_supported_text = REMOVED
    referral.pseudonymised_at = now
    referral.updated_at = now
    referral.version += 1
