"""The inbox and outbox: a page of an organisation's referrals, sent and received, newest
first (or in another of ``ORDERS``), with their live holds and a capped count, in one prebuilt
statement (``direct.referral_page``).

The statement is built from the policy's own scope (``policy.referral_scope_sides``), with the
same row and live-hold clauses as the single read (``referral_reads``).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from partnership_api import audit, direct, policy
from partnership_api.database import db
from partnership_api.direct import referral_page
from partnership_api.direct.referral_page import DEFAULT_ORDER, ORDERS
from partnership_api.domain_errors import Invalid
from partnership_api.models.base import utcnow
from partnership_api.pagination import Page, PageRequest, check_page
from partnership_api.policy import Actor
from partnership_api.services.referral_reads import row_shown

__all__ = ["DEFAULT_ORDER", "ORDERS", "list_referrals"]

# A list counts at most this many referrals past the start of the page it shows (see
# ``list_referrals``), so no page ever counts an organisation's whole history.
COUNT_LIMIT = 1000


def _sides(actor: Actor, args: dict) -> list[sa.ColumnElement[bool]]:
    """The parts of the caller's referrals to read, each along one organisation index.

    The parts are the policy's own scope, side by side (``policy.referral_scope_sides``): with
    ``direction``, one side; without it, what the organisation received and what it sent (and
    did not also receive). Merging the newest of each beats sorting everything the organisation
    ever sent or received, and one side alone lets the database use its index.
    """
    sides = policy.referral_scope_sides(actor)
    if not sides:
        return [sa.false()]
    direction = args.get("direction")
    if direction in sides:
        return [sides[direction]]
    return [sides["received"], sa.and_(sides["sent"], sa.not_(sides["received"]))]


def _count_up_to(actor: Actor, args: dict, now: datetime, cap: int) -> int:
    """How many referrals match, counting no further than ``cap``."""
    newest = referral_page.newest_ids(_sides(actor, args), args, now, cap)
    counted = db.session.scalar(sa.select(sa.func.count()).select_from(newest))
    return min(counted, cap)


def _page_statement(actor: Actor, args: dict, order: tuple[str, str]) -> sa.Select:
    return referral_page.statement(
        policy.referral_scope_key(actor), lambda: _sides(actor, args), args, order
    )


def list_referrals(
    actor: Actor, args: dict, page: PageRequest, order: tuple[str, str] = DEFAULT_ORDER
) -> Page:
    """A page of the caller's organisation's referrals, sent and received, newest first
    unless ``order`` says otherwise (one of ``ORDERS``: by received or response due, either
    way).

    ``X-Pagination``'s ``total`` is exact up to ``COUNT_LIMIT`` referrals past the start of the
    page; when more match it says start + ``COUNT_LIMIT``, so ``next_page`` is always right
    and ``total_pages`` grows as the caller pages on. One ``referral.list`` audit event names
    every referral shown.
    """
    policy.require(actor, "referral.read")
    now = utcnow()
    size = page.size
    start = page.offset
    cap = start + COUNT_LIMIT
    check_page(page)
    if order not in ORDERS:
        raise Invalid.on("sort", "sort: by received or due, asc or desc.", location="query")
    rows = direct.rows(
        _page_statement(actor, args, order),
        {"now": now, "window": start + size, "cap": cap, "size": size, "offset": start},
    )
    if 0 < len(rows) < size or (not rows and start == 0):
        total = start + len(rows)
    elif rows:
        total = min(rows[0].matching, cap)
    else:  # past the end
        total = _count_up_to(actor, args, now, cap)
    shown = [row_shown(row, now) for row in rows]
    audit.record_many(_list_entries(actor, rows))
    db.session.commit()
    return Page(shown, total)


def _list_entries(actor: Actor, rows: list[sa.Row]) -> list[audit.Entry]:
    """Which referrals were listed: one event per partner organisation on the other side, so
    that organisation's admin sees its referrals were shown too."""
    by_partner: dict[int | None, list[str]] = {}
    for referral in rows:
        partner = (
            referral.to_organisation_id
            if referral.from_organisation_id == actor.org_id
            else referral.from_organisation_id
        )
        by_partner.setdefault(partner, []).append(str(referral.id))
    if not by_partner:
        by_partner[None] = []
    return [
        audit.Entry(
            "referral.list",
            "referral",
            None,
            subject_organisation_id=actor.org_id,
            related_organisation_id=partner,
            details={"ids": ids},
        )
        for partner, ids in by_partner.items()
    ]
