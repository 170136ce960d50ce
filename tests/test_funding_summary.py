"""The funding summary (totals to the penny, projects needing attention), the 360Giving export
(validated against the standard's schema files) and lists that do not query once per project."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.factories import giving_validator, new_fund, new_project, patch_with_etag, start_delivery

TODAY = datetime.now(UTC).date()


def day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


def add_spend(client, h, pid: int, period: str, actual=None, forecast=None) -> None:
    body = {"period": period, "actual_pence": actual, "forecast_pence": forecast}
    answer = client.post(f"/api/v1/projects/{pid}/spend", json=body, headers=h)
    assert answer.status_code == 201, answer.get_json()


def summary(client, h) -> dict:
    answer = client.get("/api/v1/funding/summary", headers=h)
    assert answer.status_code == 200
    return answer.get_json()


# --- totals to the penny ------------------------------------------------------------------------


def test_summary_totals_equal_the_sums_of_the_lines_to_the_penny(client, login, ids):
    h = login("opcc.staff")
    fund_id = new_fund(client, h, "Awkward Amounts Fund")
    awards = [1, 33_333_333_333, 999_999_999_999, 10_000_000_007]
    # (period, actual, forecast) per project: odd pennies, forecast-only, actual-only, big.
    lines = [
        [("2026-Q1", 1, None), ("2026-Q2", None, 3)],
        [("2026-Q1", 11_111_111_111, 11_111_111_112), ("2026-Q2", 7, None), ("2026-Q3", None, 9)],
        [("2025-Q4", 999_999_999_999, None), ("2026-Q1", 999_999_999_999, None)],
        [],
    ]
    pids = []
    for award, project_lines in zip(awards, lines, strict=True):
        pid = new_project(client, h, ids, fund_id, award)
        pids.append(pid)
        for period, actual, forecast in project_lines:
            add_spend(client, h, pid, period, actual, forecast)

    spent = sum(a or 0 for project_lines in lines for _, a, _ in project_lines)
    forecast = sum(
        a if a is not None else (f or 0) for project_lines in lines for _, a, f in project_lines
    )
    assert spent == 2_011_111_111_117 and forecast == 2_011_111_111_129

    body = summary(client, login("opcc.analyst"))
    (mine,) = [f for f in body["funds"] if f["fund_id"] == fund_id]
    assert mine["project_count"] == 4
    assert mine["awarded_pence"] == sum(awards) == 1_043_333_333_340
    assert mine["spent_pence"] == spent
    assert mine["forecast_pence"] == forecast
    assert mine["remaining_pence"] == sum(awards) - spent  # negative: overspent, and flagged
    assert mine["by_status"] == {"planned": 4, "in_delivery": 0, "completed": 0, "cancelled": 0}

    # Every project's figures are the sums of its own lines ...
    projects = client.get("/api/v1/projects", query_string={"page_size": 100}, headers=h)
    projects = projects.get_json()
    for pid, project_lines in zip(pids, lines, strict=True):
        (project,) = [p for p in projects if p["id"] == pid]
        listed = client.get(f"/api/v1/projects/{pid}/spend", headers=h).get_json()
        assert project["spent_pence"] == sum(line["actual_pence"] or 0 for line in listed)
        assert project["spent_pence"] == sum(a or 0 for _, a, _ in project_lines)
    overspent = [p for p in projects if p["id"] == pids[2]][0]
    assert overspent["overspent"] is True and overspent["remaining_pence"] == -999_999_999_999

    # ... and the overall totals are the sums of every project, and of every fund.
    overall = body["overall"]
    for field in ("spent_pence", "forecast_pence"):
        assert overall[field] == sum(p[field] for p in projects)
        assert overall[field] == sum(f[field] for f in body["funds"])
    assert overall["awarded_pence"] == sum(p["amount_awarded_pence"] for p in projects)
    assert overall["remaining_pence"] == overall["awarded_pence"] - overall["spent_pence"]
    assert overall["project_count"] == len(projects) == sum(overall["by_status"].values())
    for dimension in ("delivery", "spend", "risk"):
        assert sum(overall["by_rag"][dimension].values()) == len(projects)
    reasons = {a["project_id"]: {r["code"] for r in a["reasons"]} for a in body["attention"]}
    assert "overspent" in reasons[pids[2]]


# --- projects needing attention ---------------------------------------------------------------


def test_projects_needing_attention_are_listed_with_their_reasons(client, login, ids, db_session):
    h = login("opcc.staff")
    fund_id = new_fund(client, h, "Attention Fund")
    red = new_project(client, h, ids, fund_id, 1_000_000, title="Red", rag={"delivery": "red"})
    late = new_project(client, h, ids, fund_id, 1_000_000, title="Late milestone")
    overdue = client.post(
        f"/api/v1/projects/{late}/milestones",
        json={"title": "Launch", "due_on": day(-1)},
        headers=h,
    )
    assert overdue.status_code == 201
    window = {"planned_start": day(-10), "planned_end": day(90)}  # 10% of the time gone
    ahead = new_project(client, h, ids, fund_id, 1_000_000, title="Ahead", **window)
    start_delivery(client, h, ahead, day(-10))
    add_spend(client, h, ahead, "2026-Q1", actual=900_000)  # 90% spent
    late_window = {"planned_start": day(-90), "planned_end": day(10)}  # 90% gone
    behind = new_project(client, h, ids, fund_id, 1_000_000, title="Behind", **late_window)
    start_delivery(client, h, behind, day(-90))
    add_spend(client, h, behind, "2026-Q1", actual=100_000)  # 10% spent
    half = {"planned_start": day(-50), "planned_end": day(50)}
    healthy = new_project(
        client, h, ids, fund_id, 1_000_000, title="Healthy", rag={"delivery": "green"}, **half
    )
    start_delivery(client, h, healthy, day(-50))
    add_spend(client, h, healthy, "2026-Q1", actual=480_000)
    quiet = new_project(client, h, ids, fund_id, 1_000_000, title="Quiet")

    from partnership_api.models.funding import Project

    db_session.execute(
        sa.update(Project)
        .where(Project.id == quiet)
        .values(last_update_at=datetime.now(UTC) - timedelta(days=92))
    )
    db_session.commit()

    body = summary(client, login("police.officer"))
    reasons = {a["project_id"]: {r["code"] for r in a["reasons"]} for a in body["attention"]}
    assert reasons[red] == {"red_rag"}
    assert reasons[late] == {"overdue_milestones"}
    assert reasons[ahead] == {"spend_ahead_of_time"}
    assert reasons[behind] == {"spend_behind_time"}
    assert reasons[quiet] == {"no_recent_update"}
    assert healthy not in reasons
    assert body["thresholds"] == {"spend_time_gap_points": 25, "no_update_days": 91}
    (mine,) = [f for f in body["funds"] if f["fund_id"] == fund_id]
    assert mine["by_status"]["in_delivery"] == 3
    assert mine["by_rag"]["delivery"] == {"green": 1, "amber": 0, "red": 1, "not_rated": 4}

    # Completing the milestone takes the project off the list.
    milestone_url = f"/api/v1/projects/{late}/milestones/{overdue.get_json()['id']}"
    assert patch_with_etag(client, h, milestone_url, {"completed_on": day(0)}).status_code == 200
    after = summary(client, h)
    assert late not in {a["project_id"] for a in after["attention"]}


def test_the_demo_partnership_shows_the_late_cctv_project(client, login):
    body = summary(client, login("opcc.staff"))
    (cctv,) = [
        a for a in body["attention"] if a["title"] == "CCTV for Stafford and Cannock town centres"
    ]
    assert {r["code"] for r in cctv["reasons"]} >= {"red_rag", "overdue_milestones"}
    assert body["overall"]["awarded_pence"] > 300_000_000  # over £3 million


# --- the 360Giving export -------------------------------------------------------------------------


def test_the_360giving_export_validates_against_the_standard(client, login, ids):
    h = login("opcc.staff")
    fund_id = new_fund(client, h, "Export Fund")
    odd = new_project(
        client,
        h,
        ids,
        fund_id,
        123_456_789,
        title="Odd pence",
        areas=["E06000021", "E07000198"],
        planned_start="2026-01-05",
        planned_end="2026-12-20",
        awarded_on="2025-12-01",
    )
    dropped = new_project(client, h, ids, fund_id, 500, title="Withdrawn")
    assert (
        patch_with_etag(
            client,
            h,
            f"/api/v1/projects/{dropped}",
            {"status": "cancelled", "cancellation_reason": "Withdrawn"},
        ).status_code
        == 200
    )

    package = client.get("/api/v1/exports/360giving", headers=login("opcc.analyst")).get_json()
    validator = giving_validator()
    errors = [e.message for e in validator.iter_errors(package)]
    assert errors == []

    grants = {g["id"]: g for g in package["grants"]}
    grant = grants[f"360G-staffscommissioner-{odd}"]
    assert f"360G-staffscommissioner-{dropped}" not in grants
    assert grant["currency"] == "GBP"
    assert Decimal(str(grant["amountAwarded"])) == Decimal("1234567.89")
    assert grant["awardDate"].startswith("2025-12-01")
    assert grant["plannedDates"][0]["startDate"].startswith("2026-01-05")
    assert grant["recipientOrganization"][0]["name"] == "Glow"
    assert grant["fundingOrganization"][0]["name"] == "Staffordshire Commissioner's Office"
    assert [(loc["geoCode"], loc["geoCodeType"]) for loc in grant["beneficiaryLocation"]] == [
        ("E06000021", "UA"),
        ("E07000198", "LAD"),
    ]
    demo = client.get("/api/v1/projects", query_string={"page_size": 100}, headers=h).get_json()
    for project in demo:
        if project["status"] != "cancelled":
            exported = grants[f"360G-staffscommissioner-{project['id']}"]
            pence = Decimal(str(exported["amountAwarded"])) * 100
            assert pence == project["amount_awarded_pence"]


def test_the_export_carries_no_personal_data_or_commentary(client, login):
    h = login("opcc.staff")
    text = client.get("/api/v1/exports/360giving", headers=h).get_data(as_text=True)
    projects = client.get("/api/v1/projects", query_string={"page_size": 100}, headers=h)
    for project in projects.get_json():
        if project["rag_commentary"]:
            assert project["rag_commentary"] not in text
    for leak in ("opcc.staff", "glow.staff", "rag", "Demo Secret Row", "Hidden Demo Lane"):
        assert leak not in text


def test_the_grant_prefix_comes_from_the_configuration(client, login, app):
    h = login("opcc.staff")
    app.config["GRANT_ID_PREFIX"] = "360G-testprefix"
    try:
        package = client.get("/api/v1/exports/360giving", headers=h).get_json()
    finally:
        app.config["GRANT_ID_PREFIX"] = "360G-staffscommissioner"
    assert package["grants"]
    assert all(g["id"].startswith("360G-testprefix-") for g in package["grants"])
    assert giving_validator().is_valid(package)


@pytest.mark.parametrize(
    "spoil",
    [
        lambda g: g.update(amountAwarded="1234.56"),
        lambda g: g.pop("recipientOrganization"),
        lambda g: g.update(currency="POUNDS"),
        lambda g: g.update(awardDate=20260401),
        lambda g: g["fundingOrganization"][0].pop("id"),
    ],
)
def test_the_validator_rejects_a_spoilt_grant(client, login, spoil):
    """The check above can fail: the grant schema is really applied through the $ref."""
    package = client.get("/api/v1/exports/360giving", headers=login("opcc.staff")).get_json()
    spoil(package["grants"][0])
    assert not giving_validator().is_valid(package)


# --- lists ask the database a fixed number of times -----------------------------------------------


def test_listing_projects_does_not_query_once_per_project(client, login, ids, app):
    from partnership_api.extensions import db

    h = login("opcc.staff")
    fund_id = new_fund(client, h, "Many Projects Fund")

    def statements_for_list() -> int:
        count = 0

        def counter(*_args):
            nonlocal count
            count += 1

        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", counter)
        try:
            answer = client.get("/api/v1/projects", query_string={"page_size": 100}, headers=h)
            assert answer.status_code == 200
        finally:
            sa.event.remove(engine, "before_cursor_execute", counter)
        return count

    few = statements_for_list()
    for n in range(12):
        pid = new_project(client, h, ids, fund_id, 100 + n, title=f"Bulk {n}")
        add_spend(client, h, pid, "2026-Q1", actual=n)
    assert statements_for_list() == few


def test_milestones_say_when_they_are_overdue(client, login):
    h = login("glow.staff")
    listed = client.get("/api/v1/projects", query_string={"status": "in_delivery"}, headers=h)
    flags = []
    for project in listed.get_json():
        milestones = client.get(f"/api/v1/projects/{project['id']}/milestones", headers=h)
        for milestone in milestones.get_json():
            due = date.fromisoformat(milestone["due_on"])
            expected = milestone["completed_on"] is None and due < TODAY
            assert milestone["overdue"] is expected
            flags.append(expected)
    assert True in flags and False in flags
