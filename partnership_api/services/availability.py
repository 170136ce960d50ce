"""Refuge availability: each refuge's spaces with their live holds counted, as partners read it.

``available = vacant − live holds``; holds on a type the refuge no longer reports show as
overcommitted. The ETag of a refuge's availability is its report version (``etag_for``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import lazyload

from partnership_api import context, policy
from partnership_api.database import db
from partnership_api.domain_errors import NotFound
from partnership_api.models.base import utcnow
from partnership_api.models.beds import (
    SPACE_TYPES,
    AvailabilityReport,
    BedHold,
    BedSpace,
    RefugeAvailability,
    held_by_type,
)
from partnership_api.models.partnership import Organisation, Service, ServiceArea
from partnership_api.pagination import Page, PageRequest, page_of
from partnership_api.policy import Actor

# --- reading availability --------------------------------------------------------------------


@dataclass
class SpaceFigures:
    space_type: str
    total: int
    vacant: int
    held: int

    @property
    def available(self) -> int:
        return max(self.vacant - self.held, 0)

    @property
    def overcommitted(self) -> int:
        return max(self.held - self.vacant, 0)


def stale_after() -> timedelta:
    return context.setting("AVAILABILITY_STALE_AFTER")


def is_stale(updated_at: datetime | None, now: datetime | None = None) -> bool:
    """A refuge that never reported, or whose last report is too old, is stale."""
    if updated_at is None:
        return True
    return (now or utcnow()) - updated_at > stale_after()


def figures_of(service_ids: list[int], now: datetime) -> dict[int, list[SpaceFigures]]:
    """Each refuge's spaces with their live holds counted: two queries for any number."""
    if not service_ids:
        return {}
    spaces = db.session.execute(
        sa.select(BedSpace.service_id, BedSpace.space_type, BedSpace.total, BedSpace.vacant).where(
            BedSpace.service_id.in_(service_ids)
        )
    )
    return with_holds(service_ids, spaces, _held(service_ids, now))


def _held(service_ids: list[int], now: datetime) -> dict[tuple[int, str], int]:
    """How many live holds each refuge has on each type of space."""
    return {
        (row.service_id, row.space_type): row.held
        for row in db.session.execute(held_by_type(BedHold.service_id.in_(service_ids), now))
    }


def with_holds(
    service_ids: list[int], spaces: Iterable, held: dict[tuple[int, str], int]
) -> dict[int, list[SpaceFigures]]:
    """Spaces (rows with service_id, space_type, total and vacant) with their live holds."""
    figures: dict[int, list[SpaceFigures]] = {sid: [] for sid in service_ids}
    for row in spaces:
        figures[row.service_id].append(
            SpaceFigures(
                row.space_type, row.total, row.vacant, held.get((row.service_id, row.space_type), 0)
            )
        )
    # Holds on a type the refuge no longer reports still show, as overcommitted.
    for (service_id, space_type), count in held.items():
        if not any(f.space_type == space_type for f in figures[service_id]):
            figures[service_id].append(SpaceFigures(space_type, 0, 0, count))
    for spaces_of in figures.values():
        spaces_of.sort(key=lambda f: SPACE_TYPES.index(f.space_type))
    return figures


def _warnings(figures: list[SpaceFigures]) -> list[str]:
    return [
        f"{f.held} live hold(s) on {f.space_type} spaces exceed the {f.vacant} vacant: "
        f"overcommitted by {f.overcommitted}; none are available until holds end."
        for f in figures
        if f.overcommitted
    ]


def _reporters_shown(actor: Actor, service_ids: list[int]) -> dict[int, str | None]:
    """For each refuge whose reporter the actor may not see (another organisation's staff),
    the name of the refuge's organisation to show instead (``policy.sees_person``)."""
    if not service_ids:
        return {}
    rows = db.session.execute(
        sa.select(Service.id, Service.organisation_id, Organisation.name)
        .join(Organisation, Organisation.id == Service.organisation_id)
        .where(Service.id.in_(service_ids))
    )
    return {
        service_id: name
        for service_id, org_id, name in rows
        if not policy.sees_person(actor, org_id)
    }


def availability_of(service_ids: Iterable[int], actor: Actor) -> dict[int, dict]:
    """The current availability of each refuge, as the API shows it, in four queries.

    ``updated_by`` is the reporter's username for the refuge's own organisation, and the
    organisation's name for everyone else."""
    ids = list(service_ids)
    others = _reporters_shown(actor, ids)
    now = utcnow()
    # The version (the ETag) is read before the figures, so the figures are never older than
    # the version they are shown with: a report committed in between makes an ETag that is
    # merely stale (412), never a new ETag over old figures.
    reports = {
        row.service_id: row
        for row in db.session.scalars(
            sa.select(RefugeAvailability).where(RefugeAvailability.service_id.in_(ids))
        )
    }
    figures = figures_of(ids, now)
    shown = {}
    for service_id in ids:
        report = reports.get(service_id)
        shown[service_id] = availability_view(
            service_id,
            figures[service_id],
            report.updated_at if report else None,
            others.get(service_id, report.updated_by) if report else None,
            report.version if report else 0,
            now,
        )
    return shown


def availability_view(
    service_id: int,
    figures: list[SpaceFigures],
    updated_at: datetime | None,
    updated_by: str | None,
    version: int,
    now: datetime,
) -> dict:
    return {
        "refuge_id": service_id,
        "spaces": [
            {
                "space_type": f.space_type,
                "total": f.total,
                "vacant": f.vacant,
                "held": f.held,
                "available": f.available,
                "overcommitted": f.overcommitted,
            }
            for f in figures
        ],
        "updated_at": updated_at,
        "updated_by": updated_by,
        "stale": is_stale(updated_at, now),
        "version": version,
        "warnings": _warnings(figures),
    }


def _refuge(service_id: int) -> Service:
    """The refuge service with this id; ``NotFound`` for any other kind of service."""
    service = db.session.get(Service, service_id, options=[lazyload(Service.area_links)])
    if service is None or service.kind != "refuge":
        raise NotFound()
    return service


def list_refuges(actor: Actor, args: dict, page: PageRequest) -> Page:
    """Active refuges, optionally in one area or of one organisation, by name, each with its
    facilities and current availability (never an address, whoever asks)."""
    policy.require(actor, "refuge.read")
    stmt = sa.select(Service).where(Service.kind == "refuge", Service.active.is_(True))
    if "area" in args:
        stmt = stmt.where(
            Service.id.in_(
                sa.select(ServiceArea.service_id).where(ServiceArea.gss_code == args["area"])
            )
        )
    if "organisation_id" in args:
        stmt = stmt.where(Service.organisation_id == args["organisation_id"])
    found = page_of(stmt.order_by(Service.name, Service.id), page)
    shown = availability_of([refuge.id for refuge in found.items], actor)
    return Page([_refuge_shown(refuge, shown[refuge.id]) for refuge in found.items], found.total)


def _refuge_shown(service: Service, availability: dict) -> dict:
    """A refuge as any partner sees it: no address, not even for its own organisation."""
    return {
        "id": service.id,
        "refuge_id": service.id,
        "organisation_id": service.organisation_id,
        "name": service.name,
        "areas": service.areas,
        "phone": service.phone,
        "hours": service.hours,
        "facilities": service.facilities or {},
        "availability": availability,
    }


def read_availability(actor: Actor, refuge_id: int) -> dict:
    """A refuge's bed spaces: vacant, held and available now, with the version to send back."""
    policy.require(actor, "availability.read")
    service = _refuge(refuge_id)
    return availability_of([service.id], actor)[service.id]


def etag_for(service_id: int, version: int) -> str:
    """The ETag of a refuge's availability: its report version (holds do not change it)."""
    return f"refuge-{service_id}-v{version}"


def availability_history(actor: Actor, refuge_id: int, page: PageRequest) -> Page:
    """A refuge's availability reports, newest first."""
    policy.require(actor, "availability.read")
    service = _refuge(refuge_id)
    found = page_of(
        sa.select(AvailabilityReport)
        .where(AvailabilityReport.service_id == service.id)
        .order_by(AvailabilityReport.reported_at.desc(), AvailabilityReport.id.desc()),
        page,
    )
    # Who reported: the username for the refuge's own organisation, its name for everyone else.
    reporter = _reporters_shown(actor, [service.id]).get(service.id)
    shown = [
        {
            "id": report.id,
            "reported_at": report.reported_at,
            "reported_by": report.reported_by if reporter is None else reporter,
            "version": report.version,
            "spaces": report.spaces,
        }
        for report in found.items
    ]
    return Page(shown, found.total)
