"""Referral figures, told by the commissioner's analyst and by partners: counts only, small
numbers suppressed, and no total that gives a suppressed count away."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from partnership_api.services.stats import published
from tests.factories import GLOW_REFUGE, NEW_ERA_SUPPORT, ROW_CREATED_AT, SWA_REFUGE, add_referrals

NOV = ROW_CREATED_AT  # a row's creation time unless it is given
OCT = datetime(2026, 10, 12, 9, 0, tzinfo=UTC)


def stats(client, headers, *group_by, **params):
    response = client.get(
        "/api/v1/stats/referrals",
        query_string={"group_by": list(group_by), **params},
        headers=headers,
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def cells(body, *dims):
    return {tuple(g[d] for d in dims): g for g in body["groups"]}


# --- rounding and suppression, told through the API ----------------------------------------------


def published_figures(*bodies) -> list[int]:
    """Every figure a set of answers publishes (cells and totals)."""
    figures = []
    for body in bodies:
        figures += [g["count"] for g in body["groups"] if not g["suppressed"]]
        if not body["total"]["suppressed"]:
            figures.append(body["total"]["count"])
    return figures


def assert_no_difference_is_small(*bodies) -> None:
    """Subtracting any published figure from any other never gives a count from 1 to 4."""
    figures = published_figures(*bodies)
    assert all(f % 5 == 0 for f in figures), figures
    for a, b in itertools.combinations(figures, 2):
        assert abs(a - b) not in range(1, 5), (a, b)


def test_small_counts_and_zero_look_the_same_and_the_rest_are_rounded(
    client, login, ids, db_session
):
    add_referrals(
        db_session,
        ids,
        (12, dict(risk_level="high")),
        (3, dict(risk_level="medium")),
        (8, dict(risk_level="standard")),
    )
    body = stats(client, login("opcc.analyst"), "kind", "risk_level")
    table = cells(body, "kind", "risk_level")
    assert body["suppression_threshold"] == 5 and body["rounding_base"] == 5
    # Every cell is listed: the perpetrator cells (no referrals) read like the medium one (3).
    assert len(table) == 6
    small = {"count": None, "suppressed": True}
    for key in (("victim", "medium"), ("perpetrator", "high"), ("perpetrator", "standard")):
        assert {k: table[key][k] for k in ("count", "suppressed")} == small
    assert table[("victim", "high")]["count"] == 10  # 12
    assert table[("victim", "standard")]["count"] == 10  # 8
    assert body["total"] == {"count": 25, "suppressed": False}  # 23
    assert_no_difference_is_small(body)


def test_the_differencing_attack_of_the_issue_gives_no_small_count(client, login, ids, db_session):
    # The partnership's victims: 7 high risk, 2 medium, none standard; no perpetrators.
    add_referrals(db_session, ids, (7, dict(risk_level="high")), (2, dict(risk_level="medium")))
    analyst = login("opcc.analyst")
    by_kind = stats(client, analyst, "kind")
    by_risk = stats(client, analyst, "risk_level")
    both = stats(client, analyst, "kind", "risk_level")
    victims = cells(by_kind, "kind")[("victim",)]["count"]
    high = cells(by_risk, "risk_level")[("high",)]["count"]
    # The attack: victims minus high risk was "victim/medium = 2". Now it is 10 - 5.
    assert (victims, high) == (10, 5)
    assert victims - high not in range(1, 5)
    table = cells(both, "kind", "risk_level")
    # The zero cell is listed and reads exactly like the cell of 2.
    assert table[("victim", "standard")]["suppressed"] and table[("victim", "medium")]["suppressed"]
    assert table[("victim", "standard")] | {"risk_level": "medium"} == table[("victim", "medium")]
    assert_no_difference_is_small(by_kind, by_risk, both, stats(client, analyst))


def test_overlapping_date_ranges_give_no_small_count(client, login, ids, db_session):
    # One referral on 1 November, eleven on the 10th, three on the 20th.
    add_referrals(
        db_session,
        ids,
        (1, dict(created_at=datetime(2026, 11, 1, 9, 0, tzinfo=UTC))),
        (11, dict(created_at=datetime(2026, 11, 10, 9, 0, tzinfo=UTC))),
        (3, dict(created_at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC))),
    )
    analyst = login("opcc.analyst")
    answers = [
        stats(client, analyst, "risk_level", **{"from": start, "to": end})
        for start, end in (
            ("2026-11-01", "2026-11-30"),
            ("2026-11-02", "2026-11-30"),
            ("2026-11-01", "2026-11-19"),
            ("2026-11-02", "2026-11-19"),
            ("2026-11-10", "2026-11-10"),
        )
    ]
    # Whole month 15, without the 1st 14, without the 20th onwards 12, the 10th alone 11:
    # published 15, 15, 10, 10, 10; no difference is a count of the days between.
    assert [a["total"]["count"] for a in answers] == [15, 15, 10, 10, 10]
    assert_no_difference_is_small(*answers)


def test_group_by_combinations_give_no_small_count(client, login, ids, db_session):
    add_referrals(
        db_session,
        ids,
        (9, dict(risk_level="high", created_at=OCT)),
        (2, dict(risk_level="medium", created_at=OCT)),
        (6, dict(risk_level="standard", created_at=OCT)),
        (11, dict(risk_level="high", created_at=NOV)),
        (7, dict(risk_level="medium", created_at=NOV)),
        (20, dict(risk_level="standard", created_at=NOV, to=GLOW_REFUGE, subject_area="E07000195")),
        (3, dict(kind="perpetrator", risk_level="high", created_at=NOV)),
    )
    analyst = login("opcc.analyst")
    dimensions = ("month", "kind", "risk_level", "to_organisation", "area")
    answers = [stats(client, analyst)]
    for size in (1, 2, 3):
        for group_by in itertools.combinations(dimensions, size):
            answers.append(stats(client, analyst, *group_by, **{"from": "2026-10-01"}))
    assert_no_difference_is_small(*answers)
    # ... while the figures still say something.
    by_month = cells(stats(client, analyst, "month", **{"from": "2026-10-01"}), "month")
    assert by_month[("2026-10",)]["count"] == 15 and by_month[("2026-11",)]["count"] == 40


def test_a_total_below_five_is_suppressed_with_every_cell(client, login, ids, db_session):
    add_referrals(
        db_session, ids, (2, dict(kind="victim")), (1, dict(kind="victim", risk_level="medium"))
    )
    body = stats(client, login("opcc.analyst"), "risk_level")
    assert all(g["suppressed"] and g["count"] is None for g in body["groups"])
    assert body["total"] == {"count": None, "suppressed": True}
    nothing = stats(client, login("opcc.analyst"))
    assert nothing["groups"] == [{"count": None, "suppressed": True}]


def test_a_table_too_big_to_list_is_refused(client, login):
    response = client.get(
        "/api/v1/stats/referrals",
        query_string={
            "group_by": ["month", "status", "risk_level", "area", "to_organisation"],
            "from": "2020-01-01",
        },
        headers=login("opcc.analyst"),
    )
    assert response.status_code == 422 and "cells" in response.get_json()["message"]


def test_counts_only_no_personal_data_in_the_answer(client, login, ids, db_session):
    add_referrals(db_session, ids, (6, {}))
    body = stats(
        client,
        login("opcc.analyst"),
        "month",
        "kind",
        "risk_level",
        "status",
        "to_organisation",
        "area",
        **{"from": "2026-11-01", "to": "2026-11-30"},
    )
    shown = [g for g in body["groups"] if not g["suppressed"]]
    assert shown == [
        {
            "month": "2026-11",
            "kind": "victim",
            "risk_level": "high",
            "status": "submitted",
            "to_organisation": ids.org["Staffordshire Women's Aid"],
            "area": "E07000197",
            "count": 5,
            "suppressed": False,
        }
    ]
    assert "Jane" not in str(body) and "07700" not in str(body)


def test_months_are_calendar_months_in_utc_and_the_range_is_whole_days(
    client, login, ids, db_session
):
    add_referrals(
        db_session,
        ids,
        (5, dict(created_at=datetime(2026, 10, 31, 23, 30, tzinfo=UTC))),
        (6, dict(created_at=datetime(2026, 11, 1, 0, 30, tzinfo=UTC))),
        (7, dict(created_at=datetime(2026, 11, 30, 23, 59, tzinfo=UTC))),
        (8, dict(created_at=datetime(2026, 12, 1, 0, 0, tzinfo=UTC))),
    )
    analyst = login("opcc.analyst")
    by_month = cells(stats(client, analyst, "month"), "month")
    assert {k: v["count"] for k, v in by_month.items() if k[0] <= "2026-12"} == {
        ("2026-10",): 5,
        ("2026-11",): 15,  # 13
        ("2026-12",): 10,  # 8
    }
    november = stats(client, analyst, "month", **{"from": "2026-11-01", "to": "2026-11-30"})
    assert november["total"]["count"] == 15
    assert [g["month"] for g in november["groups"]] == ["2026-11"]


# --- who counts what -----------------------------------------------------------------------------


@pytest.fixture
def spread(db_session, ids):
    """Referrals all over the partnership: police to three services, one onward from New Era."""
    add_referrals(
        db_session,
        ids,
        (7, dict(to=SWA_REFUGE)),
        (6, dict(to=GLOW_REFUGE, subject_area="E07000195")),
        (9, dict(to=NEW_ERA_SUPPORT)),
        (5, dict(to=GLOW_REFUGE, sender="New Era", subject_area="E07000195")),
    )


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("opcc.analyst", 25),  # the whole partnership: 27
        ("opcc.staff", 25),
        ("partnership.admin", 25),  # the partnership admin sits in the commissioner's office
        ("police.analyst", 20),  # what police sent: 22
        ("police.officer", 20),
        ("swa.staff", 5),  # what SWA received: 7
        ("glow.staff", 10),  # 11
        ("newera.staff", 15),  # received 9, sent 5
        ("pathway.staff", None),  # none, shown like a small count
    ],
)
def test_each_organisation_counts_only_its_own_referrals(client, login, spread, username, expected):
    body = stats(client, login(username), "to_organisation")
    assert body["total"]["count"] == expected
    assert body["total"]["suppressed"] is (expected is None)
    if expected is None:
        assert all(g["suppressed"] for g in body["groups"])


def test_a_provider_cannot_count_another_providers_referrals_by_naming_it(
    client, login, spread, ids
):
    body = stats(client, login("swa.staff"), "to_organisation")
    shown = {key for key, cell in cells(body, "to_organisation").items() if not cell["suppressed"]}
    assert shown == {(ids.org["Staffordshire Women's Aid"],)}


def test_bad_questions_are_422(client, login):
    analyst = login("opcc.analyst")
    for params in (
        {"group_by": "name"},
        {"group_by": ["month", "month"]},
        {"from": "2026-12-01", "to": "2026-11-01"},
        {"from": "yesterday"},
    ):
        response = client.get("/api/v1/stats/referrals", query_string=params, headers=analyst)
        assert response.status_code == 422, params


def test_figures_need_a_signed_in_user_and_cannot_be_written(client, login):
    assert client.get("/api/v1/stats/referrals").status_code == 401
    analyst = login("opcc.analyst")
    for method in ("post", "put", "patch", "delete"):
        assert (
            getattr(client, method)("/api/v1/stats/referrals", headers=analyst).status_code == 405
        )


def test_each_question_is_audited_without_personal_data(client, login, spread, db_session):
    from partnership_api.models.audit import AuditEvent

    stats(client, login("police.analyst"), "month", "risk_level", **{"from": "2026-01-01"})
    event = db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "stats.read")).one()
    assert event.username == "police.analyst" and event.outcome == "allowed"
    assert event.details["group_by"] == ["month", "risk_level"]
    assert event.details["from"] == "2026-01-01"


# --- the rule itself ------------------------------------------------------------------------------


def test_every_count_is_published_as_a_multiple_of_five_or_not_at_all():
    assert [published(n) for n in range(0, 5)] == [None] * 5
    assert [published(n) for n in (5, 7, 8, 12, 13, 1002)] == [5, 5, 10, 10, 15, 1000]
    for count in range(5, 2000):
        figure = published(count)
        # Each figure is the multiple of 5 nearest the count, so no two figures differ by 1 to 4.
        assert figure % 5 == 0 and abs(figure - count) <= 2, (count, figure)
