"""Directory answers in the Open Referral UK (HSDS 3.0 UK profile) shape, built field by field.

Every key written here is named here: nothing is copied from a row or a model wholesale. A
refuge is written with no location of any kind (no ``service_at_locations``, no address,
postcode or coordinates, not even its districts): only its phone and the county-wide area.
Ids of the nested objects are UUIDv5s derived from the service's public id, so they are stable
and reveal nothing.

Besides the profile's fields, three HSDS 3.0 fields the profile's compiled schema leaves out
are written: a service's ``phones`` and ``eligibility_description``, a language's ``name``,
and a taxonomy term's ``code``.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from partnership_api.areas import AREAS, COUNTY_WIDE, geography_uri
from partnership_api.oruk import taxonomy
from partnership_api.oruk.queries import REFUGE

ACTIVE = "active"
DAY_ORDER = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def derived_id(public_id: uuid.UUID, what: str) -> str:
    """A stable id for something that belongs to a service (its phone, an area, a schedule…)."""
    return str(uuid.uuid5(public_id, what))


def service_at_location_id(public_id: uuid.UUID) -> str:
    return derived_id(public_id, "service_at_location")


def organization(row: sa.Row) -> dict[str, Any]:
    return {
        "id": str(row.organisation_public_id),
        "name": row.organisation_name,
        "description": row.organisation_description or "",
    }


def service_summary(row: sa.Row) -> dict[str, Any]:
    """The one-to-one fields of a service (an item of ``/services``)."""
    shown: dict[str, Any] = {
        "id": str(row.public_id),
        "organization_id": str(row.organisation_public_id),
        "name": row.name,
        "description": row.description or "",
        "status": ACTIVE,
        "last_modified": row.updated_at.isoformat(),
        "organization": organization(row),
    }
    if row.minimum_age is not None:
        shown["minimum_age"] = row.minimum_age
    if row.maximum_age is not None:
        shown["maximum_age"] = row.maximum_age
    return shown


def service_full(row: sa.Row, areas: list[str], terms: list[str]) -> dict[str, Any]:
    """A service with everything the directory publishes about it (``/services/{id}``)."""
    shown = service_summary(row)
    service_id = shown["id"]
    if row.eligibility:
        shown["eligibility_description"] = row.eligibility
    shown["phones"] = _phones(row)
    shown["schedules"] = _schedules(row)
    shown["languages"] = [
        {
            "id": derived_id(row.public_id, f"language:{name}"),
            "service_id": service_id,
            "name": name,
        }
        for name in row.languages or []
    ]
    shown["service_areas"] = _service_areas(row, areas)
    shown["service_at_locations"] = (
        [] if row.kind == REFUGE else [_service_at_location(row, with_service=None)]
    )
    shown["attributes"] = [_attribute(row, code) for code in terms if code in taxonomy.BY_CODE]
    return shown


def _phones(row: sa.Row) -> list[dict[str, Any]]:
    if not row.phone:
        return []
    phone: dict[str, Any] = {
        "id": derived_id(row.public_id, "phone"),
        "service_id": str(row.public_id),
        "number": row.phone,
    }
    if row.hours:
        phone["description"] = row.hours
    return [phone]


def _schedules(row: sa.Row) -> list[dict[str, Any]]:
    """Opening hours as weekly iCal-style schedules (UK local time); the free-text hours as the
    description, or as the only schedule when no structured hours are set."""
    found = []
    for index, slot in enumerate(row.opening_hours or []):
        days = [day for day in DAY_ORDER if day in slot.get("days", [])]
        schedule: dict[str, Any] = {
            "id": derived_id(row.public_id, f"schedule:{index}"),
            "service_id": str(row.public_id),
            "freq": "WEEKLY",
            "byday": ",".join(days),
            "opens_at": slot["opens_at"],
            "closes_at": slot["closes_at"],
            "notes": "UK local time",
        }
        if row.hours:
            schedule["description"] = row.hours
        found.append(schedule)
    if not found and row.hours:
        found.append(
            {
                "id": derived_id(row.public_id, "schedule:text"),
                "service_id": str(row.public_id),
                "description": row.hours,
            }
        )
    return found


def _service_areas(row: sa.Row, areas: list[str]) -> list[dict[str, Any]]:
    # A refuge's districts would narrow down where it is: every refuge shows the whole county.
    names = COUNTY_WIDE if row.kind == REFUGE else {c: AREAS[c] for c in areas if c in AREAS}
    return [
        {
            "id": derived_id(row.public_id, f"area:{code}"),
            "service_id": str(row.public_id),
            "name": name,
            "uri": geography_uri(code),
        }
        for code, name in names.items()
    ]


def _location(row: sa.Row) -> dict[str, Any]:
    """Services other than refuges are listed at a virtual location: by phone or online."""
    how = f"By telephone: {row.phone}" if row.phone else "By telephone or online"
    return {
        "id": derived_id(row.public_id, "location"),
        "location_type": "virtual",
        "name": f"{row.name} (telephone and online)",
        "description": how,
    }


def _service_at_location(row: sa.Row, with_service: dict[str, Any] | None) -> dict[str, Any]:
    location = _location(row)
    shown: dict[str, Any] = {
        "id": service_at_location_id(row.public_id),
        "service_id": str(row.public_id),
        "location_id": location["id"],
        "location": location,
    }
    if with_service is not None:
        shown["service"] = with_service
    return shown


def service_at_location_summary(row: sa.Row) -> dict[str, Any]:
    """An item of ``/service_at_locations``: the one-to-one fields, with the service's."""
    if row.kind == REFUGE:  # never reached (the query leaves refuges out); kept as a guard
        raise ValueError("a refuge has no location")
    return _service_at_location(row, with_service=service_summary(row))


def service_at_location_full(row: sa.Row, areas: list[str], terms: list[str]) -> dict[str, Any]:
    if row.kind == REFUGE:
        raise ValueError("a refuge has no location")
    service = service_full(row, areas, terms)
    service.pop("service_at_locations")
    return _service_at_location(row, with_service=service)


def _attribute(row: sa.Row, code: str) -> dict[str, Any]:
    term = taxonomy.BY_CODE[code]
    return {
        "id": derived_id(row.public_id, f"attribute:{code}"),
        "link_id": str(row.public_id),
        "link_type": "service",
        "taxonomy_term_id": str(term.id),
        "taxonomy_term": taxonomy_term(term),
    }


def taxonomy_term(term: taxonomy.Term) -> dict[str, Any]:
    return {
        "id": str(term.id),
        "name": term.name,
        "description": term.description,
        "code": term.code,
        "taxonomy": taxonomy.TAXONOMY_NAME,
        "taxonomy_id": str(taxonomy.TAXONOMY_ID),
    }


def taxonomy_detail() -> dict[str, Any]:
    return {
        "id": str(taxonomy.TAXONOMY_ID),
        "name": taxonomy.TAXONOMY_NAME,
        "description": taxonomy.TAXONOMY_DESCRIPTION,
        "version": taxonomy.TAXONOMY_VERSION,
    }


def page_wrapper(contents: list, total: int, number: int, size: int) -> dict[str, Any]:
    """The profile's paged wrapper; ``size`` is the number of items on this page."""
    total_pages = (total + size - 1) // size if total else 0
    return {
        "total_items": total,
        "total_pages": total_pages,
        "page_number": number,
        "size": len(contents),
        "first_page": number == 1,
        "last_page": number >= total_pages,
        "empty": not contents,
        "contents": contents,
    }
