"""The OpenAPI document as a contract partners generate clients from, told by a partner's
integrator who reads the document and checks the API does what it says.

Bounds, formats and error answers are linted by ``make lint-spec`` (Spectral with the OWASP
ruleset) and responses are checked against the document by Schemathesis; these scenarios check
the parts neither can: the rate-limit headers the document promises are really sent, and the
bounds it adds are really enforced.
"""

from __future__ import annotations

import pytest

RATE_LIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


@pytest.fixture
def spec(client):
    return client.get("/openapi.json").get_json()


def test_every_operation_answers_errors_in_the_documented_shape(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            responses = operation["responses"]
            assert {"500", "503"} <= set(responses), f"{method} {path}"
            if method in ("post", "put", "patch"):
                assert "400" in responses, f"{method} {path}"
            assert operation["operationId"] and operation["description"], f"{method} {path}"
            for code, response in responses.items():
                if code[0] in "45" and "$ref" not in response:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, f"{method} {path}"


def _items(answer):
    return answer["items"] if isinstance(answer, dict) else answer


def test_the_rate_limit_headers_the_document_promises_are_sent(client, login, spec):
    officer, admin = login("police.officer"), login("police.admin")
    promised = [
        path
        for path, item in spec["paths"].items()
        if "X-RateLimit-Limit"
        in item.get("get", {}).get("responses", {}).get("200", {}).get("headers", {})
    ]
    assert set(promised) == {
        "/api/v1/referrals",
        "/api/v1/beds/search",
        "/api/v1/exports/360giving",
        "/api/v1/exports/projects.csv",
        "/api/v1/audit-events",
        "/api/v1/stats/referrals",
        "/api/v1/events",  # the catch-up feed (issue 15)
        "/api/v1/stats/safe-accommodation-return",  # the annual return (issue 26)
        "/api/v1/stats/unmet-need",
        "/api/v1/projects/{project_id}/spend/{period}/history",  # read from the audit trail
    }
    analyst = login("opcc.analyst")
    asked = {"/api/v1/stats/safe-accommodation-return": "?year=2025"}
    opcc = login("opcc.staff")
    history = "/api/v1/projects/{project_id}/spend/{period}/history"
    line = next(
        (project["id"], spend[0]["period"])
        for project in _items(client.get("/api/v1/projects", headers=opcc).get_json())
        if (
            spend := _items(
                client.get(f"/api/v1/projects/{project['id']}/spend", headers=opcc).get_json()
            )
        )
    )
    for path in promised:
        headers = admin if path == "/api/v1/audit-events" else officer
        if path.startswith(("/api/v1/stats/safe", "/api/v1/stats/unmet")):
            headers = analyst
        target = path
        if path == history:
            headers, target = opcc, path.format(project_id=line[0], period=line[1])
        answer = client.get(target + asked.get(path, ""), headers=headers)
        assert answer.status_code == 200, path
        for name in RATE_LIMIT_HEADERS:
            assert int(answer.headers[name]) >= 0, (path, name)
    # Sign-in is counted by its own shared counters (address and address-name pair), not by
    # flask-limiter: it promises no X-RateLimit-* headers, and its 429 says when to retry.
    refused = client.post("/api/v1/auth/login", json={"username": "nobody", "password": "nope"})
    assert refused.status_code == 401
    login_answers = spec["paths"]["/api/v1/auth/login"]["post"]["responses"]
    for name in RATE_LIMIT_HEADERS:
        assert name not in login_answers["401"].get("headers", {})
        assert name not in refused.headers
    assert "Retry-After" in login_answers["429"]["headers"]


def test_operations_that_are_not_limited_promise_no_rate_limit_headers(client, login, spec):
    me = spec["paths"]["/api/v1/me"]["get"]["responses"]["200"]
    assert "X-RateLimit-Limit" not in me.get("headers", {})
    assert "X-RateLimit-Limit" not in client.get("/api/v1/me", headers=login("swa.staff")).headers


def test_an_if_match_longer_than_documented_never_matches(client, login, spec):
    admin = login("partnership.admin")
    fund = client.get("/api/v1/funds", headers=admin).get_json()[0]
    documented = next(
        p
        for p in spec["paths"]["/api/v1/funds/{fund_id}"]["patch"]["parameters"]
        if p["name"] == "If-Match"
    )
    read = client.get(f"/api/v1/funds/{fund['id']}", headers=admin)
    assert len(read.headers["ETag"]) <= documented["schema"]["maxLength"]
    too_long = '"' + "a" * documented["schema"]["maxLength"] + '"'
    answer = client.patch(
        f"/api/v1/funds/{fund['id']}",
        json={"description": "changed"},
        headers={**admin, "If-Match": too_long},
    )
    assert answer.status_code == 412 and answer.is_json
    after = client.get(f"/api/v1/funds/{fund['id']}", headers=admin).get_json()
    assert after["description"] == fund["description"]


def test_text_in_paths_is_as_long_as_documented(client, login, spec):
    admin = login("partnership.admin")
    project = client.get("/api/v1/projects", headers=admin).get_json()[0]
    period = spec["paths"]["/api/v1/projects/{project_id}/spend/{period}"]["parameters"][1]
    assert period["schema"]["maxLength"] == 64
    for text in ("x" * 64, "x" * 65):
        answer = client.get(f"/api/v1/projects/{project['id']}/spend/{text}", headers=admin)
        assert answer.status_code == 404 and answer.is_json


def test_path_ids_are_documented_as_the_router_bounds_them(client, login, spec):
    officer = login("police.officer")
    documented = spec["paths"]["/api/v1/services/{service_id}"]["parameters"][0]["schema"]
    assert documented == {
        "type": "integer",
        "format": "int32",
        "minimum": 1,
        "maximum": 2**31 - 1,
    }
    for beyond in (0, 2**31):
        answer = client.get(f"/api/v1/services/{beyond}", headers=officer)
        assert answer.status_code == 404 and answer.is_json
    referral = spec["paths"]["/api/v1/referrals/{referral_id}"]["parameters"][0]["schema"]
    assert referral["format"] == "uuid" and referral["maxLength"] == 36


def test_a_page_number_past_the_documented_maximum_is_refused(client, login, spec):
    parameters = spec["paths"]["/api/v1/services"]["get"]["parameters"]
    page = next(p for p in parameters if p["name"] == "page")["schema"]
    answer = client.get(
        f"/api/v1/services?page={page['maximum'] + 1}", headers=login("police.officer")
    )
    assert answer.status_code == 422 and answer.is_json
    assert (
        client.get(
            f"/api/v1/services?page={page['maximum']}", headers=login("police.officer")
        ).status_code
        == 200
    )


def test_a_spend_period_is_exactly_as_long_as_documented(client, login, ids, spec):
    documented = spec["components"]["schemas"]["SpendLineCreate"]["properties"]["period"]
    assert documented["minLength"] == documented["maxLength"] == 7
    admin = login("partnership.admin")
    project = client.get("/api/v1/projects", headers=admin).get_json()[0]
    answer = client.post(
        f"/api/v1/projects/{project['id']}/spend",
        json={"period": "2026-Q3 ", "actual_pence": 1},
        headers=admin,
    )
    assert answer.status_code == 422
    assert "period" in answer.get_json()["errors"]["json"]
