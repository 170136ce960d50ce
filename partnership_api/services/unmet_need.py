"""The needs picture for the safe-accommodation needs assessment and strategy: the households
referred to a refuge that could not be placed, and why, grouped as asked. Households, outcomes
and reasons are those of the annual return (``safe_accommodation_return.households``), and so
is the disclosure rule: every cell listed, rounded to 5, counts from 0 to 4 suppressed.
"""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date, datetime, time, timedelta

from partnership_api import audit, policy
from partnership_api.database import db
from partnership_api.domain_errors import Invalid
from partnership_api.models.partnership import AREAS
from partnership_api.models.safe_accommodation import NOT_SUPPORTED_REASONS, UNMET_NEEDS
from partnership_api.policy import Actor
from partnership_api.services.safe_accommodation_return import UK, cell, households
from partnership_api.services.stats import MAX_CELLS, ROUNDING_BASE, SUPPRESSION_THRESHOLD

HOUSEHOLD_SIZES = ("1", "2", "3", "4", "5", "6_or_more")
OUTSIDE = "outside_the_partnership"
NOT_KNOWN = "not_known"


def _value(name: str, household: dict) -> str | None:
    if name == "reason":
        return household["reason"]
    if name == "need":
        return household["need"]
    if name == "household_size":
        return HOUSEHOLD_SIZES[min(household["household_size"], 6) - 1]
    origin = household["fleeing_from"]
    if not origin:
        return NOT_KNOWN
    return origin if origin in AREAS else OUTSIDE


AXES = {
    "reason": list(NOT_SUPPORTED_REASONS),
    "need": [*UNMET_NEEDS, None],
    "household_size": list(HOUSEHOLD_SIZES),
    "origin_area": [*sorted(AREAS), OUTSIDE, NOT_KNOWN],
}


def unmet_need(actor: Actor, args: dict) -> dict:
    """Households not supported whose first refuge referral was made from ``from`` to ``to``
    (UK days, both inclusive; the last twelve months when absent), grouped as asked."""
    policy.require(actor, "stats.safe_accommodation")
    group_by: list[str] = list(args.get("group_by") or [])
    end_day: date = args.get("to") or datetime.now(UK).date()
    start_day: date = args.get("from_") or (end_day - timedelta(days=364))
    size = 1
    for name in group_by:
        size *= len(AXES[name])
    if size > MAX_CELLS:
        raise Invalid.on(
            "group_by",
            f"That table would have {size} cells (at most {MAX_CELLS}).",
            "Too many cells.",
            location="query",
        )
    start = datetime.combine(start_day, time.min, UK)
    end = datetime.combine(end_day + timedelta(days=1), time.min, UK)
    refused = [h for h in households(start, end) if h["outcome"] == "not_supported"]
    counts = Counter(tuple(_value(name, h) for name in group_by) for h in refused)
    groups = []
    for key in itertools.product(*(AXES[name] for name in group_by)):
        groups.append({**dict(zip(group_by, key, strict=True)), **cell(counts.get(key, 0))})
    audit.record(
        "stats.unmet_need",
        "unmet_need",
        details={"group_by": group_by, "from": start_day.isoformat(), "to": end_day.isoformat()},
    )
    db.session.commit()
    return {
        "group_by": group_by,
        "from_": start_day,
        "to": end_day,
        "groups": groups,
        "total": cell(len(refused)),
        "suppression_threshold": SUPPRESSION_THRESHOLD,
        "rounding_base": ROUNDING_BASE,
    }
