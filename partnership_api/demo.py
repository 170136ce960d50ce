"""The demo partnership of shared/domain.md: organisations, services and one user per role.

Each step is idempotent: it adds what is missing and leaves what exists alone.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa

from partnership_api import auth
from partnership_api.demo_directory import ORGANISATION_DESCRIPTIONS
from partnership_api.demo_directory import SERVICES as DIRECTORY
from partnership_api.demo_funding import seed_funding
from partnership_api.extensions import db
from partnership_api.models.partnership import AREAS, Organisation, Service, User

COUNTY = list(AREAS)

ORGANISATIONS = [
    ("Staffordshire Police", "police", COUNTY),
    ("Staffordshire Commissioner's Office", "commissioner", COUNTY),
    ("New Era", "provider", COUNTY),
    ("Staffordshire Women's Aid", "provider", ["E07000197", "E07000192", "E07000196"]),
    ("Glow", "provider", ["E07000195", "E07000198", "E06000021"]),
    ("Pathway", "provider", ["E07000194", "E07000199"]),
]

# Addresses here are invented; the tests look for them in every response to other organisations.
SERVICES = [
    dict(
        org="New Era",
        name="New Era victim support",
        kind="victim_support",
        areas=COUNTY,
        phone="0300 303 3778",
        hours="24 hours",
    ),
    dict(
        org="New Era",
        name="New Era perpetrator service",
        kind="perpetrator_programme",
        areas=COUNTY,
        phone="01785 601690",
        hours="Mon-Fri 09:00-17:00",
    ),
    dict(
        org="New Era",
        name="New Era helpline",
        kind="helpline",
        areas=COUNTY,
        phone="0300 303 3778",
        hours="24 hours, live chat",
    ),
    dict(
        org="Staffordshire Women's Aid",
        name="Staffordshire Women's Aid refuge",
        kind="refuge",
        areas=["E07000197", "E07000192", "E07000196"],
        phone="0300 330 5959",
        hours="24 hours",
        address="14 Demo Secret Row, Stafford ST16 9ZZ",
        facilities={
            "max_children": 4,
            "max_son_age": 16,
            "wheelchair_accessible": True,
            "accepts_nrpf": False,
            "accepts_pets": False,
            "women_only": True,
            "languages": ["English", "Urdu", "Polish"],
        },
    ),
    dict(
        org="Glow",
        name="Glow refuge",
        kind="refuge",
        areas=["E07000195", "E07000198", "E06000021"],
        phone="0330 0945 559",
        hours="24 hours",
        address="3 Hidden Demo Lane, Stoke-on-Trent ST4 9ZZ",
        facilities={
            "max_children": 3,
            "max_son_age": 14,
            "wheelchair_accessible": False,
            "accepts_nrpf": True,
            "accepts_pets": True,
            "women_only": True,
            "languages": ["English", "Punjabi"],
        },
    ),
    dict(
        org="Glow",
        name="Glow perpetrator service",
        kind="perpetrator_programme",
        areas=["E07000195", "E07000198", "E06000021"],
        phone="0330 0945 559",
        hours="Mon-Fri 09:00-17:00",
    ),
    dict(
        org="Pathway",
        name="Pathway refuge",
        kind="refuge",
        areas=["E07000194", "E07000199"],
        phone="01543 676800",
        hours="24 hours",
        address="27 Confidential Demo Close, Lichfield WS13 9ZZ",
        facilities={
            "max_children": 2,
            "max_son_age": 12,
            "wheelchair_accessible": True,
            "accepts_nrpf": False,
            "accepts_pets": False,
            "women_only": True,
            "languages": ["English"],
        },
    ),
]

USERS = [
    ("partnership.admin", "Staffordshire Commissioner's Office", "admin", True),
    ("police.officer", "Staffordshire Police", "staff", False),
    ("police.admin", "Staffordshire Police", "admin", False),
    ("police.analyst", "Staffordshire Police", "analyst", False),
    ("opcc.staff", "Staffordshire Commissioner's Office", "staff", False),
    ("opcc.analyst", "Staffordshire Commissioner's Office", "analyst", False),
    ("newera.staff", "New Era", "staff", False),
    ("newera.admin", "New Era", "admin", False),
    ("swa.staff", "Staffordshire Women's Aid", "staff", False),
    ("swa.admin", "Staffordshire Women's Aid", "admin", False),
    ("glow.staff", "Glow", "staff", False),
    ("pathway.staff", "Pathway", "staff", False),
]


def seed_partnership(password: str | None) -> str | None:
    """Organisations, services and users. Returns the password it generated, if any."""
    orgs = {o.name: o for o in db.session.scalars(sa.select(Organisation))}
    for name, kind, areas in ORGANISATIONS:
        if name not in orgs:
            orgs[name] = Organisation(
                name=name, kind=kind, areas=areas, description=ORGANISATION_DESCRIPTIONS[name]
            )
            db.session.add(orgs[name])
    db.session.flush()
    existing = {(s.organisation_id, s.name) for s in db.session.scalars(sa.select(Service))}
    for spec in SERVICES:
        spec = dict(spec)
        org = orgs[spec.pop("org")]
        if (org.id, spec["name"]) not in existing:
            db.session.add(Service(organisation_id=org.id, **spec, **DIRECTORY[spec["name"]]))
    users = set(db.session.scalars(sa.select(User.username)))
    missing = [u for u in USERS if u[0] not in users]
    generated = None
    if missing and password is None:
        password = generated = secrets.token_urlsafe(12)
    password_hash = auth.hash_password(password) if missing else None
    for username, org_name, role, partnership_admin in missing:
        db.session.add(
            User(
                username=username,
                full_name=username.replace(".", " ").title(),
                organisation_id=orgs[org_name].id,
                role=role,
                partnership_admin=partnership_admin,
                password_hash=password_hash,
            )
        )
    db.session.flush()
    return generated


def reset_demo_password(password: str | None) -> str:
    """A new password for every demo user (generated unless given); their sessions end.
    Returns the password."""
    password = password or secrets.token_urlsafe(12)
    password_hash = auth.hash_password(password)
    names = [u[0] for u in USERS]
    for user in db.session.scalars(sa.select(User).where(User.username.in_(names))):
        user.password_hash = password_hash
        auth.revoke_user_sessions(user.id, "password reset")
    db.session.commit()
    return password


# Bed spaces of the demo refuges: (space type, total, vacant).
BED_SPACES = {
    "Staffordshire Women's Aid refuge": [("single", 4, 1), ("family", 3, 1), ("accessible", 1, 0)],
    "Glow refuge": [("single", 2, 0), ("family", 2, 1)],
    "Pathway refuge": [("single", 3, 2), ("family", 2, 0), ("accessible", 1, 1)],
}


def seed_beds() -> None:
    """Bed spaces for the demo refuges, with a first availability report for each."""
    from partnership_api.models.base import utcnow
    from partnership_api.models.beds import AvailabilityReport, BedSpace, RefugeAvailability

    refuges = {
        s.name: s for s in db.session.scalars(sa.select(Service).where(Service.kind == "refuge"))
    }
    reported = set(db.session.scalars(sa.select(RefugeAvailability.service_id)))
    now = utcnow()
    for name, spaces in BED_SPACES.items():
        refuge = refuges.get(name)
        if refuge is None or refuge.id in reported:
            continue
        for space_type, total, vacant in spaces:
            db.session.add(
                BedSpace(service_id=refuge.id, space_type=space_type, total=total, vacant=vacant)
            )
        db.session.add(
            RefugeAvailability(service_id=refuge.id, version=1, updated_at=now, updated_by="demo")
        )
        db.session.add(
            AvailabilityReport(
                service_id=refuge.id,
                reported_at=now,
                reported_by="demo",
                version=1,
                spaces=[{"space_type": t, "total": n, "vacant": v} for t, n, v in spaces],
            )
        )
    db.session.flush()


def seed_demo(password: str | None) -> str | None:
    """Every step of the demo partnership; commits. Returns a generated password, if any."""
    generated = seed_partnership(password)
    seed_beds()
    seed_funding()
    db.session.commit()
    return generated
