"""The inbox and outbox: a page of an organisation's referrals, sent and received, newest
first (or in another of ``ORDERS``), with their live holds and a capped count, in one prebuilt
statement (``direct``).

The statement is built from the policy's own scope (``policy.referral_scope_sides``), the same
filters and the same row and live-hold clauses as the single read (``referral_reads``).
"""

from __future__ import annotations

import threading
from datetime import datetime

import sqlalchemy as sa
from cachetools import LRUCache, cached

from partnership_api import audit, direct, policy
from partnership_api.domain_errors import Invalid
from partnership_api.extensions import db
from partnership_api.models.base import utcnow
from partnership_api.models.referrals import (
    Referral,
)
from partnership_api.pagination import Page, PageRequest, check_page
from partnership_api.policy import Actor
from partnership_api.services.referral_reads import NOW, ROW_COLUMNS, row_shown, with_live_hold

# A list counts at most this many referrals past the start of the page it shows (see
# ``list_referrals``), so no page ever counts an organisation's whole history.
COUNT_LIMIT = 1000


def _filtered(stmt: sa.Select, args: dict, now: datetime) -> sa.Select:
    for name in ("status", "kind", "risk_level", "to_service_id"):
        if name in args:
            stmt = stmt.where(getattr(Referral, name) == args[name])
    if "area" in args:
        stmt = stmt.where(Referral.subject_area == args["area"])
    if "overdue" in args:
        late = sa.and_(Referral.status == "submitted", Referral.response_due_at < now)
        stmt = stmt.where(late if args["overdue"] else sa.not_(late))
    if "created_after" in args:
        stmt = stmt.where(Referral.created_at > args["created_after"])
    if "created_before" in args:
        stmt = stmt.where(Referral.created_at < args["created_before"])
    if "modified_after" in args:
        stmt = stmt.where(Referral.updated_at > args["modified_after"])
    return stmt


NEWEST_FIRST = (Referral.created_at.desc(), Referral.id.desc())
# The orders a list can be read in: (by, direction) → ORDER BY. The id breaks ties, so paging
# never shows a referral twice or skips one.
ORDERS: dict[tuple[str, str], tuple] = {
    ("received", "desc"): NEWEST_FIRST,
    ("received", "asc"): (Referral.created_at.asc(), Referral.id.asc()),
    ("due", "asc"): (Referral.response_due_at.asc(), Referral.id.asc()),
    ("due", "desc"): (Referral.response_due_at.desc(), Referral.id.desc()),
}
DEFAULT_ORDER = ("received", "desc")


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


def _scoped(
    actor: Actor, args: dict, now: datetime, side, *columns, order: tuple = NEWEST_FIRST
) -> sa.Select:
    return _filtered(sa.select(*columns), args, now).where(side).order_by(*order)


def _newest_ids(
    actor: Actor, args: dict, now: datetime, window: int, order: tuple = NEWEST_FIRST
) -> sa.Subquery:
    """The ids of the first ``window`` referrals of each side in ``order`` (newest first
    unless told), as one subquery."""
    branches = []
    for side in _sides(actor, args):
        branch = _scoped(actor, args, now, side, Referral.id, order=order).limit(window).subquery()
        branches.append(sa.select(branch.c.id))
    return (branches[0] if len(branches) == 1 else sa.union_all(*branches)).subquery()


def _listing(
    actor: Actor, args: dict, now: datetime, window: int, *columns, order: tuple = NEWEST_FIRST
) -> sa.Select:
    """The caller's referrals matching ``args``, in ``order``, within the policy's scope.

    ``window`` is how many rows from the top the caller may page to (offset + page size).
    """
    sides = _sides(actor, args)
    if len(sides) == 1:
        return _scoped(actor, args, now, sides[0], *columns, order=order)
    first = _newest_ids(actor, args, now, window, order)
    return sa.select(*columns).where(Referral.id.in_(sa.select(first.c.id))).order_by(*order)


def _count_up_to(actor: Actor, args: dict, now: datetime, cap: int) -> int:
    """How many referrals match, counting no further than ``cap``."""
    newest = _newest_ids(actor, args, now, cap)
    counted = db.session.scalar(sa.select(sa.func.count()).select_from(newest))
    return min(counted, cap)


def _build_page_statement(actor: Actor, args: dict, now, order: tuple) -> sa.Select:
    """A page of the caller's referrals with their live holds and the capped count: one
    statement, with ``now``, ``window``, ``cap``, ``size`` and ``offset`` to bind."""
    matching = (
        sa.select(sa.func.count())
        .select_from(_newest_ids(actor, args, now, sa.bindparam("cap", type_=sa.Integer)))
        .scalar_subquery()
        .label("matching")
    )
    listing = _listing(
        actor,
        args,
        now,
        sa.bindparam("window", type_=sa.Integer),
        *ROW_COLUMNS,
        matching,
        order=order,
    )
    return (
        with_live_hold(listing, now)
        .limit(sa.bindparam("size", type_=sa.Integer))
        .offset(sa.bindparam("offset", type_=sa.Integer))
    )


# Built once per policy scope (``policy.referral_scope_key``), direction and filters (their
# values are part of the statement), and reused: building and compiling it cost more than
# running it. The least recently used goes when the cache is full.
PAGE_STATEMENTS_KEPT = 1024


@cached(
    LRUCache(maxsize=PAGE_STATEMENTS_KEPT),
    key=lambda actor, args, order: (
        policy.referral_scope_key(actor),
        tuple(sorted(args.items())),
        order,
    ),
    lock=threading.Lock(),
)
def _page_statement(actor: Actor, args: dict, order: tuple[str, str]) -> sa.Select:
    return _build_page_statement(actor, args, NOW, ORDERS[order])


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
