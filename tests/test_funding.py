"""Funds and projects, told role by role: the commissioner's office runs them, delivery partners
report progress on their own projects only, analysts and the police only read."""

from __future__ import annotations

import pytest

from tests.factories import EDUCATION, audit_events, patch_with_etag, project_id, read_with_etag

CCTV = "CCTV for Stafford and Cannock town centres"  # led by the police, no delivery partner
SAFE_SPACE = "Safe space in Hanley for women at night"  # led and delivered by Glow
READERS = [
    "police.officer",
    "police.analyst",
    "opcc.staff",
    "opcc.analyst",
    "newera.staff",
    "glow.staff",
    "pathway.staff",
    "partnership.admin",
]


def new_project(client, headers, ids, **overrides) -> dict:
    funds = client.get("/api/v1/funds", headers=headers).get_json()
    body = {
        "fund_id": funds[0]["id"],
        "title": "Target hardening for repeat victims",
        "description": "Locks, lighting and doorbell cameras.",
        "category": "target_hardening",
        "lead_organisation_id": ids.org["Pathway"],
        "delivery_organisation_ids": [ids.org["Pathway"]],
        "areas": ["E07000194", "E07000199"],
        "amount_awarded_pence": 12_345_678,
        "planned_start": "2026-12-01",
        "planned_end": "2027-11-30",
        "awarded_on": "2026-11-02",
        **overrides,
    }
    created = client.post("/api/v1/projects", json=body, headers=headers)
    assert created.status_code == 201, created.get_json()
    return created.get_json()


# --- everyone signed in reads ---------------------------------------------------------------------


@pytest.mark.parametrize("username", READERS)
def test_every_signed_in_user_reads_funds_projects_and_progress(client, login, username):
    h = login(username)
    funds = client.get("/api/v1/funds", headers=h)
    assert funds.status_code == 200
    assert {f["name"] for f in funds.get_json()} >= {
        "Safer Streets Fund round 4",
        "Safety of Women at Night Fund",
    }
    pid = project_id(client, h, CCTV)
    project, etag = read_with_etag(client, h, f"/api/v1/projects/{pid}")
    assert etag == f'"{project["version"]}"'
    for part in ("milestones", "spend", "outputs"):
        assert client.get(f"/api/v1/projects/{pid}/{part}", headers=h).status_code == 200
    assert client.get("/api/v1/funding/summary", headers=h).status_code == 200
    assert client.get("/api/v1/exports/360giving", headers=h).status_code == 200


def test_nobody_reads_funding_without_signing_in(client):
    for url in ("/api/v1/funds", "/api/v1/projects", "/api/v1/funding/summary"):
        assert client.get(url).status_code == 401


def test_a_project_answers_with_the_contracted_fields(client, login):
    h = login("opcc.analyst")
    project, _ = read_with_etag(client, h, f"/api/v1/projects/{project_id(client, h, EDUCATION)}")
    assert {
        "id",
        "fund_id",
        "title",
        "description",
        "category",
        "lead_organisation_id",
        "delivery_organisation_ids",
        "areas",
        "amount_awarded_pence",
        "planned_start",
        "planned_end",
        "status",
        "rag",
        "rag_commentary",
        "spent_pence",
        "forecast_pence",
    } <= set(project)
    assert set(project["rag"]) == {"delivery", "spend", "risk"}
    assert isinstance(project["amount_awarded_pence"], int)


def test_lists_filter_by_fund_status_category_area_and_rag(client, login, ids):
    h = login("police.analyst")
    everything = client.get("/api/v1/projects", headers=h).get_json()
    swan = [f for f in client.get("/api/v1/funds", headers=h).get_json() if "Night" in f["name"]]

    def titles(**params):
        response = client.get("/api/v1/projects", query_string=params, headers=h)
        assert response.status_code == 200, response.get_json()
        return {p["title"] for p in response.get_json()}

    assert titles(fund_id=swan[0]["id"]) == {
        p["title"] for p in everything if p["fund_id"] == swan[0]["id"]
    }
    assert titles(status="planned") == {SAFE_SPACE}
    assert titles(category="cctv") == {CCTV}
    assert titles(area="E06000021") == {p["title"] for p in everything if "E06000021" in p["areas"]}
    assert titles(rag="red") == {CCTV}
    assert titles(delivery_organisation_id=ids.org["Glow"]) == {EDUCATION, SAFE_SPACE}
    assert client.get("/api/v1/projects?rag=purple", headers=h).status_code == 422


# --- the commissioner's office runs a project ---------------------------------------------------


def test_commissioner_staff_run_a_project_from_planned_to_completed(client, login, ids, db_session):
    h = login("opcc.staff")
    project = new_project(client, h, ids)
    url = f"/api/v1/projects/{project['id']}"
    assert project["status"] == "planned"
    assert project["spent_pence"] == project["forecast_pence"] == 0

    # Without If-Match: 428; with an old ETag: 412.
    assert patch_with_etag(client, h, url, {"status": "in_delivery"}, etag=None).status_code == 428
    assert patch_with_etag(client, h, url, {"status": "in_delivery"}, etag='"0"').status_code == 412

    # planned cannot jump to completed: 409 naming where it is.
    jumped = patch_with_etag(client, h, url, {"status": "completed"})
    assert jumped.status_code == 409
    assert "planned" in jumped.get_json()["message"]

    started = patch_with_etag(
        client, h, url, {"status": "in_delivery", "rag": {"delivery": "green"}}
    )
    assert started.status_code == 200, started.get_json()
    assert started.get_json()["status"] == "in_delivery"
    assert started.get_json()["actual_start"] is not None
    assert started.get_json()["rag"]["delivery"] == "green"
    assert started.headers["ETag"] == f'"{started.get_json()["version"]}"'

    # The ETag of the previous version no longer works.
    stale = patch_with_etag(client, h, url, {"title": "Renamed"}, etag=f'"{project["version"]}"')
    assert stale.status_code == 412

    done = patch_with_etag(client, h, url, {"status": "completed"}, etag=started.headers["ETag"])
    assert done.status_code == 200
    assert done.get_json()["status"] == "completed"
    assert done.get_json()["actual_end"] is not None

    reopened = patch_with_etag(client, h, url, {"status": "in_delivery"})
    assert reopened.status_code == 409
    assert "completed" in reopened.get_json()["message"]

    transitions = audit_events(db_session, resource_type="project", action="project.transition")
    assert [(e.details["from_status"], e.details["to_status"]) for e in transitions] == [
        ("planned", "in_delivery"),
        ("in_delivery", "completed"),
    ]
    assert {e.subject_organisation_id for e in transitions} == {ids.org["Pathway"]}
    assert {e.username for e in transitions} == {"opcc.staff"}


def test_cancelling_a_project_needs_a_reason_and_is_final(client, login, ids):
    h = login("opcc.staff")
    url = f"/api/v1/projects/{new_project(client, h, ids)['id']}"
    assert patch_with_etag(client, h, url, {"status": "cancelled"}).status_code == 422
    cancelled = patch_with_etag(
        client, h, url, {"status": "cancelled", "cancellation_reason": "Partner withdrew."}
    )
    assert cancelled.status_code == 200
    assert cancelled.get_json()["cancellation_reason"] == "Partner withdrew."
    again = patch_with_etag(client, h, url, {"status": "in_delivery"})
    assert again.status_code == 409 and "cancelled" in again.get_json()["message"]


def test_a_reason_without_cancelling_is_refused(client, login, ids):
    h = login("opcc.staff")
    url = f"/api/v1/projects/{new_project(client, h, ids)['id']}"
    assert (
        patch_with_etag(client, h, url, {"cancellation_reason": "Just because"}).status_code == 422
    )


def test_commissioner_staff_change_a_fund_with_if_match(client, login, db_session):
    h = login("opcc.staff")
    created = client.post(
        "/api/v1/funds",
        json={
            "name": "Violence Against Women and Girls Fund",
            "funder": "Home Office",
            "round": "1",
            "starts_on": "2026-04-01",
            "ends_on": "2027-03-31",
        },
        headers=h,
    )
    assert created.status_code == 201
    url = f"/api/v1/funds/{created.get_json()['id']}"
    assert patch_with_etag(client, h, url, {"round": "2"}, etag=None).status_code == 428
    changed = patch_with_etag(client, h, url, {"round": "2"}, etag=created.headers["ETag"])
    assert changed.status_code == 200 and changed.get_json()["round"] == "2"
    assert patch_with_etag(client, h, url, {"ends_on": "2020-01-01"}).status_code == 422
    duplicate = client.post(
        "/api/v1/funds",
        json={"name": "Safer Streets Fund round 4", "funder": "Home Office"},
        headers=h,
    )
    assert duplicate.status_code == 409
    kinds = {e.action for e in audit_events(db_session, resource_type="fund")}
    assert kinds == {"fund.create", "fund.update"}


def test_a_project_must_name_real_funds_and_organisations(client, login, ids):
    h = login("opcc.staff")
    funds = client.get("/api/v1/funds", headers=h).get_json()
    body = {
        "fund_id": funds[0]["id"],
        "title": "Nowhere",
        "category": "other",
        "lead_organisation_id": ids.org["Glow"],
        "amount_awarded_pence": 100,
        "awarded_on": "2026-11-02",
    }
    for bad in (
        {"fund_id": 999_999},
        {"lead_organisation_id": 999_999},
        {"delivery_organisation_ids": [ids.org["Glow"], 999_999]},
        {"category": "helicopters"},
        {"areas": ["W06000015"]},
        {"amount_awarded_pence": 12.5},
        {"amount_awarded_pence": "100"},
        {"amount_awarded_pence": -1},
        {"planned_start": "2027-01-01", "planned_end": "2026-01-01"},
        {"owner": "me"},
    ):
        answer = client.post("/api/v1/projects", json={**body, **bad}, headers=h)
        assert answer.status_code == 422, (bad, answer.get_json())


# --- a delivery partner reports progress on its own projects only -------------------------------


def test_a_delivery_partner_reports_spend_and_outputs_on_its_own_project(
    client, login, db_session, ids
):
    h = login("glow.staff")
    pid = project_id(client, h, EDUCATION)  # New Era leads; Glow delivers too
    before, _ = read_with_etag(client, h, f"/api/v1/projects/{pid}")

    spend = client.post(
        f"/api/v1/projects/{pid}/spend",
        json={"period": "2024-Q3", "actual_pence": 1_234_567, "forecast_pence": 1_300_000},
        headers=h,
    )
    assert spend.status_code == 201, spend.get_json()
    again = client.post(
        f"/api/v1/projects/{pid}/spend", json={"period": "2024-Q3", "actual_pence": 1}, headers=h
    )
    assert again.status_code == 409
    forecast_only = client.post(
        f"/api/v1/projects/{pid}/spend",
        json={"period": "2024-Q4", "forecast_pence": 500_001},
        headers=h,
    )
    assert forecast_only.status_code == 201

    after, _ = read_with_etag(client, h, f"/api/v1/projects/{pid}")
    assert after["spent_pence"] == before["spent_pence"] + 1_234_567
    assert after["forecast_pence"] == before["forecast_pence"] + 1_234_567 + 500_001

    # The quarter's actual arrives: correct the line with its ETag.
    corrected = patch_with_etag(
        client, h, f"/api/v1/projects/{pid}/spend/2024-Q4", {"actual_pence": 499_999}
    )
    assert corrected.status_code == 200, corrected.get_json()
    final, _ = read_with_etag(client, h, f"/api/v1/projects/{pid}")
    assert final["spent_pence"] == after["spent_pence"] + 499_999
    assert final["forecast_pence"] == after["forecast_pence"] - 500_001 + 499_999

    output = client.post(
        f"/api/v1/projects/{pid}/outputs",
        json={"metric": "young people reached", "unit": "people", "target": 900, "actual": 120},
        headers=h,
    )
    assert output.status_code == 201
    output_url = f"/api/v1/projects/{pid}/outputs/{output.get_json()['id']}"
    assert patch_with_etag(client, h, output_url, {"actual": 240}).get_json()["actual"] == 240
    assert (
        patch_with_etag(client, h, output_url, {"target": 10}).status_code == 403
    )  # targets are set

    milestone = client.post(
        f"/api/v1/projects/{pid}/milestones",
        json={"title": "Assemblies in Leek", "due_on": "2030-01-31"},
        headers=h,
    )
    assert milestone.status_code == 201
    milestone_url = f"/api/v1/projects/{pid}/milestones/{milestone.get_json()['id']}"
    done = patch_with_etag(client, h, milestone_url, {"completed_on": "2030-01-30"})
    assert done.status_code == 200 and done.get_json()["overdue"] is False
    assert patch_with_etag(client, h, milestone_url, {"due_on": "2031-01-01"}).status_code == 403

    rated = patch_with_etag(
        client,
        h,
        f"/api/v1/projects/{pid}",
        {"rag": {"risk": "red"}, "rag_commentary": "Two schools pulled out."},
    )
    assert rated.status_code == 200
    assert rated.get_json()["rag"]["risk"] == "red"
    for not_progress in (
        {"title": "Ours now"},
        {"amount_awarded_pence": 99_999_999},
        {"status": "completed"},
        {"delivery_organisation_ids": [ids.org["Glow"]]},
        {"rag": {"risk": "green"}, "title": "Sneaked in"},
    ):
        assert (
            patch_with_etag(client, h, f"/api/v1/projects/{pid}", not_progress).status_code == 403
        )

    kinds = {(e.resource_type, e.action) for e in audit_events(db_session, username="glow.staff")}
    assert {
        ("spend", "spend.create"),
        ("spend", "spend.update"),
        ("output", "output.create"),
        ("output", "output.update"),
        ("milestone", "milestone.create"),
        ("milestone", "milestone.update"),
        ("project", "project.update"),
    } <= kinds
    spend_events = audit_events(db_session, resource_type="spend", outcome="allowed")
    assert {e.subject_organisation_id for e in spend_events} == {ids.org["New Era"]}


def test_a_delivery_partner_gets_403_on_another_organisations_project(client, login, db_session):
    h = login("glow.staff")
    pid = project_id(client, h, CCTV)
    opcc = login("opcc.staff")
    _, project_etag = read_with_etag(client, opcc, f"/api/v1/projects/{pid}")
    milestones = client.get(f"/api/v1/projects/{pid}/milestones", headers=h).get_json()
    outputs = client.get(f"/api/v1/projects/{pid}/outputs", headers=h).get_json()
    spend = client.get(f"/api/v1/projects/{pid}/spend", headers=h).get_json()
    m_etag = f'"{milestones[0]["version"]}"'
    o_etag = f'"{outputs[0]["version"]}"'
    s_etag = f'"{spend[0]["version"]}"'
    attempts = [
        client.post(
            f"/api/v1/projects/{pid}/spend",
            json={"period": "2030-Q1", "actual_pence": 1},
            headers=h,
        ),
        client.post(
            f"/api/v1/projects/{pid}/outputs", json={"metric": "x", "unit": "y"}, headers=h
        ),
        client.post(
            f"/api/v1/projects/{pid}/milestones",
            json={"title": "x", "due_on": "2030-01-01"},
            headers=h,
        ),
        patch_with_etag(
            client, h, f"/api/v1/projects/{pid}", {"rag": {"spend": "green"}}, project_etag
        ),
        patch_with_etag(
            client,
            h,
            f"/api/v1/projects/{pid}/milestones/{milestones[0]['id']}",
            {"completed_on": "2026-01-01"},
            m_etag,
        ),
        patch_with_etag(
            client, h, f"/api/v1/projects/{pid}/outputs/{outputs[0]['id']}", {"actual": 1}, o_etag
        ),
        patch_with_etag(
            client,
            h,
            f"/api/v1/projects/{pid}/spend/{spend[0]['period']}",
            {"actual_pence": 1},
            s_etag,
        ),
    ]
    assert [a.status_code for a in attempts] == [403] * len(attempts)
    unchanged, _ = read_with_etag(client, h, f"/api/v1/projects/{pid}")
    assert unchanged["rag"]["spend"] == "red"
    # Every attempt was refused by the policy's rule on the project; the audit trail keeps one
    # refusal per actor, object and window (issue 25, point 8), not one row per attempt.
    refused = audit_events(db_session, username="glow.staff", outcome="refused")
    assert len(refused) == 1
    assert (refused[0].resource_type, str(refused[0].resource_id)) == ("project", str(pid))


# --- analysts and the police only read ------------------------------------------------------------


@pytest.mark.parametrize("username", ["opcc.analyst", "police.analyst", "police.officer"])
def test_analysts_and_the_police_only_read(client, login, ids, username):
    opcc = login("opcc.staff")
    h = login(username)
    pid = project_id(client, opcc, CCTV)  # the police lead it, but deliver nothing themselves
    fund_id = client.get("/api/v1/funds", headers=h).get_json()[0]["id"]
    _, fund_etag = read_with_etag(client, h, f"/api/v1/funds/{fund_id}")
    _, project_etag = read_with_etag(client, h, f"/api/v1/projects/{pid}")
    milestone = client.get(f"/api/v1/projects/{pid}/milestones", headers=h).get_json()[0]
    output = client.get(f"/api/v1/projects/{pid}/outputs", headers=h).get_json()[0]
    line = client.get(f"/api/v1/projects/{pid}/spend", headers=h).get_json()[0]
    writes = [
        client.post("/api/v1/funds", json={"name": "Mine", "funder": "Me"}, headers=h),
        patch_with_etag(client, h, f"/api/v1/funds/{fund_id}", {"round": "9"}, fund_etag),
        client.post(
            "/api/v1/projects",
            json={
                "fund_id": fund_id,
                "title": "Mine",
                "category": "other",
                "lead_organisation_id": ids.org["Staffordshire Police"],
                "amount_awarded_pence": 1,
                "awarded_on": "2026-11-02",
            },
            headers=h,
        ),
        patch_with_etag(
            client, h, f"/api/v1/projects/{pid}", {"rag_commentary": "fine"}, project_etag
        ),
        patch_with_etag(
            client, h, f"/api/v1/projects/{pid}", {"status": "completed"}, project_etag
        ),
        client.post(
            f"/api/v1/projects/{pid}/milestones",
            json={"title": "x", "due_on": "2030-01-01"},
            headers=h,
        ),
        patch_with_etag(
            client,
            h,
            f"/api/v1/projects/{pid}/milestones/{milestone['id']}",
            {"completed_on": "2026-01-01"},
            f'"{milestone["version"]}"',
        ),
        client.post(f"/api/v1/projects/{pid}/spend", json={"period": "2030-Q1"}, headers=h),
        patch_with_etag(
            client,
            h,
            f"/api/v1/projects/{pid}/spend/{line['period']}",
            {"actual_pence": 1},
            f'"{line["version"]}"',
        ),
        client.post(
            f"/api/v1/projects/{pid}/outputs", json={"metric": "x", "unit": "y"}, headers=h
        ),
        patch_with_etag(
            client,
            h,
            f"/api/v1/projects/{pid}/outputs/{output['id']}",
            {"actual": 1},
            f'"{output["version"]}"',
        ),
        # Refused before the ETag handshake: no If-Match still answers 403, not 428.
        patch_with_etag(
            client, h, f"/api/v1/projects/{pid}", {"rag_commentary": "fine"}, etag=None
        ),
    ]
    assert [w.status_code for w in writes] == [403] * len(writes)


# --- concurrency and validation -------------------------------------------------------------------


def test_two_partners_with_the_same_etag_one_wins_the_other_gets_412(client, login):
    swa, pathway = login("swa.staff"), login("pathway.staff")
    pid = project_id(client, swa, "Vulnerability training for night-time-economy staff")
    outputs = client.get(f"/api/v1/projects/{pid}/outputs", headers=swa).get_json()
    url = f"/api/v1/projects/{pid}/outputs/{outputs[0]['id']}"
    _, etag = read_with_etag(client, swa, url)
    first = patch_with_etag(client, swa, url, {"actual": 330}, etag)
    second = patch_with_etag(client, pathway, url, {"actual": 320}, etag)
    assert (first.status_code, second.status_code) == (200, 412)
    assert read_with_etag(client, swa, url)[0]["actual"] == 330
    assert patch_with_etag(client, swa, url, {"actual": 1}, "*").status_code == 428


@pytest.mark.parametrize(
    "body",
    [
        {"period": "2026-Q5"},
        {"period": "2026Q3"},
        {"period": "26-Q1"},
        {"period": "2026-Q3\n"},
        {"period": "2026-Q3", "actual_pence": -1},
        {"period": "2026-Q3", "actual_pence": 10.5},
        {"period": "2026-Q3", "actual_pence": "100"},
        {"period": "2026-Q3", "actual_pence": 10**13},
        {"period": "2026-Q3", "note": "unknown field"},
    ],
)
def test_spend_lines_are_validated(client, login, body):
    h = login("opcc.staff")
    pid = project_id(client, h, CCTV)
    assert client.post(f"/api/v1/projects/{pid}/spend", json=body, headers=h).status_code == 422


def test_unknown_things_are_not_found(client, login):
    h = login("opcc.staff")
    pid = project_id(client, h, CCTV)
    other = project_id(client, h, SAFE_SPACE)
    milestone = client.get(f"/api/v1/projects/{other}/milestones", headers=h).get_json()[0]
    assert client.get("/api/v1/projects/999999", headers=h).status_code == 404
    assert client.get("/api/v1/funds/999999", headers=h).status_code == 404
    assert client.get("/api/v1/projects/999999/spend", headers=h).status_code == 404
    assert client.get(f"/api/v1/projects/{pid}/spend/2099-Q1", headers=h).status_code == 404
    # A milestone is reached only through its own project.
    wrong = f"/api/v1/projects/{pid}/milestones/{milestone['id']}"
    assert client.get(wrong, headers=h).status_code == 404


def test_the_police_never_change_a_project_even_one_they_deliver(client, login, ids):
    """domain.md: police staff read funds and projects but change nothing."""
    opcc = login("opcc.staff")
    cctv = project_id(client, opcc, CCTV)
    made_partner = patch_with_etag(
        client,
        opcc,
        f"/api/v1/projects/{cctv}",
        {"delivery_organisation_ids": [ids.org["Staffordshire Police"]]},
    )
    assert made_partner.status_code == 200, made_partner.get_json()
    officer = login("police.officer")
    spend = client.post(
        f"/api/v1/projects/{cctv}/spend",
        json={"period": "2031-Q1", "actual_pence": 999_999},
        headers=officer,
    )
    assert spend.status_code == 403
    rag = patch_with_etag(
        client,
        officer,
        f"/api/v1/projects/{cctv}",
        {"rag": {"delivery": "green", "spend": "green", "risk": "green"}},
    )
    assert rag.status_code == 403
