"""The policy's rules against a partner misusing what it may call (issue 18), as plain
decisions: each answers why not (a message for the caller), or None. ``policy.py`` names them
as rules (``referral.create``, ``bed_hold.place``, ``refuge.holds``, ``user.create``,
``user.reset_password``) and refuses with them, and
offers ``sees_address`` and ``sees_person`` as its own; callers ask the policy, never this
module. No web framework, no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from partnership_api.actors import Actor


def refer_to(actor: Actor, service: Any) -> str | None:
    """An organisation never refers to its own services: a referral is between partners (and
    since a hold goes only with the refuge a referral is addressed to, a provider could
    otherwise take beds by referring made-up people to itself)."""
    if service.organisation_id == actor.org_id:
        return "Your organisation cannot refer to its own services."
    return None


@dataclass(frozen=True, slots=True)
class HoldAttempt:
    """A hold about to be placed: the referral (locked), the refuge asked for and its
    organisation, and until when an earlier, released hold of this referral there would have
    lasted (None: no such hold still within its lifetime)."""

    referral: Any
    refuge_id: int
    refuge_organisation_id: int
    earlier_hold_lasts_until: Any = None

    @property
    def from_organisation_id(self) -> int:  # the organisations a refusal is about
        return self.referral.from_organisation_id

    @property
    def to_organisation_id(self) -> int:
        return self.refuge_organisation_id


def hold_at(actor: Actor, attempt: HoldAttempt) -> str | None:
    """For a party to the referral: a space is held only at the refuge the referral is
    addressed (or redirected) to; a released hold is not renewed within its lifetime except
    by that refuge's own staff."""
    if attempt.refuge_id != attempt.referral.to_service_id:
        return (
            "A bed space is held only at the refuge the referral is addressed to: refer to "
            "that refuge (or ask the refuge to redirect the referral) to hold a space there."
        )
    refuge_staff = actor.org_id == attempt.refuge_organisation_id
    if attempt.earlier_hold_lasts_until is not None and not refuge_staff:
        return (
            "This referral held a space here until "
            f"{attempt.earlier_hold_lasts_until.isoformat()}; only the refuge can hold one "
            "again before then."
        )
    return None


@dataclass(frozen=True)
class NewUser:
    """A user about to be made: the organisation asked for (None: the actor's own), whether
    they would be a partnership admin, their role, and whether that organisation has no active
    admin yet (they would be its first)."""

    organisation_id: int | None
    partnership_admin: bool
    role: str = "staff"
    first_admin: bool = False


def first_admin_only(actor: Actor, new: NewUser) -> str | None:
    """The partnership admin makes the first admin of another organisation, and nobody else
    there: that organisation's admins make its other users (else the partnership admin could
    make a refuge worker, sign in as her, and read the refuge's address and referrals)."""
    if new.organisation_id in (None, actor.org_id):
        return None
    if new.role == "admin" and new.first_admin and not new.partnership_admin:
        return None
    return (
        "The partnership admin makes only an organisation's first admin; its admins make its "
        "other users."
    )


def reset_password(actor: Actor, user: Any) -> str | None:
    """Another organisation's user's password is reset by that organisation's admins, never by
    the partnership admin (who could then sign in as them); a refusal is told to them."""
    if actor.partnership_admin and user.organisation_id != actor.org_id:
        return (
            "Only the user's own organisation's admins reset their password; its admins have "
            "been told of this attempt."
        )
    return None


def refuge_holds(actor: Actor, refuge: Any) -> str | None:
    """A refuge's own staff see and release the holds on its beds."""
    if not (actor.is_worker and refuge.organisation_id == actor.org_id):
        return "Only the refuge's own staff see and release the holds on its beds."
    return None


def sees_address(actor: Actor | None, service: Any) -> bool:
    """A service's address (a refuge's above all) is shown only to its own organisation."""
    return actor is not None and actor.org_id == service.organisation_id


def sees_person(actor: Actor, organisation_id: int | None) -> bool:
    """Who did something (a username, a user id, a client address) is shown only within the
    organisation they act for; others see the organisation. The partnership admin sees
    everyone; an attempt made without signing in (no organisation) shows the name tried and
    the address it came from to the organisation it was about."""
    return actor.partnership_admin or organisation_id is None or organisation_id == actor.org_id
