"""Query strings kept per worker (``query_args.py``) and one rate-limit check per request
(``ratelimits.py``): told by the police officer searching for a bed and the refuge worker
paging through her inbox, and by a caller trying to get a refused query string through."""

from __future__ import annotations

from partnership_api.extensions import limiter
from tests.factories import bed_search


def test_a_refused_query_string_is_refused_every_time_and_never_kept(client, login):
    h = login("police.officer")
    for _ in range(3):
        refused = client.get("/api/v1/beds/search?children=lots", headers=h)
        assert refused.status_code == 422
        assert "children" in refused.get_json()["errors"]["query"]
    assert client.get("/api/v1/beds/search?children=2", headers=h).status_code == 200


def test_the_same_search_again_answers_the_same(client, login):
    h = login("police.officer")
    first = bed_search(client, h, "?children=1&space_type=family")
    again = bed_search(client, h, "?children=1&space_type=family")
    assert first == again
    other = bed_search(client, h, "?children=1&space_type=single")
    assert all(any(s["space_type"] == "single" for s in r["spaces"]) for r in other), (
        "a different query string is loaded on its own"
    )


def test_a_view_that_changes_its_arguments_cannot_change_the_next_requests(app):
    from flask_smorest.pagination import PaginationParameters

    from partnership_api.schemas.beds import BedSearchArgsSchema
    from partnership_api.smorest import Blueprint, _one_pagination_schema

    parser, schema = Blueprint.ARGUMENTS_PARSER, BedSearchArgsSchema()
    with app.test_request_context("/api/v1/beds/search?area=E07000198&children=2"):
        first = parser.parse(schema, location="query")
        first["area"].append("E07000193")
        first["children"] = 9
        second = parser.parse(schema, location="query")
    assert second == {"area": ["E07000198"], "children": 2}
    assert second is not first and second["area"] is not first["area"]

    pages, page_schema = Blueprint.PAGINATION_ARGUMENTS_PARSER, _one_pagination_schema(1, 20, 100)
    with app.test_request_context("/api/v1/referrals?page=2&page_size=5"):
        one = pages.parse(page_schema, location="query")
        one.item_count = 7
        two = pages.parse(page_schema, location="query")
    assert isinstance(two, PaginationParameters)
    assert (two.page, two.page_size, two.item_count) == (2, 5, None)


def test_the_inbox_pages_count_right_when_asked_for_again(client, login):
    h = login("swa.staff")
    counts = []
    for _ in range(2):
        answer = client.get("/api/v1/referrals?direction=received&page=1&page_size=1", headers=h)
        assert answer.status_code == 200
        counts.append(answer.headers["X-Pagination"])
    assert counts[0] == counts[1]
    assert '"total"' in counts[0]


def test_the_api_checks_its_limit_once_a_request_and_the_directory_still_has_its_own(app):
    hooks = app.before_request_funcs
    check = limiter._check_request_limit
    assert check not in hooks.get(None, []), "flask-limiter's pass runs on every request"
    assert check in hooks.get("oruk", []), "the directory's own limit needs the pass"


def test_a_heavy_endpoint_still_counts_against_the_officers_budget(app, client, login):
    h = login("police.officer")
    app.config["API_RATE_LIMIT"] = "2 per minute"
    try:
        statuses = [client.get("/api/v1/beds/search", headers=h).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
    finally:
        app.config["API_RATE_LIMIT"] = "100000 per minute"
        limiter.reset()
