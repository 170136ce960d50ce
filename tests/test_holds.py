"""Holding a bed space for a referral, told by the officer, the refuges and hostile partners."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from partnership_api.models.audit import AuditEvent
from partnership_api.models.base import utcnow
from partnership_api.models.beds import BedHold, BedSpace
from tests.conftest import is_postgres
from tests.factories import (
    GLOW_REFUGE,
    REFERRALS_URL,
    SWA_REFUGE,
    consenting_victim_referral,
    figures,
    hold,
    timeline,
)


@pytest.fixture
def refer(client, login, ids):
    """``refer(GLOW)`` → the id of a new police referral of a victim to that service."""

    def make(service: str = GLOW_REFUGE, username: str = "police.officer", **changes) -> str:
        body = consenting_victim_referral(ids.service[service], **changes)
        response = client.post(REFERRALS_URL, json=body, headers=login(username))
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    return make


def family_in_search(client, headers, refuge_id) -> int:
    results = client.get("/api/v1/beds/search?space_type=family", headers=headers).get_json()
    return next((r["spaces"][0]["available"] for r in results if r["refuge_id"] == refuge_id), 0)


def act(client, headers, referral_id, **body):
    return client.post(f"{REFERRALS_URL}/{referral_id}/transitions", json=body, headers=headers)


# --- the officer holds the last family room ------------------------------------------------------


def test_an_officer_holds_the_last_family_room_and_nobody_else_gets_it(
    client, login, ids, refer, db_session
):
    officer = login("police.officer")
    glow = ids.service[GLOW_REFUGE]
    first, second = refer(GLOW_REFUGE), refer(GLOW_REFUGE)
    assert family_in_search(client, officer, glow) == 1

    response = hold(client, officer, first, glow)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["referral_id"] == first and body["refuge_id"] == glow
    assert body["space_type"] == "family" and body["state"] == "active"
    assert set(body) >= {"id", "referral_id", "refuge_id", "space_type", "expires_at"}

    assert figures(client, officer, glow) == {
        "space_type": "family",
        "total": 2,
        "vacant": 1,
        "held": 1,
        "available": 0,
        "overcommitted": 0,
    }
    assert family_in_search(client, officer, glow) == 0
    assert (
        client.get(f"{REFERRALS_URL}/{first}", headers=officer).get_json()["hold"]["id"]
        == body["id"]
    )

    taken = hold(client, officer, second, glow)
    assert taken.status_code == 409
    assert "No family space is available" in taken.get_json()["message"]
    again = hold(client, officer, first, glow, "single")
    assert again.status_code == 409 and "already holds" in again.get_json()["message"]

    assert "hold_placed" in timeline(client, officer, first)
    event = db_session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "bed_hold.place")
    ).one()
    assert event.resource_id == body["id"]
    assert event.subject_organisation_id == ids.org["Staffordshire Police"]
    assert event.related_organisation_id == ids.org["Glow"]


def test_releasing_a_hold_gives_the_space_back_at_once(client, login, ids, refer, db_session):
    officer = login("police.officer")
    glow = ids.service[GLOW_REFUGE]
    referral = refer(GLOW_REFUGE)
    assert hold(client, officer, referral, glow).status_code == 201
    assert family_in_search(client, officer, glow) == 0

    response = client.delete(f"{REFERRALS_URL}/{referral}/hold", headers=officer)
    assert response.status_code == 204
    assert figures(client, officer, glow)["available"] == 1
    assert family_in_search(client, officer, glow) == 1
    assert client.get(f"{REFERRALS_URL}/{referral}", headers=officer).get_json()["hold"] is None
    assert client.delete(f"{REFERRALS_URL}/{referral}/hold", headers=officer).status_code == 404
    assert timeline(client, officer, referral)[-2:] == ["hold_placed", "hold_released"]
    assert db_session.scalar(
        sa.select(sa.func.count()).where(AuditEvent.action == "bed_hold.release")
    )
    # Released, the officer cannot renew it by holding again before it would have ended ...
    renewed = hold(client, officer, referral, glow)
    assert renewed.status_code == 403
    assert "only the refuge can hold one again" in renewed.get_json()["message"]
    # ... but the refuge, which agrees, can.
    assert hold(client, login("glow.staff"), referral, glow).status_code == 201


def test_the_receiving_refuge_may_hold_and_release_too(client, login, ids, refer):
    referral = refer(GLOW_REFUGE)
    glow_staff = login("glow.staff")
    assert hold(client, glow_staff, referral, ids.service[GLOW_REFUGE]).status_code == 201
    assert (
        client.delete(
            f"{REFERRALS_URL}/{referral}/hold", headers=login("police.officer")
        ).status_code
        == 204
    )


def test_a_lapsed_hold_frees_its_space_without_any_job(client, login, ids, refer, db_session):
    officer = login("police.officer")
    glow = ids.service[GLOW_REFUGE]
    first, second = refer(GLOW_REFUGE), refer(GLOW_REFUGE)
    assert hold(client, officer, first, glow).status_code == 201
    assert family_in_search(client, officer, glow) == 0

    # Four hours later, nobody has done anything.
    placed = db_session.scalars(sa.select(BedHold)).one()
    placed.expires_at = utcnow() - timedelta(seconds=1)
    db_session.commit()

    assert figures(client, officer, glow)["available"] == 1
    assert family_in_search(client, officer, glow) == 1
    assert client.get(f"{REFERRALS_URL}/{first}", headers=officer).get_json()["hold"] is None
    assert client.delete(f"{REFERRALS_URL}/{first}/hold", headers=officer).status_code == 404
    assert hold(client, officer, second, glow).status_code == 201
    # Once the space is free again, the first referral may hold again (its hold ended by
    # itself: that is no renewal); its lapsed hold is tidied away.
    assert client.delete(f"{REFERRALS_URL}/{second}/hold", headers=officer).status_code == 204
    assert hold(client, officer, first, glow).status_code == 201
    db_session.rollback()
    states = db_session.scalars(
        sa.select(BedHold.state)
        .where(BedHold.referral_id == uuid.UUID(first))
        .order_by(BedHold.created_at)
    ).all()
    assert states == ["lapsed", "active"]


def test_search_drops_a_lapsed_hold_when_its_time_comes(
    client, login, ids, refer, app, monkeypatch
):
    officer = login("police.officer")
    glow = ids.service[GLOW_REFUGE]
    assert hold(client, officer, refer(GLOW_REFUGE), glow).status_code == 201
    assert family_in_search(client, officer, glow) == 0  # the cached answer
    later = utcnow() + app.config["HOLD_TTL"] + timedelta(seconds=1)
    monkeypatch.setattr("partnership_api.services.bed_search.utcnow", lambda: later)
    assert family_in_search(client, officer, glow) == 1


# --- the referral's lifecycle ends or turns its hold -------------------------------------------


def test_an_accepted_referral_turns_its_hold_into_an_admission(client, login, ids, refer):
    officer, glow_staff = login("police.officer"), login("glow.staff")
    glow = ids.service[GLOW_REFUGE]
    referral = refer(GLOW_REFUGE)
    assert hold(client, officer, referral, glow).status_code == 201
    response = act(client, glow_staff, referral, action="accept")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["hold"] is None
    assert figures(client, officer, glow) == {
        "space_type": "family",
        "total": 2,
        "vacant": 0,
        "held": 0,
        "available": 0,
        "overcommitted": 0,
    }
    assert "hold_admitted" in timeline(client, officer, referral)
    assert family_in_search(client, officer, glow) == 0


def test_a_refuge_that_already_accepted_cannot_hold_for_the_same_referral(
    client, login, ids, refer
):
    """Once the refuge accepted, the family is its admission, not a hold that would lapse."""
    glow_staff = login("glow.staff")
    glow = ids.service[GLOW_REFUGE]
    referral = refer(GLOW_REFUGE)
    assert act(client, glow_staff, referral, action="accept").status_code == 200
    response = hold(client, glow_staff, referral, glow)
    assert response.status_code == 409
    assert "already accepted" in response.get_json()["message"]
    assert figures(client, glow_staff, glow)["held"] == 0


def test_an_admission_makes_an_earlier_availability_etag_stale(client, login, ids, refer):
    """A report made from figures read before an admission must not undo it."""
    officer, glow_staff = login("police.officer"), login("glow.staff")
    glow = ids.service[GLOW_REFUGE]
    url = f"/api/v1/refuges/{glow}/availability"
    before = client.get(url, headers=glow_staff)
    etag, old_spaces = before.headers["ETag"], before.get_json()["spaces"]
    referral = refer(GLOW_REFUGE)
    assert hold(client, officer, referral, glow).status_code == 201
    assert act(client, glow_staff, referral, action="accept").status_code == 200
    stale = client.put(
        url,
        json={"spaces": [{k: s[k] for k in ("space_type", "total", "vacant")} for s in old_spaces]},
        headers={**glow_staff, "If-Match": etag},
    )
    assert stale.status_code == 412
    assert figures(client, officer, glow)["vacant"] == 0


@pytest.mark.parametrize(
    ("actor", "body"),
    [
        ("glow.staff", {"action": "decline", "reason_code": "no_capacity"}),
        ("police.officer", {"action": "withdraw", "note": "safe now"}),
        (
            "glow.staff",
            {"action": "redirect", "reason_code": "no_capacity", "to_service_id": SWA_REFUGE},
        ),
    ],
)
def test_a_declined_withdrawn_or_redirected_referral_gives_the_space_back(
    client, login, ids, refer, actor, body
):
    officer = login("police.officer")
    glow = ids.service[GLOW_REFUGE]
    referral = refer(GLOW_REFUGE)
    assert hold(client, officer, referral, glow).status_code == 201
    if "to_service_id" in body:
        body = {**body, "to_service_id": ids.service[body["to_service_id"]]}
    response = act(client, login(actor), referral, **body)
    assert response.status_code == 200, response.get_json()
    assert figures(client, officer, glow) == {
        "space_type": "family",
        "total": 2,
        "vacant": 1,
        "held": 0,
        "available": 1,
        "overcommitted": 0,
    }
    assert family_in_search(client, officer, glow) == 1
    assert timeline(client, officer, referral)[-1] == "hold_released"
    # A finished referral holds nothing more.
    refused = hold(client, officer, referral, glow)
    assert refused.status_code == 409
    assert "a bed space can be held only" in refused.get_json()["message"]


def test_a_redirected_referral_gives_its_space_back_and_holds_at_its_new_refuge(
    client, login, ids, refer
):
    officer = login("police.officer")
    referral = refer(SWA_REFUGE)
    assert hold(client, officer, referral, ids.service[SWA_REFUGE]).status_code == 201
    redirected = act(
        client,
        login("swa.staff"),
        referral,
        action="redirect",
        to_service_id=ids.service[GLOW_REFUGE],
    )
    assert redirected.status_code == 200
    assert figures(client, officer, ids.service[SWA_REFUGE])["available"] == 1
    onward = redirected.get_json()["redirected_to"]
    # The onward referral is addressed to Glow: a space is held there, and no longer at SWA.
    assert hold(client, officer, onward, ids.service[SWA_REFUGE]).status_code == 403
    assert hold(client, officer, onward, ids.service[GLOW_REFUGE]).status_code == 201
    assert figures(client, officer, ids.service[GLOW_REFUGE])["available"] == 0


# --- a refuge's report smaller than its holds ----------------------------------------------------


def test_a_refuge_reporting_fewer_vacancies_than_holds_is_told_so(client, login, ids, refer):
    officer, glow_staff = login("police.officer"), login("glow.staff")
    glow = ids.service[GLOW_REFUGE]
    assert hold(client, officer, refer(GLOW_REFUGE), glow).status_code == 201
    url = f"/api/v1/refuges/{glow}/availability"
    etag = client.get(url, headers=glow_staff).headers["ETag"]
    response = client.put(
        url,
        json={"spaces": [{"space_type": "family", "total": 2, "vacant": 0}]},
        headers={**glow_staff, "If-Match": etag},
    )
    assert response.status_code == 200
    body = response.get_json()
    family = body["spaces"][0]
    assert family["available"] == 0 and family["held"] == 1 and family["overcommitted"] == 1
    assert body["warnings"] and "overcommitted" in body["warnings"][0]
    assert family_in_search(client, officer, glow) == 0
    assert hold(client, officer, refer(GLOW_REFUGE), glow).status_code == 409


# --- what a hostile or mistaken partner tries ---------------------------------------------------


@pytest.mark.parametrize(
    ("username", "status"),
    [
        ("pathway.staff", 404),  # not a party to the referral: it does not exist for them
        ("newera.staff", 404),
        ("opcc.staff", 403),
        ("police.analyst", 403),
        ("partnership.admin", 403),
    ],
)
def test_outsiders_cannot_hold_or_release(client, login, ids, refer, username, status):
    referral = refer(GLOW_REFUGE)
    h = login(username)
    assert hold(client, h, referral, ids.service[GLOW_REFUGE]).status_code == status
    assert client.delete(f"{REFERRALS_URL}/{referral}/hold", headers=h).status_code == status
    assert figures(client, h, ids.service[GLOW_REFUGE])["held"] == 0


def test_a_hold_for_a_referral_that_does_not_exist_is_not_found(client, login, ids):
    response = hold(client, login("police.officer"), uuid.uuid4(), ids.service[GLOW_REFUGE])
    assert response.status_code == 404


def test_holds_are_only_for_a_victims_open_referral_at_a_refuge(client, login, ids, refer):
    officer = login("police.officer")
    glow = ids.service[GLOW_REFUGE]
    perpetrator = client.post(
        REFERRALS_URL,
        json=consenting_victim_referral(
            ids.service["Glow perpetrator service"], kind="perpetrator"
        ),
        headers=officer,
    )
    assert perpetrator.status_code == 201, perpetrator.get_json()
    response = hold(client, officer, perpetrator.get_json()["id"], glow)
    assert response.status_code == 409

    referral = refer(GLOW_REFUGE)
    not_a_refuge = hold(client, officer, referral, ids.service["New Era victim support"])
    assert not_a_refuge.status_code == 422
    assert hold(client, officer, referral, 999999).status_code == 422
    no_such_type = hold(client, officer, referral, glow, space_type="accessible")
    assert no_such_type.status_code == 409
    assert hold(client, officer, referral, glow, space_type="suite").status_code == 422
    extra = client.post(
        f"{REFERRALS_URL}/{referral}/hold",
        json={"refuge_id": glow, "space_type": "family", "expires_at": "2099-01-01T00:00:00Z"},
        headers=officer,
    )
    assert extra.status_code == 422
    full = hold(client, officer, referral, glow, space_type="single")  # Glow: 0 singles free
    assert full.status_code == 409


# --- two officers at the same moment ----------------------------------------------------------


@pytest.mark.skipif(not is_postgres(), reason="real concurrent transactions need PostgreSQL")
def test_twenty_officers_race_for_the_last_family_room_and_one_gets_it(
    app, client, login, ids, refer, db_session
):
    glow = ids.service[GLOW_REFUGE]
    officer = login("police.officer")
    referrals = [refer(GLOW_REFUGE) for _ in range(20)]
    barrier = threading.Barrier(20)
    statuses: list[int] = []

    def try_to_hold(referral_id: str) -> None:
        own = app.test_client()
        barrier.wait()
        statuses.append(hold(own, officer, referral_id, glow).status_code)

    threads = [threading.Thread(target=try_to_hold, args=(r,)) for r in referrals]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201] + [409] * 19
    family = figures(client, officer, glow)
    assert family["available"] == 0 and family["held"] == 1 and family["vacant"] == 1
    live = db_session.scalar(
        sa.select(sa.func.count()).select_from(BedHold).where(BedHold.state == "active")
    )
    assert live == 1
    assert db_session.get(BedSpace, (glow, "family")).vacant == 1
