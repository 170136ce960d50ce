"""Who may do what to a referral, and its lifecycle in one table (``policy`` asks these).

``TRANSITIONS`` is the one statement of a referral's lifecycle: each action, the status it
needs, the status it leads to, and which side takes it (its receiver or its sender). The
referral service changes the status by it (a 409 when the status is not the one needed), the
object rules below are built from it (404 for a stranger, 403 for the wrong side), and the
pages offer what ``policy.may`` answers from both. Like the rest of the policy, it only
decides: it writes nothing and imports no web framework.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import sqlalchemy as sa

from partnership_api.actors import Actor


class Step(NamedTuple):
    """One step of a referral's lifecycle: the status it needs, the one it leads to, who."""

    needs: str
    leads_to: str
    by: str  # "receiver" (the organisation it was sent to) or "sender"


TRANSITIONS: dict[str, Step] = {
    "accept": Step("submitted", "accepted", "receiver"),
    "decline": Step("submitted", "declined", "receiver"),
    "redirect": Step("submitted", "redirected", "receiver"),
    "withdraw": Step("submitted", "withdrawn", "sender"),
    "close": Step("accepted", "closed", "receiver"),
}

# Which side each ``Step.by`` names, and what someone on the other side is told (403).
_SIDES = {
    "receiver": ("to_organisation_id", "Only the receiving organisation can do this."),
    "sender": ("from_organisation_id", "Only the sending organisation can withdraw a referral."),
}


class No(NamedTuple):
    """A rule's no: its message, and whether the referral is hidden (404) or only refused."""

    message: str
    hidden: bool = False


HIDDEN = No("Not found.", hidden=True)


READS_REFERRALS = ("police", "provider")  # the kinds of organisation whose workers do


def handles_referrals(actor: Actor) -> bool:
    """The police's and providers' workers make, read and act on referrals."""
    return actor.is_worker and actor.org_kind in READS_REFERRALS


def parties(referral: Any) -> tuple[int, int]:
    return referral.from_organisation_id, referral.to_organisation_id


def read(actor: Actor, referral: Any) -> No | None:
    """Its sender's and receiver's workers see it; to anyone else it does not exist."""
    if not handles_referrals(actor) or actor.org_id not in parties(referral):
        return HIDDEN
    return None


def take(actor: Actor, action: str, referral: Any) -> No | None:
    """A party may take a step of the lifecycle only from its own side (the step's ``by``)."""
    if (no := read(actor, referral)) is not None:
        return no
    column, message = _SIDES[TRANSITIONS[action].by]
    return None if getattr(referral, column) == actor.org_id else No(message)


def fits(action: str, referral: Any) -> bool:
    """Whether the referral's status is the one this step needs (an action that is not a step
    of the lifecycle fits any status). A referral given without its status (the policy's own
    tests ask about the parties alone) is judged by its parties alone."""
    step = TRANSITIONS.get(action.removeprefix("referral."))
    status = getattr(referral, "status", None)
    return step is None or status is None or status == step.needs


# --- list scopes (the same rule as ``read``) --------------------------------------------------


def referral_scope_sides(actor: Actor) -> dict[str, sa.ColumnElement[bool]]:
    """The referrals an actor may read, as the two sides of one rule: those their organisation
    received and those it sent. Empty when their role reads none.

    A list reads one side at a time (along its own index); together the sides are exactly the
    single read's rule (``read``).
    """
    from partnership_api.models.referrals import Referral

    if not handles_referrals(actor):
        return {}
    return {
        "received": Referral.to_organisation_id == actor.org_id,
        "sent": Referral.from_organisation_id == actor.org_id,
    }


def referral_scope_key(actor: Actor) -> tuple:
    """Everything ``referral_scope_sides`` depends on: statements built from the scope may be
    reused for any actor with the same key. Change both together."""
    return (handles_referrals(actor), actor.org_id)


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
