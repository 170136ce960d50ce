"""Vacancy alerts, told by a police officer whose referral waits for a family room in
Stoke-on-Trent: the alert fires when (and only when) a fitting space opens, once per refuge
per opening, to the police only, and stops with its referral or its lifetime."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from tests.factories import (
    STOKE,
    act,
    all_events,
    glow_family,
    matched,
    refer,
    report,
    run_worker,
    set_alert,
)


def test_an_alert_fires_once_per_opening_and_only_for_a_fitting_space(client, login, ids, app):
    referral = refer(client, login, ids.service["Glow refuge"])
    alert = set_alert(client, login, referral)
    run_worker(app)
    assert matched(app) == []  # Glow's family room was already open: no news
    glow_family(client, login, ids, 0)
    run_worker(app)
    assert matched(app) == []
    glow_family(client, login, ids, 1)  # a family room opens
    run_worker(app)
    fired = matched(app)
    assert [e["data"] for e in fired] == [
        {
            "alert_id": alert["id"],
            "refuge_id": ids.service["Glow refuge"],
            "space_type": "family",
            "referral_id": referral,
        }
    ]
    glow_family(client, login, ids, 1)  # the same room, confirmed: not a new opening
    run_worker(app)
    assert len(matched(app)) == 1
    # A room at a refuge outside the alert's areas does not fit.
    swa = ids.service["Staffordshire Women's Aid refuge"]
    assert (
        report(
            client, login, "swa.staff", swa, [{"space_type": "family", "total": 3, "vacant": 3}]
        ).status_code
        == 200
    )
    run_worker(app)
    assert len(matched(app)) == 1
    # Taken by a hold, then released: a new opening.
    other = refer(client, login, ids.service["Glow refuge"])
    officer = login("police.officer")
    held = client.post(
        f"/api/v1/referrals/{other}/hold",
        json={"refuge_id": ids.service["Glow refuge"], "space_type": "family"},
        headers=officer,
    )
    assert held.status_code == 201
    run_worker(app)
    assert client.delete(f"/api/v1/referrals/{other}/hold", headers=officer).status_code == 204
    run_worker(app)
    assert len(matched(app)) == 2
    shown = client.get(f"/api/v1/vacancy-alerts/{alert['id']}", headers=officer).get_json()
    assert shown["fired"] == 2 and shown["ended_at"] is None


def test_the_alert_is_heard_only_by_its_organisation(client, login, ids, app):
    referral = refer(client, login, ids.service["Glow refuge"])
    set_alert(client, login, referral)
    glow_family(client, login, ids, 0)
    run_worker(app)
    glow_family(client, login, ids, 1)
    run_worker(app)
    assert len(matched(app)) == 1

    def heard(username):
        feed = client.get("/api/v1/events?types=vacancy.matched", headers=login(username))
        return feed.get_json()

    assert len(heard("police.officer")) == 1
    for other in ("glow.staff", "swa.staff", "opcc.staff", "police.analyst", "partnership.admin"):
        assert heard(other) == [], other


def test_the_alert_stops_with_its_referral(client, login, ids, app):
    referral = refer(client, login, ids.service["Glow refuge"])
    alert = set_alert(client, login, referral)
    assert act(client, login, "glow.staff", referral, action="accept").status_code == 200
    run_worker(app)
    glow_family(client, login, ids, 0)
    run_worker(app)
    glow_family(client, login, ids, 1)
    run_worker(app)
    assert matched(app) == []
    shown = client.get(
        f"/api/v1/vacancy-alerts/{alert['id']}", headers=login("police.officer")
    ).get_json()
    assert shown["end_reason"] == "referral_finished"
    # An alert cannot be set on a referral that no longer waits.
    again = client.post(
        "/api/v1/vacancy-alerts",
        json={"referral_id": referral, "space_type": "family"},
        headers=login("police.officer"),
    )
    assert again.status_code == 409


def test_a_household_profile_alert_ends_after_its_lifetime(client, login, ids, app):
    alert = set_alert(client, login, lifetime_hours=1)
    from partnership_api.models.base import utcnow

    run_worker(app, utcnow() + timedelta(hours=2))
    glow_family(client, login, ids, 0)
    run_worker(app)
    glow_family(client, login, ids, 1)
    run_worker(app)
    assert matched(app) == []
    shown = client.get(
        f"/api/v1/vacancy-alerts/{alert['id']}", headers=login("police.officer")
    ).get_json()
    assert shown["end_reason"] == "expired"


def test_a_lapsed_hold_opens_a_space(client, login, ids, app, monkeypatch):
    monkeypatch.setitem(app.config, "HOLD_TTL", timedelta(seconds=1))
    set_alert(client, login)
    other = refer(client, login, ids.service["Glow refuge"])
    held = client.post(
        f"/api/v1/referrals/{other}/hold",
        json={"refuge_id": ids.service["Glow refuge"], "space_type": "family"},
        headers=login("police.officer"),
    )
    assert held.status_code == 201
    run_worker(app)
    assert matched(app) == []
    time.sleep(1.2)  # the hold lapses
    run_worker(app)
    assert [
        e["type"] for e in all_events(app) if e["type"] in ("hold.lapsed", "vacancy.matched")
    ] == [
        "hold.lapsed",
        "vacancy.matched",
    ]


def test_who_may_set_an_alert_and_on_what(client, login, ids):
    referral = refer(client, login, ids.service["Glow refuge"])
    for username, status in (
        ("swa.staff", 404),  # not a party to the referral
        ("police.analyst", 403),
        ("opcc.staff", 403),
        ("glow.staff", 201),  # the receiver may look for a space too
    ):
        response = client.post(
            "/api/v1/vacancy-alerts",
            json={"referral_id": referral, "space_type": "family"},
            headers=login(username),
        )
        assert response.status_code == status, (username, response.get_json())
    bad = client.post(
        "/api/v1/vacancy-alerts",
        json={"area": ["E99999999"], "children": -1, "space_type": "palace"},
        headers=login("police.officer"),
    )
    assert bad.status_code == 422
    assert set(bad.get_json()["errors"]["json"]) == {"area", "children", "space_type"}
    mine = client.get("/api/v1/vacancy-alerts", headers=login("glow.staff")).get_json()
    assert len(mine) == 1
    assert client.get("/api/v1/vacancy-alerts", headers=login("police.officer")).get_json() == []


@pytest.mark.parametrize("username", ["police.officer", "glow.staff"])
def test_ending_an_alert(client, login, username):
    alert = client.post(
        "/api/v1/vacancy-alerts", json={"space_type": "single"}, headers=login(username)
    ).get_json()
    assert (
        client.delete(f"/api/v1/vacancy-alerts/{alert['id']}", headers=login(username)).status_code
        == 204
    )
    shown = client.get(f"/api/v1/vacancy-alerts/{alert['id']}", headers=login(username)).get_json()
    assert shown["end_reason"] == "ended_by_user"


# --- issue 25, point 10: one officer made 4,500 alerts in 20 seconds -----------------------------


def _alert(client, headers):
    body = {"area": [STOKE], "space_type": "family"}
    return client.post("/api/v1/vacancy-alerts", json=body, headers=headers)


def test_one_officer_cannot_flood_the_matcher_with_alerts(client, login, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_LIVE_VACANCY_ALERTS_PER_USER", 3)
    monkeypatch.setitem(app.config, "MAX_LIVE_VACANCY_ALERTS_PER_ORGANISATION", 5)
    officer, colleague = login("police.officer"), login("police.admin")
    made = [_alert(client, officer) for _ in range(4)]
    assert [a.status_code for a in made] == [201, 201, 201, 409]
    assert "most one person may have at once (3)" in made[3].get_json()["message"]
    # The force as a whole: five live alerts.
    more = [_alert(client, colleague) for _ in range(3)]
    assert [a.status_code for a in more] == [201, 201, 409]
    assert "most one organisation may have at once (5)" in more[2].get_json()["message"]
    # Another organisation's alerts are its own.
    assert _alert(client, login("newera.staff")).status_code == 201
    # An alert ended makes room for another.
    first = made[0].get_json()["id"]
    assert client.delete(f"/api/v1/vacancy-alerts/{first}", headers=officer).status_code == 204
    assert _alert(client, officer).status_code == 201
