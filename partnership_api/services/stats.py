"""Referral statistics: counts only, with small numbers suppressed so no one can be singled out.

How the figures are protected (a standard cell-suppression scheme):

1. **Primary suppression.** Any count from 1 to 4 (below ``SUPPRESSION_THRESHOLD``) is
   published as ``{"count": null, "suppressed": true}``. Zero cells are not listed.
2. **Secondary suppression.** A suppressed cell must not be recoverable by subtracting the
   published cells from a total. Totals a reader can learn are: the table's total (returned
   here, and by the same question with no ``group_by``) and every *line* of the table, the
   cells that share all values but one (a coarser question, e.g. ``group_by=month`` for a
   month × risk-level table, publishes each line's sum). For every such group we require that
   its suppressed cells are either none, or at least two whose combined count leaves each of
   them anywhere between 1 and at least 4 once the others are known to be at least 1, i.e.
   ``sum − (k − 1) ≥ threshold − 1`` for ``k`` suppressed cells. While a group fails, its
   smallest unsuppressed cell is suppressed too (cells that stand alone in a line are taken
   last, since a coarser question publishes their value), and every group is checked again
   until none changes.
3. **The total.** It is suppressed when it is itself from 1 to 4, or when the table as a whole
   still fails the rule above (every cell already suppressed), so it cannot give a cell away.

Limits, stated plainly: the scheme is the usual line-by-line heuristic, not a full linear-
programming audit of every combination of questions; the time range is whole days, so
differencing two overlapping ranges still reveals counts for the days between them. The data
are counts of referrals, never names or details, and every question asked is audited.

Months are calendar months (UTC) of the referral's creation; ``from``/``to`` select referrals
made on those days (UTC, both inclusive). Pseudonymisation keeps every column counted here, so
figures are the same before and after retention runs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from partnership_api import audit, policy
from partnership_api.extensions import db
from partnership_api.models.referrals import Referral
from partnership_api.policy import Actor

SUPPRESSION_THRESHOLD = 5

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


def referral_statistics(actor: Actor, args: dict) -> dict:
    """Counts of the referrals the actor may count, grouped as asked, with suppression applied."""
    policy.require(actor, "stats.read")
    group_by: list[str] = list(args.get("group_by") or [])
    start: date | None = args.get("from_")
    end: date | None = args.get("to")
    dialect = db.session.get_bind().dialect.name
    dimensions = [_dimension(name, dialect).label(name) for name in group_by]

    stmt = sa.select(*dimensions, sa.func.count().label("n")).select_from(Referral)
    stmt = policy.scope_referral_statistics(actor, stmt)
    if start is not None:
        stmt = stmt.where(Referral.created_at >= datetime.combine(start, time.min, UTC))
    if end is not None:
        after = datetime.combine(end + timedelta(days=1), time.min, UTC)
        stmt = stmt.where(Referral.created_at < after)
    if dimensions:
        stmt = stmt.group_by(*[_dimension(name, dialect) for name in group_by])
    counts = {tuple(row[:-1]): int(row[-1]) for row in db.session.execute(stmt) if row[-1]}

    suppressed, total_suppressed = suppress(counts, len(group_by))
    total = sum(counts.values())
    groups = []
    for key in sorted(counts, key=_sort_key):
        hidden = key in suppressed
        cell = dict(zip(group_by, key, strict=True))
        cell.update(count=None if hidden else counts[key], suppressed=hidden)
        groups.append(cell)

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
        "total": {"count": None if total_suppressed else total, "suppressed": total_suppressed},
        "suppression_threshold": SUPPRESSION_THRESHOLD,
    }


def _sort_key(key: Key) -> tuple:
    return tuple((value is None, "" if value is None else str(value).zfill(12)) for value in key)


def suppress(
    counts: dict[Key, int], dimensions: int, threshold: int = SUPPRESSION_THRESHOLD
) -> tuple[set[Key], bool]:
    """The cells to suppress, and whether the table's total must be suppressed too.

    ``counts`` maps each non-empty cell (a tuple of one value per dimension) to its count.
    See the module docstring for the rule.
    """
    cells = {key: n for key, n in counts.items() if n > 0}
    hidden = {key for key, n in cells.items() if n < threshold}
    table = list(cells)
    lines = _lines(table, dimensions)
    alone = {line[0] for line in lines if len(line) == 1}
    groups = [table, *(line for line in lines if len(line) > 1)]

    changed = True
    while changed:
        changed = False
        for group in groups:
            while not _protected(group, cells, hidden, threshold):
                candidates = [key for key in group if key not in hidden]
                if not candidates:
                    break
                hidden.add(min(candidates, key=lambda k: (k in alone, cells[k], _sort_key(k))))
                changed = True

    total = sum(cells.values())
    total_hidden = 0 < total < threshold or not _protected(table, cells, hidden, threshold)
    return hidden, total_hidden


def _lines(keys: Iterable[Key], dimensions: int) -> list[list[Key]]:
    """Groups of cells that share every value but one: each sums to a coarser question's cell."""
    if dimensions < 2:
        return []
    lines: list[list[Key]] = []
    for free in range(dimensions):
        by_rest: dict[Key, list[Key]] = defaultdict(list)
        for key in keys:
            by_rest[key[:free] + key[free + 1 :]].append(key)
        lines.extend(by_rest.values())
    return lines


def _protected(group: list[Key], cells: dict[Key, int], hidden: set[Key], threshold: int) -> bool:
    """Whether subtracting the group's published cells from its sum pins no suppressed cell."""
    suppressed = [cells[key] for key in group if key in hidden]
    if not suppressed:
        return True
    if len(suppressed) == 1:
        return False
    # Each suppressed cell is known to be at least 1; the most one of them could be is
    # sum - (k - 1). That must reach the top of the suppressed range (threshold - 1).
    return sum(suppressed) - (len(suppressed) - 1) >= threshold - 1
