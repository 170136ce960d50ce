"""Refusals flooding another organisation's audit trail, told by a staff user who reads what
is not theirs again and again (issue 25, point 8).

300 reads of another organisation's referral wrote 300 refusal rows. Refusals are now written
once per actor, object and window (``REFUSAL_WINDOW_MINUTES``), and an actor past
``REFUSAL_LIMIT`` refusals in the window gets 429 for anything refused or not found (a hidden
object and a missing one still read the same) until the window ends; their own work goes on.
"""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from partnership_api.models.audit import AuditEvent
from partnership_api.models.partnership import AuthCounter
from tests.factories import REFERRALS_URL, SWA_REFUGE, consenting_victim_referral


@pytest.fixture
def police_referral(client, login, ids) -> str:
    made = client.post(
        REFERRALS_URL,
        json=consenting_victim_referral(ids.service[SWA_REFUGE]),
        headers=login("police.officer"),
    )
    assert made.status_code == 201
    return made.get_json()["id"]


def refusals(db_session, action: str = "referral.read") -> list[AuditEvent]:
    db_session.rollback()
    return db_session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.action == action, AuditEvent.outcome == "refused")
        .order_by(AuditEvent.id)
    ).all()


def test_reading_another_organisations_referral_300_times_writes_one_refusal_and_then_429(
    client, login, app, db_session, monkeypatch, police_referral
):
    monkeypatch.setitem(app.config, "REFUSAL_LIMIT", 30)
    glow = login("glow.staff")
    statuses = [
        client.get(f"{REFERRALS_URL}/{police_referral}", headers=glow).status_code
        for _ in range(300)
    ]
    assert statuses[:30] == [404] * 30
    assert statuses[30:] == [429] * 270
    # One row for the object in the window, and one saying the actor was throttled.
    (read,) = refusals(db_session)
    assert read.resource_id == police_referral and read.username == "glow.staff"
    (throttled,) = refusals(db_session, "refusals.throttled")
    assert throttled.username == "glow.staff" and throttled.details["limit"] == 30
    # Throttled, a missing referral reads the same as a hidden one: 429, not 404.
    missing = client.get(f"{REFERRALS_URL}/{uuid.uuid4()}", headers=glow)
    assert missing.status_code == 429 and "Retry-After" in missing.headers
    # Her own organisation's work goes on, and a colleague is not throttled.
    assert client.get(f"{REFERRALS_URL}?page_size=10", headers=glow).status_code == 200
    assert (
        client.get(f"{REFERRALS_URL}/{police_referral}", headers=login("pathway.staff")).status_code
        == 404
    )


def test_each_object_is_recorded_once_per_window_and_again_in_the_next(
    client, login, ids, db_session, police_referral
):
    glow = login("glow.staff")
    other = client.post(
        REFERRALS_URL,
        json=consenting_victim_referral(ids.service[SWA_REFUGE]),
        headers=login("police.officer"),
    ).get_json()["id"]
    for _ in range(5):
        assert client.get(f"{REFERRALS_URL}/{police_referral}", headers=glow).status_code == 404
        assert client.get(f"{REFERRALS_URL}/{other}", headers=glow).status_code == 404
    assert sorted(e.resource_id for e in refusals(db_session)) == sorted([police_referral, other])
    # The window ends: the next refusal of the same object is written again.
    db_session.execute(sa.delete(AuthCounter).where(AuthCounter.key.like("refused:%")))
    db_session.commit()
    assert client.get(f"{REFERRALS_URL}/{police_referral}", headers=glow).status_code == 404
    assert len(refusals(db_session)) == 3
