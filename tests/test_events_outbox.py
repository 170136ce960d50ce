"""The outbox and the catch-up feed, told by the people whose changes write events.

Every change the issue lists writes its event in the same transaction (a failed change writes
none); no event of any type carries personal data; each organisation's feed holds exactly what
the policy lets it hear.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.factories import (
    ANONYMOUS,
    USERS,
    VICTIM_DATE_OF_BIRTH,
    VICTIM_NAME,
    VICTIM_PHONE,
    VICTIM_SAFE_TIMES,
    act,
    all_events,
    named_victim_referral,
    refer,
    report,
    run_worker,
)

NOTE_TEXT = "She asked us to ring only from a withheld number"


def types_of(events) -> list[str]:
    return [e["type"] for e in events]


def every_kind_of_change(client, login, ids, app) -> dict:
    """The police, Glow and the commissioner's office do one of everything that writes an event."""
    glow = ids.service["Glow refuge"]
    pathway = ids.service["Pathway refuge"]
    made = {}
    made["accepted"] = refer(client, login, glow)
    officer = login("police.officer")
    assert (
        client.post(
            f"/api/v1/referrals/{made['accepted']}/notes", json={"text": NOTE_TEXT}, headers=officer
        ).status_code
        == 201
    )
    held = client.post(
        f"/api/v1/referrals/{made['accepted']}/hold",
        json={"refuge_id": glow, "space_type": "family"},
        headers=officer,
    )
    assert held.status_code == 201
    assert act(client, login, "glow.staff", made["accepted"], action="accept").status_code == 200

    # A space is held only at the refuge the referral is addressed to (issue 18).
    made["released"] = refer(client, login, pathway)
    assert (
        client.post(
            f"/api/v1/referrals/{made['released']}/hold",
            json={"refuge_id": pathway, "space_type": "single"},
            headers=officer,
        ).status_code
        == 201
    )
    assert (
        client.delete(f"/api/v1/referrals/{made['released']}/hold", headers=officer).status_code
        == 204
    )

    made["declined"] = refer(client, login, glow)
    assert (
        act(
            client, login, "glow.staff", made["declined"], action="decline", reason_code="other"
        ).status_code
        == 200
    )
    made["withdrawn"] = refer(client, login, glow)
    assert (
        act(
            client,
            login,
            "police.officer",
            made["withdrawn"],
            action="withdraw",
        ).status_code
        == 200
    )
    made["redirected"] = refer(client, login, glow)
    redirected = act(
        client,
        login,
        "glow.staff",
        made["redirected"],
        action="redirect",
        to_service_id=ids.service["Staffordshire Women's Aid refuge"],
        reason_code="no_capacity",
    )
    assert redirected.status_code == 200, redirected.get_json()
    # Safe accommodation (issue 26): the refuge records who stayed, and its commissioned spaces.
    recorded = client.patch(
        f"/api/v1/referrals/{made['accepted']}/stay",
        json={"children": 1},
        headers=login("glow.staff"),
    )
    assert recorded.status_code == 200, recorded.get_json()
    commissioned = client.put(
        f"/api/v1/refuges/{glow}/commissioned-spaces",
        json={"spaces": [{"accommodation_type": "refuge", "spaces": 4}]},
        headers=login("glow.staff"),
    )
    assert commissioned.status_code == 200, commissioned.get_json()
    made["closed"] = made["accepted"]
    closed = act(client, login, "glow.staff", made["closed"], action="close", outcome="supported")
    assert closed.status_code == 200, closed.get_json()

    assert (
        report(
            client, login, "glow.staff", glow, [{"space_type": "family", "total": 2, "vacant": 1}]
        ).status_code
        == 200
    )

    # "Still accurate": the refuge confirms its figures as they stand.
    worker = login("glow.staff")
    etag = client.get(f"/api/v1/refuges/{glow}/availability", headers=worker).headers["ETag"]
    confirmed = client.post(
        f"/api/v1/refuges/{glow}/availability/confirm",
        headers={**worker, "If-Match": etag},
    )
    assert confirmed.status_code == 200

    made["lapsing"] = refer(client, login, pathway)
    assert (
        client.post(
            f"/api/v1/referrals/{made['lapsing']}/hold",
            json={"refuge_id": pathway, "space_type": "single"},
            headers=officer,
        ).status_code
        == 201
    )
    project = client.get("/api/v1/projects?page_size=100", headers=officer).get_json()[0]
    made["project"] = project["id"]
    opcc = login("opcc.staff")
    etag = client.get(f"/api/v1/projects/{project['id']}", headers=opcc).headers["ETag"]
    changed = client.patch(
        f"/api/v1/projects/{project['id']}",
        json={"rag": {"delivery": "red" if project["rag"]["delivery"] != "red" else "amber"}},
        headers={**opcc, "If-Match": etag},
    )
    assert changed.status_code == 200, changed.get_json()
    from datetime import date

    milestone = client.post(
        f"/api/v1/projects/{project['id']}/milestones",
        json={"title": "Lighting survey", "due_on": date.today().isoformat()},
        headers=opcc,
    )
    assert milestone.status_code == 201, milestone.get_json()
    # Time passes: the hold lapses, unanswered referrals fall overdue, milestones pass due.
    from partnership_api.models.base import utcnow

    run_worker(app, utcnow() + timedelta(days=2))
    return made


def test_every_listed_change_writes_its_event(client, login, ids, app):
    made = every_kind_of_change(client, login, ids, app)
    events = all_events(app)
    from partnership_api.events import EVENT_TYPES

    written = set(types_of(events))
    # Alerts: test_vacancy_alerts; a refused password reset: test_partnership_access.
    missing = set(EVENT_TYPES) - written - {"vacancy.matched", "user.password_reset_refused"}
    assert not missing, missing
    by_referral = {}
    for event in events:
        if "referral_id" in event["data"]:
            by_referral.setdefault(event["data"]["referral_id"], []).append(event["type"])
    assert by_referral[made["accepted"]][:5] == [
        "referral.created",
        "referral.note_added",
        "hold.placed",
        "referral.accepted",
        "hold.admitted",
    ]
    assert "referral.closed" in by_referral[made["accepted"]]
    assert by_referral[made["released"]][:3] == ["referral.created", "hold.placed", "hold.released"]
    assert "hold.lapsed" in by_referral[made["lapsing"]]
    assert "referral.overdue" in by_referral[made["lapsing"]]
    redirected = [e for e in events if e["type"] == "referral.redirected"][0]
    onward = redirected["data"]["redirected_to"]
    # Nobody answers the onward referral either: two days on, it is overdue too.
    assert by_referral[onward] == ["referral.created", "referral.overdue"]
    # Positions: one line, in commit order, without gaps.
    positions = [e["position"] for e in events]
    assert positions == list(range(positions[0], positions[0] + len(positions)))


def test_the_sweep_writes_each_time_based_event_once(client, login, ids, app):
    every_kind_of_change(client, login, ids, app)
    before = all_events(app)
    from partnership_api.models.base import utcnow

    run_worker(app, utcnow() + timedelta(days=2, hours=1))
    after = all_events(app)
    assert types_of(after) == types_of(before)


def test_a_failed_change_writes_no_event(client, login, ids, app, monkeypatch):
    glow = ids.service["Glow refuge"]
    referral = refer(client, login, glow)
    before = all_events(app)
    # A transition that does not fit the status: 409, nothing written.
    assert act(client, login, "glow.staff", referral, action="accept").status_code == 200
    after_accept = all_events(app)
    assert act(client, login, "glow.staff", referral, action="accept").status_code == 409
    assert all_events(app) == after_accept
    # A report with a stale ETag: 412, nothing written.
    headers = login("glow.staff")
    stale = client.put(
        f"/api/v1/refuges/{glow}/availability",
        json={"spaces": [{"space_type": "family", "total": 2, "vacant": 2}]},
        headers={**headers, "If-Match": '"refuge-1-v999"'},
    )
    assert stale.status_code == 412, stale.get_json()  # an If-Match, but not the current one
    assert all_events(app) == after_accept
    # A change that fails after its event was emitted, before commit: neither is kept.
    from partnership_api.services import referral_reads

    def broken(_referral_id):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(referral_reads, "shown", broken)
    failed = client.post(
        "/api/v1/referrals", json=named_victim_referral(glow), headers=login("police.officer")
    )
    assert failed.status_code == 500
    assert all_events(app) == after_accept
    assert len(after_accept) == len(before) + 1


PERSONAL = (VICTIM_NAME, VICTIM_DATE_OF_BIRTH, VICTIM_PHONE, VICTIM_SAFE_TIMES, NOTE_TEXT)


def test_no_event_of_any_type_carries_personal_data(client, login, ids, app):
    every_kind_of_change(client, login, ids, app)
    from partnership_api.events.outbox import EVENT_TYPES, FIELD_KINDS
    from partnership_api.extensions import db
    from partnership_api.models.partnership import Service

    with app.app_context():
        addresses = [
            json.dumps(s.address)
            for s in db.session.scalars(sa.select(Service).where(Service.address.is_not(None)))
        ]
        db.session.remove()
    assert addresses
    events = all_events(app)
    for event in events:
        text = json.dumps(event["data"])
        for secret in (*PERSONAL, "Ffion", "07700"):
            assert secret not in text, (event["type"], secret)
        for address in addresses:
            assert address.strip('"') not in text
        assert set(event["data"]) <= set(EVENT_TYPES[event["type"]].fields), event
        assert set(event["data"]) <= set(FIELD_KINDS)
    # The feed, as each party sees it, is the same thin data.
    feed = client.get("/api/v1/events?page_size=100", headers=login("police.officer")).get_json()
    assert feed and all(
        set(item) == {"id", "type", "cursor", "occurred_at", "data"} for item in feed
    )
    for secret in PERSONAL:
        assert secret not in json.dumps(feed)


@pytest.mark.parametrize(
    "field, value",
    [
        ("name", VICTIM_NAME),
        ("note", NOTE_TEXT),
        ("referral_id", VICTIM_NAME),
        ("refuge_id", "12 Secret Lane"),
        ("space_type", VICTIM_SAFE_TIMES),
        ("changed", ["subject"]),
    ],
)
def test_an_event_cannot_be_given_personal_data(app, field, value):
    from partnership_api import events

    with app.app_context(), pytest.raises(ValueError):
        events.emit("referral.note_added", [1], **{field: value})


def may_hear(client, headers, event, projects) -> bool:
    """What the policy's reads say this user may see of the thing the event is about."""
    if event["audience"] == "everyone":
        return True
    data = event["data"]
    if event["type"] == "vacancy.matched":
        return (
            client.get(f"/api/v1/vacancy-alerts/{data['alert_id']}", headers=headers).status_code
            == 200
        )
    if event["type"] == "stay.changed":  # a stay is read by its refuge alone (issue 26)
        url = f"/api/v1/referrals/{data['referral_id']}/stay"
        return client.get(url, headers=headers).status_code == 200
    if event["audience"] == "referral":
        return (
            client.get(f"/api/v1/referrals/{data['referral_id']}", headers=headers).status_code
            == 200
        )
    me = client.get("/api/v1/me", headers=headers).get_json()["organisation"]
    if event["audience"] == "org_admins":
        caller = client.get("/api/v1/me", headers=headers).get_json()
        return caller["role"] == "admin" and data["organisation_id"] == me["id"]
    if event["audience"] == "hold_caps":  # the refuge held at, and the partnership admins
        caller = client.get("/api/v1/me", headers=headers).get_json()
        refuge = client.get(f"/api/v1/services/{data['refuge_id']}", headers=headers).get_json()
        return caller["username"] == "partnership.admin" or refuge["organisation_id"] == me["id"]
    project = projects[data["project_id"]]
    return me["kind"] == "commissioner" or me["id"] in (
        {project["lead_organisation_id"], *project["delivery_organisation_ids"]}
    )


@pytest.mark.parametrize("username", [u for u in USERS if u != ANONYMOUS])
def test_each_feed_holds_exactly_what_the_policy_lets_it_hear(client, login, ids, app, username):
    every_kind_of_change(client, login, ids, app)
    headers = login(username)
    heard, page = [], 1
    while True:
        response = client.get(f"/api/v1/events?page={page}&page_size=100", headers=headers)
        assert response.status_code == 200
        heard += response.get_json()
        if len(response.get_json()) < 100:
            break
        page += 1
    projects = {
        p["id"]: p
        for p in client.get(
            "/api/v1/projects?page_size=100", headers=login("opcc.staff")
        ).get_json()
    }
    expected = [e["id"] for e in all_events(app) if may_hear(client, headers, e, projects)]
    assert [e["id"] for e in heard] == expected


def test_a_partner_catches_up_after_a_cursor_and_by_type(client, login, ids, app):
    glow = ids.service["Glow refuge"]
    first = refer(client, login, glow)
    headers = login("glow.staff")
    seen = client.get("/api/v1/events", headers=headers).get_json()
    last = seen[-1]["cursor"]
    second = refer(client, login, glow)
    assert act(client, login, "glow.staff", first, action="accept").status_code == 200
    after = client.get(f"/api/v1/events?after={last}", headers=headers).get_json()
    assert [(e["type"], e["data"]["referral_id"]) for e in after] == [
        ("referral.created", second),
        ("referral.accepted", first),
    ]
    only = client.get(
        f"/api/v1/events?after={last}&types=referral.accepted", headers=headers
    ).get_json()
    assert [e["type"] for e in only] == ["referral.accepted"]
    assert client.get("/api/v1/events?types=referral.read", headers=headers).status_code == 422
    assert client.get("/api/v1/events?after=-1", headers=headers).status_code == 422


def test_the_document_lists_every_event_type(client):
    from partnership_api.events import EVENT_TYPES

    spec = client.get("/openapi.json").get_json()
    enum = spec["components"]["schemas"]["Event"]["properties"]["type"]["enum"]
    assert sorted(enum) == sorted(EVENT_TYPES)


def test_holds_placed_with_the_referral_or_released_by_the_refuge_write_their_events(
    client, login, ids, app
):
    """Main's hold rules (issue 18): refer-and-hold in one call, the refuge releasing a hold
    on its beds with a reason, and a refused second hold: each writes its events, or none."""
    swa = ids.service["Staffordshire Women's Aid refuge"]
    officer = login("police.officer")
    body = {**named_victim_referral(swa), "hold": {"space_type": "family"}}
    made = client.post("/api/v1/referrals", json=body, headers=officer)
    assert made.status_code == 201, made.get_json()
    referral = made.get_json()
    events = [e for e in all_events(app) if e["data"].get("referral_id") == referral["id"]]
    assert [e["type"] for e in events] == ["referral.created", "hold.placed"]
    assert events[1]["data"]["hold_id"] == referral["hold"]["id"]
    before = all_events(app)
    # The last family space has gone: 409, and neither the referral nor its events were kept.
    gone = client.post("/api/v1/referrals", json=body, headers=officer)
    assert gone.status_code == 409
    assert all_events(app) == before
    # The refuge's staff release the hold on its beds: the police and the refuge hear it.
    released = client.post(
        f"/api/v1/refuges/{swa}/holds/{referral['hold']['id']}/release",
        json={"reason_code": "not_suitable", "note": NOTE_TEXT},
        headers=login("swa.staff"),
    )
    assert released.status_code == 200, released.get_json()
    last = all_events(app)[-1]
    assert last["type"] == "hold.released"
    assert last["data"] == {
        "hold_id": referral["hold"]["id"],
        "referral_id": referral["id"],
        "refuge_id": swa,
        "space_type": "family",
    }
    assert NOTE_TEXT not in json.dumps(last["data"])
    for who in ("police.officer", "swa.staff"):
        feed = client.get("/api/v1/events?types=hold.released", headers=login(who)).get_json()
        assert [e["id"] for e in feed] == [last["id"]], who
    others = client.get("/api/v1/events?types=hold.released", headers=login("glow.staff"))
    assert others.get_json() == []
