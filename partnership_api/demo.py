"""The demo partnership of shared/domain.md: organisations, services and one user per role.

Each step is idempotent: it adds what is missing and leaves what exists alone.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa

from partnership_api import auth
from partnership_api.demo_directory import ORGANISATION_DESCRIPTIONS
from partnership_api.demo_directory import SERVICES as DIRECTORY
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


def _quarter(today, back: int) -> str:
    """The calendar quarter ``back`` quarters before today's ("2026-Q3"); negative is ahead."""
    index = today.year * 4 + (today.month - 1) // 3 - back
    return f"{index // 4}-Q{index % 4 + 1}"


def seed_funding() -> None:
    """Home Office funds and a handful of projects, with milestones, spend and outputs.

    Dates are set relative to the day of seeding so the demo's summary is always current.
    Amounts are whole pence.
    """
    from datetime import date, timedelta

    from partnership_api.models.base import utcnow
    from partnership_api.models.funding import Fund, Milestone, Output, Project, SpendLine

    if db.session.scalar(sa.select(Fund.id).limit(1)) is not None:
        return
    today = utcnow().date()
    org = dict(db.session.execute(sa.select(Organisation.name, Organisation.id)).all())
    police, new_era, glow = org["Staffordshire Police"], org["New Era"], org["Glow"]
    swa, pathway = org["Staffordshire Women's Aid"], org["Pathway"]
    safer_streets = Fund(
        name="Safer Streets Fund round 4",
        funder="Home Office",
        round="4",
        description="Crime prevention in public places: lighting, CCTV, education, training.",
        starts_on=date(today.year - 1, 4, 1),
        ends_on=date(today.year + 1, 3, 31),
    )
    swan = Fund(
        name="Safety of Women at Night Fund",
        funder="Home Office",
        round="2",
        description="Women's safety in the night-time economy.",
        starts_on=date(today.year - 1, 10, 1),
        ends_on=date(today.year + 1, 9, 30),
    )
    db.session.add_all([safer_streets, swan])
    db.session.flush()
    day = lambda n: today + timedelta(days=n)  # noqa: E731 - days from today
    projects = [
        dict(
            fund=safer_streets,
            title="Street lighting in Stoke-on-Trent and Newcastle hotspots",
            category="street_lighting",
            lead=police,
            delivery=[],
            areas=["E06000021", "E07000195"],
            award=112_500_000,
            start=-240,
            end=200,
            status="in_delivery",
            rag=("green", "amber", "green"),
            commentary="Column replacement on schedule; supplier prices up 6%.",
            milestones=[
                ("Hotspot survey signed off", -200, -205),
                ("First 200 lights", -60, -58),
                ("All lights upgraded", 180, None),
            ],
            spend=[
                (2, 21_410_033, None),
                (1, 30_999_917, None),
                (0, None, 25_000_000),
                (-1, None, 30_000_000),
            ],
            outputs=[("street lights upgraded", "lights", 420, 260)],
        ),
        dict(
            fund=safer_streets,
            title="CCTV for Stafford and Cannock town centres",
            category="cctv",
            lead=police,
            delivery=[],
            areas=["E07000197", "E07000192"],
            award=98_237_550,
            start=-300,
            end=60,
            status="in_delivery",
            rag=("amber", "red", "amber"),
            commentary="Installation in Cannock delayed by a network upgrade.",
            milestones=[
                ("Control-room link live", -150, -149),
                ("Cameras installed in Cannock", -30, None),
            ],
            spend=[
                (3, 30_000_000, None),
                (2, 25_500_075, None),
                (1, 20_000_000, None),
                (0, None, 21_000_000),
            ],
            outputs=[("cameras installed", "cameras", 38, 24)],
        ),
        dict(
            fund=safer_streets,
            title="Education campaign: healthy relationships",
            category="education_campaign",
            lead=new_era,
            delivery=[new_era, glow],
            areas=list(AREAS),
            award=41_200_000,
            start=-150,
            end=210,
            status="in_delivery",
            rag=("green", "green", "amber"),
            commentary="Schools in the north booked through Glow.",
            milestones=[
                ("Campaign materials approved", -120, -121),
                ("Half of sessions delivered", 60, None),
            ],
            spend=[(1, 9_876_543, None), (0, None, 10_000_000)],
            outputs=[("school sessions delivered", "sessions", 120, 45)],
        ),
        dict(
            fund=swan,
            title="Vulnerability training for night-time-economy staff",
            category="vulnerability_training",
            lead=swa,
            delivery=[swa, pathway],
            areas=["E07000197", "E07000194", "E07000199"],
            award=36_525_000,
            start=-200,
            end=160,
            status="in_delivery",
            rag=("green", "green", "green"),
            commentary="Door staff and bar staff trained in Stafford, Lichfield and Tamworth.",
            milestones=[("Trainers recruited", -170, -172), ("300 staff trained", -10, -12)],
            spend=[(2, 8_000_000, None), (1, 10_250_001, None), (0, None, 9_000_000)],
            outputs=[
                ("night-time-economy staff trained", "people", 600, 310),
                ("venues signed up", "venues", 80, 52),
            ],
        ),
        dict(
            fund=swan,
            title="Safe space in Hanley for women at night",
            category="safe_space",
            lead=glow,
            delivery=[glow],
            areas=["E06000021"],
            award=19_999_999,
            start=30,
            end=365,
            status="planned",
            rag=(None, None, None),
            commentary=None,
            milestones=[("Premises agreed", 20, None)],
            spend=[(-1, None, 5_000_000)],
            outputs=[("nights open", "nights", 150, 0)],
        ),
    ]
    for spec in projects:
        fund = spec["fund"]
        project = Project(
            fund_id=fund.id,
            title=spec["title"],
            description=spec["title"] + ".",
            category=spec["category"],
            lead_organisation_id=spec["lead"],
            amount_awarded_pence=spec["award"],
            awarded_on=fund.starts_on,
            planned_start=day(spec["start"]),
            planned_end=day(spec["end"]),
            actual_start=day(spec["start"]) if spec["status"] != "planned" else None,
            status=spec["status"],
            rag_commentary=spec["commentary"],
        )
        project.rag_delivery, project.rag_spend, project.rag_risk = spec["rag"]
        project.delivery_organisation_ids = spec["delivery"]
        project.areas = spec["areas"]
        db.session.add(project)
        db.session.flush()
        for title, due, done in spec["milestones"]:
            db.session.add(
                Milestone(
                    project_id=project.id,
                    title=title,
                    due_on=day(due),
                    completed_on=day(done) if done is not None else None,
                )
            )
        for back, actual, forecast in spec["spend"]:
            db.session.add(
                SpendLine(
                    project_id=project.id,
                    period=_quarter(today, back),
                    actual_pence=actual,
                    forecast_pence=forecast,
                )
            )
        for metric, unit, target, actual in spec["outputs"]:
            db.session.add(
                Output(
                    project_id=project.id, metric=metric, unit=unit, target=target, actual=actual
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
