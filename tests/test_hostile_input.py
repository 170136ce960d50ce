"""Hostile input, told by a partner's script gone wrong or an attacker with a valid token.

Every bad request gets a clear JSON 4xx and writes nothing: the rows of every table are counted
before and after (the audit trail may only gain events recording a refusal). SQL and script
fragments in free text are data: stored and returned byte for byte, never executed. The
heavier endpoints are rate limited per user.
"""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from partnership_api.extensions import db
from partnership_api.models.audit import AuditEvent
from tests.factories import named_victim_referral

AUDIT_TABLES = {"audit_events", "audit_chain_head"}


@pytest.fixture
def counts(db_session):
    """``counts()`` → rows per table, the audit trail aside; and the refusals recorded."""

    def count() -> tuple[dict[str, int], set[str]]:
        db_session.rollback()
        tables = [t for t in db.metadata.sorted_tables if t.name not in AUDIT_TABLES]
        counted = sa.select(
            *(
                sa.select(sa.func.count()).select_from(t).scalar_subquery().label(t.name)
                for t in tables
            )
        )
        rows = dict(db_session.execute(counted).one()._mapping)
        outcomes = set(db_session.scalars(sa.select(AuditEvent.outcome).distinct()))
        audited = db_session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
        return rows, outcomes, audited

    return count


@pytest.fixture
def scene(client, login, ids):
    """One referral from the police to Glow's refuge, and the people who will misuse the API."""
    officer = login("police.officer")
    referral = client.post(
        "/api/v1/referrals", json=named_victim_referral(ids.service["Glow refuge"]), headers=officer
    )
    assert referral.status_code == 201
    return {
        "officer": officer,
        "glow": login("glow.staff"),
        "police_admin": login("police.admin"),
        "opcc": login("opcc.staff"),
        "admin": login("partnership.admin"),
        "referral": referral.get_json()["id"],
        "glow_refuge": ids.service["Glow refuge"],
    }


def refused_without_writing(client, counts, cases) -> None:
    """Send each case; each must be a JSON 4xx of the expected status, with no row written."""
    failures = []
    for name, expected, method, url, kwargs in cases:
        rows, _, audited = counts()
        response = client.open(url, method=method, **kwargs)
        after, outcomes, audited_after = counts()
        body = response.get_json(silent=True)
        if response.status_code != expected:
            failures.append(f"{name}: {response.status_code}, expected {expected}: {body}")
        elif not (
            response.mimetype == "application/json"
            and isinstance(body, dict)
            and body.get("code") == expected
            and body.get("message")
        ):
            failures.append(f"{name}: not a JSON error: {response.get_data()[:200]!r}")
        if after != rows:
            changed = {k: (rows[k], after[k]) for k in rows if rows[k] != after[k]}
            failures.append(f"{name}: wrote rows {changed}")
        if audited_after != audited and outcomes - {"allowed", "refused"}:
            failures.append(f"{name}: unexpected audit outcome {outcomes}")
    assert not failures, "\n".join(failures)


def test_bodies_that_are_not_json_or_not_the_right_shape(client, scene, counts):
    h = scene["officer"]
    note = f"/api/v1/referrals/{scene['referral']}/notes"
    raw = {"headers": h, "content_type": "application/json"}
    refused_without_writing(
        client,
        counts,
        [
            ("malformed JSON", 400, "POST", "/api/v1/referrals", {"data": '{"kind": "vic', **raw}),
            ("trailing garbage", 400, "POST", note, {"data": '{"text": "a"} x', **raw}),
            ("a list, not an object", 422, "POST", note, {"data": "[]", **raw}),
            ("a string, not an object", 422, "POST", note, {"data": '"text"', **raw}),
            ("null", 422, "POST", note, {"data": "null", **raw}),
            ("deep nesting", 400, "POST", note, {"data": "[" * 100_000 + "]" * 100_000, **raw}),
            (
                "text/plain",
                415,
                "POST",
                note,
                {"data": '{"text": "hi"}', "content_type": "text/plain", "headers": h},
            ),
            (
                "a form",
                415,
                "POST",
                note,
                {"data": {"text": "hi"}, "headers": h},
            ),
            (
                "XML",
                415,
                "POST",
                "/api/v1/referrals",
                {"data": "<referral/>", "content_type": "application/xml", "headers": h},
            ),
            (
                "over a megabyte",
                413,
                "POST",
                note,
                {"json": {"text": "x" * (2 * 1024 * 1024)}, "headers": h},
            ),
        ],
    )


def test_unknown_fields_wrong_types_and_oversized_values(client, scene, counts):
    h, admin = scene["officer"], scene["admin"]
    body = named_victim_referral(scene["glow_refuge"])
    note = f"/api/v1/referrals/{scene['referral']}/notes"

    def referral(**changes):
        return {"json": {**body, **changes}, "headers": h}

    def nested(part, **changes):
        return referral(**{part: {**body[part], **changes}})

    refused_without_writing(
        client,
        counts,
        [
            ("unknown top-level field", 422, "POST", "/api/v1/referrals", referral(is_admin=True)),
            ("unknown nested field", 422, "POST", "/api/v1/referrals", nested("subject", nhs=1)),
            ("risk level a number", 422, "POST", "/api/v1/referrals", referral(risk_level=5)),
            (
                "service id a boolean",
                422,
                "POST",
                "/api/v1/referrals",
                referral(to_service_id=True),
            ),
            ("marac a list", 422, "POST", "/api/v1/referrals", referral(marac=[])),
            ("subject a string", 422, "POST", "/api/v1/referrals", referral(subject="Jane")),
            (
                "children a word",
                422,
                "POST",
                "/api/v1/referrals",
                nested("household", children="two"),
            ),
            (
                "10,000 child ages",
                422,
                "POST",
                "/api/v1/referrals",
                nested("household", children=20, child_ages=[4] * 10_000),
            ),
            ("summary over 5,000", 422, "POST", "/api/v1/referrals", referral(summary="x" * 5001)),
            (
                "a note of a million",
                422,
                "POST",
                note,
                {"json": {"text": "x" * 10**6}, "headers": h},
            ),
            ("an empty note", 422, "POST", note, {"json": {"text": ""}, "headers": h}),
            ("a note as a number", 422, "POST", note, {"json": {"text": 42}, "headers": h}),
            (
                "10,000 areas",
                422,
                "POST",
                "/api/v1/services",
                {
                    "json": {
                        "organisation_id": 1,
                        "name": "Many areas",
                        "kind": "helpline",
                        "areas": ["E07000197"] * 10_000,
                    },
                    "headers": admin,
                },
            ),
            (
                "10,000 bed space lines",
                422,
                "PUT",
                f"/api/v1/refuges/{scene['glow_refuge']}/availability",
                {
                    "json": {
                        "spaces": [{"space_type": "single", "total": 1, "vacant": 1}] * 10_000
                    },
                    "headers": {**scene["glow"], "If-Match": '"anything"'},
                },
            ),
            (
                "a dash score beyond the scale",
                422,
                "POST",
                "/api/v1/referrals",
                referral(dash_score=2**63),
            ),
            (
                "a service id beyond the database",
                422,
                "POST",
                "/api/v1/referrals",
                referral(to_service_id=2**31),
            ),
            (
                "a service that does not exist",
                422,
                "POST",
                "/api/v1/referrals",
                referral(to_service_id=999_999),
            ),
        ],
    )


def test_page_sizes_and_pages_out_of_bounds(client, scene, counts):
    cases = []
    for url, h in (
        ("/api/v1/referrals", scene["officer"]),
        ("/api/v1/audit-events", scene["police_admin"]),
        ("/api/v1/services", scene["officer"]),
        ("/api/v1/projects", scene["officer"]),
        ("/api/v1/refuges", scene["officer"]),
    ):
        for query in (
            "page_size=101",
            "page_size=1000000",
            "page_size=0",
            "page_size=-1",
            "page=0",
            "page=-1",
            "page=abc",
            "page=100000000000000000000",
            "page_size=1e3",
        ):
            cases.append((f"{url}?{query}", 422, "GET", f"{url}?{query}", {"headers": h}))
    refused_without_writing(client, counts, cases)


NUL = "\u0000"


def test_nul_and_control_characters_are_refused_in_bodies_and_query_strings(client, scene, counts):
    """PostgreSQL cannot store NUL: it must never get as far as the database (422, not 503)."""
    h = scene["officer"]
    body = named_victim_referral(scene["glow_refuge"])
    note = f"/api/v1/referrals/{scene['referral']}/notes"
    cases = [
        ("NUL in a note", 422, "POST", note, {"json": {"text": f"a{NUL}b"}, "headers": h}),
        ("NUL alone", 422, "POST", note, {"json": {"text": NUL}, "headers": h}),
        ("bell in a note", 422, "POST", note, {"json": {"text": "ring\u0007"}, "headers": h}),
        ("escape sequence", 422, "POST", note, {"json": {"text": "\u001b[2J"}, "headers": h}),
        (
            "lone surrogate",
            422,
            "POST",
            note,
            {"data": '{"text": "\\ud800"}', "headers": h, "content_type": "application/json"},
        ),
        ("NUL in a key", 422, "POST", note, {"json": {f"te{NUL}xt": "hi"}, "headers": h}),
        (
            "NUL in a nested name",
            422,
            "POST",
            "/api/v1/referrals",
            {"json": {**body, "subject": {**body["subject"], "name": f"Jane{NUL}"}}, "headers": h},
        ),
        (
            "NUL in a safe phone",
            422,
            "POST",
            "/api/v1/referrals",
            {
                "json": {**body, "safe_contact": {**body["safe_contact"], "phone": f"07700{NUL}"}},
                "headers": h,
            },
        ),
        (
            "NUL in a sign-in name",
            422,
            "POST",
            "/api/v1/auth/login",
            {"json": {"username": f"police{NUL}.officer", "password": "whatever-it-is"}},
        ),
        (
            "NUL in a fund name",
            422,
            "POST",
            "/api/v1/funds",
            {"json": {"name": f"Fund{NUL}", "funder": "Home Office"}, "headers": scene["opcc"]},
        ),
        (
            "NUL in an idempotency key",
            422,
            "POST",
            "/api/v1/referrals",
            {"json": body, "headers": {**h, "Idempotency-Key": "key\u0001one"}},
        ),
        ("%00 in an area", 422, "GET", "/api/v1/referrals?area=E07000197%00", {"headers": h}),
        ("%00 alone", 422, "GET", "/api/v1/beds/search?area=%00", {"headers": h}),
        (
            "%00 in a filter name",
            422,
            "GET",
            "/api/v1/referrals?sta%00tus=submitted",
            {"headers": h},
        ),
        (
            "%00 in an audit filter",
            422,
            "GET",
            "/api/v1/audit-events?action=referral.read%00",
            {"headers": scene["police_admin"]},
        ),
        (
            "%00 in a resource id",
            422,
            "GET",
            "/api/v1/audit-events?resource_id=%00",
            {"headers": scene["police_admin"]},
        ),
        (
            "%00 in a spend period",
            404,
            "GET",
            "/api/v1/projects/1/spend/2026-Q1%00",
            {"headers": h},
        ),
        ("%00 in a referral id", 404, "GET", "/api/v1/referrals/%00", {"headers": h}),
    ]
    refused_without_writing(client, counts, cases)


def test_ids_that_do_not_exist_or_are_not_ids_are_not_found(client, scene, counts):
    h, admin = scene["officer"], scene["admin"]
    nobody = uuid.uuid4()
    hold = {"refuge_id": scene["glow_refuge"], "space_type": "family"}
    cases = [
        ("an unknown referral", 404, "GET", f"/api/v1/referrals/{nobody}", {"headers": h}),
        ("its events", 404, "GET", f"/api/v1/referrals/{nobody}/events", {"headers": h}),
        (
            "a note on it",
            404,
            "POST",
            f"/api/v1/referrals/{nobody}/notes",
            {"json": {"text": "hello"}, "headers": h},
        ),
        (
            "a transition on it",
            404,
            "POST",
            f"/api/v1/referrals/{nobody}/transitions",
            {"json": {"action": "withdraw"}, "headers": h},
        ),
        (
            "a hold on it",
            404,
            "POST",
            f"/api/v1/referrals/{nobody}/hold",
            {"json": hold, "headers": h},
        ),
        ("releasing its hold", 404, "DELETE", f"/api/v1/referrals/{nobody}/hold", {"headers": h}),
        ("not a UUID", 404, "GET", "/api/v1/referrals/not-a-uuid", {"headers": h}),
        ("SQL for an id", 404, "GET", "/api/v1/referrals/1'%20OR%20'1'='1", {"headers": h}),
        ("a UUID too long", 404, "GET", f"/api/v1/referrals/{nobody}0", {"headers": h}),
        ("a path escape", 404, "GET", "/api/v1/referrals/..%2Fusers", {"headers": h}),
        ("an unknown user", 404, "GET", f"/api/v1/users/{nobody}", {"headers": admin}),
        ("an unknown service", 404, "GET", "/api/v1/services/999999", {"headers": h}),
        ("beyond the database", 404, "GET", "/api/v1/services/99999999999", {"headers": h}),
        ("service 0", 404, "GET", "/api/v1/services/0", {"headers": h}),
        ("a negative id", 404, "GET", "/api/v1/funds/-1", {"headers": h}),
        ("an unknown refuge", 404, "GET", "/api/v1/refuges/999999/availability", {"headers": h}),
        (
            "a service that is no refuge",
            404,
            "GET",
            "/api/v1/refuges/1/availability/history",
            {"headers": h},
        ),
        ("an unknown project", 404, "GET", "/api/v1/projects/999999/milestones", {"headers": h}),
        (
            "an unknown milestone",
            404,
            "GET",
            "/api/v1/projects/1/milestones/999999",
            {"headers": h},
        ),
        ("a malformed quarter", 404, "GET", "/api/v1/projects/1/spend/2026-Q9", {"headers": h}),
        ("a SQL quarter", 404, "GET", "/api/v1/projects/1/spend/'%20OR%201=1--", {"headers": h}),
        (
            "a hold at an unknown refuge",
            422,
            "POST",
            f"/api/v1/referrals/{scene['referral']}/hold",
            {"json": {"refuge_id": 999_999, "space_type": "family"}, "headers": h},
        ),
        (
            "a redirect to an unknown service",
            422,
            "POST",
            f"/api/v1/referrals/{scene['referral']}/transitions",
            {"json": {"action": "redirect", "to_service_id": 999_999}, "headers": scene["glow"]},
        ),
    ]
    refused_without_writing(client, counts, cases)


def test_over_long_idempotency_keys_and_if_match_headers(client, scene, counts):
    h = scene["officer"]
    body = named_victim_referral(scene["glow_refuge"])
    glow = scene["glow"]
    availability = f"/api/v1/refuges/{scene['glow_refuge']}/availability"
    spaces = {"spaces": [{"space_type": "single", "total": 2, "vacant": 1}]}
    cases = [
        (
            "a 101-character key",
            422,
            "POST",
            "/api/v1/referrals",
            {"json": body, "headers": {**h, "Idempotency-Key": "k" * 101}},
        ),
        (
            "a 10,000-character key",
            422,
            "POST",
            "/api/v1/referrals",
            {"json": body, "headers": {**h, "Idempotency-Key": "k" * 10_000}},
        ),
        (
            "a 10,000-character If-Match",
            412,
            "PUT",
            availability,
            {"json": spaces, "headers": {**glow, "If-Match": '"' + "e" * 10_000 + '"'}},
        ),
        (
            "an If-Match that is no ETag",
            428,
            "PUT",
            availability,
            {"json": spaces, "headers": {**glow, "If-Match": "'; DROP TABLE bed_spaces; --"}},
        ),
        (
            "a long If-Match on a fund",
            412,
            "PATCH",
            "/api/v1/funds/1",
            {
                "json": {"description": "x"},
                "headers": {**scene["opcc"], "If-Match": '"' + "f" * 10_000 + '"'},
            },
        ),
        ("no If-Match", 428, "PUT", availability, {"json": spaces, "headers": glow}),
    ]
    refused_without_writing(client, counts, cases)


FRAGMENTS = [
    "'; DROP TABLE referrals; --",
    "<script>alert(1)</script>",
    "Robert'); DELETE FROM users WHERE ('1'='1",
    '" OR 1=1 -- {{7*7}} ${7*7} %s %n %x',
    "Zoë Ünïcødé — 测试 🏠 مرحبا",
    "line one\nline two\ttabbed\r\nthree",
    "\\x00 \\u0000 are just backslashes here",
]


def test_sql_and_script_fragments_are_stored_and_returned_literally(
    client, scene, counts, db_session
):
    h = scene["officer"]
    before, _, _ = counts()
    for text in FRAGMENTS:
        response = client.post(
            f"/api/v1/referrals/{scene['referral']}/notes", json={"text": text}, headers=h
        )
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["note"] == text
        assert response.mimetype == "application/json"
    events = client.get(f"/api/v1/referrals/{scene['referral']}/events", headers=scene["glow"])
    assert events.status_code == 200
    notes = [e["note"] for e in events.get_json() if e["kind"] == "note"]
    assert notes == FRAGMENTS  # byte for byte, in order, for the other party too
    assert "&lt;script&gt;" not in events.get_data(as_text=True)  # not HTML-escaped either

    name = FRAGMENTS[0]
    made = client.post(
        "/api/v1/referrals",
        json={
            **named_victim_referral(scene["glow_refuge"]),
            "subject": {"name": name, "area": "E06000021"},
            "summary": FRAGMENTS[1],
        },
        headers=h,
    )
    assert made.status_code == 201
    shown = client.get(f"/api/v1/referrals/{made.get_json()['id']}", headers=scene["glow"])
    assert shown.get_json()["subject"]["name"] == name
    assert shown.get_json()["summary"] == FRAGMENTS[1]

    # Every table is still there, with what it had plus exactly what was added.
    after, _, _ = counts()
    assert after["referrals"] == before["referrals"] + 1
    assert after["users"] == before["users"]
    assert after["referral_events"] == before["referral_events"] + len(FRAGMENTS) + 1
    listed = client.get("/api/v1/referrals", headers=h)
    assert listed.status_code == 200 and len(listed.get_json()) == 2


def test_heavier_endpoints_are_limited_per_user_and_answer_429(client, app, login, monkeypatch):
    """API_RATE_LIMIT is one budget per signed-in user across the heavier endpoints."""
    officer, swa, admin = login("police.officer"), login("swa.staff"), login("police.admin")
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "4 per minute")
    for url in (
        "/api/v1/referrals",
        "/api/v1/beds/search",
        "/api/v1/exports/360giving",
        "/api/v1/stats/referrals",
    ):
        assert client.get(url, headers=officer).status_code == 200, url
    for url in ("/api/v1/beds/search", "/api/v1/referrals", "/api/v1/stats/referrals"):
        refused = client.get(url, headers=officer)
        assert refused.status_code == 429, url
        assert refused.get_json()["message"] == "Too many requests. Try again later."
        assert "4 per" not in refused.get_data(as_text=True)  # the limit itself is not told
        assert int(refused.headers["Retry-After"]) > 0
    # Other operations are not limited by it; other users have budgets of their own, even
    # from the same address.
    assert client.get("/api/v1/refuges", headers=officer).status_code == 200
    assert client.get("/api/v1/me", headers=officer).status_code == 200
    assert client.get("/api/v1/beds/search", headers=swa).status_code == 200
    for _ in range(4):
        assert client.get("/api/v1/audit-events", headers=admin).status_code == 200
    assert client.get("/api/v1/audit-events", headers=admin).status_code == 429
    # Without a token the answer is 401, and it does not spend anyone's budget.
    assert client.get("/api/v1/beds/search").status_code == 401
    assert client.get("/api/v1/beds/search", headers=swa).status_code == 200


def test_a_value_the_database_refuses_is_the_callers_422_not_an_outage(client, login, monkeypatch):
    """sqlalchemy's DataError (e.g. PostgreSQL refusing a value) is a 422, never a 503."""
    import sqlalchemy.exc

    from partnership_api.services import partnership

    def refuse(*_args):
        raise sqlalchemy.exc.DataError("SELECT …", {}, ValueError("invalid byte sequence"))

    monkeypatch.setattr(partnership, "get_organisation", refuse)
    response = client.get("/api/v1/organisations/1", headers=login("police.officer"))
    assert response.status_code == 422
    assert response.get_json()["message"].startswith("A value in the request cannot be stored")
    assert "invalid byte sequence" not in response.get_data(as_text=True)
    assert "Retry-After" not in response.headers
