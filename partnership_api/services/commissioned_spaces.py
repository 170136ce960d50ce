"""A refuge's commissioned bed spaces by accommodation type (refuge, dispersed, sanctuary
scheme, second-stage/move-on, other), as its own staff report them. Every report is kept; the
safe-accommodation return counts each refuge's last report made by the end of its year.

These are facts about a service, not about people: everyone signed in reads them.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from partnership_api import audit, events, policy
from partnership_api.database import db
from partnership_api.domain_errors import NotFound
from partnership_api.models.base import utcnow
from partnership_api.models.partnership import Service
from partnership_api.models.safe_accommodation import (
    ACCOMMODATION_TYPES,
    CommissionedSpacesReport,
)
from partnership_api.policy import Actor

_REPORTS = CommissionedSpacesReport


def _refuge(refuge_id: int) -> Service:
    refuge = db.session.get(Service, refuge_id)
    if refuge is None or refuge.kind != "refuge" or not refuge.active:
        raise NotFound()
    return refuge


def latest_reports(at: datetime | None = None) -> sa.Select:
    """Each refuge's last report (one row per accommodation type) made by ``at``."""
    last = sa.select(_REPORTS.refuge_id, sa.func.max(_REPORTS.reported_at).label("reported_at"))
    if at is not None:
        last = last.where(_REPORTS.reported_at < at)
    last = last.group_by(_REPORTS.refuge_id).subquery()
    return sa.select(_REPORTS).join(
        last,
        sa.and_(_REPORTS.refuge_id == last.c.refuge_id, _REPORTS.reported_at == last.c.reported_at),
    )


def _shown(refuge_id: int, rows: list[CommissionedSpacesReport]) -> dict:
    by_type = {row.accommodation_type: row.spaces for row in rows}
    return {
        "refuge_id": refuge_id,
        "spaces": [
            {"accommodation_type": kind, "spaces": by_type.get(kind, 0)}
            for kind in ACCOMMODATION_TYPES
        ],
        "total": sum(by_type.values()),
        "reported_at": rows[0].reported_at if rows else None,
    }


def read(actor: Actor, refuge_id: int) -> dict:
    """The refuge's commissioned bed spaces as last reported (all zero before any report)."""
    policy.require(actor, "commissioned_spaces.read")
    refuge = _refuge(refuge_id)
    rows = list(db.session.scalars(latest_reports().where(_REPORTS.refuge_id == refuge.id)))
    return _shown(refuge.id, rows)


def report(actor: Actor, refuge_id: int, data: dict) -> dict:
    """Report every accommodation type's commissioned spaces at once (types left out: none)."""
    policy.require(actor, "commissioned_spaces.report")
    refuge = _refuge(refuge_id)
    policy.authorize(actor, "commissioned_spaces.report", refuge)
    now = utcnow()
    given = {line["accommodation_type"]: line["spaces"] for line in data["spaces"]}
    rows = [
        CommissionedSpacesReport(
            refuge_id=refuge.id,
            accommodation_type=kind,
            spaces=given.get(kind, 0),
            reported_at=now,
            reported_by_user_id=actor.user_id,
        )
        for kind in ACCOMMODATION_TYPES
    ]
    db.session.add_all(rows)
    db.session.flush()
    audit.record(
        "commissioned_spaces.report",
        "refuge",
        refuge.id,
        subject_organisation_id=refuge.organisation_id,
        details={"spaces": {kind: given.get(kind, 0) for kind in ACCOMMODATION_TYPES}},
    )
    events.emit(
        "commissioned_spaces.reported",
        [refuge.organisation_id],
        refuge_id=refuge.id,
        organisation_id=refuge.organisation_id,
    )
    answer = _shown(refuge.id, rows)
    db.session.commit()
    return answer
