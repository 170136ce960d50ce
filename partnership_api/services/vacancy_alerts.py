"""Vacancy alerts: tell a household's referrer when a space that fits it opens.

Police and provider staff set an alert on an open referral their organisation sent or
received (or on a household profile of its own): bed search's filters, kept by the alert and
seen only by its organisation. The worker's matcher reads the outbox after every change that
can open or take a space (a report or confirmation, a hold placed, released, lapsed or
admitted) and asks bed search, for each live alert, which refuges have a fitting space
available now: a refuge that had none before gets one ``vacancy.matched`` (the alert, the
refuge, the space type: no personal data) for the alert's organisation; a refuge whose
fitting spaces are all taken again is forgotten, so its next opening fires again. (The
matcher compares what is open at each of its passes, a fraction of a second apart: a room
taken and freed again between two passes is one opening.) Spaces already open when the alert
is set are noted without firing: an alert fires when a space opens.

An alert ends when its referral is no longer waiting (accepted, declined, redirected,
withdrawn or closed), when its organisation ends it, or after its lifetime
(``VACANCY_ALERT_HOURS``, 72 by default).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from partnership_api import audit, context, policy, policy_events
from partnership_api.actors import Actor
from partnership_api.database import db
from partnership_api.domain_errors import Conflict, Invalid, NotFound
from partnership_api.events.outbox import emit, last_position
from partnership_api.models.base import utcnow
from partnership_api.models.events import Event, EventConsumer, VacancyAlert, VacancyOpening
from partnership_api.models.referrals import Referral
from partnership_api.pagination import Page, PageRequest, page_of
from partnership_api.services import bed_search

CRITERIA = (
    "area",
    "exclude_area",
    "space_type",
    "children",
    "oldest_son_age",
    "wheelchair",
    "nrpf",
    "pets",
)
MAX_LIFETIME_HOURS = 24 * 14
# Events after which a space may have opened or been taken.
MOVES_SPACES = (
    "availability.reported",
    "availability.confirmed",
    "hold.placed",
    "hold.released",
    "hold.lapsed",
    "hold.admitted",
)
# Events after which a referral may have stopped waiting.
ENDS_WAITING = (
    "referral.accepted",
    "referral.declined",
    "referral.redirected",
    "referral.withdrawn",
    "referral.closed",
)
MATCHER = "vacancy_alerts"


# The matcher searches beds as the worker, on behalf of no one (bed search is everyone's).
MATCHER_ACTOR = Actor(
    user_id=uuid.UUID(int=0),
    username="vacancy-alert-matcher",
    org_id=0,
    org_kind="system",
    org_name="",
    role="staff",
    partnership_admin=False,
    session_id=uuid.UUID(int=0),
)


def _refuges_fitting(criteria: dict, actor: Actor = MATCHER_ACTOR) -> dict[int, str]:
    """Refuges with a space fitting the criteria available now, and the first such type."""
    found = bed_search.search(actor, criteria).results
    return {row["refuge_id"]: row["spaces"][0]["space_type"] for row in found if row["spaces"]}


def present(alert: VacancyAlert) -> dict:
    return {
        "id": alert.id,
        "organisation_id": alert.organisation_id,
        "referral_id": alert.referral_id,
        **{name: alert.criteria.get(name) for name in CRITERIA if name in alert.criteria},
        "created_at": alert.created_at,
        "expires_at": alert.expires_at,
        "ended_at": alert.ended_at,
        "end_reason": alert.end_reason,
        "fired": alert.fired,
    }


def create(actor: Actor, data: dict) -> dict:
    """Set an alert; spaces open now are noted, and it fires for the next opening."""
    policy.require(actor, "vacancy_alert.manage")
    referral_id = data.get("referral_id")
    if referral_id is not None:
        referral = db.session.get(Referral, referral_id)
        if referral is None:
            raise NotFound()
        policy.authorize(actor, "referral.read", referral)
        if referral.status != "submitted":
            raise Conflict(f"The referral is {referral.status}: it is no longer waiting.")
        if referral.kind != "victim":
            raise Invalid.on("referral_id", "Vacancy alerts are for a victim's referral.")
    hours = data.get("lifetime_hours") or context.setting("VACANCY_ALERT_HOURS")
    now = utcnow()
    _within_the_caps(actor, now)
    criteria = {name: data[name] for name in CRITERIA if data.get(name) not in (None, [])}
    alert = VacancyAlert(
        id=uuid.uuid4(),
        organisation_id=actor.org_id,
        created_by_user_id=actor.user_id,
        referral_id=referral_id,
        criteria=criteria,
        created_at=now,
        expires_at=now + timedelta(hours=min(hours, MAX_LIFETIME_HOURS)),
        fired=0,
    )
    db.session.add(alert)
    db.session.flush()
    for refuge_id, space_type in _refuges_fitting(criteria, actor).items():
        db.session.add(
            VacancyOpening(
                alert_id=alert.id,
                refuge_id=refuge_id,
                space_type=space_type,
                opened_at=now,
                notified=False,
            )
        )
    audit.record(
        "vacancy_alert.create",
        "vacancy_alert",
        alert.id,
        subject_organisation_id=actor.org_id,
        details={"referral_id": str(referral_id) if referral_id else None},
    )
    shown = present(alert)
    db.session.commit()
    return shown


def _within_the_caps(actor: Actor, now: datetime) -> None:
    """409 past ``MAX_LIVE_VACANCY_ALERTS_PER_USER`` or ``…_PER_ORGANISATION`` live alerts
    (one officer once made 4,500 in 20 seconds, each searched by the matcher at every change).
    Counted under a lock of the organisation's row, so racing requests cannot pass together."""
    from partnership_api.models.partnership import Organisation

    db.session.execute(
        sa.select(Organisation.id).where(Organisation.id == actor.org_id).with_for_update()
    )
    mine, ours = db.session.execute(
        sa.select(
            sa.func.count().filter(VacancyAlert.created_by_user_id == actor.user_id),
            sa.func.count(),
        ).where(
            VacancyAlert.organisation_id == actor.org_id,
            VacancyAlert.ended_at.is_(None),
            VacancyAlert.expires_at > now,
        )
    ).one()
    per_user = context.setting("MAX_LIVE_VACANCY_ALERTS_PER_USER")
    per_org = context.setting("MAX_LIVE_VACANCY_ALERTS_PER_ORGANISATION")
    if mine >= per_user:
        raise Conflict(
            f"You have {mine} live vacancy alerts, the most one person may have at once "
            f"({per_user}): end one you no longer need first."
        )
    if ours >= per_org:
        raise Conflict(
            f"Your organisation has {ours} live vacancy alerts, the most one organisation may "
            f"have at once ({per_org}): end some it no longer needs first."
        )


def list_alerts(actor: Actor, page: PageRequest) -> Page:
    policy.require(actor, "vacancy_alert.manage")
    stmt = policy_events.scope_own_organisation(actor, VacancyAlert, sa.select(VacancyAlert))
    found = page_of(stmt.order_by(VacancyAlert.created_at.desc()), page)
    return Page([present(alert) for alert in found.items], found.total)


def _alert(actor: Actor, alert_id: uuid.UUID) -> VacancyAlert:
    policy.require(actor, "vacancy_alert.manage")
    alert = db.session.get(VacancyAlert, alert_id)
    if alert is None:
        raise NotFound()
    policy_events.authorize_own(actor, "vacancy_alert.manage", alert)
    return alert


def read(actor: Actor, alert_id: uuid.UUID) -> dict:
    return present(_alert(actor, alert_id))


def end(actor: Actor, alert_id: uuid.UUID) -> None:
    """End an alert now (it is kept, ended, for the record)."""
    alert = _alert(actor, alert_id)
    if alert.ended_at is None:
        alert.ended_at, alert.end_reason = utcnow(), "ended_by_user"
        db.session.execute(sa.delete(VacancyOpening).where(VacancyOpening.alert_id == alert.id))
    audit.record(
        "vacancy_alert.end",
        "vacancy_alert",
        alert.id,
        subject_organisation_id=alert.organisation_id,
    )
    db.session.commit()


# --- the matcher (run by the delivery worker) -------------------------------------------------


def _end_finished(now: datetime) -> None:
    """End alerts whose referral stopped waiting, and those past their lifetime."""
    live = VacancyAlert.ended_at.is_(None)
    finished = sa.select(Referral.id).where(Referral.status != "submitted")
    for reason, condition in (
        ("referral_finished", VacancyAlert.referral_id.in_(finished)),
        ("expired", VacancyAlert.expires_at <= now),
    ):
        ended = db.session.scalars(sa.select(VacancyAlert.id).where(live, condition)).all()
        if ended:
            db.session.execute(
                sa.update(VacancyAlert)
                .where(VacancyAlert.id.in_(ended))
                .values(ended_at=now, end_reason=reason)
            )
            db.session.execute(sa.delete(VacancyOpening).where(VacancyOpening.alert_id.in_(ended)))


def match(now: datetime | None = None) -> int:
    """Fire the alerts whose fitting spaces opened since the matcher last read the outbox;
    how many fired. One worker at a time (the matcher's row is locked, others skip it)."""
    now = now or utcnow()
    consumer = db.session.scalar(
        sa.select(EventConsumer)
        .where(EventConsumer.name == MATCHER)
        .with_for_update(skip_locked=True)
    )
    if consumer is None:
        if db.session.get(EventConsumer, MATCHER) is not None:  # another worker holds it
            db.session.commit()
            return 0
        consumer = EventConsumer(name=MATCHER, position=0)
        db.session.add(consumer)
        try:
            db.session.flush()
        except IntegrityError:  # another worker made it at the same moment
            db.session.rollback()
            return 0
    top = last_position()
    moved = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Event)
        .where(
            Event.position > consumer.position,
            Event.position <= top,
            Event.type.in_(MOVES_SPACES + ENDS_WAITING),
        )
    )
    _end_finished(now)
    fired = 0
    if moved:
        fired = _fire(now)
    consumer.position = top
    db.session.commit()
    return fired


def _fire(now: datetime) -> int:
    alerts = db.session.scalars(
        sa.select(VacancyAlert).where(
            VacancyAlert.ended_at.is_(None), VacancyAlert.expires_at > now
        )
    ).all()
    if not alerts:
        return 0
    openings: dict[uuid.UUID, dict[int, VacancyOpening]] = {}
    for opening in db.session.scalars(
        sa.select(VacancyOpening).where(VacancyOpening.alert_id.in_([a.id for a in alerts]))
    ):
        openings.setdefault(opening.alert_id, {})[opening.refuge_id] = opening
    fired = 0
    for alert in alerts:
        fitting = _refuges_fitting(alert.criteria)
        known = openings.get(alert.id, {})
        for refuge_id, opening in known.items():
            if refuge_id not in fitting:
                db.session.delete(opening)
        for refuge_id, space_type in sorted(fitting.items()):
            if refuge_id in known:
                continue
            db.session.add(
                VacancyOpening(
                    alert_id=alert.id,
                    refuge_id=refuge_id,
                    space_type=space_type,
                    opened_at=now,
                    notified=True,
                )
            )
            emit(
                "vacancy.matched",
                [alert.organisation_id],
                alert_id=alert.id,
                refuge_id=refuge_id,
                space_type=space_type,
                referral_id=alert.referral_id,
            )
            alert.fired += 1
            fired += 1
    return fired
