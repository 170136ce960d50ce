"""The annual return of the safe-accommodation duty (Domestic Abuse Act 2021, Part 4, s.59):
every figure the council returns for a financial year (April to March, UK time), computed from
the referrals, stays and refuges' reports, and published by the project's disclosure rule.

**Disclosure** (``services.stats``): every count of people or households, totals included, is
rounded to the nearest 5, and counts from 0 to 4 are suppressed alike. Every published figure
is therefore a multiple of 5, and so is the difference of any two of them, across years,
sections, months or the unmet-need groupings: no subtraction gives a count from 1 to 4.
Commissioned bed spaces are facts about services, not people, and are published exactly.

**Households.** The referrals of one household are the first one and every referral that
follows it (a redirect's onward referral, or a new referral made with ``follows_referral_id``).
A household belongs to the year of its first referral to a refuge; it was *supported* if any of
its refuge referrals was accepted (an admission), *not supported* if none was and its last one
was declined or withdrawn (its reason is that last one's), and is *in progress* otherwise. So a
household refused twice counts once, under the reason of its last refusal.

**Stays.** Households supported during the year are the stays that began before the year
ended and had not ended before it began. Adults are counted as the refuge recorded them; a stay
with none recorded counts one adult of unknown sex and trans status. Specialist characteristics
are counted only for stays whose resident consented.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from partnership_api import audit, policy
from partnership_api.database import db
from partnership_api.models.partnership import AREAS, Service
from partnership_api.models.referrals import Referral
from partnership_api.models.safe_accommodation import (
    ACCOMMODATION_TYPES,
    ADULT_SEXES,
    CHARACTERISTICS,
    DESTINATIONS,
    NOT_SUPPORTED_REASONS,
    STAY_END_REASONS,
    TRANS_STATUSES,
    UNMET_NEEDS,
    CommissionedSpacesReport,
    Stay,
)
from partnership_api.policy import Actor
from partnership_api.services.commissioned_spaces import latest_reports
from partnership_api.services.stats import ROUNDING_BASE, SUPPRESSION_THRESHOLD, published

UK = ZoneInfo("Europe/London")
LENGTH_BANDS = (
    ("under_30_days", 0, 30),
    ("30_to_89_days", 30, 90),
    ("90_to_179_days", 90, 180),
    ("180_to_364_days", 180, 365),
    ("365_days_or_more", 365, None),
)
DISCLOSURE = (
    "Counts of people and households, totals included, are rounded to the nearest 5; counts "
    "from 0 to 4 are suppressed (null, shown as [c] in the CSV) whether zero or not. Every "
    "figure is a multiple of 5, so no difference of two figures (across years, sections, "
    "months or groupings) is a count from 1 to 4. Commissioned bed spaces are facts about "
    "services, not people, and are exact."
)


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """The financial year ``year``-``year+1``: 1 April to 1 April, UK time, as instants."""
    return datetime(year, 4, 1, tzinfo=UK), datetime(year + 1, 4, 1, tzinfo=UK)


def cell(count: int) -> dict:
    figure = published(count)
    return {"count": figure, "suppressed": figure is None}


def _month(moment: datetime) -> str:
    return moment.astimezone(UK).strftime("%Y-%m")


def _months(start: datetime) -> list[str]:
    first = start.astimezone(UK)
    return [
        f"{first.year + (first.month - 1 + i) // 12:04d}-{(first.month - 1 + i) % 12 + 1:02d}"
        for i in range(12)
    ]


# --- households: referred, supported, not supported ---------------------------------------------


def households(start: datetime, end: datetime) -> list[dict]:
    """Every household whose first referral to a refuge was made in [start, end), with its
    outcome: ``supported``, ``not_supported`` (with the last refusal's reason and need) or
    ``in_progress``; its first month, its size (adults and children) and where she fled from.

    One statement: window functions give each referral its household's first and last
    referral, their count and whether any was admitted; one row per household comes back."""
    refuges = sa.select(Service.id).where(Service.kind == "refuge").scalar_subquery()
    household = sa.func.coalesce(Referral.household_id, Referral.id)
    oldest = (Referral.created_at, Referral.id)
    newest = (Referral.created_at.desc(), Referral.id.desc())

    def first(column, order):
        typed = sa.func.first_value(column, type_=column.type)
        return typed.over(partition_by=household, order_by=order)

    admitted = sa.case((Referral.status.in_(("accepted", "closed")), 1), else_=0)
    each = (
        sa.select(
            # The household's first referral is the row ranked 1: its own columns describe it.
            sa.func.row_number().over(partition_by=household, order_by=oldest).label("rank"),
            Referral.created_at.label("first_at"),
            Referral.fleeing_from,
            Referral.household["children"].as_integer().label("children"),
            first(Referral.status, newest).label("last_status"),
            first(Referral.not_supported_reason, newest).label("last_reason"),
            first(Referral.not_supported_need, newest).label("last_need"),
            sa.func.count().over(partition_by=household).label("referrals"),
            sa.func.max(admitted).over(partition_by=household).label("admitted"),
        )
        .where(Referral.to_service_id.in_(refuges), Referral.created_at >= start)
        .subquery()
    )
    stmt = sa.select(each).where(each.c.rank == 1, each.c.first_at < end)
    found = []
    for row in db.session.execute(stmt):
        if row.admitted:
            outcome = "supported"
        elif row.last_status in ("declined", "withdrawn"):
            outcome = "not_supported"
        else:
            outcome = "in_progress"
        refused = outcome == "not_supported"
        found.append(
            {
                "month": _month(row.first_at),
                "referrals": row.referrals,
                "outcome": outcome,
                "reason": row.last_reason if refused else None,
                "need": row.last_need if refused else None,
                "household_size": 1 + int(row.children or 0),
                "fleeing_from": row.fleeing_from,
            }
        )
    return found


def _referrals_section(found: list[dict], start: datetime) -> dict:
    outcomes = Counter(h["outcome"] for h in found)
    refused = [h for h in found if h["outcome"] == "not_supported"]
    reasons = Counter(h["reason"] for h in refused)
    needs = Counter(h["need"] for h in refused if h["reason"] == "needs_not_met")
    per_month: dict = defaultdict(Counter)
    for h in found:
        tally = per_month[h["month"]]
        tally["referred"] += 1
        tally[h["outcome"]] += 1
        if h["outcome"] == "not_supported":
            tally[("reason", h["reason"])] += 1
    by_month = []
    for month in _months(start):
        tally = per_month[month]
        by_month.append(
            {
                "month": month,
                "households_referred": cell(tally["referred"]),
                "supported": cell(tally["supported"]),
                "not_supported": cell(tally["not_supported"]),
                "not_supported_by_reason": [
                    {"reason": reason, **cell(tally[("reason", reason)])}
                    for reason in NOT_SUPPORTED_REASONS
                ],
            }
        )
    return {
        "households_referred": cell(len(found)),
        "referrals_received": cell(sum(h["referrals"] for h in found)),
        "supported": cell(outcomes["supported"]),
        "not_supported": cell(outcomes["not_supported"]),
        "in_progress": cell(outcomes["in_progress"]),
        "not_supported_by_reason": [
            {"reason": reason, **cell(reasons[reason])} for reason in NOT_SUPPORTED_REASONS
        ],
        "needs_not_met_by_need": [{"need": need, **cell(needs[need])} for need in UNMET_NEEDS],
        "by_month": by_month,
    }


# --- stays: who was supported, and how stays ended ----------------------------------------------


def _stays_section(start: datetime, end: datetime) -> tuple[dict, dict]:
    columns = (
        Stay.admitted_at,
        Stay.ended_at,
        Stay.end_reason,
        Stay.destination,
        Stay.adults,
        Stay.children,
        Stay.characteristics_consent,
        Stay.characteristics,
        Stay.fleeing_from,
        Stay.placement_area,
    )
    stmt = sa.select(*columns).where(
        Stay.admitted_at < end, sa.or_(Stay.ended_at.is_(None), Stay.ended_at >= start)
    )
    stays = db.session.execute(stmt).all()
    adults: Counter = Counter()
    characteristics: Counter = Counter()
    placed: Counter = Counter()
    consent_given = 0
    for stay in stays:
        for adult in stay.adults or [{"sex": "not_known", "trans": "not_known"}]:
            adults[(adult.get("sex", "not_known"), adult.get("trans", "not_known"))] += 1
        if stay.characteristics_consent:
            consent_given += 1
            characteristics.update(set(stay.characteristics or []))
        if not stay.fleeing_from or not stay.placement_area:
            placed["not_known"] += 1
        elif stay.fleeing_from == stay.placement_area:
            placed["own_district"] += 1
        else:
            placed["another_district"] += 1
    supported = {
        "households": cell(len(stays)),
        "admitted_in_year": cell(sum(start <= stay.admitted_at < end for stay in stays)),
        "placed_in_own_district": cell(placed["own_district"]),
        "placed_in_another_district": cell(placed["another_district"]),
        "placement_not_known": cell(placed["not_known"]),
        "from_outside_the_partnership": cell(
            sum(bool(s.fleeing_from) and s.fleeing_from not in AREAS for s in stays)
        ),
        "adults": cell(sum(adults.values())),
        "adults_by_sex_and_trans_status": [
            {"sex": sex, "trans": trans, **cell(adults[(sex, trans)])}
            for sex in ADULT_SEXES
            for trans in TRANS_STATUSES
        ],
        "children": cell(sum(stay.children for stay in stays)),
        "characteristics_consent_given": cell(consent_given),
        "specialist_characteristics": [
            {"characteristic": name, **cell(characteristics[name])} for name in CHARACTERISTICS
        ],
    }
    ended = [stay for stay in stays if stay.ended_at is not None and stay.ended_at < end]
    reasons = Counter(stay.end_reason for stay in ended)
    destinations = Counter(stay.destination for stay in ended)
    lengths: Counter = Counter()
    for stay in ended:
        days = max((stay.ended_at - stay.admitted_at).days, 0)
        for band, low, high in LENGTH_BANDS:
            if days >= low and (high is None or days < high):
                lengths[band] += 1
    endings = {
        "stays_ended": cell(len(ended)),
        "by_reason": [{"reason": r, **cell(reasons[r])} for r in STAY_END_REASONS],
        "by_destination": [{"destination": d, **cell(destinations[d])} for d in DESTINATIONS],
        "by_length_of_stay": [
            {"length_of_stay": band, **cell(lengths[band])} for band, _low, _high in LENGTH_BANDS
        ],
    }
    return supported, endings


def _bed_spaces(end: datetime) -> dict:
    active = sa.select(Service.id).where(Service.kind == "refuge", Service.active.is_(True))
    rows = db.session.scalars(
        latest_reports(end).where(CommissionedSpacesReport.refuge_id.in_(active.scalar_subquery()))
    )
    totals: Counter = Counter()
    for row in rows:
        totals[row.accommodation_type] += row.spaces
    return {
        "by_accommodation_type": [
            {"accommodation_type": kind, "spaces": totals[kind]} for kind in ACCOMMODATION_TYPES
        ],
        "total": sum(totals.values()),
        "as_at": (end.astimezone(UK).date()),
    }


def safe_accommodation_return(actor: Actor, year: int) -> dict:
    """Every figure of the year's return, published by the disclosure rule (module docstring)."""
    policy.require(actor, "stats.safe_accommodation")
    start, end = year_bounds(year)
    found = households(start, end)
    supported, endings = _stays_section(start, end)
    answer = {
        "year": year,
        "financial_year": f"{year}-{(year + 1) % 100:02d}",
        "from_": start.date(),
        "to": date(year + 1, 3, 31),
        "referrals": _referrals_section(found, start),
        "households_supported": supported,
        "stays_ended": endings,
        "commissioned_bed_spaces": _bed_spaces(end),
        "disclosure": {
            "rule": DISCLOSURE,
            "suppression_threshold": SUPPRESSION_THRESHOLD,
            "rounding_base": ROUNDING_BASE,
        },
    }
    audit.record("stats.safe_accommodation_return", "safe_accommodation_return", year)
    db.session.commit()
    return answer


def as_csv(answer: dict) -> str:
    """The return as rows of section, measure, category, value (``[c]``: suppressed)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["section", "measure", "category", "value"])
    writer.writerow(["period", "financial_year", "", answer["financial_year"]])
    writer.writerow(["period", "from", "", answer["from_"].isoformat()])
    writer.writerow(["period", "to", "", answer["to"].isoformat()])

    def figure(value: dict) -> str:
        return "[c]" if value["suppressed"] else str(value["count"])

    for section in ("referrals", "households_supported", "stays_ended"):
        for measure, value in answer[section].items():
            if isinstance(value, dict):
                writer.writerow([section, measure, "", figure(value)])
            elif measure == "by_month":
                for month in value:
                    for name in ("households_referred", "supported", "not_supported"):
                        writer.writerow(
                            [section, f"{name}_by_month", month["month"], figure(month[name])]
                        )
                    for line in month["not_supported_by_reason"]:
                        category = f"{month['month']} {line['reason']}"
                        writer.writerow(
                            [section, "not_supported_by_month_and_reason", category, figure(line)]
                        )
            else:
                for line in value:
                    category = " ".join(
                        str(v) for k, v in line.items() if k not in ("count", "suppressed")
                    )
                    writer.writerow([section, measure, category, figure(line)])
    beds = answer["commissioned_bed_spaces"]
    for line in beds["by_accommodation_type"]:
        writer.writerow(
            ["commissioned_bed_spaces", "spaces", line["accommodation_type"], line["spaces"]]
        )
    writer.writerow(["commissioned_bed_spaces", "total", "", beds["total"]])
    writer.writerow(["disclosure", "rule", "", answer["disclosure"]["rule"]])
    return out.getvalue()
