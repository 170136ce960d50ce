"""Referral statistics: counts only, protected so that no one can be singled out.

How every published figure is protected: **rounding to base 5 with suppression, zero and
non-zero cells alike.**

1. Every cell of the table is listed, those with no referrals included: each dimension's
   values are all its possible values (months: every month of the range), not only those
   that occur, so a missing cell never says "zero".
2. A count below ``SUPPRESSION_THRESHOLD`` (0 to 4, zero included) is published as
   ``{"count": null, "suppressed": true}``: nobody can tell a zero from a one.
3. Every other count, and the total, is rounded to the nearest multiple of ``ROUNDING_BASE``
   (5): 7 is published as 5, 9 as 10.

Why this method: every published figure is a multiple of 5 (or suppressed), so the difference
of any two of them, from any two questions (``group_by=kind`` minus ``group_by=risk_level``,
one date range minus an overlapping one, a table minus its own total), is a multiple of 5 too
and never a count from 1 to 4. Suppression applied to each table on its own could not promise
that: a figure another question published undid it. Rounding is deterministic (the same
question always gets the same answer, so asking again and averaging gains nothing), needs no
secret and no perturbation table to keep, and is easy to explain to partners ("to the nearest
5; fewer than 5 not shown"). The Office for National Statistics' cell-key perturbation
(Census 2021) loses less accuracy, but its noise needs a record key per referral kept with the
data, a published perturbation table and care to stay consistent across every question; for
figures of a few hundred referrals a month, rounding to 5 is the simpler safe choice.

Limits, stated plainly: rounding gives ranges, not exact counts (a published 10 is 8 to 12); a
reader who slides a date range one day at a time can see where a rounded figure steps, which
says a referral was made near then, not how many or whose. Every question asked is audited,
and the data are counts of referrals, never names or details.

Months are calendar months (UTC) of the referral's creation; ``from``/``to`` select referrals
made on those days (UTC, both inclusive). Pseudonymisation keeps every column counted here, so
figures are the same before and after retention runs.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from partnership_api import audit, policy
from partnership_api.database import db
from partnership_api.domain_errors import Invalid
from partnership_api.models.base import utcnow
from partnership_api.models.partnership import AREAS, Organisation
from partnership_api.models.referrals import REFERRAL_KINDS, RISK_LEVELS, STATUSES, Referral
from partnership_api.policy import Actor

SUPPRESSION_THRESHOLD = 5
ROUNDING_BASE = 5
# A table lists every combination of its dimensions' values; past this many cells the question
# must be narrowed (a shorter range, fewer dimensions).
MAX_CELLS = 5000

Key = tuple


def _month(dialect: str) -> sa.ColumnElement:
    """The calendar month (UTC) of a referral's creation, as ``YYYY-MM``, on either database."""
    if dialect == "postgresql":
        utc = sa.func.timezone(sa.literal_column("'UTC'"), Referral.created_at)
        return sa.func.to_char(utc, sa.literal_column("'YYYY-MM'"))
    # SQLite keeps UTC timestamps as ISO text (see models.base.UTCDateTime).
    return sa.func.strftime(sa.literal_column("'%Y-%m'"), Referral.created_at)


def _dimension(name: str, dialect: str) -> sa.ColumnElement:
    columns = {
        "kind": Referral.kind,
        "risk_level": Referral.risk_level,
        "status": Referral.status,
        "to_organisation": Referral.to_organisation_id,
        "area": Referral.subject_area,
    }
    return _month(dialect) if name == "month" else columns[name]


def published(count: int) -> int | None:
    """The figure published for a true count: None (suppressed) below the threshold, zero
    included; otherwise the nearest multiple of ``ROUNDING_BASE``."""
    if count < SUPPRESSION_THRESHOLD:
        return None
    return ROUNDING_BASE * round(count / ROUNDING_BASE)


def _months(start: date | None, end: date | None, span: tuple) -> list[str]:
    """Every calendar month of the range: without a start, from the first referral counted;
    without an end, to this month (or the last referral counted, if later)."""
    earliest, latest = (moment.date() if moment is not None else None for moment in span)
    today = utcnow().date()
    first = start or earliest or today
    last = end or max(today, latest or today)
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _values(name: str, counts: dict[Key, int], index: int, months: list[str]) -> list:
    """All the values a dimension can take, so that empty cells are listed too."""
    if name == "month":
        return months
    if name == "to_organisation":
        return list(db.session.scalars(sa.select(Organisation.id).order_by(Organisation.id)))
    fixed = {
        "kind": list(REFERRAL_KINDS),
        "risk_level": list(RISK_LEVELS),
        "status": list(STATUSES),
        "area": sorted(AREAS),
    }[name]
    # A value outside the list (a referral without an area) is listed when it occurs.
    extra = sorted({key[index] for key in counts} - set(fixed), key=lambda v: (v is None, v))
    return fixed + extra


def referral_statistics(actor: Actor, args: dict) -> dict:
    """Counts of the referrals the actor may count, grouped as asked, every cell listed,
    each rounded to base 5 and suppressed below 5 (see the module docstring)."""
    policy.require(actor, "stats.read")
    group_by: list[str] = list(args.get("group_by") or [])
    start: date | None = args.get("from_")
    end: date | None = args.get("to")
    dialect = db.session.get_bind().dialect.name
    dimensions = [_dimension(name, dialect).label(name) for name in group_by]

    def scoped(stmt: sa.Select) -> sa.Select:
        stmt = policy.scope_referral_statistics(actor, stmt)
        if start is not None:
            stmt = stmt.where(Referral.created_at >= datetime.combine(start, time.min, UTC))
        if end is not None:
            after = datetime.combine(end + timedelta(days=1), time.min, UTC)
            stmt = stmt.where(Referral.created_at < after)
        return stmt

    stmt = scoped(sa.select(*dimensions, sa.func.count().label("n")).select_from(Referral))
    if dimensions:
        stmt = stmt.group_by(*[_dimension(name, dialect) for name in group_by])
    counts = {tuple(row[:-1]): int(row[-1]) for row in db.session.execute(stmt) if row[-1]}

    months: list[str] = []
    if "month" in group_by:
        span = db.session.execute(
            scoped(sa.select(sa.func.min(Referral.created_at), sa.func.max(Referral.created_at)))
        ).one()
        months = _months(start, end, tuple(span))
    axes = [_values(name, counts, i, months) for i, name in enumerate(group_by)]
    size = 1
    for axis in axes:
        size *= len(axis)
    if size > MAX_CELLS:
        raise Invalid.on(
            "group_by",
            f"That table would have {size} cells (at most {MAX_CELLS}): ask for fewer "
            "dimensions or a shorter range.",
            "Too many cells; narrow the question.",
            location="query",
        )

    groups = []
    for key in itertools.product(*axes):
        figure = published(counts.get(key, 0))
        cell = dict(zip(group_by, key, strict=True))
        cell.update(count=figure, suppressed=figure is None)
        groups.append(cell)
    total = published(sum(counts.values()))

    audit.record(
        "stats.read",
        "referral_statistics",
        details={
            "group_by": group_by,
            "from": start.isoformat() if start else None,
            "to": end.isoformat() if end else None,
            "scope": "partnership" if actor.is_commissioner else "organisation",
        },
    )
    db.session.commit()
    return {
        "group_by": group_by,
        "from_": start,
        "to": end,
        "groups": groups,
        "total": {"count": total, "suppressed": total is None},
        "suppression_threshold": SUPPRESSION_THRESHOLD,
        "rounding_base": ROUNDING_BASE,
    }
