"""The inbox's page statements: a page of an organisation's referrals, sent and received, with
their live holds and a capped count, in one prebuilt statement per policy scope, filters and
order (their values are part of the statement), built once and reused: building and compiling
it cost more than running it.

The caller (``services.referral_lists``) gives the policy's scope as ``sides``: the conditions
of the parts of the caller's referrals to read (``policy.referral_scope_sides``), each along
one organisation index. The rows and the live-hold join are the single read's
(``statements.ROW_COLUMNS``, ``with_live_hold``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence

import sqlalchemy as sa
from cachetools import LRUCache, cached

from partnership_api.direct.statements import NOW, ROW_COLUMNS, with_live_hold
from partnership_api.models.referrals import Referral

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
FILTERS = (
    "status",
    "kind",
    "risk_level",
    "to_service_id",
    "area",
    "overdue",
    "created_after",
    "created_before",
    "modified_after",
)


def filtered(stmt: sa.Select, args: dict, now) -> sa.Select:
    """``stmt`` narrowed by the list's filters (``FILTERS``; ``now`` for ``overdue``)."""
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


def _scoped(args: dict, now, side, *columns, order: tuple = NEWEST_FIRST) -> sa.Select:
    return filtered(sa.select(*columns), args, now).where(side).order_by(*order)


def newest_ids(
    sides: Sequence[sa.ColumnElement[bool]], args: dict, now, window, order: tuple = NEWEST_FIRST
) -> sa.Subquery:
    """The ids of the first ``window`` referrals of each side in ``order`` (newest first
    unless told), as one subquery."""
    branches = []
    for side in sides:
        branch = _scoped(args, now, side, Referral.id, order=order).limit(window).subquery()
        branches.append(sa.select(branch.c.id))
    return (branches[0] if len(branches) == 1 else sa.union_all(*branches)).subquery()


def _listing(sides, args: dict, now, window, *columns, order: tuple = NEWEST_FIRST) -> sa.Select:
    """The referrals matching ``args`` within ``sides``, in ``order``; ``window`` is how many
    rows from the top the caller may page to (offset + page size). One side alone lets the
    database use its index; several are merged from the newest of each."""
    if len(sides) == 1:
        return _scoped(args, now, sides[0], *columns, order=order)
    first = newest_ids(sides, args, now, window, order)
    return sa.select(*columns).where(Referral.id.in_(sa.select(first.c.id))).order_by(*order)


def build(sides: Sequence[sa.ColumnElement[bool]], args: dict, order: tuple) -> sa.Select:
    """A page with its live holds and the capped count (``matching``): one statement, with
    ``now``, ``window``, ``cap``, ``size`` and ``offset`` to bind."""
    matching = (
        sa.select(sa.func.count())
        .select_from(newest_ids(sides, args, NOW, sa.bindparam("cap", type_=sa.Integer)))
        .scalar_subquery()
        .label("matching")
    )
    listing = _listing(
        sides,
        args,
        NOW,
        sa.bindparam("window", type_=sa.Integer),
        *ROW_COLUMNS,
        matching,
        order=order,
    )
    return (
        with_live_hold(listing)
        .limit(sa.bindparam("size", type_=sa.Integer))
        .offset(sa.bindparam("offset", type_=sa.Integer))
    )


# Built once per policy scope, filters and order, and reused: building and compiling a page
# statement cost more than running it. The least recently used goes when the cache is full.
STATEMENTS_KEPT = 1024


@cached(
    LRUCache(maxsize=STATEMENTS_KEPT),
    key=lambda scope, sides_of, args, order: (scope, tuple(sorted(args.items())), order),
    lock=threading.Lock(),
)
def statement(
    scope: Hashable,
    sides_of: Callable[[], Sequence[sa.ColumnElement[bool]]],
    args: dict,
    order: tuple[str, str],
) -> sa.Select:
    """The page statement for this policy scope (``scope`` names it: ``sides_of()`` must give
    the same sides for the same ``scope``), filters and order (one of ``ORDERS``), built once:
    the sides are asked for only then (building them is a fifth of a cached page's work)."""
    return build(sides_of(), args, ORDERS[order])
