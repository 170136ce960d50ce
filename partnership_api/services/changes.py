"""What changed since a person last looked: the events the feed would give them, with the few
facts about each that the API would show them too.

The events come from the outbox through the feed's own rule (``policy_events.scope_events``
for this person: their organisation, their role's reach), so Home never tells anyone of a
thing the feed, and so the API, would not. The facts that turn an event into words are read
within the policy's scopes again: a referral's reference, status and decline reason only for
referrals the person's organisation sent or received (the list's rule; audited as a list of
those referrals); a hold's end only for those referrals; the names of refuges, services,
organisations and projects, which every signed-in user reads.

Where the person last looked is kept per user (``HomeMark``): "since" is the last event they
had seen when their previous page session last showed Home, fixed for this session, so
looking again in the same session keeps the list; a first look shows the last day.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from partnership_api import audit, policy, policy_events, transactions
from partnership_api.database import db
from partnership_api.events.outbox import last_position
from partnership_api.models.base import utcnow
from partnership_api.models.beds import BedHold
from partnership_api.models.events import Event
from partnership_api.models.funding import Milestone, Project
from partnership_api.models.pages import HomeMark
from partnership_api.models.partnership import Organisation, Service
from partnership_api.models.referrals import Referral
from partnership_api.policy import Actor

# The events Home tells of (others, such as a refuge reporting its spaces, are not news to
# act on); newest first, at most ``MOST``.
SHOWN = (
    "referral.created",
    "referral.accepted",
    "referral.declined",
    "referral.redirected",
    "referral.withdrawn",
    "referral.closed",
    "referral.overdue",
    "hold.placed",
    "hold.released",
    "hold.lapsed",
    "hold.admitted",
    "project.changed",
    "project.milestone_overdue",
)
MOST = 30
FIRST_LOOK = timedelta(days=1)


def since_last_looked(actor: Actor) -> dict:
    """The changes since this person last looked (newest first), when that was, and whether
    there were more than are shown. Moves their mark to now. Commits."""
    policy.require(actor, "events.read")
    transactions.write_now(db.session)  # the mark is written, even on a GET
    for attempt in (1, 2):
        try:
            return _look(actor)
        except IntegrityError:  # two first looks at once: the other made the mark
            db.session.rollback()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _look(actor: Actor) -> dict:
    now = utcnow()
    head = last_position()
    mark = db.session.get(HomeMark, actor.user_id, with_for_update=True)
    if mark is None:
        first = db.session.scalar(
            sa.select(sa.func.max(Event.position)).where(Event.occurred_at <= now - FIRST_LOOK)
        )
        mark = HomeMark(
            user_id=actor.user_id,
            session_id=actor.session_id,
            since_position=first or 0,
            since_at=None,
            seen_position=head,
            seen_at=now,
        )
        db.session.add(mark)
    elif mark.session_id != actor.session_id:
        mark.session_id = actor.session_id
        mark.since_position, mark.since_at = mark.seen_position, mark.seen_at
    since, since_at = mark.since_position, mark.since_at
    mark.seen_position, mark.seen_at = max(mark.seen_position, head), now
    listener = policy_events.listener_of(actor)
    stmt = (
        policy_events.scope_events(listener, sa.select(Event))
        .where(Event.position > since, Event.position <= head, Event.type.in_(SHOWN))
        .order_by(Event.position.desc())
        .limit(MOST + 1)
    )
    found = list(db.session.scalars(stmt))
    changes = _with_facts(actor, found[:MOST])
    db.session.commit()
    return {"changes": changes, "since": since_at, "more": len(found) > MOST}


def _ids(events: list[Event], name: str, kind=int) -> set:
    return {kind(e.data[name]) for e in events if e.data.get(name) is not None}


def _with_facts(actor: Actor, events: list[Event]) -> list[dict]:
    referrals = _referrals(actor, _ids(events, "referral_id", uuid.UUID))
    holds = _holds(set(referrals), _ids(events, "hold_id", uuid.UUID))
    services = _names(Service, _ids(events, "refuge_id") | _ids(events, "to_service_id"))
    organisations = _names(
        Organisation, _ids(events, "from_organisation_id") | _ids(events, "to_organisation_id")
    )
    projects = {
        p.id: p
        for p in db.session.scalars(
            sa.select(Project).where(Project.id.in_(_ids(events, "project_id")))
        )
    }
    milestones = _names(Milestone, _ids(events, "milestone_id"), Milestone.title)
    changes = []
    for event in events:
        data = event.data
        change = {"type": event.type, "occurred_at": event.occurred_at}
        if "referral_id" in data:
            referral = referrals.get(uuid.UUID(data["referral_id"]))
            if referral is None:
                continue  # not the person's to read (or pseudonymised away)
            change["referral"] = referral
            change["from_organisation"] = organisations.get(data.get("from_organisation_id"))
            change["to_organisation"] = organisations.get(data.get("to_organisation_id"))
            change["service"] = services.get(data.get("to_service_id"))
        if "hold_id" in data:
            change["refuge"] = services.get(data.get("refuge_id"))
            change["hold"] = holds.get(uuid.UUID(data["hold_id"]))
        if "project_id" in data:
            project = projects.get(data["project_id"])
            if project is None:
                continue
            change["project"] = {
                "id": project.id,
                "title": project.title,
                "status": project.status,
                "red": sorted(k for k, v in project.rag.items() if v == "red"),
                "changed": data.get("changed", []),
            }
            change["milestone"] = milestones.get(data.get("milestone_id"))
        changes.append(change)
    return changes


def _referrals(actor: Actor, ids: set[uuid.UUID]) -> dict[uuid.UUID, dict]:
    """The referrals among ``ids`` the person's organisation sent or received (the policy's
    scope, as the list), with what the list shows of their state; audited as a list."""
    sides = policy.referral_scope_sides(actor)
    if not ids or not sides:
        return {}
    rows = db.session.execute(
        sa.select(
            Referral.id,
            Referral.reference,
            Referral.status,
            Referral.decline_reason,
            Referral.from_organisation_id,
            Referral.to_organisation_id,
            Referral.response_due_at,
        ).where(Referral.id.in_(ids), sa.or_(*sides.values()))
    ).all()
    if rows:
        by_partner: dict[int, list[str]] = {}
        for row in rows:
            partner = (
                row.to_organisation_id
                if row.from_organisation_id == actor.org_id
                else row.from_organisation_id
            )
            by_partner.setdefault(partner, []).append(str(row.id))
        audit.record_many(
            [
                audit.Entry(
                    "referral.list",
                    "referral",
                    None,
                    subject_organisation_id=actor.org_id,
                    related_organisation_id=partner,
                    details={"ids": sorted(listed), "via": "home"},
                )
                for partner, listed in by_partner.items()
            ]
        )
    return {
        row.id: {
            "id": row.id,
            "reference": row.reference,
            "status": row.status,
            "decline_reason": row.decline_reason,
            "sent": row.from_organisation_id == actor.org_id,
        }
        for row in rows
    }


def _holds(readable: set[uuid.UUID], ids: set[uuid.UUID]) -> dict[uuid.UUID, dict]:
    """The holds among ``ids`` of referrals the person may read: their state and end."""
    if not ids or not readable:
        return {}
    rows = db.session.execute(
        sa.select(BedHold.id, BedHold.state, BedHold.expires_at, BedHold.space_type).where(
            BedHold.id.in_(ids), BedHold.referral_id.in_(readable)
        )
    ).all()
    return {
        row.id: {"state": row.state, "expires_at": row.expires_at, "space_type": row.space_type}
        for row in rows
    }


def _names(model, ids: set[int], column=None) -> dict[int, str]:
    if not ids:
        return {}
    column = column if column is not None else model.name
    return dict(db.session.execute(sa.select(model.id, column).where(model.id.in_(ids))).all())
