"""A partner organisation, or a stolen account, misusing what it is allowed to call (issue 18).

Each scenario is told by the hostile partner and shows the misuse refused, the victim of the
misuse unharmed, and the honest path still open. Elsewhere: the statistics differencing
attacks (``test_stats.py``), the audit flood and the lockout of a night worker
(``test_tokens.py``), guessable references (``test_referrals.py``).
"""

from __future__ import annotations

import os
import stat

import sqlalchemy as sa

from partnership_api.models.audit import AuditEvent
from partnership_api.models.beds import BedHold
from partnership_api.models.referrals import Referral
from tests.factories import (
    GLOW_REFUGE,
    PATHWAY_REFUGE,
    REFERRALS_URL,
    SWA_REFUGE,
    consenting_victim_referral,
    figures,
    hold,
    timeline,
)


def referral_count(db_session) -> int:
    db_session.rollback()
    return db_session.scalar(sa.select(sa.func.count()).select_from(Referral))


def refer(client, headers, service_id, **changes):
    return client.post(
        REFERRALS_URL, json=consenting_victim_referral(service_id, **changes), headers=headers
    )


# --- holds: any provider could take the county's beds -------------------------------------------


def test_a_provider_cannot_refer_a_made_up_person_to_its_own_refuge(client, login, ids, db_session):
    glow = login("glow.staff")
    before = referral_count(db_session)
    response = refer(client, glow, ids.service[GLOW_REFUGE])
    assert response.status_code == 403
    assert "own services" in response.get_json()["message"]
    assert referral_count(db_session) == before


def test_a_provider_cannot_hold_another_refuges_last_family_space(client, login, ids):
    glow, officer = login("glow.staff"), login("police.officer")
    swa = ids.service[SWA_REFUGE]
    # Glow refers someone onward to Pathway (allowed), then tries to take SWA's last family room.
    onward = refer(client, glow, ids.service[PATHWAY_REFUGE])
    assert onward.status_code == 201
    taken = hold(client, glow, onward.get_json()["id"], swa)
    assert taken.status_code == 403
    assert "addressed to" in taken.get_json()["message"]
    assert figures(client, officer, swa)["available"] == 1
    # An officer referring to SWA still holds it.
    referral = refer(client, officer, swa).get_json()["id"]
    assert hold(client, officer, referral, swa).status_code == 201


def test_an_organisation_holds_no_more_than_its_cap(client, login, ids, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_ACTIVE_HOLDS_PER_ORGANISATION", 2)
    officer = login("police.officer")
    made = [
        (ids.service[SWA_REFUGE], "single"),
        (ids.service[PATHWAY_REFUGE], "single"),
        (ids.service[PATHWAY_REFUGE], "accessible"),
    ]
    answers = []
    for refuge, space_type in made:
        referral = refer(client, officer, refuge).get_json()["id"]
        answers.append(hold(client, officer, referral, refuge, space_type))
    assert [a.status_code for a in answers] == [201, 201, 409]
    assert "most it may hold at once (2)" in answers[2].get_json()["message"]
    # Another organisation's cap is its own.
    newera = login("newera.staff")
    referral = refer(client, newera, ids.service[SWA_REFUGE]).get_json()["id"]
    assert hold(client, newera, referral, ids.service[SWA_REFUGE], "family").status_code == 201


def test_a_hold_cannot_be_renewed_by_releasing_and_holding_again(client, login, ids):
    officer = login("police.officer")
    glow_refuge = ids.service[GLOW_REFUGE]
    referral = refer(client, officer, glow_refuge).get_json()["id"]
    first = hold(client, officer, referral, glow_refuge)
    assert first.status_code == 201
    assert client.delete(f"{REFERRALS_URL}/{referral}/hold", headers=officer).status_code == 204
    renewed = hold(client, officer, referral, glow_refuge)
    assert renewed.status_code == 403
    assert first.get_json()["expires_at"][:16] in renewed.get_json()["message"]


def test_the_refuge_sees_every_hold_on_its_beds_and_releases_one_with_a_reason(
    client, login, ids, db_session
):
    officer, swa_staff = login("police.officer"), login("swa.staff")
    swa = ids.service[SWA_REFUGE]
    made = refer(client, officer, swa).get_json()
    placed = hold(client, officer, made["id"], swa).get_json()

    # Nobody but SWA's own staff sees the holds on SWA's beds.
    for outsider in ("police.officer", "glow.staff", "swa.admin", "opcc.staff"):
        seen = client.get(f"/api/v1/refuges/{swa}/holds", headers=login(outsider))
        assert seen.status_code == (200 if outsider == "swa.admin" else 403), outsider
    listed = client.get(f"/api/v1/refuges/{swa}/holds", headers=swa_staff)
    assert listed.status_code == 200
    (shown,) = listed.get_json()
    assert shown["id"] == placed["id"] and shown["referral_reference"] == made["reference"]
    assert shown["placed_by_organisation"] == "Staffordshire Police"
    assert shown["expires_at"] == placed["expires_at"] and shown["space_type"] == "family"

    # Glow cannot release SWA's holds; SWA's staff can, with a reason.
    release = f"/api/v1/refuges/{swa}/holds/{placed['id']}/release"
    body = {"reason_code": "referral_not_genuine", "note": "Nobody by that name called us."}
    assert client.post(release, json=body, headers=login("glow.staff")).status_code == 403
    assert client.post(release, json={"note": "no reason"}, headers=swa_staff).status_code == 422
    released = client.post(release, json=body, headers=swa_staff)
    assert released.status_code == 200
    assert released.get_json()["state"] == "released"
    assert released.get_json()["end_reason"] == "released_by_refuge"
    assert client.post(release, json=body, headers=swa_staff).status_code == 404
    assert figures(client, officer, swa)["available"] == 1
    assert client.get(f"/api/v1/refuges/{swa}/holds", headers=swa_staff).get_json() == []

    # On the timeline (both sides see why) and in the audit trail (the reason code).
    events = client.get(f"{REFERRALS_URL}/{made['id']}/events", headers=officer).get_json()
    last = events[-1]
    assert last["kind"] == "hold_released" and last["reason_code"] == "referral_not_genuine"
    assert last["note"] == "Nobody by that name called us."
    db_session.rollback()
    audited = db_session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "bed_hold.release")
    ).one()
    assert audited.details["reason_code"] == "referral_not_genuine"
    assert audited.username == "swa.staff"
    # The sender cannot simply hold it again.
    assert hold(client, officer, made["id"], swa).status_code == 403


def test_refer_here_and_hold_a_space_in_one_call_both_or_neither(client, login, ids, db_session):
    officer = login("police.officer")
    swa = ids.service[SWA_REFUGE]
    body = consenting_victim_referral(swa, hold={"space_type": "family"})
    first = client.post(
        REFERRALS_URL, json=body, headers={**officer, "Idempotency-Key": "tonight-1"}
    )
    assert first.status_code == 201, first.get_json()
    made = first.get_json()
    assert made["hold"]["refuge_id"] == swa and made["hold"]["space_type"] == "family"
    assert figures(client, officer, swa)["available"] == 0
    assert timeline(client, officer, made["id"]) == ["created", "hold_placed"]
    # A retry returns the same referral and hold.
    again = client.post(
        REFERRALS_URL, json=body, headers={**officer, "Idempotency-Key": "tonight-1"}
    )
    assert again.status_code == 200 and again.get_json()["hold"]["id"] == made["hold"]["id"]

    # The last family space has gone: 409, and no referral was made either.
    before = referral_count(db_session)
    gone = client.post(REFERRALS_URL, json=body, headers=officer)
    assert gone.status_code == 409
    assert "No family space is available" in gone.get_json()["message"]
    assert referral_count(db_session) == before
    # A hold needs a refuge to go to.
    support = consenting_victim_referral(
        ids.service["New Era victim support"], hold={"space_type": "single"}
    )
    refused = client.post(REFERRALS_URL, json=support, headers=officer)
    assert refused.status_code == 422 and "hold" in refused.get_json()["errors"]["json"]
    assert referral_count(db_session) == before
    db_session.rollback()
    assert db_session.scalar(sa.select(sa.func.count()).select_from(BedHold)) == 1


# --- conditional writes: one version, exactly ---------------------------------------------------


def test_if_match_with_a_list_of_every_version_is_refused(client, login, ids):
    glow = login("glow.staff")
    refuge = ids.service[GLOW_REFUGE]
    url = f"/api/v1/refuges/{refuge}/availability"
    current = client.get(url, headers=glow).headers["ETag"]
    every = ", ".join(f'"refuge-{refuge}-v{v}"' for v in range(0, 60))
    body = {"spaces": [{"space_type": "family", "total": 2, "vacant": 0}]}
    for tags in (every, f'{current}, "refuge-{refuge}-v999"', f"W/{current}", "*"):
        answer = client.put(url, json=body, headers={**glow, "If-Match": tags})
        assert answer.status_code == 428, tags
        assert answer.get_json()["code"] == 428
    assert client.put(url, json=body, headers={**glow, "If-Match": current}).status_code == 200

    opcc = login("opcc.staff")
    fund = client.get("/api/v1/funds", headers=opcc).get_json()[0]["id"]
    fund_url = f"/api/v1/funds/{fund}"
    etag = client.get(fund_url, headers=opcc).headers["ETag"]
    listed = ", ".join(f'"{v}"' for v in range(1, 30))
    stale = client.patch(fund_url, json={"description": "x"}, headers={**opcc, "If-Match": listed})
    assert stale.status_code == 428
    fine = client.patch(fund_url, json={"description": "x"}, headers={**opcc, "If-Match": etag})
    assert fine.status_code == 200


def test_a_facilities_patch_changes_one_field_and_keeps_the_others(client, login, ids):
    admin, officer = login("swa.admin"), login("police.officer")
    url = f"/api/v1/services/{ids.service[SWA_REFUGE]}"
    before = client.get(url, headers=admin)
    # Without If-Match: 428, nothing changed.
    blind = client.patch(url, json={"facilities": {"max_children": 5}}, headers=admin)
    assert blind.status_code == 428
    changed = client.patch(
        url,
        json={"facilities": {"max_children": 5}},
        headers={**admin, "If-Match": before.headers["ETag"]},
    )
    assert changed.status_code == 200
    facilities = changed.get_json()["facilities"]
    assert facilities == {**before.get_json()["facilities"], "max_children": 5}
    assert facilities["wheelchair_accessible"] is True and "Urdu" in facilities["languages"]
    # Still found by the searches it was found by.
    found = client.get("/api/v1/beds/search?wheelchair=true&space_type=family", headers=officer)
    assert ids.service[SWA_REFUGE] in [r["refuge_id"] for r in found.get_json()]
    # The ETag read before the change is stale now.
    lost = client.patch(
        url, json={"hours": "9-5"}, headers={**admin, "If-Match": before.headers["ETag"]}
    )
    assert lost.status_code == 412


# --- users: the last admin, and names of other organisations --------------------------------------


def test_an_organisations_last_admin_cannot_demote_or_deactivate_themselves(client, login, ids):
    admin = login("swa.admin")
    me = f"/api/v1/users/{ids.user['swa.admin']}"
    for change in ({"role": "staff"}, {"active": False}, {"role": "analyst"}):
        answer = client.patch(me, json=change, headers=admin)
        assert answer.status_code == 409, change
        assert "last active admin" in answer.get_json()["message"]
    assert client.get(me, headers=admin).get_json()["role"] == "admin"
    # With a second admin, the first may step down.
    second = client.post(
        "/api/v1/users",
        json={"username": "swa.deputy", "role": "admin", "password": "a-long-enough-password"},
        headers=admin,
    )
    assert second.status_code == 201
    assert client.patch(me, json={"role": "staff"}, headers=admin).status_code == 200


def test_creating_a_user_does_not_tell_which_names_other_organisations_use(client, login):
    admin = login("newera.admin")

    def create(username):
        return client.post(
            "/api/v1/users",
            json={"username": username, "role": "staff", "password": "a-long-enough-password"},
            headers=admin,
        )

    theirs, ours = create("swa.staff"), create("newera.staff")
    assert theirs.status_code == ours.status_code == 422
    assert theirs.get_json() == ours.get_json()
    assert "taken" not in theirs.get_data(as_text=True).lower()
    assert create("newera.nightworker").status_code == 201


# --- text that reads differently from what it says ----------------------------------------------


def test_bidirectional_overrides_are_refused_in_notes_and_names(client, login, ids, db_session):
    officer = login("police.officer")
    referral = refer(client, officer, ids.service[SWA_REFUGE]).get_json()["id"]
    before = referral_count(db_session)
    for char in ("\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2069"):
        note = client.post(
            f"{REFERRALS_URL}/{referral}/notes",
            json={"text": f"call {char}0770 back"},
            headers=officer,
        )
        assert note.status_code == 422, repr(char)
        subject = {"name": f"Jane{char} Example", "area": "E07000197"}
        named = refer(client, officer, ids.service[SWA_REFUGE], subject=subject)
        assert named.status_code == 422, repr(char)
    assert referral_count(db_session) == before
    assert timeline(client, officer, referral) == ["created"]


# Format characters (Unicode Cf: direction marks, zero-width ones, the byte-order mark, the soft
# hyphen, invisible operators) and the line and paragraph separators (issue 25, point 7).
INVISIBLE = (
    "\u061c",  # Arabic letter mark: "\u061c07700 900123" showed as "900123 07700"
    "\u200e",  # left-to-right mark
    "\u200f",  # right-to-left mark
    "\u200b",  # zero-width space
    "\u200d",  # zero-width joiner
    "\u2060",  # word joiner
    "\ufeff",  # byte-order mark
    "\u00ad",  # soft hyphen
    "\U000e0041",  # a tag character
    "\u2028",  # line separator
    "\u2029",  # paragraph separator
)


def test_invisible_and_direction_characters_are_refused_in_every_text_field(
    client, login, ids, db_session
):
    officer, opcc, admin = login("police.officer"), login("opcc.staff"), login("police.admin")
    swa = ids.service[SWA_REFUGE]
    referral = refer(client, officer, swa).get_json()["id"]
    body = consenting_victim_referral(swa)
    before = referral_count(db_session)
    for char in INVISIBLE:
        # The safe phone a refuge worker will dial, read backwards.
        phone = {**body["safe_contact"], "phone": f"{char}07700 900123"}
        assert refer(client, officer, swa, safe_contact=phone).status_code == 422, repr(char)
        subject = {**body["subject"], "name": f"Jane{char} Example"}
        assert refer(client, officer, swa, subject=subject).status_code == 422, repr(char)
        summary = f"Call{char} after six."
        assert refer(client, officer, swa, summary=summary).status_code == 422, repr(char)
        note = client.post(
            f"{REFERRALS_URL}/{referral}/notes", json={"text": f"ok{char}"}, headers=officer
        )
        assert note.status_code == 422, repr(char)
        fund = {"name": f"Safer{char} Streets 6", "funder": "Home Office"}
        assert client.post("/api/v1/funds", json=fund, headers=opcc).status_code == 422
        user = {"username": "pc.new", "full_name": f"PC{char} New", "role": "staff"}
        user["password"] = "a-long-enough-password"
        assert client.post("/api/v1/users", json=user, headers=admin).status_code == 422
        signing_in = {"username": f"police.officer{char}", "password": "whatever-it-is"}
        assert client.post("/api/v1/auth/login", json=signing_in).status_code == 422
    assert referral_count(db_session) == before
    assert timeline(client, officer, referral) == ["created"]
    # Text in other scripts, and emoji, are not format characters: still accepted.
    named = {**body["subject"], "name": "فاطمة علي"}
    assert refer(client, officer, swa, subject=named).status_code == 201
    note = client.post(
        f"{REFERRALS_URL}/{referral}/notes", json={"text": "Okay 👍"}, headers=officer
    )
    assert note.status_code == 201


# --- people only within their own organisation ---------------------------------------------------


def test_referral_timelines_show_other_organisations_people_as_their_organisation(
    app, client, login, ids
):
    # Issue 25, point 5: the police officer reads the timelines of her referral and of its
    # onward referral; SWA's worker redirected it (a third party to the onward one) and
    # Glow's worker added a note. She learns which organisation did what, never who.
    from tests import pagelib

    officer, swa_staff, glow_staff = (
        login("police.officer"),
        login("swa.staff"),
        login("glow.staff"),
    )
    first = refer(client, officer, ids.service[SWA_REFUGE]).get_json()["id"]
    redirected = client.post(
        f"{REFERRALS_URL}/{first}/transitions",
        json={
            "action": "redirect",
            "to_service_id": ids.service[GLOW_REFUGE],
            "reason_code": "no_capacity",
            "note": "Glow has a family room.",
        },
        headers=swa_staff,
    )
    assert redirected.status_code == 200, redirected.get_json()
    onward = redirected.get_json()["redirected_to"]
    noted = {"text": "Room ready from six."}
    assert (
        client.post(f"{REFERRALS_URL}/{onward}/notes", json=noted, headers=glow_staff).status_code
        == 201
    )

    def shown(headers, referral_id) -> list[dict]:
        answer = client.get(f"{REFERRALS_URL}/{referral_id}/events", headers=headers)
        assert answer.status_code == 200
        return answer.get_json()

    people = {name: str(ids.user[name]) for name in ("police.officer", "swa.staff", "glow.staff")}
    for reader, referral_id, own_org in (
        ("police.officer", first, "Staffordshire Police"),
        ("police.officer", onward, "Staffordshire Police"),
        ("swa.staff", first, "Staffordshire Women's Aid"),
        ("glow.staff", onward, "Glow"),
    ):
        for event in shown(login(reader), referral_id):
            own = event["organisation_id"] == ids.org[own_org]
            if own:
                assert event["username"] in (reader, None) or event["username"] in people
            else:
                assert event["username"] is None and event["user_id"] is None, (reader, event)
                assert event["organisation_id"] is not None
        text = client.get(f"{REFERRALS_URL}/{referral_id}/events", headers=login(reader)).get_data(
            True
        )
        strangers = [name for name in people if not name.startswith(reader.split(".")[0])]
        for name in strangers:
            assert name not in text and people[name] not in text, (reader, name)
    # Her own organisation's people she still sees by name.
    own = [e for e in shown(officer, first) if e["kind"] == "created"]
    assert own[0]["username"] == "police.officer"
    # The pages say the same: the organisation, not the person.
    page = pagelib.signed_in(app, "police.officer").get(
        f"/referrals/{onward}", headers=pagelib.HTML
    )
    assert page.status_code == 200
    assert "swa.staff" not in page.text and "glow.staff" not in page.text
    assert "Glow" in page.text


def test_other_organisations_see_who_reported_beds_as_the_organisation(client, login, ids):
    swa_staff, officer = login("swa.staff"), login("police.officer")
    refuge = ids.service[SWA_REFUGE]
    url = f"/api/v1/refuges/{refuge}/availability"
    etag = client.get(url, headers=swa_staff).headers["ETag"]
    body = {"spaces": [{"space_type": "family", "total": 3, "vacant": 2}]}
    assert client.put(url, json=body, headers={**swa_staff, "If-Match": etag}).status_code == 200

    assert client.get(url, headers=officer).get_json()["updated_by"] == "Staffordshire Women's Aid"
    assert client.get(url, headers=swa_staff).get_json()["updated_by"] == "swa.staff"
    history = client.get(f"{url}/history", headers=officer).get_json()
    assert history[0]["reported_by"] == "Staffordshire Women's Aid"
    listed = client.get("/api/v1/refuges", headers=login("glow.staff")).get_json()
    swa_row = next(r for r in listed if r["id"] == refuge)
    assert swa_row["availability"]["updated_by"] == "Staffordshire Women's Aid"
    assert "swa.staff" not in client.get(f"{url}/history", headers=officer).get_data(as_text=True)
    own = client.get(f"{url}/history", headers=swa_staff).get_json()
    assert own[0]["reported_by"] == "swa.staff"


def test_the_audit_trail_shows_another_organisations_officers_as_their_organisation(
    client, login, ids
):
    officer = login("police.officer")
    referral = refer(client, officer, ids.service[SWA_REFUGE]).get_json()["id"]
    client.get(
        f"{REFERRALS_URL}/{referral}", headers=officer, environ_base={"REMOTE_ADDR": "10.1.2.3"}
    )
    trail = client.get(
        "/api/v1/audit-events",
        query_string={"resource_id": referral, "page_size": 100},
        headers=login("swa.admin"),
    )
    assert trail.status_code == 200
    events = trail.get_json()
    police = [e for e in events if e["organisation_id"] == ids.org["Staffordshire Police"]]
    assert {e["action"] for e in police} >= {"referral.create", "referral.read"}
    assert all(e["username"] is e["user_id"] is e["client_address"] is None for e in police)
    assert "police.officer" not in trail.get_data(as_text=True)
    assert "10.1.2.3" not in trail.get_data(as_text=True)
    # Nor can SWA's admin look the officer up by id.
    by_user = client.get(
        "/api/v1/audit-events",
        query_string={"user_id": str(ids.user["police.officer"])},
        headers=login("swa.admin"),
    )
    assert by_user.get_json() == []
    # The police's own admin sees their officer.
    own = client.get(
        "/api/v1/audit-events",
        query_string={"resource_id": referral, "action": "referral.read"},
        headers=login("police.admin"),
    ).get_json()
    assert any(e["username"] == "police.officer" and e["client_address"] == "10.1.2.3" for e in own)


def test_a_services_address_key_is_absent_for_other_organisations(client, login, ids):
    for username, org in (("police.officer", "Staffordshire Police"), ("glow.staff", "Glow")):
        services = client.get(
            "/api/v1/services", query_string={"page_size": 100}, headers=login(username)
        ).get_json()
        for service in services:
            if service["organisation_id"] != ids.org[org]:
                assert "address" not in service, (username, service["name"])
            else:
                assert "address" in service
        one = client.get(
            f"/api/v1/services/{ids.service['New Era helpline']}", headers=login(username)
        )
        assert "address" not in one.get_json()


# --- make run: no signing key from the repository ------------------------------------------------


def test_each_development_instance_signs_with_its_own_secret(tmp_path):
    from partnership_api.settings import instance_jwt_secret

    one, two = tmp_path / "one", tmp_path / "two"
    first = instance_jwt_secret(one)
    assert len(first) >= 32
    assert instance_jwt_secret(one) == first  # kept: a restart keeps everyone signed in
    assert instance_jwt_secret(two) != first  # another instance: another key
    secret_file = one / "jwt-secret"
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
    assert secret_file.read_text().strip() == first
    assert [p.name for p in one.iterdir()] == ["jwt-secret"]  # no temporary file left


def test_an_app_without_a_jwt_secret_uses_its_instance_secret(tmp_path, monkeypatch):
    from partnership_api import create_app, settings

    monkeypatch.setattr(settings, "INSTANCE_DIR", tmp_path)
    monkeypatch.setattr(settings.instance_jwt_secret, "__defaults__", (tmp_path,))
    monkeypatch.delenv("JWT_SECRET_KEY", raising=False)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"})
    assert app.config["JWT_SECRET_KEY"] == (tmp_path / "jwt-secret").read_text().strip()
    # Production still refuses to start without one.
    import pytest

    monkeypatch.setenv("APP_ENV", "production")
    with pytest.raises(settings.ConfigError):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'y.db'}"})
