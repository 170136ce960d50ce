"""The caps on bed holds, so that no partner can hold the county's free beds (issue 25).

A hold is placed only within all of these (409 otherwise, with what to do):

- ``MAX_ACTIVE_HOLDS_PER_USER`` live holds placed by one user;
- ``MAX_ACTIVE_HOLDS_PER_ORGANISATION`` live holds placed by one organisation's users;
- at one refuge, an organisation's live holds are at most ``HOLD_SHARE_PER_REFUGE_PERCENT`` of
  that refuge's vacant spaces (all types together), and at least one;
- after a refuge's staff released one of an organisation's holds with a reason, that
  organisation places no hold at that refuge for ``HOLD_COOLDOWN_MINUTES`` (the refuge's own
  staff are not held back at their own refuge).

The counts are made under a lock of the organisation's row, so two of its users racing cannot
both take its last allowed hold. A hold that brings a count to its cap sends a
``hold.cap_reached`` event (audience ``hold_caps``) to the refuge and the partnership admins:
which organisation, which refuge, which cap; never a person.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from partnership_api import context, events
from partnership_api.database import db
from partnership_api.domain_errors import Conflict
from partnership_api.events.outbox import HOLD_CAPS
from partnership_api.models.beds import BedHold, BedSpace, live_hold
from partnership_api.models.partnership import Organisation, Service, User
from partnership_api.policy import Actor

__all__ = ["HOLD_CAPS", "alert_reached", "check", "share_at"]


def share_at(vacant: int) -> int:
    """The most live holds one organisation may have at a refuge with ``vacant`` free spaces."""
    return max(1, vacant * context.setting("HOLD_SHARE_PER_REFUGE_PERCENT") // 100)


def _counts(actor: Actor, refuge_id: int, now: datetime) -> tuple[int, int, int]:
    """Live holds placed by the actor, by the actor's organisation, and by it at this refuge."""
    placed_by_org = User.organisation_id == actor.org_id
    row = db.session.execute(
        sa.select(
            sa.func.count().filter(BedHold.created_by_user_id == actor.user_id),
            sa.func.count(),
            sa.func.count().filter(BedHold.service_id == refuge_id),
        )
        .select_from(BedHold)
        .join(User, User.id == BedHold.created_by_user_id)
        .where(placed_by_org, live_hold(now))
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


def _cooling_down_until(actor: Actor, refuge: Service, now: datetime) -> datetime | None:
    """Until when the actor's organisation waits before holding here again, if it must."""
    if refuge.organisation_id == actor.org_id:
        return None
    cool_down = timedelta(minutes=context.setting("HOLD_COOLDOWN_MINUTES"))
    last = db.session.scalar(
        sa.select(sa.func.max(BedHold.ended_at))
        .join(User, User.id == BedHold.created_by_user_id)
        .where(
            BedHold.service_id == refuge.id,
            BedHold.end_reason == "released_by_refuge",
            BedHold.ended_at > now - cool_down,
            User.organisation_id == actor.org_id,
        )
    )
    return last + cool_down if last is not None else None


def check(actor: Actor, refuge: Service, now: datetime) -> list[str]:
    """409 unless one more hold by the actor at ``refuge`` is within every cap; answers the
    caps this hold will reach (for ``alert_reached`` once it is placed)."""
    db.session.execute(
        sa.select(Organisation.id).where(Organisation.id == actor.org_id).with_for_update()
    )
    until = _cooling_down_until(actor, refuge, now)
    if until is not None:
        raise Conflict(
            f"{refuge.name} released one of your organisation's holds with a reason; your "
            f"organisation can hold a space there again from {until.isoformat()}. Call the "
            "refuge if the need is real."
        )
    by_user, by_org, at_refuge = _counts(actor, refuge.id, now)
    user_cap = context.setting("MAX_ACTIVE_HOLDS_PER_USER")
    org_cap = context.setting("MAX_ACTIVE_HOLDS_PER_ORGANISATION")
    vacant = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(BedSpace.vacant), 0)).where(
            BedSpace.service_id == refuge.id
        )
    )
    share = share_at(int(vacant))
    if by_org >= org_cap:
        raise Conflict(
            f"Your organisation already holds {by_org} bed spaces, the most it may hold at once "
            f"({org_cap}): release one, or let a referral be accepted, before holding another."
        )
    if by_user >= user_cap:
        raise Conflict(
            f"You already hold {by_user} bed spaces, the most one person may hold at once "
            f"({user_cap}): release one, or let a referral be accepted, before holding another."
        )
    if at_refuge >= share:
        raise Conflict(
            f"Your organisation already holds {at_refuge} of {refuge.name}'s spaces, its share "
            f"of that refuge's {vacant} vacant spaces ({share}): release one, or let a referral "
            "be accepted, before holding another there."
        )
    reached = []
    if by_user + 1 == user_cap:
        reached.append("user")
    if by_org + 1 == org_cap:
        reached.append("organisation")
    if at_refuge + 1 == share:
        reached.append("refuge_share")
    return reached


def alert_reached(actor: Actor, refuge: Service, reached: list[str]) -> None:
    """Tell the refuge and the partnership admins that an organisation reached a cap (in the
    hold's transaction: no hold, no alert)."""
    for cap in reached:
        events.emit(
            "hold.cap_reached",
            [refuge.organisation_id],
            organisation_id=actor.org_id,
            refuge_id=refuge.id,
            cap=cap,
        )
