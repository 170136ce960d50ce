"""The policy's rules for the safe-accommodation duty: stays and the return. Part of the policy
(``policy.py`` merges these functions into ``FUNCTION_RULES`` and names the object rules); like
it, this module only decides.

- A stay (who stayed, their characteristics, how it ended) is read and changed only by the
  refuge's own organisation's workers: not the referrer, not the commissioner, no analyst.
- A refuge's commissioned bed spaces are facts about the service, read by everyone and
  reported only by the refuge's own workers.
- The annual return covers the whole partnership and is read by the commissioner's office (its
  staff, analysts and admins, the partnership admin among them): counts only, suppressed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from partnership_api.actors import Actor


def _refuge_worker(actor: Actor) -> bool:
    return actor.is_worker and actor.org_kind == "provider"


FUNCTION_RULES: dict[str, Callable[[Actor], bool]] = {
    "stay.read": _refuge_worker,
    "stay.change": _refuge_worker,
    "commissioned_spaces.read": lambda a: True,
    "commissioned_spaces.report": _refuge_worker,
    "stats.safe_accommodation": lambda a: a.is_commissioner,
}

FUNCTION_MESSAGES = {
    "stay.read": "Only a refuge's own staff read its residents' stays.",
    "stay.change": "Only a refuge's own staff record its residents' stays.",
    "commissioned_spaces.report": "Only a refuge's own staff report its commissioned spaces.",
    "stats.safe_accommodation": "Only the commissioner's office reads the safe-accommodation "
    "return and the unmet-need figures.",
}


def own_stay(actor: Actor, stay: Any) -> bool:
    """The stay is at one of the actor's organisation's refuges."""
    return _refuge_worker(actor) and stay.organisation_id == actor.org_id


def report_at(actor: Actor, refuge: Any) -> str | None:
    """Why the actor may not report this refuge's commissioned spaces (None: they may)."""
    if _refuge_worker(actor) and refuge.organisation_id == actor.org_id:
        return None
    return "Only the refuge's own staff report its commissioned spaces."
