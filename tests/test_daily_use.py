"""What an officer, a refuge worker and a grants officer tripped over in daily use (issue 19),
each told by the person who tripped, with the answer they now get."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.factories import (
    EDUCATION,
    GLOW_REFUGE,
    NEW_ERA_PERPETRATORS,
    PATHWAY_REFUGE,
    SWA_REFUGE,
    audit_events,
    bed_search,
    giving_validator,
    make_referral,
    new_fund,
    new_project,
    patch_with_etag,
    project_id,
    read_with_etag,
    referral_counts,
    refuge_names,
    start_delivery,
    transition,
    victim_referral,
)

REFERRALS = "/api/v1/referrals"
STOKE, STAFFORD = "E06000021", "E07000197"
TODAY = datetime.now(UTC).date()


def quarter(back: int) -> str:
    """The calendar quarter ``back`` quarters before today's (negative: ahead)."""
    index = TODAY.year * 4 + (TODAY.month - 1) // 3 - back
    return f"{index // 4}-Q{index % 4 + 1}"


def daughter_and_son(son_age: int = 15) -> dict:
    return {
        "children_detail": [{"age": 4, "sex": "female"}, {"age": son_age, "sex": "male"}],
    }


# --- children as people, not a count -------------------------------------------------------------


def test_an_officer_gives_each_childs_age_and_sex_and_the_count_follows(client, login, ids):
    officer = login("police.officer")
    body = victim_referral(ids.service[SWA_REFUGE], household=daughter_and_son())
    referral = make_referral(client, officer, body)
    assert referral["household"] == {
        "children": 2,
        "child_ages": [4, 15],
        "children_detail": [{"age": 4, "sex": "female"}, {"age": 15, "sex": "male"}],
    }
    # The refuge reads the same household, with the son's age beside his sex.
    swa = login("swa.staff")
    read_back = client.get(f"{REFERRALS}/{referral['id']}", headers=swa).get_json()
    assert read_back["household"] == referral["household"]
    # Sending the count and ages too is fine when they agree (ages in any order).
    agreeing = {**daughter_and_son(), "children": 2, "child_ages": [15, 4]}
    again = make_referral(
        client, officer, victim_referral(ids.service[SWA_REFUGE], household=agreeing)
    )
    assert again["household"]["children"] == 2
    assert again["household"]["child_ages"] == [4, 15]


@pytest.mark.parametrize(
    "household, field, message",
    [
        (
            {**daughter_and_son(), "children": 3},
            "children",
            "household.children: 3 children, but children_detail describes 2.",
        ),
        (
            {**daughter_and_son(), "child_ages": [4, 12]},
            "child_ages",
            "household.child_ages: These ages are not the ages in children_detail.",
        ),
        (
            {"children_detail": [{"age": 15, "sex": "boy"}]},
            "children_detail",
            "household.children_detail.0.sex: Must be one of: female, male.",
        ),
        (
            {"children_detail": [{"age": 15}]},
            "children_detail",
            "household.children_detail.0.sex: Missing data for required field.",
        ),
    ],
)
def test_a_detail_that_contradicts_the_count_is_refused_and_nothing_is_written(
    client, login, ids, db_session, household, field, message
):
    officer = login("police.officer")
    before = referral_counts(db_session)
    body = victim_referral(ids.service[SWA_REFUGE], household=household)
    refused = client.post(REFERRALS, json=body, headers=officer)
    assert refused.status_code == 422
    assert field in refused.get_json()["errors"]["json"]["household"]
    assert refused.get_json()["message"] == message
    assert referral_counts(db_session) == before


# --- search for this referral --------------------------------------------------------------------


def stoke_referral(client, officer, ids, **needs) -> dict:
    """A woman from Stoke-on-Trent, where the abuser lives, with a daughter of 4 and a son of 15."""
    body = victim_referral(ids.service[SWA_REFUGE], household=daughter_and_son())
    body["subject"] = {**body["subject"], "area": STOKE}
    body["needs"] = {"wheelchair": False, "nrpf": False, "risk_from_home": True, **needs}
    return make_referral(client, officer, body)


def test_an_officer_searches_beds_for_her_referral_without_retyping_it(client, login, ids):
    officer = login("police.officer")
    referral = stoke_referral(client, officer, ids)
    # By hand: two children, so family spaces: SWA and Glow have one each.
    assert sorted(refuge_names(bed_search(client, officer, "?children=2"), ids)) == sorted(
        [SWA_REFUGE, GLOW_REFUGE]
    )
    # For her referral: Glow serves Stoke, where the risk is, and takes sons only up to 14.
    found = bed_search(client, officer, f"?for_referral={referral['id']}")
    assert refuge_names(found, ids) == [SWA_REFUGE]
    assert found[0]["spaces"] == [{"space_type": "family", "available": 1}]


def test_filters_given_explicitly_win_and_areas_to_keep_out_add_up(client, login, ids):
    officer = login("police.officer")
    referral = stoke_referral(client, officer, ids)
    for_her = f"?for_referral={referral['id']}"
    # She would take a single room: the officer says so, and the referral fills the rest.
    single = bed_search(client, officer, f"{for_her}&space_type=single")
    assert refuge_names(single, ids) == [SWA_REFUGE]
    assert single[0]["spaces"] == [{"space_type": "single", "available": 1}]
    # Keeping Stafford out too leaves nothing: Stoke stays out as well.
    assert bed_search(client, officer, f"{for_her}&exclude_area={STAFFORD}") == []


def test_her_needs_fill_the_search_too(client, login, ids):
    officer = login("police.officer")
    body = victim_referral(ids.service[SWA_REFUGE], household={"children": 1, "child_ages": [3]})
    body["needs"] = {
        "wheelchair": False,
        "nrpf": True,
        "pets": True,
        "interpreter_language": "punjabi",
    }
    referral = make_referral(client, officer, body)
    assert refuge_names(bed_search(client, officer, f"?for_referral={referral['id']}"), ids) == [
        GLOW_REFUGE
    ]


def test_searching_for_a_referral_reads_it_and_is_audited(client, login, ids, db_session):
    officer = login("police.officer")
    referral = stoke_referral(client, officer, ids)
    bed_search(client, officer, f"?for_referral={referral['id']}")
    reads = audit_events(
        db_session, action="referral.read", resource_id=str(referral["id"]), outcome="allowed"
    )
    assert [e.details for e in reads if (e.details or {}).get("view") == "bed_search"] == [
        {"view": "bed_search"}
    ]


@pytest.mark.parametrize(
    "username, status",
    [("glow.staff", 404), ("pathway.staff", 404), ("opcc.analyst", 403), ("police.analyst", 403)],
)
def test_a_partner_cannot_search_with_someone_elses_referral(client, login, ids, username, status):
    referral = stoke_referral(client, login("police.officer"), ids)
    answer = client.get(
        f"/api/v1/beds/search?for_referral={referral['id']}", headers=login(username)
    )
    assert answer.status_code == status
    assert (
        client.get(
            f"/api/v1/beds/search?for_referral={uuid.uuid4()}", headers=login("police.officer")
        ).status_code
        == 404
    )


def test_a_perpetrators_referral_does_not_search_refuges(client, login, ids):
    officer = login("police.officer")
    body = victim_referral(ids.service[NEW_ERA_PERPETRATORS], kind="perpetrator")
    referral = make_referral(client, officer, body)
    answer = client.get(f"/api/v1/beds/search?for_referral={referral['id']}", headers=officer)
    assert answer.status_code == 422
    assert answer.get_json()["errors"]["query"] == {"for_referral": ["A perpetrator's referral."]}
    assert answer.get_json()["message"] == (
        "for_referral: bed spaces are searched for a victim's referral, not a perpetrator's."
    )


def test_an_officer_searches_by_language_and_for_women_only_refuges(client, login, ids):
    officer = login("police.officer")
    assert refuge_names(bed_search(client, officer, "?language=URDU"), ids) == [SWA_REFUGE]
    assert refuge_names(bed_search(client, officer, "?language=Punjabi"), ids) == [GLOW_REFUGE]
    assert bed_search(client, officer, "?language=Tigrinya") == []
    assert len(bed_search(client, officer, "?women_only=true")) == 3
    # Pathway's refuge now takes men too: it drops out of a women-only search.
    admin = login("partnership.admin")
    pathway = ids.service[PATHWAY_REFUGE]
    read = client.get(f"/api/v1/services/{pathway}", headers=admin)
    changed = client.patch(
        f"/api/v1/services/{pathway}",
        json={"facilities": {"women_only": False}},  # merged field by field with the rest
        headers={**admin, "If-Match": read.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.get_json()
    assert PATHWAY_REFUGE not in refuge_names(bed_search(client, officer, "?women_only=true"), ids)
    assert PATHWAY_REFUGE in refuge_names(bed_search(client, officer, ""), ids)


# --- redirect with its reason --------------------------------------------------------------------


def test_glow_sees_that_swa_redirected_her_and_why(client, login, ids):
    police, swa, glow = login("police.officer"), login("swa.staff"), login("glow.staff")
    first = make_referral(client, police, victim_referral(ids.service[SWA_REFUGE]))
    note = "Our family room is taken until Friday; Glow has one tonight."
    redirected = transition(
        client,
        swa,
        first["id"],
        action="redirect",
        to_service_id=ids.service[GLOW_REFUGE],
        reason_code="no_capacity",
        note=note,
    )
    assert redirected.status_code == 200, redirected.get_json()
    onward_id = redirected.get_json()["redirected_to"]

    timeline = client.get(f"{REFERRALS}/{onward_id}/events", headers=glow)
    assert timeline.status_code == 200
    created = timeline.get_json()[0]
    assert created["kind"] == "created"
    assert created["organisation_id"] == ids.org["Staffordshire Women's Aid"]
    assert created["reason_code"] == "no_capacity"
    assert created["note"] == note
    assert created["details"]["redirected_from"] == first["id"]
    assert (
        created["details"]["redirected_by_organisation_id"] == ids.org["Staffordshire Women's Aid"]
    )
    assert created["details"]["redirected_from_service_id"] == ids.service[SWA_REFUGE]

    # SWA keeps seeing the original only; Glow never sees the original.
    assert client.get(f"{REFERRALS}/{onward_id}", headers=swa).status_code == 404
    assert client.get(f"{REFERRALS}/{onward_id}/events", headers=swa).status_code == 404
    assert client.get(f"{REFERRALS}/{first['id']}/events", headers=swa).status_code == 200
    assert client.get(f"{REFERRALS}/{first['id']}", headers=glow).status_code == 404


# --- a typo is not "everything" ------------------------------------------------------------------


def test_a_refuge_worker_with_a_typo_in_her_filter_is_told_not_shown_everything(
    client, login, ids, db_session
):
    make_referral(client, login("police.officer"), victim_referral(ids.service[SWA_REFUGE]))
    swa = login("swa.staff")
    before = len(audit_events(db_session, action="referral.list"))
    typo = client.get(f"{REFERRALS}?status2=accepted", headers=swa)
    assert typo.status_code == 422
    body = typo.get_json()
    assert body["errors"] == {"query": {"status2": ["Unknown field."]}}
    assert body["message"] == "status2: Unknown field."
    assert len(audit_events(db_session, action="referral.list")) == before
    # Spelt right, with paging, it works.
    right = client.get(f"{REFERRALS}?status=accepted&page=1&page_size=10", headers=swa)
    assert right.status_code == 200 and right.get_json() == []


LISTS = [
    ("swa.staff", "/api/v1/referrals?page=1&sort=newest"),
    ("swa.staff", "/api/v1/refuges?are=E07000197"),
    ("swa.staff", "/api/v1/beds/search?child=2"),
    ("swa.staff", "/api/v1/services?knd=refuge"),
    ("swa.staff", "/api/v1/organisations?name=Glow"),
    ("swa.staff", "/api/v1/funds?fundr=Home%20Office"),
    ("swa.staff", "/api/v1/projects?stauts=planned"),
    ("swa.staff", "/api/v1/projects/1/milestones?overdue=true"),
    ("swa.staff", "/api/v1/projects/1/spend?period=2026-Q1"),
    ("swa.staff", "/api/v1/projects/1/outputs?metric=x"),
    ("swa.staff", "/api/v1/refuges/1/availability/history?since=2026-01-01"),
    ("swa.admin", "/api/v1/users?rol=staff"),
    ("swa.admin", "/api/v1/audit-events?actoin=referral.read"),
    ("opcc.analyst", "/api/v1/stats/referrals?group_by=month&form=2026-01-01"),
]


@pytest.mark.parametrize("username, url", LISTS)
def test_every_list_refuses_a_parameter_it_does_not_know(client, login, username, url):
    answer = client.get(url, headers=login(username))
    assert answer.status_code == 422, answer.get_json()
    (unknown,) = answer.get_json()["errors"]["query"]
    assert answer.get_json()["message"] == f"{unknown}: Unknown field."


def test_a_caller_without_a_token_learns_nothing_about_parameters(client):
    assert client.get(f"{REFERRALS}?status2=accepted").status_code == 401


# --- errors that say what went wrong -------------------------------------------------------------


@pytest.mark.parametrize(
    "change, message",
    [
        ({"dash_score": 99}, "dash_score: A DASH score is from 0 to 27."),
        ({"risk_level": "extreme"}, "risk_level: Must be one of: standard, medium, high."),
        (
            {"subject": {"name": "Jane Example", "area": "W06000015"}},
            "subject.area: Not a district of the county: W06000015.",
        ),
        ({"colour": "red"}, "colour: Unknown field."),
    ],
)
def test_an_officer_reads_what_was_wrong_in_the_message(client, login, ids, change, message):
    body = {**victim_referral(ids.service[SWA_REFUGE]), **change}
    refused = client.post(REFERRALS, json=body, headers=login("police.officer"))
    assert refused.status_code == 422
    assert refused.get_json()["message"] == message
    assert set(refused.get_json()["errors"]) == {"json"}


# --- every 201 says where; refuges carry refuge_id -----------------------------------------------


def test_everything_made_answers_where_it_is(client, login, ids):
    officer, glow = login("police.officer"), login("glow.staff")
    admin, opcc = login("partnership.admin"), login("opcc.staff")

    def follow(response, reader, status=200):
        assert response.status_code == 201, response.get_json()
        location = response.headers["Location"]
        assert location.startswith("/api/v1/")
        assert client.get(location, headers=reader).status_code == status
        return location, response.get_json()

    where, referral = follow(
        client.post(REFERRALS, json=victim_referral(ids.service[GLOW_REFUGE]), headers=officer),
        officer,
    )
    assert where == f"{REFERRALS}/{referral['id']}"
    where, _ = follow(
        client.post(f"{where}/notes", json={"text": "Called at 02:10."}, headers=glow), glow
    )
    assert where == f"{REFERRALS}/{referral['id']}/events"
    hold = client.post(
        f"{REFERRALS}/{referral['id']}/hold",
        json={"refuge_id": ids.service[GLOW_REFUGE], "space_type": "family"},
        headers=officer,
    )
    assert hold.status_code == 201
    assert hold.headers["Location"] == f"{REFERRALS}/{referral['id']}/hold"
    assert client.delete(hold.headers["Location"], headers=officer).status_code == 204

    where, org = follow(
        client.post(
            "/api/v1/organisations",
            json={"name": "Outreach CIC", "kind": "provider"},
            headers=admin,
        ),
        admin,
    )
    assert where == f"/api/v1/organisations/{org['id']}"
    service = {"organisation_id": org["id"], "name": "Outreach", "kind": "victim_support"}
    follow(
        client.post("/api/v1/services", json={**service, "areas": [STOKE]}, headers=admin), admin
    )
    follow(
        client.post(
            "/api/v1/users",
            json={
                # The new organisation's first admin (issue 25: its admins make the rest).
                "username": "outreach.manager",
                "role": "admin",
                "password": "a-long-enough-password",
                "organisation_id": org["id"],
            },
            headers=admin,
        ),
        admin,
    )
    where, fund = follow(
        client.post(
            "/api/v1/funds", json={"name": "Night Fund", "funder": "Home Office"}, headers=opcc
        ),
        opcc,
    )
    assert where == f"/api/v1/funds/{fund['id']}"
    pid = new_project(client, opcc, ids, fund["id"], 100_000)
    base = f"/api/v1/projects/{pid}"
    follow(
        client.post(
            f"{base}/milestones", json={"title": "Kick-off", "due_on": "2027-01-10"}, headers=opcc
        ),
        opcc,
    )
    where, _ = follow(
        client.post(
            f"{base}/spend", json={"period": quarter(-1), "forecast_pence": 5}, headers=opcc
        ),
        opcc,
    )
    assert where == f"{base}/spend/{quarter(-1)}"
    follow(
        client.post(f"{base}/outputs", json={"metric": "nights", "unit": "nights"}, headers=opcc),
        opcc,
    )
    made = client.post(
        "/api/v1/projects",
        json={
            "fund_id": fund["id"],
            "title": "Where is it?",
            "category": "other",
            "lead_organisation_id": ids.org["Glow"],
            "amount_awarded_pence": 1,
            "awarded_on": "2026-11-02",
        },
        headers=opcc,
    )
    follow(made, opcc)
    assert made.headers["ETag"]


def test_refuges_carry_refuge_id_as_bed_search_does(client, login, ids):
    officer = login("police.officer")
    refuges = client.get("/api/v1/refuges", headers=officer).get_json()
    assert refuges and all(r["refuge_id"] == r["id"] for r in refuges)
    found = {r["refuge_id"] for r in bed_search(client, officer, "")}
    assert found <= {r["refuge_id"] for r in refuges}


# --- spend that means what it says ---------------------------------------------------------------


def test_a_delivery_partner_cannot_report_an_actual_before_the_quarter_ends(
    client, login, db_session
):
    glow = login("glow.staff")
    pid = project_id(client, glow, EDUCATION)
    url = f"/api/v1/projects/{pid}/spend"
    before = client.get(url, headers=glow).get_json()
    for period in (quarter(0), quarter(-2)):
        early = client.post(
            url,
            json={"period": period, "actual_pence": 0, "forecast_pence": 9_500_000},
            headers=glow,
        )
        assert early.status_code == 422, early.get_json()
        assert "actual_pence" in early.get_json()["errors"]["json"]
        assert early.get_json()["message"].startswith(f"actual_pence: {period} has not ended")
    assert client.get(url, headers=glow).get_json() == before
    # The forecast goes in now…
    ahead = client.post(
        url, json={"period": quarter(-2), "forecast_pence": 9_500_000}, headers=glow
    )
    assert ahead.status_code == 201
    # …and its actual cannot be slipped in with a correction either.
    slipped = patch_with_etag(client, glow, f"{url}/{quarter(-2)}", {"actual_pence": 0})
    assert slipped.status_code == 422
    assert read_with_etag(client, glow, f"{url}/{quarter(-2)}")[0]["actual_pence"] is None
    # A quarter that is over takes its actual.
    past = client.post(url, json={"period": quarter(3), "actual_pence": 0}, headers=glow)
    assert past.status_code == 201


def test_zeros_typed_into_future_quarters_no_longer_hide_the_forecast(
    client, login, ids, db_session
):
    """The project that showed £50,000 forecast instead of £240,000."""
    from partnership_api.models.funding import SpendLine

    opcc = login("opcc.staff")
    fund_id = new_fund(client, opcc, "Forecast Fund")
    pid = new_project(client, opcc, ids, fund_id, 24_000_000, title="Forecast")
    for period, actual in ((quarter(2), 2_500_000), (quarter(1), 2_500_000)):
        answer = client.post(
            f"/api/v1/projects/{pid}/spend",
            json={"period": period, "actual_pence": actual},
            headers=opcc,
        )
        assert answer.status_code == 201
    # Lines reported before actuals were refused for quarters not yet over.
    db_session.add_all(
        [
            SpendLine(project_id=pid, period=quarter(-1), actual_pence=0, forecast_pence=9_500_000),
            SpendLine(project_id=pid, period=quarter(-2), actual_pence=0, forecast_pence=9_500_000),
        ]
    )
    db_session.commit()
    project = client.get(f"/api/v1/projects/{pid}", headers=opcc).get_json()
    assert project["spent_pence"] == 5_000_000
    assert project["forecast_pence"] == 24_000_000
    fund = next(
        f
        for f in client.get("/api/v1/funding/summary", headers=opcc).get_json()["funds"]
        if f["fund_id"] == fund_id
    )
    assert fund["forecast_pence"] == 24_000_000


def test_no_actual_yet_is_not_zero_in_the_summary(client, login, ids):
    opcc = login("opcc.staff")
    fund_id = new_fund(client, opcc, "Reporting Fund")
    began = (TODAY - timedelta(days=300)).isoformat()
    window = {"planned_start": began, "planned_end": (TODAY + timedelta(days=65)).isoformat()}
    silent = new_project(client, opcc, ids, fund_id, 1_000_000, title="Silent", **window)
    nothing = new_project(client, opcc, ids, fund_id, 1_000_000, title="Nothing", **window)
    for pid, actual in ((silent, None), (nothing, 0)):
        start_delivery(client, opcc, pid, began)
        answer = client.post(
            f"/api/v1/projects/{pid}/spend",
            json={"period": quarter(1), "actual_pence": actual, "forecast_pence": 250_000},
            headers=opcc,
        )
        assert answer.status_code == 201
    attention = {
        a["project_id"]: {r["code"]: r["message"] for r in a["reasons"]}
        for a in client.get("/api/v1/funding/summary", headers=opcc).get_json()["attention"]
    }
    # Not reported: said so, and not called "0% spent".
    assert attention[silent] == {
        "spend_not_reported": f"No actual spend reported for {quarter(1)}, which has ended."
    }
    # Reported as zero: that is spend far behind time.
    assert set(attention[nothing]) == {"spend_behind_time"}
    shown = client.get(f"/api/v1/projects/{silent}", headers=opcc).get_json()
    assert shown["periods_without_actual"] == [quarter(1)]
    assert shown["forecast_pence"] == 250_000
    assert (
        client.get(f"/api/v1/projects/{nothing}", headers=opcc).get_json()["periods_without_actual"]
        == []
    )


# --- 360Giving that a funder would publish -------------------------------------------------------


def test_a_new_project_needs_its_award_date(client, login, ids, db_session):
    opcc = login("opcc.staff")
    fund_id = new_fund(client, opcc, "Award Fund")
    body = {
        "fund_id": fund_id,
        "title": "No date",
        "category": "other",
        "lead_organisation_id": ids.org["Glow"],
        "amount_awarded_pence": 100,
    }
    for missing in ({}, {"awarded_on": None}):
        refused = client.post("/api/v1/projects", json={**body, **missing}, headers=opcc)
        assert refused.status_code == 422
        assert "awarded_on" in refused.get_json()["errors"]["json"]
    listed = client.get("/api/v1/projects", query_string={"fund_id": fund_id}, headers=opcc)
    assert listed.get_json() == []


def test_an_old_project_without_an_award_date_is_flagged_not_given_one(
    client, login, ids, db_session
):
    from partnership_api.models.funding import Project

    opcc = login("opcc.staff")
    pid = project_id(client, opcc, EDUCATION)
    db_session.execute(sa.update(Project).where(Project.id == pid).values(awarded_on=None))
    db_session.commit()
    package = client.get("/api/v1/exports/360giving", headers=opcc).get_json()
    assert f"360G-staffscommissioner-{pid}" not in {g["id"] for g in package["grants"]}
    assert package["report"]["left_out"] == [
        {
            "project_id": pid,
            "title": EDUCATION,
            "reason": "no_award_date",
            "message": "No award date: set awarded_on on the project to publish it.",
        }
    ]
    assert [e.message for e in giving_validator().iter_errors(package)] == []


def test_delivery_partners_are_recipients_with_their_registered_numbers(client, login, ids):
    admin, opcc = login("partnership.admin"), login("opcc.staff")
    glow, new_era = ids.org["Glow"], ids.org["New Era"]
    for org_id, numbers in (
        (glow, {"charity_number": "1234567"}),
        (new_era, {"company_number": "SC123456"}),
    ):
        changed = client.patch(f"/api/v1/organisations/{org_id}", json=numbers, headers=admin)
        assert changed.status_code == 200, changed.get_json()
        assert changed.get_json() | numbers == changed.get_json()
    package = client.get("/api/v1/exports/360giving", headers=opcc).get_json()
    pid = project_id(client, opcc, EDUCATION)  # New Era leads; New Era and Glow deliver
    (grant,) = [g for g in package["grants"] if g["id"] == f"360G-staffscommissioner-{pid}"]
    assert grant["recipientOrganization"] == [
        {"id": "GB-COH-SC123456", "name": "New Era", "companyNumber": "SC123456"},
        {"id": "GB-CHC-1234567", "name": "Glow", "charityNumber": "1234567"},
    ]
    lead_only = project_id(client, opcc, "Safe space in Hanley for women at night")
    (grant,) = [g for g in package["grants"] if g["id"] == f"360G-staffscommissioner-{lead_only}"]
    assert [r["name"] for r in grant["recipientOrganization"]] == ["Glow"]
    assert package["report"]["left_out"] == []
    assert [e.message for e in giving_validator().iter_errors(package)] == []


@pytest.mark.parametrize(
    "username, body, status",
    [
        ("glow.staff", {"charity_number": "1234567"}, 403),
        ("opcc.staff", {"charity_number": "1234567"}, 403),
        ("partnership.admin", {"charity_number": "12-34"}, 422),
        ("partnership.admin", {"company_number": "sc123456"}, 422),
        ("partnership.admin", {"kind": "police"}, 422),
        ("partnership.admin", {"name": "New Era"}, 409),
    ],
)
def test_only_the_partnership_admin_sets_registered_numbers(
    client, login, ids, username, body, status
):
    url = f"/api/v1/organisations/{ids.org['Glow']}"
    answer = client.patch(url, json=body, headers=login(username))
    assert answer.status_code == status
    glow = client.get(url, headers=login("glow.staff")).get_json()
    assert glow["charity_number"] is None and glow["kind"] == "provider" and glow["name"] == "Glow"


# --- a project's status on creation (issue 17) ---------------------------------------------------


def test_the_grants_officer_records_a_project_already_in_delivery(client, login, ids):
    opcc = login("opcc.staff")
    fund_id = new_fund(client, opcc, "Status Fund")
    planned = new_project(client, opcc, ids, fund_id, 1_000, title="Default")
    assert client.get(f"/api/v1/projects/{planned}", headers=opcc).get_json()["status"] == "planned"
    running = new_project(client, opcc, ids, fund_id, 1_000, title="Running", status="in_delivery")
    shown = client.get(f"/api/v1/projects/{running}", headers=opcc).get_json()
    assert shown["status"] == "in_delivery"
    assert shown["actual_start"] == TODAY.isoformat()
    began = new_project(
        client,
        opcc,
        ids,
        fund_id,
        1_000,
        title="Began",
        status="in_delivery",
        actual_start="2026-09-01",
    )
    assert client.get(f"/api/v1/projects/{began}", headers=opcc).get_json()["actual_start"] == (
        "2026-09-01"
    )
    for status in ("completed", "cancelled", "finished"):
        refused = client.post(
            "/api/v1/projects",
            json={
                "fund_id": fund_id,
                "title": f"Born {status}",
                "category": "other",
                "lead_organisation_id": ids.org["Glow"],
                "amount_awarded_pence": 1,
                "awarded_on": "2026-11-02",
                "status": status,
            },
            headers=opcc,
        )
        assert refused.status_code == 422
        assert refused.get_json()["message"] == (
            f"status: A new project starts as planned or in_delivery, not {status}."
        )
