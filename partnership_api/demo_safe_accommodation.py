"""Demo data for the safe-accommodation duty: a financial year of households referred by the
police to the county's three refuges, made through the same services as the API (so the
timelines, audit trail and events are real), then moved back into the year.

Some are admitted (some from out of area, with who stayed and the characteristics given with
consent) and their stays end for every reason; some are declined for every reason of the
return, some refused twice, some redirected, some withdrawn, some still waiting; and each
refuge reports its commissioned bed spaces. ``flask seed-demo-year 2025`` (refused in
production) adds them to the demo partnership.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from partnership_api.actors import Actor
from partnership_api.extensions import db
from partnership_api.models.partnership import Organisation, Service, User
from partnership_api.models.referrals import DECLINE_REASONS, Referral
from partnership_api.models.safe_accommodation import (
    ACCOMMODATION_TYPES,
    CHARACTERISTICS,
    DESTINATIONS,
    STAY_END_REASONS,
    CommissionedSpacesReport,
    Stay,
)
from partnership_api.services import commissioned_spaces, referrals, stays

REFUGES = {
    "Staffordshire Women's Aid refuge": ("swa.staff", "E07000197"),
    "Glow refuge": ("glow.staff", "E06000021"),
    "Pathway refuge": ("pathway.staff", "E07000194"),
}
# Where households come from: mostly the county, some from elsewhere in England.
ORIGINS = ["E07000197", "E06000021", "E07000194", "E07000192", "E07000195", "E07000199"] * 3 + [
    "E08000025",
    "E08000026",
    "E08000031",
    "E06000018",
    "E09000008",
    "E08000003",
]


def _actor(username: str) -> Actor:
    user = db.session.scalar(sa.select(User).where(User.username == username))
    org = db.session.get(Organisation, user.organisation_id)
    return Actor(user.id, user.username, org.id, org.kind, org.name, user.role, False, user.id)


def _move(model, key, value, **times) -> None:
    db.session.execute(sa.update(model).where(key == value).values(**times))
    db.session.commit()


def _body(rng: random.Random, service_id: int, origin: str) -> dict:
    children = rng.choice([0, 0, 1, 1, 2, 2, 3, 4, 5])
    return {
        "kind": "victim",
        "to_service_id": service_id,
        "risk_level": rng.choice(["standard", "medium", "high", "high"]),
        "subject": {"name": f"Demo resident {rng.randrange(10**6):06d}", "area": "E07000197"},
        "safe_contact": {"safe_to_call": False, "do_not_contact": True},
        "household": {"children": children, "child_ages": []},
        "needs": {},
        "consent": {"given": True},
        "summary": "Demo household for the safe-accommodation return.",
        "fleeing_from": origin,
    }


def seed_year(year: int, households: int = 120, seed: int = 26) -> dict:
    """Add ``households`` households referred in financial year ``year``; return a tally."""
    rng = random.Random(seed)
    police = _actor("police.officer")
    services = dict(db.session.execute(sa.select(Service.name, Service.id)).all())
    start = datetime(year, 4, 1, 9, tzinfo=UTC)
    tally: dict[str, int] = {}
    for _ in range(households):
        refuge = rng.choice(list(REFUGES))
        worker, area = REFUGES[refuge]
        staff = _actor(worker)
        when = start + timedelta(days=rng.randrange(360), hours=rng.randrange(10))
        made, _ = referrals.create(police, _body(rng, services[refuge], rng.choice(ORIGINS)), None)
        rid = made["id"]
        _move(Referral, Referral.id, rid, created_at=when)
        fate = rng.choices(
            ["admitted", "declined", "twice", "redirected", "withdrawn", "waiting"],
            [40, 25, 10, 10, 10, 5],
        )[0]
        tally[fate] = tally.get(fate, 0) + 1
        if fate == "admitted":
            referrals.transition(staff, rid, {"action": "accept", "placement_area": area})
            _move(Stay, Stay.referral_id, rid, admitted_at=when + timedelta(days=1))
            consent = rng.random() < 0.7
            stays.change(
                staff,
                rid,
                {
                    "adults": [{"sex": "female", "trans": rng.choice(["no"] * 20 + ["yes"])}],
                    "characteristics_consent": consent,
                    "characteristics": rng.sample(CHARACTERISTICS, rng.randrange(3))
                    if consent
                    else [],
                },
            )
            if rng.random() < 0.75:
                reason = rng.choice(STAY_END_REASONS)
                referrals.transition(
                    staff,
                    rid,
                    {
                        "action": "close",
                        "outcome": "Demo stay ended.",
                        "end_reason": reason,
                        "end_reason_text": "demo" if reason == "other" else None,
                        "destination": rng.choice(DESTINATIONS),
                    },
                )
                days = rng.choice([5, 20, 45, 80, 120, 200])
                _move(Stay, Stay.referral_id, rid, ended_at=when + timedelta(days=1 + days))
        elif fate in ("declined", "twice"):
            code = rng.choice(DECLINE_REASONS)
            text = "demo reason" if code == "other" else None
            data = {"action": "decline", "reason_code": code, "reason_text": text}
            referrals.transition(staff, rid, {k: v for k, v in data.items() if v})
            if fate == "twice":
                other = rng.choice([r for r in REFUGES if r != refuge])
                body = {**_body(rng, services[other], "E07000197"), "follows_referral_id": rid}
                again, _ = referrals.create(police, body, None)
                _move(Referral, Referral.id, again["id"], created_at=when + timedelta(days=1))
                referrals.transition(
                    _actor(REFUGES[other][0]),
                    again["id"],
                    {"action": "decline", "reason_code": "no_capacity"},
                )
        elif fate == "redirected":
            other = rng.choice([r for r in REFUGES if r != refuge])
            moved = referrals.transition(
                staff,
                rid,
                {
                    "action": "redirect",
                    "to_service_id": services[other],
                    "reason_code": "no_capacity",
                },
            )
            _move(Referral, Referral.id, moved["redirected_to"], created_at=when)
        elif fate == "withdrawn":
            referrals.transition(police, rid, {"action": "withdraw"})
    for refuge, (worker, _area) in REFUGES.items():
        spaces = [
            {"accommodation_type": kind, "spaces": rng.randrange(0, 9)}
            for kind in ACCOMMODATION_TYPES
        ]
        commissioned_spaces.report(_actor(worker), services[refuge], {"spaces": spaces})
    db.session.execute(
        sa.update(CommissionedSpacesReport)
        .where(CommissionedSpacesReport.reported_at > start + timedelta(days=300))
        .values(reported_at=start + timedelta(days=300))
    )
    db.session.commit()
    return tally
