"""Bed search: refuges with a matching space available now, freshest report first.

Served from this process's cache (``search_cache``) while the database's generation number is
unchanged and no hold has lapsed nor any report turned stale since the cache was built.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from cachetools import LRUCache

from partnership_api import metrics, policy
from partnership_api.database import db
from partnership_api.models.base import utcnow
from partnership_api.models.beds import (
    SPACE_TYPES,
    BedHold,
    RefugeAvailability,
    live_hold,
)
from partnership_api.models.partnership import Service
from partnership_api.policy import Actor
from partnership_api.services import referral_reads, search_cache
from partnership_api.services.availability import figures_of, is_stale, stale_after
from partnership_api.services.search_cache import RefugeEntry, Snapshot

FACILITY_KEYS = (
    "max_children",
    "max_son_age",
    "wheelchair_accessible",
    "accepts_nrpf",
    "accepts_pets",
    "women_only",
    "languages",
)
# However quiet the partnership, a process rebuilds its search cache at least this often.
SEARCH_CACHE_MAX_AGE = timedelta(seconds=60)
# A snapshot keeps its answers to this many searches, dropping the least recently used.
SEARCH_ANSWERS_KEPT = 512


def _build_snapshot(generation: int | None, now: datetime) -> Snapshot:
    """Everything search needs, read after the generation (so never older than it)."""
    refuges = db.session.scalars(
        sa.select(Service).where(Service.kind == "refuge", Service.active.is_(True))
    ).all()
    ids = [r.id for r in refuges]
    figures = figures_of(ids, now)
    reported = {
        row.service_id: row.updated_at
        for row in db.session.execute(
            sa.select(RefugeAvailability.service_id, RefugeAvailability.updated_at).where(
                RefugeAvailability.service_id.in_(ids)
            )
        )
    }
    next_lapse = db.session.scalar(sa.select(sa.func.min(BedHold.expires_at)).where(live_hold(now)))
    ttl = stale_after()
    valid_until = now + SEARCH_CACHE_MAX_AGE
    if next_lapse is not None:
        valid_until = min(valid_until, next_lapse)
    entries = []
    for refuge in refuges:
        updated_at = reported.get(refuge.id)
        if updated_at is not None and updated_at + ttl > now:
            valid_until = min(valid_until, updated_at + ttl)
        facilities = refuge.facilities or {}
        entries.append(
            RefugeEntry(
                refuge_id=refuge.id,
                name=refuge.name,
                organisation_id=refuge.organisation_id,
                phone=refuge.phone,
                areas=tuple(refuge.areas),
                facilities={k: facilities[k] for k in FACILITY_KEYS if k in facilities},
                available={f.space_type: f.available for f in figures[refuge.id]},
                updated_at=updated_at,
                stale=is_stale(updated_at, now),
            )
        )
    # Freshest report first; refuges that never reported last; then by name.
    entries.sort(
        key=lambda e: (
            e.updated_at is None,
            -(e.updated_at.timestamp() if e.updated_at else 0),
            e.name,
            e.refuge_id,
        )
    )
    return Snapshot(
        generation=generation if generation is not None else -1,
        valid_until=valid_until,
        stale_after=ttl,
        refuges=tuple(entries),
        answers=LRUCache(maxsize=SEARCH_ANSWERS_KEPT),
    )


def _wanted_types(args: dict) -> tuple[str, ...]:
    """The space types that meet the need: as asked, else accessible for a wheelchair user,
    else family for a woman with children, else any."""
    if args.get("space_type"):
        return (args["space_type"],)
    if args.get("wheelchair"):
        return ("accessible",)
    if args.get("children"):
        return ("family",)
    return SPACE_TYPES


def _matches(entry: RefugeEntry, args: dict) -> bool:
    facilities = entry.facilities
    areas = set(entry.areas)
    if args.get("area") and not areas.intersection(args["area"]):
        return False
    if args.get("exclude_area") and areas.intersection(args["exclude_area"]):
        return False
    children = args.get("children")
    if children:
        max_children = facilities.get("max_children")
        if max_children is None or max_children < children:
            return False
    son_age = args.get("oldest_son_age")
    if son_age is not None:
        max_son_age = facilities.get("max_son_age")
        if max_son_age is None or max_son_age < son_age:
            return False
    if args.get("wheelchair") and not facilities.get("wheelchair_accessible"):
        return False
    if args.get("nrpf") and not facilities.get("accepts_nrpf"):
        return False
    if args.get("pets") and not facilities.get("accepts_pets"):
        return False
    if args.get("women_only") and not facilities.get("women_only"):
        return False
    language = args.get("language")
    if language:
        spoken = {str(name).casefold() for name in facilities.get("languages") or ()}
        if language.casefold() not in spoken:
            return False
    return True


@dataclass
class SearchAnswer:
    """What a search found: ``results`` (refuges with their matching spaces, as plain data),
    and the same as the API's JSON, made once and kept with the cached answer."""

    results: list[dict]
    _json: bytes | None = None

    @property
    def json(self) -> bytes:
        if self._json is None:
            self._json = json.dumps(self.results, separators=(",", ":"), default=_iso).encode()
        return self._json


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _answer(snapshot: Snapshot, args: dict) -> SearchAnswer:
    wanted = _wanted_types(args)
    found = []
    for entry in snapshot.refuges:
        if not _matches(entry, args):
            continue
        spaces = [
            {"space_type": t, "available": entry.available[t]}
            for t in wanted
            if entry.available.get(t, 0) > 0
        ]
        if not spaces:
            continue
        found.append(
            {
                "refuge_id": entry.refuge_id,
                "name": entry.name,
                "organisation_id": entry.organisation_id,
                "areas": list(entry.areas),
                "facilities": entry.facilities,
                "spaces": spaces,
                "updated_at": entry.updated_at,
                "stale": entry.stale,
            }
        )
    return SearchAnswer(found)


def _search_key(args: dict) -> tuple:
    return (
        tuple(sorted(set(args.get("area") or ()))),
        tuple(sorted(set(args.get("exclude_area") or ()))),
        args.get("space_type"),
        args.get("children"),
        args.get("oldest_son_age"),
        bool(args.get("wheelchair")),
        bool(args.get("nrpf")),
        bool(args.get("pets")),
        bool(args.get("women_only")),
        args["language"].casefold() if args.get("language") else None,
    )


# A referral's answers that fill a search, when the caller did not give that filter.
FILLED_FROM_REFERRAL = ("children", "oldest_son_age", "wheelchair", "nrpf", "pets", "language")


def filters_of(referral: dict) -> dict:
    """The search a referral asks for: its household, its needs, and the subject's area to
    keep out when the risk comes from home. ``referral`` is its stored personal data."""
    household = referral.get("household") or {}
    needs = referral.get("needs") or {}
    filters: dict = {}
    if household.get("children"):
        filters["children"] = household["children"]
    sons = [c["age"] for c in household.get("children_detail") or () if c.get("sex") == "male"]
    if sons:
        filters["oldest_son_age"] = max(sons)
    for need in ("wheelchair", "nrpf", "pets"):
        if needs.get(need):
            filters[need] = True
    if needs.get("interpreter_language"):
        filters["language"] = needs["interpreter_language"]
    area = referral.get("subject_area")
    if needs.get("risk_from_home") and area:
        filters["exclude_area"] = [area]
    return filters


def combined(filled: dict, given: dict) -> dict:
    """The filters given explicitly win over those filled from a referral; the areas to keep
    out add up (keeping one more area out is never less safe)."""
    args = {key: value for key, value in filled.items() if key in FILLED_FROM_REFERRAL}
    args.update({key: value for key, value in given.items() if key != "exclude_area"})
    excluded = [*filled.get("exclude_area", ()), *given.get("exclude_area", ())]
    if excluded:
        args["exclude_area"] = list(dict.fromkeys(excluded))
    return args


def search(actor: Actor, args: dict) -> SearchAnswer:
    """Refuges with a matching space available now, freshest report first.

    With ``for_referral``, the referral fills the filters not given (its read is checked by
    the policy and audited, as any read of a referral's personal data). Served from this
    process's cache while the database's generation number is unchanged and no hold has
    lapsed nor any report turned stale since the cache was built.
    """
    policy.require(actor, "bed.search")
    args = dict(args)
    referral_id = args.pop("for_referral", None)
    if referral_id is not None:
        read = referral_reads.read_for_bed_search(actor, referral_id)
        args = combined(filters_of(read), args)
    return _answer_from(_snapshot(), args)


def board(actor: Actor, args: dict) -> tuple[SearchAnswer, list[dict]]:
    """The bed board: the search's answer and every active refuge (by name, with its areas,
    facilities and phone: never an address), both from the same cached snapshot, so the
    refuges that do not fit cost no query of their own."""
    policy.require(actor, "bed.search")
    policy.require(actor, "refuge.read")
    snapshot = _snapshot()
    refuges = [
        {
            "id": entry.refuge_id,
            "name": entry.name,
            "areas": list(entry.areas),
            "facilities": entry.facilities,
            "phone": entry.phone,
        }
        for entry in sorted(snapshot.refuges, key=lambda e: (e.name, e.refuge_id))
    ]
    return _answer_from(snapshot, args), refuges


def _snapshot() -> Snapshot:
    """This process's snapshot while the generation is unchanged and nothing lapsed; else a
    fresh one (kept when the generation could be read)."""
    cache = search_cache.cache()
    generation = search_cache.read_generation()
    now = utcnow()
    snapshot = cache.snapshot
    if (
        snapshot is None
        or generation is None
        or snapshot.generation != generation
        or now >= snapshot.valid_until
        or snapshot.stale_after != stale_after()
    ):
        snapshot = _build_snapshot(generation, now)
        if generation is not None:
            cache.snapshot = snapshot
        metrics.bed_search_cache(hit=False)
    else:
        metrics.bed_search_cache(hit=True)
    return snapshot


def _answer_from(snapshot: Snapshot, args: dict) -> SearchAnswer:
    key = _search_key(args)
    with snapshot.answers_lock:
        answer = snapshot.answers.get(key)
    if answer is None:
        answer = _answer(snapshot, args)
        with snapshot.answers_lock:
            snapshot.answers[key] = answer
    return answer
