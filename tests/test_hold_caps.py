"""Holding the county's free beds, told by the partner who tries (issue 25, point 2).

One officer referring made-up people held every free space; a provider did the same to its
neighbours; a space a refuge released was held again at once by a new made-up referral. The
caps (``services/hold_caps.py``): live holds per user, per organisation, per organisation at
one refuge (a share of its vacant spaces, at least one), a cool-down after a refuge released
one of an organisation's holds with a reason, and an alert to the refuge and the partnership
admins when an organisation reaches a cap.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from partnership_api.models.beds import BedHold
from tests.factories import (
    GLOW_REFUGE,
    PATHWAY_REFUGE,
    REFERRALS_URL,
    SWA_REFUGE,
    consenting_victim_referral,
    hold,
)


def refer(client, headers, service_id) -> str:
    response = client.post(
        REFERRALS_URL, json=consenting_victim_referral(service_id), headers=headers
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def refer_and_hold(client, headers, refuge_id, space_type):
    return hold(client, headers, refer(client, headers, refuge_id), refuge_id, space_type)


def feed_types(client, headers) -> list[dict]:
    answer = client.get("/api/v1/events?page_size=100", headers=headers)
    assert answer.status_code == 200
    return [e for e in answer.get_json() if e["type"] == "hold.cap_reached"]


def test_one_officer_cannot_hold_every_free_bed_in_the_county(client, login, ids, app, monkeypatch):
    # Even where a refuge would let the police hold all its free spaces, one officer holds
    # at most MAX_ACTIVE_HOLDS_PER_USER (3) at once.
    monkeypatch.setitem(app.config, "HOLD_SHARE_PER_REFUGE_PERCENT", 100)
    officer = login("police.officer")
    swa, pathway = ids.service[SWA_REFUGE], ids.service[PATHWAY_REFUGE]
    answers = [
        refer_and_hold(client, officer, swa, "single"),
        refer_and_hold(client, officer, swa, "family"),
        refer_and_hold(client, officer, pathway, "single"),
        refer_and_hold(client, officer, pathway, "accessible"),
    ]
    assert [a.status_code for a in answers] == [201, 201, 201, 409]
    assert "most one person may hold at once (3)" in answers[3].get_json()["message"]
    # A colleague with a real victim still holds the last space.
    assert refer_and_hold(client, login("police.admin"), pathway, "accessible").status_code == 201


def test_an_organisation_holds_only_its_share_of_one_refuges_free_spaces(client, login, ids):
    # Pathway has 3 vacant spaces: one organisation may hold half, and at least one: 1.
    pathway = ids.service[PATHWAY_REFUGE]
    officer, colleague = login("police.officer"), login("police.admin")
    assert refer_and_hold(client, officer, pathway, "single").status_code == 201
    second = refer_and_hold(client, colleague, pathway, "single")
    assert second.status_code == 409
    assert "its share of that refuge's 3 vacant spaces (1)" in second.get_json()["message"]
    # Other partners still hold Pathway's other spaces.
    assert refer_and_hold(client, login("glow.staff"), pathway, "single").status_code == 201
    assert refer_and_hold(client, login("newera.staff"), pathway, "accessible").status_code == 201


def test_a_space_the_refuge_released_cannot_be_held_again_at_once_with_a_new_made_up_referral(
    client, login, ids, db_session
):
    officer, swa_staff = login("police.officer"), login("swa.staff")
    swa = ids.service[SWA_REFUGE]
    placed = refer_and_hold(client, officer, swa, "family").get_json()
    release = f"/api/v1/refuges/{swa}/holds/{placed['id']}/release"
    body = {"reason_code": "referral_not_genuine"}
    assert client.post(release, json=body, headers=swa_staff).status_code == 200
    # A new made-up referral to SWA, by another officer of the same force: refused for now.
    again = refer_and_hold(client, login("police.admin"), swa, "family")
    assert again.status_code == 409
    assert "can hold a space there again from" in again.get_json()["message"]
    # Other refuges are not barred, nor are other partners at SWA.
    assert refer_and_hold(client, officer, ids.service[GLOW_REFUGE], "family").status_code == 201
    assert refer_and_hold(client, login("newera.staff"), swa, "family").status_code == 201
    # Once the cool-down (HOLD_COOLDOWN_MINUTES) has passed, the police may hold there again.
    db_session.rollback()
    released = db_session.get(BedHold, uuid.UUID(placed["id"]))
    released.ended_at -= timedelta(minutes=121)
    db_session.commit()
    assert refer_and_hold(client, login("police.admin"), swa, "single").status_code == 201


def test_reaching_a_cap_alerts_the_refuge_and_the_partnership_admin_and_nobody_else(
    client, login, ids
):
    glow = ids.service[GLOW_REFUGE]
    officer = login("police.officer")
    # Glow has one vacant space: the police's first hold there reaches their share.
    assert refer_and_hold(client, officer, glow, "family").status_code == 201
    (alert,) = feed_types(client, login("glow.staff"))
    assert alert["data"] == {
        "organisation_id": ids.org["Staffordshire Police"],
        "refuge_id": glow,
        "cap": "refuge_share",
    }
    # The same event (each listener's cursor for it is its own: issue 25).
    assert [e["id"] for e in feed_types(client, login("partnership.admin"))] == [alert["id"]]
    for outsider in ("swa.staff", "pathway.staff", "newera.staff", "opcc.staff"):
        assert feed_types(client, login(outsider)) == [], outsider
    # A refused hold (over the cap) writes nothing: no hold, no alert.
    refused = refer_and_hold(client, login("police.admin"), glow, "family")
    assert refused.status_code == 409
    assert len(feed_types(client, login("glow.staff"))) == 1
