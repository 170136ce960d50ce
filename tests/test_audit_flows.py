"""The trail of a real night's work, read back by the admins who oversee it: a police referral,
a refuge's availability report, a bed hold, reads, a refused look from another refuge; then,
years on, the same referral pseudonymised while its figures and its trail stay."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.factories import REFERRALS_URL, SWA_REFUGE, make_referral, transition, victim_referral


def trail(client, headers, **params):
    response = client.get(
        "/api/v1/audit-events", query_string={"page_size": 100, **params}, headers=headers
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def report_availability(client, headers, refuge_id):
    url = f"/api/v1/refuges/{refuge_id}/availability"
    etag = client.get(url, headers=headers).headers["ETag"]
    body = {"spaces": [{"space_type": "family", "total": 3, "vacant": 1}]}
    response = client.put(url, json=body, headers={**headers, "If-Match": etag})
    assert response.status_code == 200, response.get_json()


def test_a_nights_work_is_on_the_trail_for_both_organisations_and_no_one_else(client, login, ids):
    police, swa, glow = login("police.officer"), login("swa.staff"), login("glow.staff")
    refuge = ids.service[SWA_REFUGE]
    report_availability(client, swa, refuge)
    referral = make_referral(client, police, victim_referral(refuge))["id"]
    held = client.post(
        f"{REFERRALS_URL}/{referral}/hold",
        json={"refuge_id": refuge, "space_type": "family"},
        headers=police,
    )
    assert held.status_code == 201, held.get_json()
    assert client.get(f"{REFERRALS_URL}/{referral}", headers=swa).status_code == 200
    assert client.get(REFERRALS_URL, headers=swa).status_code == 200
    assert transition(client, swa, referral, action="accept").status_code == 200
    assert client.get(f"{REFERRALS_URL}/{referral}", headers=glow).status_code == 404  # not Glow's

    swa_admin = trail(client, login("swa.admin"))
    # SWA's admin sees SWA's people by name; the police and Glow as organisations.
    police_org, glow_org = ids.org["Staffordshire Police"], ids.org["Glow"]
    actions = [
        (e["username"] or e["organisation_id"], e["action"], e["outcome"])
        for e in reversed(swa_admin)
    ]
    for expected in (
        ("swa.staff", "availability.report", "allowed"),
        (police_org, "referral.create", "allowed"),  # about a referral SWA received
        (police_org, "bed_hold.place", "allowed"),
        ("swa.staff", "referral.read", "allowed"),
        ("swa.staff", "referral.list", "allowed"),
        ("swa.staff", "referral.accept", "allowed"),
    ):
        assert expected in actions, expected
    others = [e for e in swa_admin if e["organisation_id"] != ids.org["Staffordshire Women's Aid"]]
    assert others and all(
        e["username"] is e["user_id"] is e["client_address"] is None for e in others
    )
    # Glow's refused look was at SWA's referral: SWA's admin sees that attempt (it is how misuse
    # is spotted), but none of Glow's other events.
    glow_seen = [(e["action"], e["outcome"]) for e in swa_admin if e["organisation_id"] == glow_org]
    assert glow_seen == [("referral.read", "refused")]

    about_it = trail(client, login("police.admin"), resource_type="referral", resource_id=referral)
    assert [(e["action"], e["outcome"]) for e in reversed(about_it)] == [
        ("referral.create", "allowed"),
        ("referral.read", "allowed"),
        ("referral.accept", "allowed"),
        ("referral.read", "refused"),  # Glow's look at a referral it was never part of
    ]

    glow_admin_view = trail(client, login("partnership.admin"), user_id=str(ids.user["glow.staff"]))
    (refused,) = [e for e in glow_admin_view if e["action"] == "referral.read"]
    assert refused["outcome"] == "refused" and refused["resource_id"] == referral
    # Nothing of the person's in any event anyone can read.
    everything = str(trail(client, login("partnership.admin")))
    assert "Jane" not in everything and "07700" not in everything


def test_years_on_the_referral_is_pseudonymised_and_its_figures_and_trail_stay(
    app, client, login, ids, db_session
):
    from partnership_api.models.referrals import Referral
    from partnership_api.services.retention import purge_expired

    police, swa = login("police.officer"), login("swa.staff")
    referral = make_referral(client, police, victim_referral(ids.service[SWA_REFUGE]))["id"]
    assert transition(client, swa, referral, action="accept").status_code == 200
    note = client.post(
        f"{REFERRALS_URL}/{referral}/notes", json={"text": "Safe at her sister's."}, headers=swa
    )
    assert note.status_code == 201, note.get_json()
    closed = transition(
        client, swa, referral, action="close", outcome="Moved on to her own tenancy."
    )
    assert closed.status_code == 200, closed.get_json()
    open_one = make_referral(client, police, victim_referral(ids.service[SWA_REFUGE]))["id"]
    figures = {"group_by": ["month", "status", "risk_level", "area", "to_organisation"]}
    analyst = login("opcc.analyst")
    before = client.get("/api/v1/stats/referrals", query_string=figures, headers=analyst)

    timeline_before = client.get(f"{REFERRALS_URL}/{referral}/events", headers=swa).get_json()
    assert "sister" in str(timeline_before)
    finished_at = db_session.scalar(
        sa.select(Referral.status_changed_at).where(Referral.id == uuid.UUID(referral))
    )
    assert purge_expired(now=finished_at + timedelta(days=2191)) == 1

    shown = client.get(f"{REFERRALS_URL}/{referral}", headers=police)
    assert shown.status_code == 200, shown.get_json()
    text = str(shown.get_json())
    for personal in ("Jane Example", "1990-04-02", "07700 900123", "Attended", "tenancy"):
        assert personal not in text, personal
    body = shown.get_json()
    assert body["status"] == "closed" and body["risk_level"] == "high"
    timeline = client.get(f"{REFERRALS_URL}/{referral}/events", headers=swa)
    assert timeline.status_code == 200
    assert "sister" not in str(timeline.get_json())
    # The timeline keeps what happened and when, without the words.
    assert [(e["kind"], e["at"]) for e in timeline.get_json()] == [
        (e["kind"], e["at"]) for e in timeline_before
    ]
    still_open = client.get(f"{REFERRALS_URL}/{open_one}", headers=police).get_json()
    assert still_open["subject"]["name"] == "Jane Example"

    after = client.get("/api/v1/stats/referrals", query_string=figures, headers=analyst)
    assert after.get_json() == before.get_json()
    verified = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        (
            [("swa.staff", {"action": "decline", "reason_code": "no_capacity"})],
            ["referral.decline", "bed_hold.release"],
        ),
        ([("police.officer", {"action": "withdraw"})], ["referral.withdraw", "bed_hold.release"]),
        (
            [
                (
                    "swa.staff",
                    {
                        "action": "redirect",
                        "reason_code": "no_capacity",
                        "to_service_id": "Glow refuge",
                    },
                )
            ],
            ["referral.redirect", "bed_hold.release", "referral.create"],
        ),
        (
            [
                ("swa.staff", {"action": "accept"}),
                ("swa.staff", {"action": "close", "outcome": "moved on safely"}),
            ],
            ["referral.accept", "bed_hold.admit", "referral.close"],
        ),
    ],
    ids=["decline", "withdraw", "redirect", "accept-close"],
)
def test_every_transition_and_what_it_does_to_a_hold_is_audited(
    client, login, ids, db_session, steps, expected
):
    from partnership_api.models.audit import AuditEvent

    police = login("police.officer")
    refuge = ids.service[SWA_REFUGE]
    referral = make_referral(client, police, victim_referral(refuge))["id"]
    held = client.post(
        f"{REFERRALS_URL}/{referral}/hold",
        json={"refuge_id": refuge, "space_type": "family"},
        headers=police,
    )
    assert held.status_code == 201
    before = db_session.scalar(sa.select(sa.func.max(AuditEvent.id)))
    for username, body in steps:
        if "to_service_id" in body:
            body = {**body, "to_service_id": ids.service[body["to_service_id"]]}
        response = transition(client, login(username), referral, **body)
        assert response.status_code == 200, response.get_json()
    db_session.expire_all()
    actions = db_session.scalars(
        sa.select(AuditEvent.action)
        .where(AuditEvent.id > before, AuditEvent.outcome == "allowed")
        .order_by(AuditEvent.id)
    ).all()
    for action in expected:
        assert action in actions, (action, actions)


def test_creating_a_project_is_audited(client, login, ids, db_session):
    from partnership_api.models.audit import AuditEvent

    funds = client.get("/api/v1/funds", headers=login("opcc.staff")).get_json()
    created = client.post(
        "/api/v1/projects",
        json={
            "fund_id": funds[0]["id"],
            "title": "Lighting the canal path",
            "category": "street_lighting",
            "lead_organisation_id": ids.org["Staffordshire Commissioner's Office"],
            "amount_awarded_pence": 1_500_000,
            "awarded_on": "2026-11-02",
            "areas": ["E07000197"],
        },
        headers=login("opcc.staff"),
    )
    assert created.status_code == 201, created.get_json()
    (event,) = db_session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "project.create")
    ).all()
    assert event.resource_id == str(created.get_json()["id"]) and event.username == "opcc.staff"
