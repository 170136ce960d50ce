"""The policy's rules for events: who hears which, and whose webhooks and vacancy alerts are
whose. Part of the policy (``policy.py`` names the functions: ``events.read``,
``webhook.manage``, ``vacancy_alert.manage``); like it, this module only decides.

Who hears what follows the rules of reads: an organisation hears of a thing only when its users
may read that thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from partnership_api import policy, policy_referrals
from partnership_api.actors import Actor
from partnership_api.domain_errors import RefusalRecord, Refused

READS_REFERRALS = policy_referrals.READS_REFERRALS  # the kinds whose workers read referrals


@dataclass(frozen=True, slots=True)
class Listener:
    """Whoever hears events: a signed-in caller reading the feed, or an organisation's webhook
    endpoint (which hears what the organisation's staff may read)."""

    org_id: int
    org_kind: str
    reads_referrals: bool
    partnership_admin: bool = False
    admin: bool = False


def listener_of(actor: Actor) -> Listener:
    """The caller as a reader of the feed: their organisation, with their role's reach."""
    return Listener(
        actor.org_id,
        actor.org_kind,
        policy.can(actor, "referral.read"),
        actor.partnership_admin,
        actor.role == "admin",
    )


def organisation_listener(org_id: int, org_kind: str) -> Listener:
    """An organisation's webhook endpoints hear what its staff may read, and what is told to
    its admins (who set them up)."""
    return Listener(org_id, org_kind, org_kind in READS_REFERRALS, admin=True)


def scope_events(listener: Listener, stmt: sa.Select) -> sa.Select:
    """The events a listener may hear, by each type's audience (``events.outbox.EVENT_TYPES``):

    - ``referral``: about a referral (its steps, its hold, an alert set for it), heard by the
      organisations it concerns when they may read referrals at all (the rule of
      ``policy_referrals.read``);
    - ``everyone``: bed availability, which every signed-in user reads;
    - ``projects``: the commissioner's office, and the project's lead and delivery partners;
    - ``hold_caps``: an organisation reached a cap on bed holds, heard by the refuge it held
      at and by the partnership admins (reading the feed);
    - ``org_admins``: told to an organisation's admins (and its webhooks) only.
    """
    from partnership_api.models.events import Event, EventOrganisation

    party = Event.position.in_(
        sa.select(EventOrganisation.position).where(
            EventOrganisation.organisation_id == listener.org_id
        )
    )
    heard = [Event.audience == "everyone", sa.and_(Event.audience == "hold_caps", party)]
    if listener.partnership_admin:
        heard.append(Event.audience == "hold_caps")
    if listener.admin:
        heard.append(sa.and_(Event.audience == "org_admins", party))
    if listener.reads_referrals:
        heard.append(sa.and_(Event.audience == "referral", party))
    if listener.org_kind == "commissioner":
        heard.append(Event.audience == "projects")
    else:
        heard.append(sa.and_(Event.audience == "projects", party))
    return stmt.where(sa.or_(*heard))


def scope_own_organisation(actor: Actor, model: Any, stmt: sa.Select) -> sa.Select:
    """Webhooks and vacancy alerts: the caller's own organisation's only."""
    return stmt.where(model.organisation_id == actor.org_id)


def authorize_own(actor: Actor, action: str, item: Any) -> None:
    """``Refused`` (hidden: 404) unless the webhook or alert is the caller's organisation's."""
    if item.organisation_id == actor.org_id:
        return
    raise Refused(
        "Not found.",
        hidden=True,
        actor=actor,
        record=RefusalRecord(
            action,
            action.split(".")[0],
            getattr(item, "id", None),
            details={"status": 404},
            subject_organisation_id=item.organisation_id,
        ),
    )
