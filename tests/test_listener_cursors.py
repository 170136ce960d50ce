"""Issue 25, point 3: no number shown to an organisation counts other organisations' activity.

Told by the attackers: the police analyst, who may read no referral, reading the event feed
while referrals go back and forth between the police and Glow; Staffordshire Women's Aid's
admin reading its webhook bodies, its endpoint and its delivery attempts; the police admin
reading the audit trail while other organisations act; and a partner who tries another
organisation's cursor, or an old position number, to learn where the outbox stands.
"""

from __future__ import annotations

import json
import uuid

import pytest

from tests.factories import (
    act,
    positions_of,
    refer,
    register,
    report,
    run_worker,
    swa_reports,
    verified,
)
from tests.webhook_receiver import Receiver

FEED_FIELDS = {"id", "type", "cursor", "occurred_at", "data"}


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


def numbers_in(value) -> list[int]:
    """Every integer a JSON answer holds, ids of reference data (refuges, organisations) aside."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [value]
    if isinstance(value, dict):
        return [n for key, v in value.items() if not key.endswith("_id") for n in numbers_in(v)]
    if isinstance(value, list):
        return [n for v in value for n in numbers_in(v)]
    return []


def glow_reports(client, login, ids, vacant: int) -> None:
    refuge = ids.service["Glow refuge"]
    spaces = [{"space_type": "family", "total": 3, "vacant": vacant}]
    assert report(client, login, "glow.staff", refuge, spaces).status_code == 200


def test_the_analyst_cannot_count_the_referral_events_between_two_it_hears(client, login, ids, app):
    glow_reports(client, login, ids, 1)
    # Events the analyst may not hear: a referral made and accepted.
    made = refer(client, login, ids.service["Glow refuge"])
    assert act(client, login, "glow.staff", made, action="accept").status_code == 200
    glow_reports(client, login, ids, 0)
    analyst = login("police.analyst")
    feed = client.get("/api/v1/events", headers=analyst)
    assert feed.status_code == 200
    heard = feed.get_json()
    assert [e["type"] for e in heard] == ["availability.reported", "availability.reported"]
    # Behind the API the two are positions apart, with the referral's events between them...
    gap = positions_of(app, heard)
    assert gap[1] - gap[0] > 1
    # ...which the analyst is not shown: no position, no number at all, only opaque cursors.
    assert all(set(e) == FEED_FIELDS for e in heard)
    assert numbers_in(heard) == []
    first, second = (e["cursor"] for e in heard)
    assert not first.isdigit() and len(first) == len(second)
    # A cursor is not a counter: the same event read again has another cursor.
    again = client.get("/api/v1/events", headers=analyst).get_json()
    assert [e["id"] for e in again] == [e["id"] for e in heard]
    assert again[0]["cursor"] != first
    # It still does its one job: after the first, the second.
    after = client.get("/api/v1/events", query_string={"after": first}, headers=analyst)
    assert [e["id"] for e in after.get_json()] == [heard[1]["id"]]
    later = client.get(
        "/api/v1/events", query_string={"after": again[0]["cursor"]}, headers=analyst
    )
    assert [e["id"] for e in later.get_json()] == [heard[1]["id"]]


def test_another_organisations_cursor_or_a_position_number_is_refused(client, login, ids, app):
    glow_reports(client, login, ids, 1)
    glow_reports(client, login, ids, 0)
    police = client.get("/api/v1/events", headers=login("police.analyst")).get_json()
    cursor = police[0]["cursor"]
    glow = login("glow.staff")
    # Glow hears the same events; the police's cursor for them is not Glow's to use.
    taken = client.get("/api/v1/events", query_string={"after": cursor}, headers=glow)
    assert taken.status_code == 422 and taken.is_json
    assert "after" in taken.get_json()["errors"]["query"]
    assert "not a cursor your organisation was given" in taken.get_json()["message"]
    # Nor may a user of the police's own organisation change a character of it.
    changed = cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB")
    answer = client.get(
        "/api/v1/events", query_string={"after": changed}, headers=login("police.officer")
    )
    assert answer.status_code == 422
    # An old client's position number gets a clear answer, not a silent restart.
    for number in ("0", "3", str(2**40)):
        old = client.get("/api/v1/events", query_string={"after": number}, headers=glow)
        assert old.status_code == 422 and old.is_json, number
        assert "not a position number" in old.get_json()["message"]
    # Glow's own cursor for the same event works for Glow.
    own = client.get("/api/v1/events", headers=glow).get_json()
    assert (
        client.get(
            "/api/v1/events", query_string={"after": own[0]["cursor"]}, headers=glow
        ).status_code
        == 200
    )


def test_the_webhook_admin_sees_no_position_in_bodies_endpoint_or_attempts(
    client,
    login,
    ids,
    app,
    receiver,  # noqa: F811
):
    hook = register(client, login, receiver.url(), ("availability.reported",))
    swa_reports(client, login, ids, 0)
    for _ in range(3):  # other organisations' events the endpoint does not hear
        refer(client, login, ids.service["Glow refuge"])
    swa_reports(client, login, ids, 1)
    run_worker(app)
    bodies = [verified(hook["secret"], d) for d in receiver.delivered()]
    assert len(bodies) == 2 and "position" not in json.dumps(bodies)
    assert all(set(b) == {"id", "type", "cursor", "timestamp", "data"} for b in bodies)
    assert numbers_in(bodies) == []
    admin = login("swa.admin")
    shown = client.get(f"/api/v1/webhooks/{hook['id']}", headers=admin).get_json()
    assert "delivered_position" not in shown and shown["pending"] == 0
    attempts = client.get(f"/api/v1/webhooks/{hook['id']}/attempts", headers=admin).get_json()
    assert len(attempts) == 2 and all("event_position" not in a for a in attempts)
    assert all(uuid.UUID(a["id"]) for a in attempts)  # not a row number counting everyone's
    # The body's cursor is SWA's: its staff catch up on the feed from it...
    staff = login("swa.staff")
    after = client.get(
        "/api/v1/events",
        query_string={"after": bodies[0]["cursor"], "types": "availability.reported"},
        headers=staff,
    )
    assert [e["id"] for e in after.get_json()] == [bodies[1]["id"]]
    # ...its admin replays a range with it; the police may not use it, nor SWA the police's.
    replays = f"/api/v1/webhooks/{hook['id']}/replays"
    span = {"from_cursor": bodies[0]["cursor"], "to_cursor": bodies[1]["cursor"]}
    assert client.post(replays, json=span, headers=admin).get_json() == {"queued": 2}
    taken = client.get(
        "/api/v1/events", query_string={"after": bodies[0]["cursor"]}, headers=login("police.admin")
    )
    assert taken.status_code == 422
    police_cursor = client.get("/api/v1/events", headers=login("police.admin")).get_json()[0]
    refused = client.post(replays, json={"from_cursor": police_cursor["cursor"]}, headers=admin)
    assert refused.status_code == 422 and "from_cursor" in refused.get_json()["errors"]["json"]
    old = client.post(replays, json={"from_position": 1}, headers=admin)
    assert old.status_code == 422


def test_the_police_admin_cannot_count_others_audited_actions_between_its_own(
    client, login, ids, app
):
    police = login("police.admin")
    first = client.get("/api/v1/audit-events", headers=police)
    assert first.status_code == 200
    # Others act between the police admin's two reads: sign-ins, reports, a referral's steps.
    glow_reports(client, login, ids, 1)
    made = refer(client, login, ids.service["Glow refuge"], who="police.officer")
    assert act(client, login, "glow.staff", made, action="accept").status_code == 200
    assert client.get("/api/v1/audit-events", headers=police).status_code == 200
    second = client.get(
        "/api/v1/audit-events", query_string={"action": "audit.read"}, headers=police
    ).get_json()
    own = [e for e in second if e["username"] == "police.admin"]
    assert len(own) == 2  # the two reads, newest first
    for event in second:
        uuid.UUID(event["id"])  # a random id: not the chain's sequence
        assert not isinstance(event["id"], int)
        # The hash covers the sequence: shown, it would give the sequence away to a search.
        assert event["hash"] is None and event["prev_hash"] is None
    assert own[0]["id"] != own[1]["id"]
    # The partnership admin, who reads the whole trail, still sees the chain's hashes.
    whole = client.get("/api/v1/audit-events", headers=login("partnership.admin")).get_json()
    assert all(len(e["hash"]) == 64 and len(e["prev_hash"]) == 64 for e in whole)
    assert all(isinstance(e["id"], str) and uuid.UUID(e["id"]) for e in whole)
