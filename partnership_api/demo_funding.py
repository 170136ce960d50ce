"""The demo partnership's funding: Home Office funds and a handful of projects, with
milestones, spend and outputs. Idempotent, like the rest of ``demo.py``."""

from __future__ import annotations

import sqlalchemy as sa

from partnership_api.extensions import db
from partnership_api.models.partnership import AREAS, Organisation


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
