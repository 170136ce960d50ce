"""A year in the county's refuges, told by the police who refer, the refuges who decide and
record, and the commissioner's analyst who makes the annual safe-accommodation return
(Domestic Abuse Act 2021, Part 4). Every figure of the return is checked against a count made
by hand from the scenario below; then the same return as published (rounded to 5, small
counts suppressed), and what nobody else may read."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from partnership_api.services import safe_accommodation_return
from tests.factories import named_victim_referral

SWA = "Staffordshire Women's Aid refuge"
GLOW = "Glow refuge"
PATHWAY = "Pathway refuge"
BIRMINGHAM = "E08000025"
STOKE = "E06000021"
STAFFORD = "E07000197"
LICHFIELD = "E07000194"


def at(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


class Year:
    """The scenario, driven through the API; times moved into 2025-26 behind it."""

    def __init__(self, client, login, ids, db_session):
        self.client, self.login, self.ids, self.db = client, login, ids, db_session

    def refer(self, service: str, when: datetime, *, fleeing_from=None, follows=None, **extra):
        body = named_victim_referral(self.ids.service[service])
        body.update(extra)
        if fleeing_from:
            body["fleeing_from"] = fleeing_from
        if follows:
            body["follows_referral_id"] = follows
        made = self.client.post(
            "/api/v1/referrals", json=body, headers=self.login("police.officer")
        )
        assert made.status_code == 201, made.get_json()
        referral_id = made.get_json()["id"]
        self._move("referrals", "id", referral_id, created_at=when)
        return referral_id

    def act(self, user: str, referral_id: str, when: datetime | None = None, **body):
        answer = self.client.post(
            f"/api/v1/referrals/{referral_id}/transitions", json=body, headers=self.login(user)
        )
        assert answer.status_code == 200, answer.get_json()
        if when is not None and body["action"] == "accept":
            self._move("stays", "referral_id", referral_id, admitted_at=when)
        if when is not None and body["action"] == "close":
            self._move("stays", "referral_id", referral_id, ended_at=when)
        return answer.get_json()

    def _move(self, table: str, key: str, value: str, **times):
        from partnership_api.models.referrals import Referral
        from partnership_api.models.safe_accommodation import Stay

        model = {"referrals": Referral, "stays": Stay}[table]
        column = getattr(model, key)
        self.db.execute(sa.update(model).where(column == uuid.UUID(value)).values(**times))
        self.db.commit()


def build_year(client, login, ids, db_session) -> dict:
    """The households of 2025-26, with the figures counted by hand."""
    year = Year(client, login, ids, db_session)
    # 7 families from Birmingham placed in Stoke by Glow: recorded, then moved on (101 days).
    for n in range(7):
        rid = year.refer(GLOW, at(2025, 5, 10 + n), fleeing_from=BIRMINGHAM)
        year.act("glow.staff", rid, at(2025, 5, 11 + n), action="accept", placement_area=STOKE)
        recorded = client.patch(
            f"/api/v1/referrals/{rid}/stay",
            json={
                "adults": [{"sex": "female", "trans": "no"}],
                "children": 2,
                "characteristics_consent": True,
                "characteristics": ["disabled", "nrpf"] if n < 5 else ["young"],
            },
            headers=login("glow.staff"),
        )
        assert recorded.status_code == 200, recorded.get_json()
        year.act(
            "glow.staff",
            rid,
            at(2025, 8, 20 + n),
            action="close",
            outcome="Moved on to her own flat.",
            end_reason="moved_on",
            destination="social_housing",
        )
    # 6 households refused twice: no capacity at SWA, then Pathway cannot take older sons.
    for n in range(6):
        first = year.refer(SWA, at(2025, 6, 1 + n), fleeing_from=STAFFORD)
        year.act("swa.staff", first, action="decline", reason_code="no_capacity")
        again = year.refer(PATHWAY, at(2025, 6, 2 + n), follows=first)
        year.act("pathway.staff", again, action="decline", reason_code="needs_not_met_older_sons")
    # 5 households Glow passes to SWA, who then decline (an old client's code: mapped).
    for n in range(5):
        rid = year.refer(GLOW, at(2025, 9, 1 + n), fleeing_from=STOKE)
        moved = year.act(
            "glow.staff",
            rid,
            action="redirect",
            reason_code="no_capacity",
            to_service_id=ids.service[SWA],
        )
        onward = moved["redirected_to"]
        year._move("referrals", "id", onward, created_at=at(2025, 9, 2 + n))
        year.act("swa.staff", onward, action="decline", reason_code="declined_by_person")
    # 5 referrals withdrawn by the police without a reason (they lapsed).
    for n in range(5):
        rid = year.refer(SWA, at(2025, 10, 1 + n))
        year.act("police.officer", rid, action="withdraw")
    # 5 still waiting at the year's end, made in March 2026.
    for n in range(5):
        year.refer(PATHWAY, at(2026, 3, 20 + n))
    # 5 admitted the year before, still there when it began; 3 left in April, 2 stay on.
    for n in range(5):
        rid = year.refer(SWA, at(2025, 2, 1 + n), fleeing_from=STAFFORD)
        year.act("swa.staff", rid, at(2025, 2, 2 + n), action="accept", placement_area=STAFFORD)
        if n < 3:
            year.act(
                "swa.staff",
                rid,
                at(2025, 4, 10 + n),
                action="close",
                outcome="Went back.",
                end_reason="returned_to_perpetrator",
                destination="unknown",
            )
    # A household referred after the year: not counted.
    year.refer(SWA, at(2026, 4, 2))
    return year


# What the scenario gives, counted by hand.
EXPECTED_REFERRALS = {
    "households_referred": 7 + 6 + 5 + 5 + 5,
    "referrals_received": 7 + 12 + 10 + 5 + 5,
    "supported": 7,
    "not_supported": 6 + 5 + 5,
    "in_progress": 5,
}
EXPECTED_REASONS = {
    "no_capacity": 0,
    "needs_not_met": 6,
    "declined_offer": 5,
    "risk_too_high": 0,
    "other": 5,
}
EXPECTED_NEEDS = {
    "older_sons": 6,
    "disability": 0,
    "nrpf": 0,
    "larger_family": 0,
    "substance_use": 0,
    "mental_health": 0,
}
EXPECTED_SUPPORTED = {
    "households": 7 + 5,
    "admitted_in_year": 7,
    "placed_in_own_district": 5,
    "placed_in_another_district": 7,
    "placement_not_known": 0,
    "from_outside_the_partnership": 7,
    "adults": 12,
    "children": 7 * 2 + 5 * 1,
    "characteristics_consent_given": 7,
}
EXPECTED_CHARACTERISTICS = {"disabled": 5, "nrpf": 5, "young": 2, "lgbt_plus": 0}
EXPECTED_ENDINGS = {"stays_ended": 10}


def figures(items: list[dict], key: str) -> dict:
    return {item[key]: item["count"] for item in items}


@pytest.fixture
def year(client, login, ids, db_session):
    return build_year(client, login, ids, db_session)


def test_every_figure_of_the_return_matches_the_hand_count(client, login, year, monkeypatch):
    # The figures before rounding: the disclosure rule is switched off to check the counting.
    monkeypatch.setattr(safe_accommodation_return, "published", lambda count: count)
    answer = client.get(
        "/api/v1/stats/safe-accommodation-return?year=2025", headers=login("opcc.analyst")
    )
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert (body["from"], body["to"], body["financial_year"]) == (
        "2025-04-01",
        "2026-03-31",
        "2025-26",
    )
    referrals = body["referrals"]
    for name, expected in EXPECTED_REFERRALS.items():
        assert referrals[name]["count"] == expected, name
    # A household refused twice counts once, under its last refusal's reason.
    assert figures(referrals["not_supported_by_reason"], "reason") == EXPECTED_REASONS
    assert figures(referrals["needs_not_met_by_need"], "need") == EXPECTED_NEEDS
    months = {m["month"]: m for m in referrals["by_month"]}
    assert list(months)[0] == "2025-04" and list(months)[-1] == "2026-03"
    assert months["2025-05"]["supported"]["count"] == 7
    assert months["2025-06"]["not_supported"]["count"] == 6
    assert figures(months["2025-09"]["not_supported_by_reason"], "reason")["declined_offer"] == 5
    assert months["2026-03"]["households_referred"]["count"] == 5
    assert sum(m["households_referred"]["count"] for m in months.values()) == 28

    supported = body["households_supported"]
    for name, expected in EXPECTED_SUPPORTED.items():
        assert supported[name]["count"] == expected, name
    adults = {
        (a["sex"], a["trans"]): a["count"] for a in supported["adults_by_sex_and_trans_status"]
    }
    assert adults[("female", "no")] == 7 and adults[("not_known", "not_known")] == 5
    assert sum(adults.values()) == 12
    characteristics = figures(supported["specialist_characteristics"], "characteristic")
    for name, expected in EXPECTED_CHARACTERISTICS.items():
        assert characteristics[name] == expected, name

    endings = body["stays_ended"]
    assert endings["stays_ended"]["count"] == 10
    assert figures(endings["by_reason"], "reason") == {
        "support_no_longer_needed": 0,
        "moved_on": 7,
        "evicted": 0,
        "left_without_notice": 0,
        "returned_to_perpetrator": 3,
        "other": 0,
    }
    destinations = figures(endings["by_destination"], "destination")
    assert (destinations["social_housing"], destinations["unknown"]) == (7, 3)
    lengths = figures(endings["by_length_of_stay"], "length_of_stay")
    # Glow's stays: 11 May + n to 20 August + n = 101 days; SWA's: 2 Feb + n to 10 April + n = 67.
    assert lengths == {
        "under_30_days": 0,
        "30_to_89_days": 3,
        "90_to_179_days": 7,
        "180_to_364_days": 0,
        "365_days_or_more": 0,
    }


def test_the_published_return_rounds_and_suppresses(client, login, year):
    body = client.get(
        "/api/v1/stats/safe-accommodation-return?year=2025", headers=login("opcc.analyst")
    ).get_json()
    referrals = body["referrals"]
    assert referrals["households_referred"] == {"count": 30, "suppressed": False}  # 28
    assert referrals["referrals_received"] == {"count": 40, "suppressed": False}  # 39
    assert referrals["supported"] == {"count": 5, "suppressed": False}  # 7
    assert referrals["not_supported"] == {"count": 15, "suppressed": False}  # 16
    assert figures(referrals["not_supported_by_reason"], "reason") == {
        "no_capacity": None,
        "needs_not_met": 5,
        "declined_offer": 5,
        "risk_too_high": None,
        "other": 5,
    }
    characteristics = figures(
        body["households_supported"]["specialist_characteristics"], "characteristic"
    )
    assert characteristics["young"] is None and characteristics["disabled"] == 5
    assert body["disclosure"]["suppression_threshold"] == 5
    every = _all_counts(body)
    assert every and all(c is None or c % 5 == 0 for c in every)


def _all_counts(value) -> list:
    found = []
    if isinstance(value, dict):
        if "suppressed" in value:
            found.append(value["count"])
        for inner in value.values():
            found.extend(_all_counts(inner))
    elif isinstance(value, list):
        for inner in value:
            found.extend(_all_counts(inner))
    return found


def test_the_csv_has_the_same_figures(client, login, year):
    answer = client.get(
        "/api/v1/stats/safe-accommodation-return?year=2025&format=csv",
        headers=login("opcc.analyst"),
    )
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    value = {(r["section"], r["measure"], r["category"]): r["value"] for r in rows}
    assert value[("referrals", "households_referred", "")] == "30"
    assert value[("referrals", "not_supported_by_reason", "no_capacity")] == "[c]"
    assert value[("households_supported", "specialist_characteristics", "disabled")] == "5"
    assert value[("period", "financial_year", "")] == "2025-26"


def test_bed_spaces_come_from_the_refuges_reports(client, login, ids, db_session):
    from partnership_api.models.safe_accommodation import CommissionedSpacesReport

    glow = ids.service[GLOW]
    put = client.put(
        f"/api/v1/refuges/{glow}/commissioned-spaces",
        json={
            "spaces": [
                {"accommodation_type": "refuge", "spaces": 6},
                {"accommodation_type": "dispersed", "spaces": 2},
            ]
        },
        headers=login("glow.staff"),
    )
    assert put.status_code == 200 and put.get_json()["total"] == 8
    db_session.execute(sa.update(CommissionedSpacesReport).values(reported_at=at(2026, 1, 5)))
    db_session.commit()
    # A later report (after the year's end) does not change 2025-26's figures.
    client.put(
        f"/api/v1/refuges/{glow}/commissioned-spaces",
        json={"spaces": [{"accommodation_type": "refuge", "spaces": 9}]},
        headers=login("glow.staff"),
    )
    # SWA's staff cannot report Glow's spaces; everyone reads them.
    refused = client.put(
        f"/api/v1/refuges/{glow}/commissioned-spaces",
        json={"spaces": [{"accommodation_type": "refuge", "spaces": 99}]},
        headers=login("swa.staff"),
    )
    assert refused.status_code == 403
    assert (
        client.get(
            f"/api/v1/refuges/{glow}/commissioned-spaces", headers=login("police.officer")
        ).get_json()["total"]
        == 9
    )
    body = client.get(
        "/api/v1/stats/safe-accommodation-return?year=2025", headers=login("opcc.staff")
    ).get_json()
    beds = body["commissioned_bed_spaces"]
    assert {b["accommodation_type"]: b["spaces"] for b in beds["by_accommodation_type"]}[
        "refuge"
    ] == 6
    assert beds["total"] == 8


def test_differencing_across_years_and_groupings_gives_nothing_away(client, login, ids, db_session):
    """One more resident with a characteristic, or one more refused household, must not be
    found by subtracting published figures: every figure moves in steps of 5 or not at all."""
    year = Year(client, login, ids, db_session)

    def admit(when, characteristics):
        rid = year.refer(GLOW, when, fleeing_from=BIRMINGHAM)
        year.act("glow.staff", rid, when, action="accept", placement_area=STOKE)
        client.patch(
            f"/api/v1/referrals/{rid}/stay",
            json={"characteristics_consent": True, "characteristics": characteristics},
            headers=login("glow.staff"),
        )

    for n in range(6):
        admit(at(2025, 5, 1 + n), ["disabled"])
    analyst = login("opcc.analyst")

    def published_now():
        years = [
            client.get(
                f"/api/v1/stats/safe-accommodation-return?year={y}", headers=analyst
            ).get_json()
            for y in (2024, 2025)
        ]
        groupings = [
            client.get(
                f"/api/v1/stats/unmet-need?from=2025-04-01&to=2026-03-31{q}", headers=analyst
            ).get_json()
            for q in (
                "",
                "&group_by=reason",
                "&group_by=reason&group_by=need",
                "&group_by=origin_area",
            )
        ]
        return years, groupings

    before = published_now()
    # The one LGBT+ resident in the county, and one household refused for being too large.
    admit(at(2025, 6, 1), ["lgbt_plus", "disabled"])
    refused = year.refer(SWA, at(2025, 7, 1))
    year.act("swa.staff", refused, action="decline", reason_code="needs_not_met_larger_family")
    after = published_now()

    for old, new in zip(_all_counts(before), _all_counts(after), strict=True):
        assert old is None or old % 5 == 0
        assert new is None or new % 5 == 0
        if old is not None and new is not None:
            assert (new - old) % 5 == 0
    lgbt = figures(
        after[0][1]["households_supported"]["specialist_characteristics"], "characteristic"
    )
    assert lgbt["lgbt_plus"] is None
    # Disabled residents went from 6 to 7: both publish as 5, so the change does not show.
    assert (
        figures(
            before[0][1]["households_supported"]["specialist_characteristics"], "characteristic"
        )["disabled"]
        == 5
    )
    assert lgbt["disabled"] == 5
    # The unmet-need table, however grouped, never shows the one larger family.
    by_need = {(g["reason"], g["need"]): g["count"] for g in after[1][2]["groups"]}
    assert by_need[("needs_not_met", "larger_family")] is None
    assert after[1][0]["total"] == {"count": None, "suppressed": True}


@pytest.mark.parametrize(
    "username,status",
    [
        ("opcc.analyst", 200),
        ("opcc.staff", 200),
        ("partnership.admin", 200),
        ("police.analyst", 403),
        ("police.officer", 403),
        ("glow.staff", 403),
        ("swa.admin", 403),
    ],
)
def test_only_the_commissioners_office_reads_the_return(client, login, username, status):
    headers = login(username)
    assert (
        client.get("/api/v1/stats/safe-accommodation-return?year=2025", headers=headers).status_code
        == status
    )
    assert client.get("/api/v1/stats/unmet-need", headers=headers).status_code == status


def test_a_stay_is_the_refuges_own_and_nobody_elses(client, login, ids, db_session):
    year = Year(client, login, ids, db_session)
    rid = year.refer(GLOW, at(2025, 5, 1), fleeing_from=BIRMINGHAM)
    accepted = year.act("glow.staff", rid, action="accept", placement_area=STOKE)
    assert (accepted["fleeing_from"], accepted["placement_area"], accepted["out_of_area"]) == (
        BIRMINGHAM,
        STOKE,
        True,
    )
    recorded = client.patch(
        f"/api/v1/referrals/{rid}/stay",
        json={
            "characteristics_consent": True,
            "characteristics": ["lgbt_plus"],
            "adults": [{"sex": "female", "trans": "yes"}],
        },
        headers=login("glow.staff"),
    )
    assert recorded.status_code == 200
    # The police who referred her see the referral, not the stay; other refuges see neither.
    for username, status in (
        ("police.officer", 403),
        ("swa.staff", 404),
        ("pathway.staff", 404),
        ("opcc.staff", 403),
        ("opcc.analyst", 403),
        ("police.analyst", 403),
    ):
        assert (
            client.get(f"/api/v1/referrals/{rid}/stay", headers=login(username)).status_code
            == status
        ), username
        patched = client.patch(
            f"/api/v1/referrals/{rid}/stay", json={"children": 1}, headers=login(username)
        )
        assert patched.status_code == status, username
    referral = client.get(f"/api/v1/referrals/{rid}", headers=login("police.officer")).get_json()
    assert "characteristics" not in referral and "adults" not in str(referral)
    # Without consent, characteristics are refused; withdrawing consent erases them.
    refused = client.patch(
        f"/api/v1/referrals/{rid}/stay",
        json={"characteristics_consent": False, "characteristics": ["disabled"]},
        headers=login("glow.staff"),
    )
    assert refused.status_code == 422
    erased = client.patch(
        f"/api/v1/referrals/{rid}/stay",
        json={"characteristics_consent": False},
        headers=login("glow.staff"),
    )
    assert erased.get_json()["characteristics"] == []


def test_reasons_are_coded_and_old_codes_still_work(client, login, ids, db_session):
    year = Year(client, login, ids, db_session)
    cases = {
        "not_eligible": {"reason": "other", "need": None, "text": "not eligible"},
        "needs_not_met_nrpf": {"reason": "needs_not_met", "need": "nrpf", "text": None},
        "risk_too_high": {"reason": "risk_too_high", "need": None, "text": None},
        "other": {"reason": "other", "need": None, "text": "not given"},
    }
    for code, expected in cases.items():
        rid = year.refer(SWA, at(2025, 5, 1))
        declined = year.act("swa.staff", rid, action="decline", reason_code=code)
        assert declined["decline_reason"] == code
        assert declined["not_supported"] == expected
    rid = year.refer(SWA, at(2025, 5, 1))
    told = year.act(
        "swa.staff",
        rid,
        action="decline",
        reason_code="other",
        reason_text="arson risk to other residents",
    )
    assert told["not_supported"]["text"] == "arson risk to other residents"
    bad = client.post(
        f"/api/v1/referrals/{year.refer(SWA, at(2025, 5, 1))}/transitions",
        json={"action": "decline", "reason_code": "too_busy"},
        headers=login("swa.staff"),
    )
    assert bad.status_code == 422
    # A district outside England, or not a district at all, is refused; any English one is not.
    body = named_victim_referral(ids.service[SWA])
    for code, status in (("W06000015", 422), ("E10000028", 422), ("E06000066", 201)):
        body["fleeing_from"] = code
        assert (
            client.post("/api/v1/referrals", json=body, headers=login("police.officer")).status_code
            == status
        ), code


def test_a_follow_up_must_be_a_refused_referral_the_caller_may_see(client, login, ids, db_session):
    year = Year(client, login, ids, db_session)
    open_one = year.refer(SWA, at(2025, 5, 1))
    body = named_victim_referral(ids.service[PATHWAY])
    body["follows_referral_id"] = open_one
    assert (
        client.post("/api/v1/referrals", json=body, headers=login("police.officer")).status_code
        == 422
    )
    # New Era never saw the police's referral: hidden.
    assert (
        client.post("/api/v1/referrals", json=body, headers=login("newera.staff")).status_code
        == 404
    )


def test_retention_takes_who_stayed_and_her_characteristics(client, login, ids, db_session):
    from partnership_api.models.safe_accommodation import Stay
    from partnership_api.services.retention import purge_expired

    year = Year(client, login, ids, db_session)
    rid = year.refer(GLOW, at(2019, 5, 1), fleeing_from=BIRMINGHAM)
    year.act("glow.staff", rid, at(2019, 5, 2), action="accept", placement_area=STOKE)
    client.patch(
        f"/api/v1/referrals/{rid}/stay",
        json={
            "adults": [{"sex": "female", "trans": "yes"}],
            "characteristics_consent": True,
            "characteristics": ["lgbt_plus"],
        },
        headers=login("glow.staff"),
    )
    year.act(
        "glow.staff",
        rid,
        action="close",
        outcome="Left.",
        end_reason="other",
        end_reason_text="went to her sister in Wales",
        destination="family_or_friends",
    )
    assert purge_expired(now=datetime(2099, 1, 1, tzinfo=UTC), retention_days=30) >= 1
    db_session.expire_all()
    stay = db_session.get(Stay, uuid.UUID(rid))
    assert (stay.adults, stay.characteristics, stay.characteristics_consent) == ([], [], False)
    assert stay.end_reason_text == "removed by retention"
    assert (stay.end_reason, stay.destination, stay.placement_area) == (
        "other",
        "family_or_friends",
        STOKE,
    )


def test_the_needs_picture_groups_households_not_placed(
    client, login, ids, db_session, monkeypatch
):
    from partnership_api.services import unmet_need

    monkeypatch.setattr(safe_accommodation_return, "published", lambda count: count)
    year = Year(client, login, ids, db_session)
    # Two large families from Birmingham refused for size, one from Stafford refused as too risky.
    for n in range(2):
        rid = year.refer(
            SWA,
            at(2025, 5, 1 + n),
            fleeing_from=BIRMINGHAM,
            household={"children": 5, "child_ages": [1, 3, 5, 7, 9]},
        )
        year.act("swa.staff", rid, action="decline", reason_code="needs_not_met_larger_family")
    rid = year.refer(SWA, at(2025, 5, 4), fleeing_from=STAFFORD)
    year.act("swa.staff", rid, action="decline", reason_code="risk_too_high")
    assert unmet_need.cell is safe_accommodation_return.cell
    analyst = login("opcc.analyst")
    asked = "/api/v1/stats/unmet-need?from=2025-04-01&to=2026-03-31"
    body = client.get(
        f"{asked}&group_by=household_size&group_by=origin_area", headers=analyst
    ).get_json()
    cells = {(g["household_size"], g["origin_area"]): g["count"] for g in body["groups"]}
    assert cells[("6_or_more", "outside_the_partnership")] == 2
    assert cells[("2", STAFFORD)] == 1
    assert sum(cells.values()) == body["total"]["count"] == 3
    by_reason = client.get(f"{asked}&group_by=reason&group_by=need", headers=analyst).get_json()
    reasons = {(g["reason"], g["need"]): g["count"] for g in by_reason["groups"]}
    assert reasons[("needs_not_met", "larger_family")] == 2
    assert reasons[("risk_too_high", None)] == 1
    too_big = client.get(f"{asked}&group_by=reason&group_by=reason", headers=analyst)
    assert too_big.status_code == 422


def test_the_demo_year_makes_a_return_that_adds_up(app, client, login, monkeypatch):
    monkeypatch.setattr(safe_accommodation_return, "published", lambda count: count)
    result = app.test_cli_runner().invoke(args=["seed-demo-year", "2025", "--households", "40"])
    assert result.exit_code == 0, result.output
    body = client.get(
        "/api/v1/stats/safe-accommodation-return?year=2025", headers=login("opcc.analyst")
    ).get_json()
    referrals = body["referrals"]
    assert referrals["households_referred"]["count"] == 40
    outcomes = ("supported", "not_supported", "in_progress")
    assert sum(referrals[name]["count"] for name in outcomes) == 40
    by_reason = sum(line["count"] for line in referrals["not_supported_by_reason"])
    assert by_reason == referrals["not_supported"]["count"]
    supported = body["households_supported"]
    assert supported["households"]["count"] == referrals["supported"]["count"]
    assert body["commissioned_bed_spaces"]["total"] > 0
    app.config["APP_ENV"] = "production"
    try:
        refused = app.test_cli_runner().invoke(args=["seed-demo-year", "2025"])
    finally:
        app.config["APP_ENV"] = "development"
    assert refused.exit_code != 0 and "production" in refused.output


def test_placement_and_endings_belong_to_refuge_stays(client, login, ids, db_session):
    """New Era's victim support is not safe accommodation: no placement, no stay to end."""
    body = named_victim_referral(ids.service["New Era victim support"])
    made = client.post("/api/v1/referrals", json=body, headers=login("police.officer"))
    assert made.status_code == 201, made.get_json()
    rid = made.get_json()["id"]
    url = f"/api/v1/referrals/{rid}/transitions"
    newera = login("newera.staff")
    placed = client.post(url, json={"action": "accept", "placement_area": STOKE}, headers=newera)
    assert placed.status_code == 422
    assert (
        client.get(f"/api/v1/referrals/{rid}", headers=newera).get_json()["status"] == "submitted"
    )
    assert client.post(url, json={"action": "accept"}, headers=newera).status_code == 200
    assert client.get(f"/api/v1/referrals/{rid}/stay", headers=newera).status_code == 404
    ended = client.post(
        url,
        json={"action": "close", "outcome": "Supported.", "destination": "own_tenancy"},
        headers=newera,
    )
    assert ended.status_code == 422
    closed = client.post(url, json={"action": "close", "outcome": "Supported."}, headers=newera)
    assert closed.status_code == 200
