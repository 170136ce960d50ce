"""Referrals, told by the police officer, the refuges and the partners who must not see them."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from partnership_api.models.audit import AuditEvent
from partnership_api.models.referrals import Referral
from tests.factories import (
    GLOW_REFUGE,
    NEW_ERA_PERPETRATORS,
    NEW_ERA_SUPPORT,
    REFERRALS_URL,
    SWA_REFUGE,
    make_referral,
    referral_counts,
    transition,
    victim_referral,
)

# Everyone who must never see a referral between the police, SWA and Glow.
OTHER_PROVIDERS = ["pathway.staff", "newera.staff", "newera.admin"]
NEVER_READERS = ["opcc.staff", "opcc.analyst", "police.analyst", "partnership.admin"]


def listed_ids(client, headers, query: str = "") -> list[str]:
    response = client.get(f"{REFERRALS_URL}?{query}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return [r["id"] for r in response.get_json()]


def assert_outsiders_see_nothing(client, login, *referral_ids):
    for username in OTHER_PROVIDERS:
        headers = login(username)
        for referral_id in referral_ids:
            assert client.get(f"{REFERRALS_URL}/{referral_id}", headers=headers).status_code == 404
            assert (
                client.get(f"{REFERRALS_URL}/{referral_id}/events", headers=headers).status_code
                == 404
            )
        assert not set(referral_ids) & set(listed_ids(client, headers))
    for username in NEVER_READERS:
        headers = login(username)
        assert client.get(REFERRALS_URL, headers=headers).status_code == 403
        for referral_id in referral_ids:
            assert client.get(f"{REFERRALS_URL}/{referral_id}", headers=headers).status_code == 403


# --- the whole story ------------------------------------------------------------------------


def test_a_high_risk_victim_goes_from_the_police_via_swa_to_glow(client, login, ids):
    police, swa, glow = login("police.officer"), login("swa.staff"), login("glow.staff")

    # The officer refers her to Staffordshire Women's Aid's refuge.
    first = make_referral(client, police, victim_referral(ids.service[SWA_REFUGE]))
    assert re.fullmatch(r"REF-\d{4}-[0-9A-HJKMNP-TV-Z]{8}", first["reference"])
    assert first["status"] == "submitted"
    assert first["do_not_contact"] is True and first["safe_contact"]["do_not_contact"] is True
    assert first["from_organisation_id"] == ids.org["Staffordshire Police"]
    assert first["to_organisation_id"] == ids.org["Staffordshire Women's Aid"]
    assert first["household"] == {"children": 2, "child_ages": [4, 13]}
    created = datetime.fromisoformat(first["created_at"])
    assert datetime.fromisoformat(first["response_due_at"]) == created + timedelta(hours=24)
    assert first["overdue"] is False and first["hold"] is None
    assert first["redirected_to"] is None and first["redirected_from"] is None
    assert_outsiders_see_nothing(client, login, first["id"])

    # SWA sees it in its inbox, and not as something it sent.
    assert listed_ids(client, swa, "direction=received") == [first["id"]]
    assert listed_ids(client, swa, "direction=sent") == []
    assert (
        client.get(f"{REFERRALS_URL}/{first['id']}", headers=swa).get_json()["do_not_contact"]
        is True
    )

    # SWA has no space: it passes her on to Glow's refuge, not to a perpetrator programme.
    refused = transition(
        client, swa, first["id"], action="redirect", to_service_id=ids.service[NEW_ERA_PERPETRATORS]
    )
    assert refused.status_code == 422
    assert "to_service_id" in refused.get_json()["errors"]["json"]
    redirected = transition(
        client,
        swa,
        first["id"],
        action="redirect",
        reason_code="no_capacity",
        to_service_id=ids.service[GLOW_REFUGE],
        note="No family space until next week; Glow has one.",
    )
    assert redirected.status_code == 200, redirected.get_json()
    assert redirected.get_json()["status"] == "redirected"
    onward_id = redirected.get_json()["redirected_to"]

    # The officer sees the chain: where it went, and that it came from the first referral.
    original = client.get(f"{REFERRALS_URL}/{first['id']}", headers=police).get_json()
    assert original["status"] == "redirected" and original["redirected_to"] == onward_id
    onward = client.get(f"{REFERRALS_URL}/{onward_id}", headers=police).get_json()
    assert onward["status"] == "submitted"
    assert onward["redirected_from"] == first["id"]
    assert onward["reference"] != first["reference"]
    assert onward["from_organisation_id"] == ids.org["Staffordshire Police"]
    assert onward["to_organisation_id"] == ids.org["Glow"]
    assert onward["to_service_id"] == ids.service[GLOW_REFUGE]
    for carried in ("subject", "safe_contact", "household", "needs", "consent", "summary"):
        assert onward[carried] == first[carried]
    assert onward["do_not_contact"] is True
    assert set(listed_ids(client, police)) == {first["id"], onward_id}

    # SWA still reads what it redirected, but not the new referral to Glow.
    assert client.get(f"{REFERRALS_URL}/{first['id']}", headers=swa).status_code == 200
    assert client.get(f"{REFERRALS_URL}/{onward_id}", headers=swa).status_code == 404
    assert listed_ids(client, swa) == [first["id"]]
    # Glow sees only its own referral.
    assert client.get(f"{REFERRALS_URL}/{first['id']}", headers=glow).status_code == 404
    assert listed_ids(client, glow, "direction=received") == [onward_id]
    assert_outsiders_see_nothing(client, login, first["id"], onward_id)

    # Glow accepts, and later closes with an outcome.
    accepted = transition(
        client, glow, onward_id, action="accept", note="Family room from tonight."
    )
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "accepted"
    assert transition(client, glow, onward_id, action="close").status_code == 422
    closed = transition(client, glow, onward_id, action="close", outcome="Moved on to a tenancy.")
    assert closed.status_code == 200
    assert closed.get_json()["status"] == "closed"
    assert closed.get_json()["outcome"] == "Moved on to a tenancy."
    assert_outsiders_see_nothing(client, login, first["id"], onward_id)

    # The timelines tell who did what, when and why: another organisation's people as their
    # organisation (issue 25).
    first_events = client.get(f"{REFERRALS_URL}/{first['id']}/events", headers=police).get_json()
    assert [(e["kind"], e["username"], e["organisation_id"]) for e in first_events] == [
        ("created", "police.officer", ids.org["Staffordshire Police"]),
        ("redirected", None, ids.org["Staffordshire Women's Aid"]),
    ]
    assert first_events[1]["reason_code"] == "no_capacity"
    assert first_events[1]["details"]["redirected_to"] == onward_id
    onward_events = client.get(f"{REFERRALS_URL}/{onward_id}/events", headers=glow).get_json()
    assert [(e["kind"], e["organisation_id"]) for e in onward_events] == [
        ("created", ids.org["Staffordshire Women's Aid"]),
        ("accepted", ids.org["Glow"]),
        ("closed", ids.org["Glow"]),
    ]
    assert onward_events[0]["details"]["redirected_from"] == first["id"]
    stamps = [e["at"] for e in onward_events]
    assert stamps == sorted(stamps)


def test_the_swa_admin_and_the_police_admin_see_the_audit_of_a_referral(
    client, login, ids, db_session
):
    police, swa = login("police.officer"), login("swa.staff")
    referral = make_referral(client, police, victim_referral(ids.service[SWA_REFUGE]))
    client.get(f"{REFERRALS_URL}/{referral['id']}", headers=swa)
    client.get(f"{REFERRALS_URL}/{referral['id']}", headers=swa)
    listed_ids(client, swa)
    transition(client, swa, referral["id"], action="accept")
    client.post(f"{REFERRALS_URL}/{referral['id']}/notes", json={"text": "Arrived."}, headers=swa)

    events = db_session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.action.like("referral.%"), AuditEvent.outcome == "allowed")
        .order_by(AuditEvent.id)
    ).all()
    about_it = [e for e in events if e.resource_id == referral["id"]]
    assert [e.action for e in about_it] == [
        "referral.create",
        "referral.read",
        "referral.read",
        "referral.accept",
        "referral.note",
    ]
    for event in about_it:
        assert event.subject_organisation_id == ids.org["Staffordshire Police"]
        assert event.related_organisation_id == ids.org["Staffordshire Women's Aid"]
    (listing,) = [e for e in events if e.action == "referral.list"]
    assert listing.details == {"ids": [referral["id"]]}
    assert listing.username == "swa.staff"


# --- the lifecycle rules ----------------------------------------------------------------------


def test_swa_declines_with_a_reason_and_nothing_more_can_happen_to_it(client, login, ids):
    police, swa = login("police.officer"), login("swa.staff")
    referral = make_referral(client, police, victim_referral(ids.service[SWA_REFUGE]))
    no_reason = transition(client, swa, referral["id"], action="decline")
    assert no_reason.status_code == 422
    assert "reason_code" in no_reason.get_json()["errors"]["json"]
    bad_reason = transition(client, swa, referral["id"], action="decline", reason_code="busy")
    assert bad_reason.status_code == 422
    declined = transition(client, swa, referral["id"], action="decline", reason_code="no_capacity")
    assert declined.status_code == 200
    assert declined.get_json()["decline_reason"] == "no_capacity"

    for username, action, extra in [
        ("swa.staff", "accept", {}),
        ("swa.staff", "redirect", {"to_service_id": ids.service[GLOW_REFUGE]}),
        ("swa.staff", "close", {"outcome": "Done."}),
        ("police.officer", "withdraw", {}),
    ]:
        again = transition(client, login(username), referral["id"], action=action, **extra)
        assert again.status_code == 409, (action, again.get_json())
        assert "declined" in again.get_json()["message"]


def test_only_the_receiver_acts_and_only_the_sender_withdraws(client, login, ids, db_session):
    police, swa = login("police.officer"), login("swa.staff")
    referral = make_referral(client, police, victim_referral(ids.service[SWA_REFUGE]))
    before = referral_counts(db_session)
    assert transition(client, police, referral["id"], action="accept").status_code == 403
    assert transition(client, swa, referral["id"], action="withdraw").status_code == 403
    assert (
        transition(client, login("glow.staff"), referral["id"], action="accept").status_code == 404
    )
    assert (
        transition(client, login("opcc.staff"), referral["id"], action="accept").status_code == 403
    )
    assert referral_counts(db_session) == before
    withdrawn = transition(
        client, police, referral["id"], action="withdraw", note="She is safe now."
    )
    assert withdrawn.status_code == 200 and withdrawn.get_json()["status"] == "withdrawn"
    assert transition(client, swa, referral["id"], action="accept").status_code == 409


def test_a_submitted_referral_cannot_be_closed_and_a_closed_one_cannot_be_withdrawn(
    client, login, ids, db_session
):
    police, swa = login("police.officer"), login("swa.staff")
    referral = make_referral(client, police, victim_referral(ids.service[SWA_REFUGE]))
    before = referral_counts(db_session)
    early = transition(client, swa, referral["id"], action="close", outcome="Nothing yet.")
    assert early.status_code == 409 and "submitted" in early.get_json()["message"]
    assert referral_counts(db_session) == before
    assert transition(client, swa, referral["id"], action="accept").status_code == 200
    assert transition(client, swa, referral["id"], action="accept").status_code == 409
    assert (
        transition(client, swa, referral["id"], action="close", outcome="Housed.").status_code
        == 200
    )
    late = transition(client, police, referral["id"], action="withdraw")
    assert late.status_code == 409 and "closed" in late.get_json()["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "shred"}, "action"),
        ({"action": "accept", "outcome": "Housed."}, "outcome"),
        ({"action": "accept", "to_service_id": 1}, "to_service_id"),
        # A withdrawal may say why the referral lapsed (issue 26), but has no outcome.
        ({"action": "withdraw", "outcome": "Gone."}, "outcome"),
        ({"action": "accept", "reason_code": "other"}, "reason_code"),
        ({"action": "redirect"}, "to_service_id"),
        ({"action": "accept", "do_not_contact": False}, "do_not_contact"),
        ({"action": "close", "outcome": ""}, "outcome"),
    ],
)
def test_a_transition_body_that_does_not_fit_its_action_is_refused(
    client, login, ids, db_session, body, field
):
    referral = make_referral(
        client, login("police.officer"), victim_referral(ids.service[SWA_REFUGE])
    )
    before = referral_counts(db_session)
    response = transition(client, login("swa.staff"), referral["id"], **body)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]["json"]
    assert referral_counts(db_session) == before


def test_swa_cannot_redirect_to_itself_nor_to_a_service_that_does_not_exist(client, login, ids):
    referral = make_referral(
        client, login("police.officer"), victim_referral(ids.service[SWA_REFUGE])
    )
    swa = login("swa.staff")
    same = transition(
        client, swa, referral["id"], action="redirect", to_service_id=ids.service[SWA_REFUGE]
    )
    assert same.status_code == 422
    missing = transition(client, swa, referral["id"], action="redirect", to_service_id=999999)
    assert missing.status_code == 422 and "to_service_id" in missing.get_json()["errors"]["json"]


def test_nothing_edits_or_deletes_a_referral_or_its_timeline(client, login, ids):
    police = login("police.officer")
    referral = make_referral(client, police, victim_referral(ids.service[SWA_REFUGE]))
    for method in ("put", "patch", "delete"):
        call = getattr(client, method)
        assert call(f"{REFERRALS_URL}/{referral['id']}", json={}, headers=police).status_code == 405
        assert (
            call(f"{REFERRALS_URL}/{referral['id']}/events", json={}, headers=police).status_code
            == 405
        )


def test_notes_go_on_the_timeline_for_both_organisations_only(client, login, ids):
    police, swa = login("police.officer"), login("swa.staff")
    referral = make_referral(client, police, victim_referral(ids.service[SWA_REFUGE]))
    note = client.post(
        f"{REFERRALS_URL}/{referral['id']}/notes",
        json={"text": "Called at 10:15; safe."},
        headers=swa,
    )
    assert note.status_code == 201
    assert note.get_json()["kind"] == "note" and note.get_json()["username"] == "swa.staff"
    outsider = client.post(
        f"{REFERRALS_URL}/{referral['id']}/notes",
        json={"text": "Hello"},
        headers=login("glow.staff"),
    )
    assert outsider.status_code == 404
    analyst = client.post(
        f"{REFERRALS_URL}/{referral['id']}/notes",
        json={"text": "Hi"},
        headers=login("police.analyst"),
    )
    assert analyst.status_code == 403
    empty = client.post(f"{REFERRALS_URL}/{referral['id']}/notes", json={"text": ""}, headers=swa)
    assert empty.status_code == 422
    timeline = client.get(f"{REFERRALS_URL}/{referral['id']}/events", headers=police).get_json()
    assert [e["kind"] for e in timeline] == ["created", "note"]
    assert timeline[1]["note"] == "Called at 10:15; safe."
    after = client.get(f"{REFERRALS_URL}/{referral['id']}", headers=police).get_json()
    assert after["updated_at"] > referral["updated_at"]


# --- what may be referred where ---------------------------------------------------------------


def test_a_perpetrator_programme_never_receives_a_victims_details(client, login, ids, db_session):
    police = login("police.officer")
    before = referral_counts(db_session)
    for service in (NEW_ERA_PERPETRATORS, "Glow perpetrator service"):
        response = client.post(
            REFERRALS_URL, json=victim_referral(ids.service[service]), headers=police
        )
        assert response.status_code == 422
        assert "to_service_id" in response.get_json()["errors"]["json"]
        assert "to_service_id" in response.get_json()["message"]
    perpetrator_to_refuge = victim_referral(ids.service[GLOW_REFUGE], kind="perpetrator")
    assert client.post(REFERRALS_URL, json=perpetrator_to_refuge, headers=police).status_code == 422
    assert referral_counts(db_session) == before
    perpetrator = make_referral(
        client,
        police,
        victim_referral(ids.service[NEW_ERA_PERPETRATORS], kind="perpetrator", risk_level="high"),
    )
    assert perpetrator["kind"] == "perpetrator"
    assert listed_ids(client, login("newera.staff"), "kind=perpetrator") == [perpetrator["id"]]


def test_who_may_make_a_referral(client, login, ids):
    body = victim_referral(ids.service[NEW_ERA_SUPPORT])
    for username in NEVER_READERS:
        assert client.post(REFERRALS_URL, json=body, headers=login(username)).status_code == 403
    onward = make_referral(client, login("swa.staff"), body)
    assert onward["from_organisation_id"] == ids.org["Staffordshire Women's Aid"]
    assert client.post(REFERRALS_URL, json=body).status_code == 401


# --- validation: the right 4xx, naming the problem, and nothing written -------------------------


def _broken(ids, change) -> dict:
    body = victim_referral(ids.service[SWA_REFUGE])
    change(body)
    return body


BROKEN_BODIES = {
    "unknown field": (lambda b: b.update(nickname="Jo"), ["nickname"]),
    "unknown nested field": (lambda b: b["subject"].update(ni_number="x"), ["subject"]),
    "missing kind": (lambda b: b.pop("kind"), ["kind"]),
    "bad date": (lambda b: b["subject"].update(date_of_birth="1990-13-45"), ["subject"]),
    "future birth": (lambda b: b["subject"].update(date_of_birth="2999-01-01"), ["subject"]),
    "score too high": (lambda b: b.update(dash_score=28), ["dash_score"]),
    "score below zero": (lambda b: b.update(dash_score=-1), ["dash_score"]),
    "level below score": (lambda b: b.update(risk_level="medium"), ["risk_level"]),
    "unknown level": (lambda b: b.update(risk_level="severe"), ["risk_level"]),
    "no lawful basis": (
        lambda b: b["consent"].update(lawful_basis=None, rationale=" "),
        ["consent"],
    ),
    "ages and children differ": (
        lambda b: b["household"].update(child_ages=[4]),
        ["household"],
    ),
    "unknown area": (lambda b: b["subject"].update(area="E99999999"), ["subject"]),
    "no such service": (lambda b: b.update(to_service_id=424242), ["to_service_id"]),
    "service id out of range": (lambda b: b.update(to_service_id=2**40), ["to_service_id"]),
}


@pytest.mark.parametrize("case", sorted(BROKEN_BODIES))
def test_a_broken_referral_is_refused_naming_the_problem(client, login, ids, db_session, case):
    change, fields = BROKEN_BODIES[case]
    before = referral_counts(db_session)
    response = client.post(
        REFERRALS_URL, json=_broken(ids, change), headers=login("police.officer")
    )
    assert response.status_code == 422, response.get_json()
    errors = response.get_json()["errors"]["json"]
    for field in fields:
        assert field in errors, errors
    assert referral_counts(db_session) == before


def test_the_nested_errors_name_the_exact_field(client, login, ids):
    police = login("police.officer")

    def errors_for(change):
        body = _broken(ids, change)
        return client.post(REFERRALS_URL, json=body, headers=police).get_json()["errors"]["json"]

    missing = errors_for(lambda b: b["consent"].update(lawful_basis=None, rationale=None))
    assert set(missing["consent"]) == {"lawful_basis", "rationale"}
    bad_date = errors_for(lambda b: b["subject"].update(date_of_birth="02/04/1990"))
    assert "date_of_birth" in bad_date["subject"]
    ages = errors_for(lambda b: b["household"].update(child_ages=[1, 2, 3]))
    assert "child_ages" in ages["household"]


def test_professional_judgement_may_raise_the_level_above_the_score(client, login, ids):
    police = login("police.officer")
    raised = make_referral(
        client, police, victim_referral(ids.service[SWA_REFUGE], dash_score=6, risk_level="high")
    )
    assert raised["risk_level"] == "high" and raised["dash_score"] == 6
    standard = make_referral(
        client,
        police,
        victim_referral(ids.service[SWA_REFUGE], dash_score=13, risk_level="standard"),
    )
    due = datetime.fromisoformat(standard["response_due_at"])
    assert due - datetime.fromisoformat(standard["created_at"]) >= timedelta(days=2)


def test_consent_given_needs_no_lawful_basis(client, login, ids):
    body = victim_referral(ids.service[SWA_REFUGE], consent={"given": True})
    made = make_referral(client, login("police.officer"), body)
    assert made["consent"]["given"] is True


@pytest.mark.parametrize(
    "query",
    [
        "created_after=yesterday",
        "created_after=2026-01-01T00:00:00",  # no timezone
        "created_after=2026-02-01T00:00:00%2B00:00&created_before=2026-01-01T00:00:00%2B00:00",
        "modified_after=2026-02-30T00:00:00Z",
        "status=lost",
        "direction=sideways",
        "overdue=perhaps",
        "area=E99999999",
        "page_size=101",
    ],
)
def test_a_bad_filter_is_refused(client, login, query):
    response = client.get(f"{REFERRALS_URL}?{query}", headers=login("police.officer"))
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["errors"]


def test_a_referral_that_does_not_exist_is_not_found(client, login):
    police = login("police.officer")
    missing = uuid.uuid4()
    assert client.get(f"{REFERRALS_URL}/{missing}", headers=police).status_code == 404
    assert transition(client, police, missing, action="withdraw").status_code == 404
    assert client.get(f"{REFERRALS_URL}/not-a-uuid", headers=police).status_code == 404


# --- Idempotency-Key ----------------------------------------------------------------------------


def test_a_retry_with_the_same_key_returns_the_original_and_makes_nothing(
    client, login, ids, db_session
):
    police = login("police.officer")
    body = victim_referral(ids.service[SWA_REFUGE])
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = client.post(REFERRALS_URL, json=body, headers={**police, **key})
    assert first.status_code == 201
    after_first = referral_counts(db_session)
    again = client.post(REFERRALS_URL, json=body, headers={**police, **key})
    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    assert referral_counts(db_session) == after_first

    changed = client.post(
        REFERRALS_URL,
        json={**body, "summary": "Another person altogether."},
        headers={**police, **key},
    )
    assert changed.status_code == 422
    assert "Idempotency-Key" in changed.get_json()["errors"]["headers"]
    assert referral_counts(db_session) == after_first

    # Without a key, or with a new one, a second post is a second referral.
    make_referral(client, police, body)
    fresh = client.post(
        REFERRALS_URL, json=body, headers={**police, "Idempotency-Key": str(uuid.uuid4())}
    )
    assert fresh.status_code == 201
    assert referral_counts(db_session)[0] == after_first[0] + 2


def test_a_key_is_the_users_own(client, login, ids, db_session):
    body = victim_referral(ids.service[SWA_REFUGE])
    key = {"Idempotency-Key": "shared-key-0001"}
    mine = client.post(REFERRALS_URL, json=body, headers={**login("police.officer"), **key})
    theirs = client.post(REFERRALS_URL, json=body, headers={**login("police.admin"), **key})
    assert mine.status_code == theirs.status_code == 201
    assert mine.get_json()["id"] != theirs.get_json()["id"]
    too_long = client.post(
        REFERRALS_URL, json=body, headers={**login("police.officer"), "Idempotency-Key": "k" * 101}
    )
    assert too_long.status_code == 422


def test_a_partner_cannot_count_other_organisations_referrals_from_its_own_references(
    client, login, ids
):
    # New Era refers twice, the police refer in between: New Era's two references must not
    # say how many referrals the partnership made between them.
    newera, police = login("newera.staff"), login("police.officer")
    first = make_referral(client, newera, victim_referral(ids.service[SWA_REFUGE]))
    for _ in range(3):
        make_referral(client, police, victim_referral(ids.service[SWA_REFUGE]))
    second = make_referral(client, newera, victim_referral(ids.service[SWA_REFUGE]))
    year = datetime.fromisoformat(first["created_at"]).year
    shape = rf"REF-{year}-[0-9A-HJKMNP-TV-Z]{{8}}"
    assert re.fullmatch(shape, first["reference"]) and re.fullmatch(shape, second["reference"])
    first_code, second_code = (r["reference"].rsplit("-", 1)[1] for r in (first, second))
    assert first_code != second_code
    # Not a counter in any base the alphabet could be read in.
    digits = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

    def as_number(code: str) -> int:
        return sum(digits.index(c) * 32**i for i, c in enumerate(reversed(code)))

    assert abs(as_number(second_code) - as_number(first_code)) > 1000


# --- lists and their filters --------------------------------------------------------------------


@pytest.fixture
def caseload(client, login, ids, db_session):
    """Police referrals to SWA, Glow and New Era, in order; SWA accepts one, declines one."""
    police, swa = login("police.officer"), login("swa.staff")
    made = {
        "swa_high": make_referral(client, police, victim_referral(ids.service[SWA_REFUGE])),
        "swa_standard": make_referral(
            client,
            police,
            victim_referral(ids.service[SWA_REFUGE], risk_level="standard", dash_score=3),
        ),
        "glow_medium": make_referral(
            client,
            police,
            victim_referral(
                ids.service[GLOW_REFUGE],
                risk_level="medium",
                dash_score=None,
                subject={"name": "A. Person", "area": "E06000021"},
            ),
        ),
        "newera_perp": make_referral(
            client,
            police,
            victim_referral(ids.service[NEW_ERA_PERPETRATORS], kind="perpetrator"),
        ),
        "swa_onward": make_referral(client, swa, victim_referral(ids.service[NEW_ERA_SUPPORT])),
    }
    assert transition(client, swa, made["swa_high"]["id"], action="accept").status_code == 200
    declined = transition(
        client, swa, made["swa_standard"]["id"], action="decline", reason_code="other"
    )
    assert declined.status_code == 200
    # Glow's referral has waited past its due time.
    db_session.execute(
        sa.update(Referral)
        .where(Referral.id == uuid.UUID(made["glow_medium"]["id"]))
        .values(response_due_at=datetime.now(UTC) - timedelta(minutes=5))
    )
    db_session.commit()
    return {name: r["id"] for name, r in made.items()}


def test_the_officer_filters_their_referrals(client, login, caseload, ids):
    police = login("police.officer")
    c = caseload
    newest_first = [c["newera_perp"], c["glow_medium"], c["swa_standard"], c["swa_high"]]
    assert listed_ids(client, police) == newest_first
    assert listed_ids(client, police, "direction=sent") == newest_first
    assert listed_ids(client, police, "direction=received") == []
    assert listed_ids(client, police, "status=accepted") == [c["swa_high"]]
    assert listed_ids(client, police, "status=declined") == [c["swa_standard"]]
    assert listed_ids(client, police, "kind=perpetrator") == [c["newera_perp"]]
    assert listed_ids(client, police, "risk_level=medium") == [c["glow_medium"]]
    assert listed_ids(client, police, f"to_service_id={ids.service[GLOW_REFUGE]}") == [
        c["glow_medium"]
    ]
    assert listed_ids(client, police, "area=E06000021") == [c["glow_medium"]]
    assert listed_ids(client, police, "overdue=true") == [c["glow_medium"]]
    assert c["glow_medium"] not in listed_ids(client, police, "overdue=false")
    overdue = client.get(f"{REFERRALS_URL}/{c['glow_medium']}", headers=police).get_json()
    assert overdue["overdue"] is True


def test_filters_by_time(client, login, caseload, db_session):
    police = login("police.officer")
    c = caseload
    old = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    db_session.execute(
        sa.update(Referral)
        .where(Referral.id == uuid.UUID(c["swa_high"]))
        .values(created_at=old, updated_at=old)
    )
    db_session.commit()
    cutoff = "2026-02-01T00:00:00%2B00:00"
    assert listed_ids(client, police, f"created_before={cutoff}") == [c["swa_high"]]
    assert c["swa_high"] not in listed_ids(client, police, f"created_after={cutoff}")
    assert c["swa_high"] not in listed_ids(client, police, f"modified_after={cutoff}")
    window = "created_after=2026-01-05T08:00:00Z&created_before=2026-01-05T10:00:00Z"
    assert listed_ids(client, police, window) == [c["swa_high"]]
    later = datetime.now(UTC) + timedelta(hours=1)
    assert (
        listed_ids(client, police, f"modified_after={later.isoformat().replace('+', '%2B')}") == []
    )


def test_swa_sees_what_it_sent_and_received_and_no_more(client, login, caseload):
    swa = login("swa.staff")
    c = caseload
    assert listed_ids(client, swa) == [c["swa_onward"], c["swa_standard"], c["swa_high"]]
    assert listed_ids(client, swa, "direction=sent") == [c["swa_onward"]]
    assert listed_ids(client, swa, "direction=received") == [c["swa_standard"], c["swa_high"]]
    newera = login("newera.staff")
    assert listed_ids(client, newera) == [c["swa_onward"], c["newera_perp"]]
    assert listed_ids(client, login("pathway.staff")) == []
    for username in NEVER_READERS:
        assert client.get(REFERRALS_URL, headers=login(username)).status_code == 403


def test_pages_are_newest_first_and_counted(client, login, caseload):
    police = login("police.officer")
    first = client.get(f"{REFERRALS_URL}?page_size=3", headers=police)
    second = client.get(f"{REFERRALS_URL}?page_size=3&page=2", headers=police)
    beyond = client.get(f"{REFERRALS_URL}?page_size=3&page=5", headers=police)
    pages = [r.get_json() for r in (first, second)]
    assert [len(p) for p in pages] == [3, 1]
    assert [r["id"] for r in pages[0] + pages[1]] == listed_ids(client, police)
    assert first.headers["X-Pagination"] and '"total": 4' in first.headers["X-Pagination"]
    assert '"total": 4' in second.headers["X-Pagination"]
    assert beyond.get_json() == [] and '"total": 4' in beyond.headers["X-Pagination"]


def test_a_long_history_is_counted_only_so_far(client, login, ids, monkeypatch):
    import json

    from partnership_api.services import referral_lists

    monkeypatch.setattr(referral_lists, "COUNT_LIMIT", 3)
    police = login("police.officer")
    for _ in range(6):
        make_referral(client, police, victim_referral(ids.service[SWA_REFUGE]))

    def header(page):
        response = client.get(f"{REFERRALS_URL}?page_size=2&page={page}", headers=police)
        return json.loads(response.headers["X-Pagination"])

    assert header(1)["total"] == 3 and header(1)["next_page"] == 2
    assert header(2)["total"] == 5 and header(2)["next_page"] == 3
    assert header(3)["total"] == 6 and "next_page" not in header(3)


# --- the response deadline --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("created", "level", "due"),
    [
        # Tuesday → Thursday; Friday → Tuesday; Saturday → Tuesday; high: 24 hours, weekend or not.
        ("2026-11-17T09:30:00+00:00", "standard", "2026-11-19T09:30:00+00:00"),
        ("2026-11-20T15:00:00+00:00", "medium", "2026-11-24T15:00:00+00:00"),
        ("2026-11-21T10:00:00+00:00", "standard", "2026-11-24T10:00:00+00:00"),
        ("2026-11-21T10:00:00+00:00", "high", "2026-11-22T10:00:00+00:00"),
        # Across the clocks going back: the same local time two working days on.
        ("2026-10-23T09:00:00+00:00", "standard", "2026-10-27T10:00:00+00:00"),
    ],
)
def test_the_response_is_due_in_24_hours_for_high_risk_otherwise_two_working_days(
    created, level, due
):
    from partnership_api.services.referral_rules import response_due

    assert response_due(datetime.fromisoformat(created), level) == datetime.fromisoformat(due)


# --- the hold, as each representation of the referral shows it ---------------------------------


def test_a_held_bed_shows_on_the_referral_until_the_referral_moves_on(client, login, ids):
    police, swa = login("police.officer"), login("swa.staff")
    referral = make_referral(client, police, victim_referral(ids.service[SWA_REFUGE]))
    held = client.post(
        f"{REFERRALS_URL}/{referral['id']}/hold",
        json={"refuge_id": ids.service[SWA_REFUGE], "space_type": "family"},
        headers=police,
    )
    assert held.status_code == 201, held.get_json()
    shown = client.get(f"{REFERRALS_URL}/{referral['id']}", headers=swa).get_json()["hold"]
    assert shown == {
        "id": held.get_json()["id"],
        "referral_id": referral["id"],
        "refuge_id": ids.service[SWA_REFUGE],
        "space_type": "family",
        "expires_at": shown["expires_at"],
    }
    listed = client.get(f"{REFERRALS_URL}?direction=received", headers=swa).get_json()
    assert listed[0]["hold"]["id"] == held.get_json()["id"]

    redirected = transition(
        client,
        swa,
        referral["id"],
        action="redirect",
        reason_code="no_capacity",
        to_service_id=ids.service[GLOW_REFUGE],
    )
    assert redirected.status_code == 200 and redirected.get_json()["hold"] is None
    kinds = [
        e["kind"]
        for e in client.get(f"{REFERRALS_URL}/{referral['id']}/events", headers=police).json
    ]
    assert kinds[0] == "created" and "redirected" in kinds and "hold_released" in kinds
