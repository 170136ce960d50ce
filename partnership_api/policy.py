"""Who may do what: the partnership's need-to-know policy, in one place. It only decides.

Every operation asks ``require(actor, action)`` (may this organisation kind and role use the
function at all? If not, ``Refused``, 403, whatever object was named, so nothing leaks), then
``authorize(actor, action, item)`` (hidden: 404, its existence does not leak; seen but not
to be changed: 403); ``can`` and ``may`` answer without raising. A refusal carries what the
audit trail keeps of it (``RefusalRecord``); whoever catches it writes that: this module
imports no web framework and writes nothing. ``FUNCTION_RULES`` names every function, defaults
included; lists are filtered by ``scope_*`` and ``referral_scope_sides``, with the same rule as
the single read. Rules follow ``shared/domain.md``; misuse rules are in ``misuse_rules``, event
rules in ``policy_events``, safe accommodation's in ``policy_safe_accommodation``, referrals'
(their reads and their lifecycle, ``TRANSITIONS``) in ``policy_referrals``. Roles:
``staff`` works, ``analyst`` reads figures only, ``admin`` also manages its users.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa

from partnership_api import misuse_rules
from partnership_api import policy_referrals as referrals
from partnership_api import policy_safe_accommodation as safe_accommodation
from partnership_api.actors import Actor
from partnership_api.domain_errors import RefusalRecord, Refused
from partnership_api.misuse_rules import (  # noqa: F401
    HoldAttempt,
    NewUser,
    sees_address,
    sees_person,
)
from partnership_api.policy_referrals import (  # noqa: F401
    TRANSITIONS,
    referral_scope_key,
    referral_scope_sides,
    scope_referral_statistics,
)

# --- function-level rules (403) -------------------------------------------------------------


def _everyone(actor: Actor) -> bool:
    """Every signed-in user, of any organisation and role."""
    return True


_can_handle_referrals = referrals.handles_referrals


def _manages_users(actor: Actor) -> bool:
    return actor.partnership_admin or actor.role == "admin"


FUNCTION_RULES: dict[str, Callable[[Actor], bool]] = {
    # Reads every signed-in user may do (no personal data, no addresses).
    "organisation.read": _everyone,
    "service.read": _everyone,
    "refuge.read": _everyone,
    "availability.read": _everyone,
    "bed.search": _everyone,
    "fund.read": _everyone,
    "project.read": _everyone,
    "funding.summary": _everyone,
    "funding.export": _everyone,
    # Figures are counted within the actor's scope (``scope_referral_statistics``).
    "stats.read": _everyone,
    # Setting up the partnership.
    "organisation.create": lambda a: a.partnership_admin,
    "organisation.change": lambda a: a.partnership_admin,
    "service.create": _manages_users,
    "user.manage": _manages_users,
    # Referrals and holds.
    "referral.create": _can_handle_referrals,
    "referral.read": _can_handle_referrals,
    "referral.act": _can_handle_referrals,
    "bed.hold": _can_handle_referrals,
    "availability.update": lambda a: a.is_worker and a.org_kind == "provider",
    # Funding.
    "fund.change": lambda a: a.is_worker and a.is_commissioner,
    "project.change": lambda a: a.is_worker and a.is_commissioner,
    # The police read projects but never change them, even those they deliver (domain.md).
    "project.progress": lambda a: a.is_worker and a.org_kind in ("commissioner", "provider"),
    "audit.read": _manages_users,
    # Events (``policy_events``: who hears what, whose webhooks and alerts are whose).
    "events.read": _everyone,
    "webhook.manage": lambda a: a.role == "admin",
    "vacancy_alert.manage": _can_handle_referrals,
    **safe_accommodation.FUNCTION_RULES,  # stays, commissioned spaces, the return
}

FUNCTION_MESSAGES = {
    "organisation.create": "Only the partnership admin sets up organisations.",
    "organisation.change": "Only the partnership admin changes organisations.",
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
    "webhook.manage": "Only an organisation's admins manage its webhooks.",
    "vacancy_alert.manage": "Your role cannot set vacancy alerts.",
    **safe_accommodation.FUNCTION_MESSAGES,
}

_RESOURCE_TYPES = {"availability": "refuge", "commissioned_spaces": "refuge"}


def _resource_type(action: str) -> str:
    kind = action.split(".")[0]
    return _RESOURCE_TYPES.get(kind, kind)


def can(actor: Actor, action: str) -> bool:
    """Whether the actor's kind and role allow this function at all."""
    return bool(FUNCTION_RULES[action](actor))


def require(actor: Actor, action: str) -> None:
    """``Refused`` (403) unless the actor's organisation kind and role allow this function."""
    if not can(actor, action):
        raise Refused(
            FUNCTION_MESSAGES[action],
            actor=actor,
            record=RefusalRecord(action, _resource_type(action), None, details={"status": 403}),
        )


# --- what a delivery partner may change: progress, not the plan ----------------------------------

# The fields of each part of a project that are progress (a delivery partner's to report);
# any other field is the commissioner's. Adding a milestone, a spend line or an output, or
# correcting a spend line, is progress too (a partner may plan its own steps): ``fields=()``.
PROGRESS_FIELDS: dict[str, frozenset[str]] = {
    "project": frozenset({"rag", "rag_commentary"}),
    "milestone": frozenset({"completed_on"}),
    "output": frozenset({"actual"}),
    "spend": frozenset(),
}


def project_action(part: str, fields: Iterable[str]) -> str:
    """``project.progress`` when every field changed is progress on this part of a project (a
    partner cannot quietly rebaseline its own deadlines or targets), else ``project.change``."""
    return "project.progress" if set(fields) <= PROGRESS_FIELDS[part] else "project.change"


# --- object-level rules (404 / 403) -----------------------------------------------------------


class _Deny(Exception):
    """A rule's no: ``hidden`` (404) or forbidden (403); ``details`` and ``subject`` override
    what the audit trail records."""

    def __init__(
        self,
        message: str,
        hidden: bool = False,
        details: dict | None = None,
        subject: int | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.hidden = hidden
        self.details = details
        self.subject = subject


def _forbid(message: str) -> None:
    raise _Deny(message)


def _hide() -> None:
    raise _Deny("Not found.", hidden=True)


def _deny_if(no: referrals.No | None) -> None:
    if no is not None:
        raise _Deny(no.message, hidden=no.hidden)


def _rule_referral_read(actor: Actor, referral: Any) -> None:
    _deny_if(referrals.read(actor, referral))


def _rule_referral_step(action: str) -> Callable[[Actor, Any], None]:
    """A step of the referral's lifecycle (``policy_referrals.TRANSITIONS``): from its side."""
    return lambda actor, referral: _deny_if(referrals.take(actor, action, referral))


def _refuse_if(why: str | None) -> None:
    if why:
        _forbid(why)


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


def _rule_user_create(actor: Actor, new: NewUser) -> None:
    if actor.partnership_admin:  # another organisation: its first admin only (issue 25)
        if (why := misuse_rules.first_admin_only(actor, new)) is not None:
            raise _Deny(why, details={"reason": "not_first_admin"}, subject=new.organisation_id)
        return
    if new.organisation_id not in (None, actor.org_id):
        raise _Deny(
            "You can only create users in your own organisation.",
            details={"reason": "other_organisation"},
            subject=new.organisation_id,
        )
    if new.partnership_admin:
        raise _Deny(
            "Only the partnership admin can make a partnership admin.",
            details={"reason": "partnership_admin"},
            subject=actor.org_id,
        )


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


OBJECT_RULES: dict[str, Callable[[Actor, Any], None]] = {
    "referral.read": _rule_referral_read,
    "referral.note": _rule_referral_read,
    "referral.hold": _rule_referral_read,
    "referral.create": lambda a, service: _refuse_if(misuse_rules.refer_to(a, service)),
    # A party to the referral (else hidden), then where and when (``misuse_rules.hold_at``).
    "bed_hold.place": lambda a, hold: (
        _rule_referral_read(a, hold.referral) or _refuse_if(misuse_rules.hold_at(a, hold))
    ),
    "refuge.holds": lambda a, refuge: _refuse_if(misuse_rules.refuge_holds(a, refuge)),
    **{f"referral.{action}": _rule_referral_step(action) for action in TRANSITIONS},
    "service.update": _rule_own_service,
    "availability.update": _rule_availability_update,
    "user.create": _rule_user_create,
    "user.read": _rule_user_manage,
    "user.update": _rule_user_manage,
    "user.reset_password": lambda a, user: (
        _rule_user_manage(a, user) or _refuse_if(misuse_rules.reset_password(a, user))
    ),
    "project.change": _rule_project_change,
    "project.progress": _rule_project_progress,
    "stay.read": lambda a, stay: None if safe_accommodation.own_stay(a, stay) else _hide(),
    "stay.change": lambda a, stay: None if safe_accommodation.own_stay(a, stay) else _hide(),
    "commissioned_spaces.report": lambda a, r: _refuse_if(safe_accommodation.report_at(a, r)),
}


def may(actor: Actor, action: str, item: Any) -> bool:
    """Whether the actor may do ``action`` to ``item`` now: ``authorize`` without raising and,
    for a step of a referral's lifecycle, the referral's status is the one the step needs
    (``policy_referrals.TRANSITIONS``; the service answers 409 otherwise). What a page offers
    is this answer."""
    try:
        OBJECT_RULES[action](actor, item)
    except _Deny:
        return False
    return referrals.fits(action, item)


def authorize(actor: Actor, action: str, item: Any) -> None:
    """``Refused`` (hidden: 404, or 403) unless the actor may do ``action`` to ``item``."""
    try:
        OBJECT_RULES[action](actor, item)
    except _Deny as deny:
        subject, related = _organisations_of(item)
        if deny.subject is not None:
            subject, related = deny.subject, None
        raise Refused(
            deny.message,
            hidden=deny.hidden,
            actor=actor,
            record=RefusalRecord(
                action,
                _resource_type(action),
                getattr(item, "id", None),
                details=deny.details or {"status": 404 if deny.hidden else 403},
                subject_organisation_id=subject,
                related_organisation_id=related,
            ),
        ) from None


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


# --- list scopes (the same rules as the single reads above; referrals': ``policy_referrals``) --


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
