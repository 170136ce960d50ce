"""The directory's own queries, over the allow-listed columns of ``tables.py`` only."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from partnership_api.extensions import db
from partnership_api.oruk import taxonomy
from partnership_api.oruk.tables import (
    organisations,
    service_areas,
    service_taxonomy_terms,
    services,
)

REFUGE = "refuge"

# What a directory row carries: the service's allow-listed columns and its organisation's.
COLUMNS = (
    services.c.id,
    services.c.public_id,
    services.c.kind,
    services.c.name,
    services.c.description,
    services.c.phone,
    services.c.hours,
    services.c.opening_hours,
    services.c.languages,
    services.c.eligibility,
    services.c.minimum_age,
    services.c.maximum_age,
    services.c.updated_at,
    organisations.c.public_id.label("organisation_public_id"),
    organisations.c.name.label("organisation_name"),
    organisations.c.description.label("organisation_description"),
)


def listed() -> sa.Select:
    """Services their organisation chose to list (and that are active), with the organisation."""
    return (
        sa.select(*COLUMNS)
        .join(organisations, organisations.c.id == services.c.organisation_id)
        .where(services.c.public.is_(True), services.c.active.is_(True))
    )


def with_location(stmt: sa.Select) -> sa.Select:
    """Only services that have a location to list: every kind but refuges."""
    return stmt.where(services.c.kind != REFUGE)


def filtered(stmt: sa.Select, args: dict[str, Any]) -> sa.Select:
    """The profile's filters. ``search`` looks at names and descriptions only (never areas)."""
    if args.get("search"):
        text = args["search"].lower()
        stmt = stmt.where(
            sa.or_(
                sa.func.lower(services.c.name).contains(text, autoescape=True),
                sa.func.lower(services.c.description).contains(text, autoescape=True),
                sa.func.lower(organisations.c.name).contains(text, autoescape=True),
            )
        )
    if "taxonomy_term_id" in args:
        term = taxonomy.BY_ID.get(args["taxonomy_term_id"])
        stmt = stmt.where(_has_term([term.code] if term else []))
    if "taxonomy_id" in args:
        codes = list(taxonomy.TERM_CODES) if args["taxonomy_id"] == taxonomy.TAXONOMY_ID else []
        stmt = stmt.where(_has_term(codes))
    # The profile's wording: a minimum age of at least the value, a maximum age at most it.
    if "minimum_age" in args:
        stmt = stmt.where(services.c.minimum_age >= args["minimum_age"])
    if "maximum_age" in args:
        stmt = stmt.where(services.c.maximum_age <= args["maximum_age"])
    if "modified_after" in args:
        stmt = stmt.where(services.c.updated_at >= args["modified_after"])
    return stmt


def _has_term(codes: Sequence[str]) -> sa.ColumnElement[bool]:
    if not codes:
        return sa.false()
    return services.c.id.in_(
        sa.select(service_taxonomy_terms.c.service_id).where(
            service_taxonomy_terms.c.term_code.in_(codes)
        )
    )


def page(stmt: sa.Select, number: int, size: int) -> tuple[int, list[sa.Row]]:
    """The total and one page of rows, by name then id (a stable order)."""
    total = db.session.execute(sa.select(sa.func.count()).select_from(stmt.subquery())).scalar()
    rows = db.session.execute(
        stmt.order_by(services.c.name, services.c.id).limit(size).offset((number - 1) * size)
    ).all()
    return int(total or 0), list(rows)


def service(public_id: uuid.UUID) -> sa.Row | None:
    return db.session.execute(listed().where(services.c.public_id == public_id)).first()


def listed_non_refuge_ids() -> list[uuid.UUID]:
    """Public ids of the listed services that have a (virtual) location: every one but refuges."""
    listed_ids = with_location(listed()).with_only_columns(services.c.public_id)
    return list(db.session.scalars(listed_ids))


def areas_of(service_ids: Iterable[int]) -> dict[int, list[str]]:
    return _links(service_areas.c.service_id, service_areas.c.gss_code, service_ids)


def terms_of(service_ids: Iterable[int]) -> dict[int, list[str]]:
    return _links(
        service_taxonomy_terms.c.service_id, service_taxonomy_terms.c.term_code, service_ids
    )


def _links(key: sa.ColumnClause, value: sa.ColumnClause, ids: Iterable[int]) -> dict:
    wanted = list(ids)
    found: dict[int, list[str]] = defaultdict(list)
    if not wanted:
        return found
    rows = db.session.execute(sa.select(key, value).where(key.in_(wanted)).order_by(key, value))
    for service_id, code in rows:
        found[service_id].append(code)
    return found
