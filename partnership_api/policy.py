"""Who may do what: the partnership's need-to-know policy, in one place.

Two questions, asked in this order by every operation:

1. ``require(actor, action)``: may someone of this organisation kind and role use this
   function at all? If not: 403, whatever object was named (so nothing leaks).
2. ``authorize(actor, action, item)``: may they do it to this object? An object they may not
   even see answers 404 (its existence does not leak); one they see but may not change, 403.

Lists are filtered by ``scope_*``, written with the same rule as the single read, so a list
can never show what a single read would refuse. Views never decide access themselves.

The rules follow the table in ``shared/domain.md``. Roles: ``staff`` does the work,
``analyst`` reads figures only, ``admin`` does the work and manages its organisation's users.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import g
from flask_smorest import abort

WORKER_ROLES = ("staff", "admin")


@dataclass(frozen=True, slots=True)
class Actor:
    """The signed-in caller, as loaded from the database for this request."""

    user_id: uuid.UUID
    username: str
    org_id: int
    org_kind: str
    org_name: str
    role: str
    partnership_admin: bool
    session_id: uuid.UUID

    @property
    def is_worker(self) -> bool:
        return self.role in WORKER_ROLES

    @property
    def is_commissioner(self) -> bool:
        return self.org_kind == "commissioner"


def current_actor() -> Actor:
    """The caller of this request (set by the authentication hook)."""
    actor = g.get("actor")
    if actor is None:  # pragma: no cover - the auth hook guarantees an actor on protected views
        abort(401, message="Authentication required.")
    return actor


class Refused(Exception):
    """Raised by the rules; turned into 403 or 404 (and an audit event) by ``authorize``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _forbid(message: str) -> None:
    raise Refused(403, message)


def _hide() -> None:
    raise Refused(404, "Not found.")


# --- function-level rules (403) -------------------------------------------------------------


def _can_handle_referrals(actor: Actor) -> bool:
    return actor.is_worker and actor.org_kind in ("police", "provider")


FUNCTION_RULES: dict[str, Any] = {
    "organisation.create": lambda a: a.partnership_admin,
    "service.create": lambda a: a.partnership_admin or a.role == "admin",
    "user.manage": lambda a: a.partnership_admin or a.role == "admin",
    "referral.create": _can_handle_referrals,
    "referral.read": _can_handle_referrals,
    "referral.act": _can_handle_referrals,
    "bed.hold": _can_handle_referrals,
    "availability.update": lambda a: a.is_worker and a.org_kind == "provider",
    "fund.change": lambda a: a.is_worker and a.is_commissioner,
    "project.change": lambda a: a.is_worker and a.is_commissioner,
    # The police read projects but never change them, even those they deliver (domain.md).
    "project.progress": lambda a: a.is_worker and a.org_kind in ("commissioner", "provider"),
    "audit.read": lambda a: a.partnership_admin or a.role == "admin",
    "stats.read": lambda a: True,
    "events.read": lambda a: True,
    "webhook.manage": lambda a: a.role == "admin",
    "vacancy_alert.manage": _can_handle_referrals,
}

FUNCTION_MESSAGES = {
    "organisation.create": "Only the partnership admin sets up organisations.",
    "service.create": "Only an organisation admin or the partnership admin manages services.",
    "user.manage": "Only an organisation admin or the partnership admin manages users.",
    "referral.create": "Your role cannot make referrals.",
    "referral.read": "Your role cannot read referrals' personal data.",
    "referral.act": "Your role cannot act on referrals.",
    "bed.hold": "Your role cannot hold bed spaces.",
    "availability.update": "Only a refuge's own staff report its availability.",
    "fund.change": "Only the commissioner's office changes funds.",
    "project.change": "Only the commissioner's office changes projects.",
    "project.progress": "Your role cannot report project progress.",
    "audit.read": "Only organisation admins and the partnership admin read the audit trail.",
    "stats.read": "",
    "events.read": "",
    "webhook.manage": "Only an organisation's admins manage its webhooks.",
    "vacancy_alert.manage": "Your role cannot set vacancy alerts.",
}


def can(actor: Actor, action: str) -> bool:
    """Whether the actor's kind and role allow this function at all."""
    return bool(FUNCTION_RULES[action](actor))


def require(actor: Actor, action: str) -> None:
    """403 unless the actor's organisation kind and role allow this function."""
    if not can(actor, action):
        _audit_refusal(actor, action, None, None)
        abort(403, message=FUNCTION_MESSAGES[action])


# --- object-level rules (404 / 403) -----------------------------------------------------------


def _referral_parties(referral: Any) -> tuple[int, int]:
    return referral.from_organisation_id, referral.to_organisation_id


def _rule_referral_read(actor: Actor, referral: Any) -> None:
    if not _can_handle_referrals(actor) or actor.org_id not in _referral_parties(referral):
        _hide()


def _rule_referral_receive(actor: Actor, referral: Any) -> None:
    _rule_referral_read(actor, referral)
    if actor.org_id != referral.to_organisation_id:
        _forbid("Only the receiving organisation can do this.")


def _rule_referral_send(actor: Actor, referral: Any) -> None:
    _rule_referral_read(actor, referral)
    if actor.org_id != referral.from_organisation_id:
        _forbid("Only the sending organisation can withdraw a referral.")


def _rule_own_service(actor: Actor, service: Any) -> None:
    if actor.partnership_admin:
        return
    if actor.role != "admin" or service.organisation_id != actor.org_id:
        _forbid("You can only manage your own organisation's services.")


def _rule_availability_update(actor: Actor, service: Any) -> None:
    if not (actor.is_worker and service.organisation_id == actor.org_id):
        _forbid("Only the refuge's own staff report its availability.")


def _rule_user_manage(actor: Actor, user: Any) -> None:
    if actor.partnership_admin:
        return
    if actor.role != "admin" or user.organisation_id != actor.org_id:
        _hide()
    if user.partnership_admin:
        _forbid("Only the partnership admin manages a partnership admin.")


def _rule_project_change(actor: Actor, project: Any) -> None:
    if not (actor.is_worker and actor.is_commissioner):
        _forbid("Only the commissioner's office changes projects.")


def _rule_project_progress(actor: Actor, project: Any) -> None:
    if actor.is_worker and actor.is_commissioner:
        return
    if not (
        actor.is_worker
        and actor.org_kind == "provider"
        and actor.org_id in project.delivery_organisation_ids
    ):
        _forbid(
            "Only the commissioner's office and the project's delivery partners report "
            "progress on it."
        )


def _rule_own_organisation(actor: Actor, item: Any) -> None:
    """Webhooks and vacancy alerts are their organisation's own: others never see them."""
    if item.organisation_id != actor.org_id:
        _hide()


OBJECT_RULES: dict[str, Any] = {
    "referral.read": _rule_referral_read,
    "referral.note": _rule_referral_read,
    "referral.hold": _rule_referral_read,
    "referral.accept": _rule_referral_receive,
    "referral.decline": _rule_referral_receive,
    "referral.redirect": _rule_referral_receive,
    "referral.close": _rule_referral_receive,
    "referral.withdraw": _rule_referral_send,
    "service.update": _rule_own_service,
    "availability.update": _rule_availability_update,
    "user.read": _rule_user_manage,
    "user.update": _rule_user_manage,
    "project.change": _rule_project_change,
    "project.progress": _rule_project_progress,
    "webhook.manage": _rule_own_organisation,
    "vacancy_alert.manage": _rule_own_organisation,
}

_RESOURCE_TYPES = {
    "referral": "referral",
    "service": "service",
    "availability": "refuge",
    "user": "user",
    "project": "project",
    "webhook": "webhook",
    "vacancy_alert": "vacancy_alert",
}


def authorize(actor: Actor, action: str, item: Any) -> None:
    """Abort with 404 or 403 (and an audit event) unless the actor may do ``action`` to ``item``."""
    try:
        OBJECT_RULES[action](actor, item)
    except Refused as refused:
        _audit_refusal(actor, action, item, refused.status)
        abort(refused.status, message=refused.message)


def _audit_refusal(actor: Actor, action: str, item: Any, status: int | None) -> None:
    from partnership_api import audit

    kind = action.split(".")[0]
    subject, related = _organisations_of(item)
    audit.record_refusal(
        action,
        _RESOURCE_TYPES.get(kind, kind),
        getattr(item, "id", None),
        actor=actor,
        details={"status": status or 403},
        subject_organisation_id=subject,
        related_organisation_id=related,
    )


def _organisations_of(item: Any) -> tuple[int | None, int | None]:
    """The organisations a refused attempt was about, so their admins see it in the trail."""
    if item is None:
        return None, None
    if hasattr(item, "from_organisation_id"):
        return item.from_organisation_id, item.to_organisation_id
    for name in ("organisation_id", "lead_organisation_id"):
        if getattr(item, name, None) is not None:
            return getattr(item, name), None
    return None, None


def sees_address(actor: Actor | None, service: Any) -> bool:
    """A refuge's address never leaves its own organisation (anyone may see other services')."""
    if service.kind != "refuge":
        return actor is not None
    return actor is not None and actor.org_id == service.organisation_id


# --- list scopes (the same rules as the single reads above) ----------------------------------


def referral_scope_sides(actor: Actor) -> dict[str, sa.ColumnElement[bool]]:
    """The referrals an actor may read, as the two sides of one rule: those their organisation
    received and those it sent. Empty when their role reads none.

    A list reads one side at a time (along its own index); together the sides are exactly the
    single read's rule (``_rule_referral_read``).
    """
    from partnership_api.models.referrals import Referral

    if not _can_handle_referrals(actor):
        return {}
    return {
        "received": Referral.to_organisation_id == actor.org_id,
        "sent": Referral.from_organisation_id == actor.org_id,
    }


def referral_scope_key(actor: Actor) -> tuple:
    """Everything ``referral_scope_sides`` depends on: statements built from the scope may be
    reused for any actor with the same key. Change both together."""
    return (_can_handle_referrals(actor), actor.org_id)


def scope_users(actor: Actor, stmt: sa.Select) -> sa.Select:
    from partnership_api.models.partnership import User

    if actor.partnership_admin:
        return stmt
    if actor.role != "admin":
        return stmt.where(sa.false())
    return stmt.where(User.organisation_id == actor.org_id)


def scope_audit_events(actor: Actor, stmt: sa.Select) -> sa.Select:
    from partnership_api.models.audit import AuditEvent

    if actor.partnership_admin:
        return stmt
    if actor.role != "admin":
        return stmt.where(sa.false())
    return stmt.where(
        sa.or_(
            AuditEvent.organisation_id == actor.org_id,
            AuditEvent.subject_organisation_id == actor.org_id,
            AuditEvent.related_organisation_id == actor.org_id,
        )
    )


def scope_referral_statistics(actor: Actor, stmt: sa.Select) -> sa.Select:
    """Counts: the commissioner's office sees the partnership; others their own organisation."""
    from partnership_api.models.referrals import Referral

    if actor.is_commissioner:
        return stmt
    return stmt.where(
        sa.or_(
            Referral.from_organisation_id == actor.org_id,
            Referral.to_organisation_id == actor.org_id,
        )
    )


# --- who hears which events (the same rules as reads) -----------------------------------------


@dataclass(frozen=True, slots=True)
class Listener:
    """Whoever hears events: a signed-in caller reading the feed, or an organisation's
    webhook endpoint (which hears what the organisation's staff may read)."""

    org_id: int
    org_kind: str
    reads_referrals: bool


def listener_of(actor: Actor) -> Listener:
    """The caller as a reader of the feed: their organisation, with their role's reach."""
    return Listener(actor.org_id, actor.org_kind, _can_handle_referrals(actor))


def organisation_listener(org_id: int, org_kind: str) -> Listener:
    """An organisation's webhook endpoints hear what its staff may read."""
    return Listener(org_id, org_kind, org_kind in ("police", "provider"))


def scope_events(listener: Listener, stmt: sa.Select) -> sa.Select:
    """The events a listener may hear, by each type's audience (``events.outbox.EVENT_TYPES``):

    - ``referral``: about a referral (or its hold, or an alert set for it), heard by the
      organisations it concerns, when they may read referrals at all: ``_rule_referral_read``;
    - ``everyone``: bed availability, which every signed-in user reads;
    - ``projects``: the commissioner's office, and the project's lead and delivery partners.
    """
    from partnership_api.models.events import Event, EventOrganisation

    party = Event.position.in_(
        sa.select(EventOrganisation.position).where(
            EventOrganisation.organisation_id == listener.org_id
        )
    )
    heard = [Event.audience == "everyone"]
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
