"""Referral figures, told by the commissioner's analyst and by partners: counts only, small
numbers suppressed, and no total that gives a suppressed count away."""

from __future__ import annotations

import itertools
import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from partnership_api.services.stats import SUPPRESSION_THRESHOLD, _lines, _protected, suppress

POLICE = "Staffordshire Police"
SWA_REFUGE = "Staffordshire Women's Aid refuge"
GLOW_REFUGE = "Glow refuge"
NEW_ERA_SUPPORT = "New Era victim support"
NOV = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
OCT = datetime(2026, 10, 12, 9, 0, tzinfo=UTC)


def make_referral(ids, org_of_service, *, to=SWA_REFUGE, sender=POLICE, **fields):
    """A referral row with personal data in every personal field (inserted behind the API)."""
    from partnership_api.models.referrals import Referral

    created = fields.pop("created_at", NOV)
    values = dict(
        reference=f"REF-T-{uuid.uuid4().hex[:12]}",
        kind="victim",
        status="submitted",
        risk_level="high",
        dash_score=15,
        marac=True,
        subject_area="E07000197",
        subject={
            "name": "Jane Example",
            "date_of_birth": "1990-04-02",
            "gender": "female",
            "area": fields.get("subject_area", "E07000197"),
        },
        safe_contact={"phone": "07700 900123", "safe_times": "weekdays 10:00-12:00"},
        household={"children": 2, "child_ages": [4, 13]},
        needs={"wheelchair": False, "interpreter_language": "Polish", "nrpf": False},
        consent={"given": True, "lawful_basis": "consent", "rationale": "Agreed at the scene."},
        summary="Ex-partner broke in last night; she fears for the children.",
        from_organisation_id=ids.org[sender],
        to_service_id=ids.service[to],
        to_organisation_id=org_of_service[ids.service[to]],
        created_at=created,
        updated_at=created,
        status_changed_at=created,
        response_due_at=created + timedelta(hours=24),
    )
    values.update(fields)
    return Referral(**values)


def add_referrals(db_session, ids, *specs):
    """Insert referrals: each spec is (how many, fields). Returns their ids."""
    from partnership_api.models.partnership import Service

    org_of_service = dict(db_session.execute(sa.select(Service.id, Service.organisation_id)).all())
    made = []
    for count, fields in specs:
        made.extend(make_referral(ids, org_of_service, **fields) for _ in range(count))
    db_session.add_all(made)
    db_session.commit()
    return [r.id for r in made]


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


# --- suppression, told through the API ----------------------------------------------------------


def test_a_small_count_is_suppressed_and_the_total_does_not_give_it_away(
    client, login, ids, db_session
):
    add_referrals(
        db_session,
        ids,
        (12, dict(risk_level="high")),
        (3, dict(risk_level="medium")),
        (8, dict(risk_level="standard")),
    )
    body = stats(client, login("opcc.analyst"), "risk_level")
    by_risk = cells(body, "risk_level")
    assert body["suppression_threshold"] == 5
    assert by_risk[("medium",)] == {"risk_level": "medium", "count": None, "suppressed": True}
    assert by_risk[("high",)]["count"] == 12
    # Had "standard" been shown (8), the total 23 - 12 - 8 would give the medium count (3).
    assert by_risk[("standard",)] == {"risk_level": "standard", "count": None, "suppressed": True}
    assert body["total"] == {"count": 23, "suppressed": False}
    published = sum(g["count"] for g in body["groups"] if not g["suppressed"])
    hidden = [g for g in body["groups"] if g["suppressed"]]
    assert len(hidden) >= 2 and body["total"]["count"] - published - (len(hidden) - 1) >= 4


def assert_not_recoverable(published_total, line):
    """Subtracting the shown cells from a published total must not pin a suppressed cell."""
    hidden = [cell for cell in line if cell["suppressed"]]
    if not hidden:
        return
    assert len(hidden) >= 2
    left = published_total - sum(cell["count"] for cell in line if not cell["suppressed"])
    # Each hidden cell is at least 1; the most any one could be must reach 4.
    assert left - (len(hidden) - 1) >= SUPPRESSION_THRESHOLD - 1


def test_a_month_by_risk_table_cannot_be_undone_with_the_coarser_totals(
    client, login, ids, db_session
):
    add_referrals(
        db_session,
        ids,
        (9, dict(risk_level="high", created_at=OCT)),
        (2, dict(risk_level="medium", created_at=OCT)),
        (6, dict(risk_level="standard", created_at=OCT)),
        (11, dict(risk_level="high", created_at=NOV)),
        (7, dict(risk_level="medium", created_at=NOV)),
        (20, dict(risk_level="standard", created_at=NOV)),
    )
    analyst = login("opcc.analyst")
    body = stats(client, analyst, "month", "risk_level")
    table = cells(body, "month", "risk_level")
    # Asked separately, each month's and each risk level's sum is published.
    by_month = cells(stats(client, analyst, "month"), "month")
    by_risk = cells(stats(client, analyst, "risk_level"), "risk_level")
    assert by_month[("2026-10",)]["count"] == 17 and by_risk[("medium",)]["count"] == 9
    assert table[("2026-10", "medium")] == {
        "month": "2026-10",
        "risk_level": "medium",
        "count": None,
        "suppressed": True,
    }
    for (month,), cell in by_month.items():
        assert_not_recoverable(cell["count"], [c for (m, _), c in table.items() if m == month])
    for (risk,), cell in by_risk.items():
        assert_not_recoverable(cell["count"], [c for (_, r), c in table.items() if r == risk])
    assert_not_recoverable(body["total"]["count"], list(table.values()))
    assert table[("2026-10", "high")]["count"] == 9  # and the table still says something


def test_a_total_below_five_is_suppressed_with_every_cell(client, login, ids, db_session):
    add_referrals(
        db_session, ids, (2, dict(kind="victim")), (1, dict(kind="victim", risk_level="medium"))
    )
    body = stats(client, login("opcc.analyst"), "risk_level")
    assert all(g["suppressed"] and g["count"] is None for g in body["groups"])
    assert body["total"] == {"count": None, "suppressed": True}
    nothing = stats(client, login("opcc.analyst"))
    assert nothing["groups"] == [{"count": None, "suppressed": True}]


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
    )
    (group,) = body["groups"]
    assert group == {
        "month": "2026-11",
        "kind": "victim",
        "risk_level": "high",
        "status": "submitted",
        "to_organisation": ids.org["Staffordshire Women's Aid"],
        "area": "E07000197",
        "count": 6,
        "suppressed": False,
    }
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
    assert {k: v["count"] for k, v in by_month.items()} == {
        ("2026-10",): 5,
        ("2026-11",): 13,
        ("2026-12",): 8,
    }
    november = stats(client, analyst, "month", **{"from": "2026-11-01", "to": "2026-11-30"})
    assert november["total"]["count"] == 13
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
        ("opcc.analyst", 27),  # the whole partnership
        ("opcc.staff", 27),
        ("partnership.admin", 27),  # the partnership admin sits in the commissioner's office
        ("police.analyst", 22),  # what police sent
        ("police.officer", 22),
        ("swa.staff", 7),  # what SWA received
        ("glow.staff", 11),
        ("newera.staff", 14),  # received 9, sent 5
        ("pathway.staff", 0),
    ],
)
def test_each_organisation_counts_only_its_own_referrals(client, login, spread, username, expected):
    body = stats(client, login(username), "to_organisation")
    assert body["total"]["count"] == expected
    assert body["total"]["suppressed"] is False
    if expected == 0:
        assert body["groups"] == []


def test_a_provider_cannot_count_another_providers_referrals_by_naming_it(
    client, login, spread, ids
):
    body = stats(client, login("swa.staff"), "to_organisation")
    assert set(cells(body, "to_organisation")) == {(ids.org["Staffordshire Women's Aid"],)}


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


# --- the suppression rule itself, on many tables --------------------------------------------------


def _check_table(counts, dims):
    hidden, total_hidden = suppress(counts, dims)
    keys = list(counts)
    assert {k for k, n in counts.items() if 1 <= n < SUPPRESSION_THRESHOLD} <= hidden
    if total_hidden:
        return hidden
    assert _protected(keys, counts, hidden, SUPPRESSION_THRESHOLD)
    for line in _lines(keys, dims):
        if len(line) > 1 and any(counts[k] >= SUPPRESSION_THRESHOLD for k in line):
            assert _protected(line, counts, hidden, SUPPRESSION_THRESHOLD) or all(
                k in hidden for k in line
            )
    return hidden


def test_the_next_smallest_cell_is_taken_when_one_cell_alone_is_suppressed():
    hidden, total_hidden = suppress({("a",): 3, ("b",): 6, ("c",): 40}, 1)
    assert hidden == {("a",), ("b",)} and not total_hidden


def test_two_ones_are_not_enough_on_their_own():
    # 1 + 1 suppressed: the total minus the rest would be 2, so each must be 1.
    hidden, _ = suppress({("a",): 1, ("b",): 1, ("c",): 9, ("d",): 30}, 1)
    assert hidden == {("a",), ("b",), ("c",)}


def test_a_table_of_only_small_cells_suppresses_its_total():
    hidden, total_hidden = suppress({("a",): 1, ("b",): 1, ("c",): 1, ("d",): 1, ("e",): 1}, 1)
    assert len(hidden) == 5 and total_hidden


def test_random_tables_never_leave_a_lone_suppressed_cell():
    rng = random.Random(7)
    for dims in (1, 2, 3):
        for _ in range(150):
            values = [list(range(rng.randint(1, 4))) for _ in range(dims)]
            counts = {}
            for key in itertools.product(*values):
                n = rng.choice([0, 1, 2, 3, 4, 5, 6, 8, 12, 30])
                if n:
                    counts[key] = n
            if counts:
                _check_table(counts, dims)
