"""Who gets what: every operation of the OpenAPI document against every demo user.

The table below is the decision for each operation and each user (and for a caller with no
token). Each user, in a test of their own, calls every operation on REAL objects of other
organisations (BOLA): a referral from the police to Glow's refuge, Glow's refuge and its
availability, a Glow user, a project New Era and Glow deliver, its milestones, spend and
outputs. Only the sender and the receiver of a referral may see it (others: 404); only
Glow's staff report Glow's beds (others: 403); only the partnership admin manages another
organisation's users (org admins: 404, everyone else: 403), and since issue 25 it makes there
only the organisation's first admin and resets no password (``test_partnership_access.py``).

A new operation in the document without a row here fails the suite: no endpoint ships
without a decision. Every answer must also be a status the document lists for the operation.
"""

from __future__ import annotations

import pytest

from tests.factories import (
    ANONYMOUS,
    SPEC,
    USERS,
    build_world,
    calls_for,
    request_for,
    send,
    session_tokens,
)

DOCUMENTED_OPERATIONS = {
    f"{method.upper()} {path}"
    for path, operations in SPEC["paths"].items()
    for method in operations
    if method in ("get", "post", "put", "patch", "delete")
}


# The decision table. Columns, in order:
#   partnership.admin  police.officer  police.admin  police.analyst  opcc.staff  opcc.analyst
#   newera.staff  newera.admin  swa.staff  swa.admin  glow.staff  pathway.staff  (no token)
# Objects used (see `request_for`): the referral, holds and user belong to the police and Glow;
# the refuge is Glow's; the project is delivered by New Era and Glow (not SWA, Pathway, police).
# Rows run in this order for each user: reads, then writes on objects of their own, then the
# session operations, logout last.
MATRIX: dict[str, str] = {
    # operational
    "GET /healthz":                                                 "200 200 200 200 200 200 200 200 200 200 200 200 200",  # noqa: E501
    "GET /readyz":                                                  "200 200 200 200 200 200 200 200 200 200 200 200 200",  # noqa: E501
    "GET /api/v1/me":                                               "200 200 200 200 200 200 200 200 200 200 200 200 401",  # noqa: E501
    # the partnership
    "GET /api/v1/organisations":                                    "200 200 200 200 200 200 200 200 200 200 200 200 401",  # noqa: E501
    "GET /api/v1/organisations/{organisation_id}":                  "200 200 200 200 200 200 200 200 200 200 200 200 401",  # noqa: E501
    "GET /api/v1/services":                                         "200 200 200 200 200 200 200 200 200 200 200 200 401",  # noqa: E501
    "GET /api/v1/services/{service_id}":                            "200 200 200 200 200 200 200 200 200 200 200 200 401",  # noqa: E501
    "GET /api/v1/users":                                            "200 403 200 403 403 403 403 200 403 200 403 403 401",  # noqa: E501
    "GET /api/v1/users/{user_id}":                                  "200 403 404 403 403 403 403 404 403 404 403 403 401",  # noqa: E501
    # referrals between the police and Glow
    "GET /api/v1/referrals":                                        "403 200 200 403 403 403 200 200 200 200 200 200 401",  # noqa: E501
    "GET /api/v1/referrals/{referral_id}":                          "403 200 200 403 403 403 404 404 404 404 200 404 401",  # noqa: E501
    "GET /api/v1/referrals/{referral_id}/events":                   "403 200 200 403 403 403 404 404 404 404 200 404 401",  # noqa: E501
    # refuges and beds
    "GET /api/v1/refuges":                                          "200 200 200 200 200 200 200 200 200 200 200 200 401",  # noqa: E501
    "GET /api/v1/refuges/{refuge_id}/availability":                 "200 200 200 200 200 200 200 200 200 200 200 200 401",  # noqa: E501
    "GET /api/v1/refuges/{refuge_id}/availability/history":         "200 200 200 200 200 200 200 200 200 200 200 200 401",  # noqa: E501
    "GET /api/v1/beds/search":                                      "200 200 200 200 200 200 200 200 200 200 200 200 401",  # noqa: E501
    "GET /api/v1/refuges/{refuge_id}/holds":                        "403 403 403 403 403 403 403 403 403 403 200 403 401",  # noqa: E501
    # funding
    "GET /api/v1/funds":                                            "200 200 200 200 200 200 200 200 200 200 200 200 401",  # noqa: E501
    "GET /api/v1/funds/{fund_id}":                                  "200 200 200 200 200 200 200 200 200 200 200 200 401",  # noqa: E501
    "GET /api/v1/projects":                                         "200 200 200 200 200 200 200 200 200 200 200 200 401",  # noqa: E501
    "GET /api/v1/projects/{project_id}":                            "200 200 200 200 200 200 200 200 200 200 200 200 401",  # noqa: E501
    "GET /api/v1/projects/{project_id}/milestones":                 "200 200 200 200 200 200 200 200 200 200 200 200 401",  # noqa: E501
    "GET /api/v1/projects/{project_id}/milestones/{milestone_id}":  "200 200 200 200 200 200 200 200 200 200 200 200 401",  # noqa: E501
    "GET /api/v1/projects/{project_id}/spend":                      "200 200 200 200 200 200 200 200 200 200 200 200 401",  # noqa: E501
    "GET /api/v1/projects/{project_id}/spend/{period}":             "200 200 200 200 200 200 200 200 200 200 200 200 401",  # noqa: E501
    "GET /api/v1/projects/{project_id}/spend/{period}/history":     "200 200 200 200 200 200 200 200 200 200 200 200 401",  # noqa: E501
    "GET /api/v1/projects/{project_id}/outputs":                    "200 200 200 200 200 200 200 200 200 200 200 200 401",  # noqa: E501
    "GET /api/v1/projects/{project_id}/outputs/{output_id}":        "200 200 200 200 200 200 200 200 200 200 200 200 401",  # noqa: E501
    "GET /api/v1/funding/summary":                                  "200 200 200 200 200 200 200 200 200 200 200 200 401",  # noqa: E501
    "GET /api/v1/exports/360giving":                                "200 200 200 200 200 200 200 200 200 200 200 200 401",  # noqa: E501
    "GET /api/v1/exports/projects.csv":                             "200 200 200 200 200 200 200 200 200 200 200 200 401",  # noqa: E501
    # oversight
    "GET /api/v1/audit-events":                                     "200 403 200 403 403 403 403 200 403 200 403 403 401",  # noqa: E501
    "GET /api/v1/stats/referrals":                                  "200 200 200 200 200 200 200 200 200 200 200 200 401",  # noqa: E501
    "GET /api/v1/stats/safe-accommodation-return":                  "200 403 403 403 200 200 403 403 403 403 403 403 401",  # noqa: E501
    "GET /api/v1/stats/unmet-need":                                 "200 403 403 403 200 200 403 403 403 403 403 403 401",  # noqa: E501
    # safe accommodation: a stay at Glow's refuge (Glow's alone); Glow's commissioned spaces
    "GET /api/v1/referrals/{referral_id}/stay":                     "403 403 403 403 403 403 404 404 404 404 200 404 401",  # noqa: E501
    "GET /api/v1/refuges/{refuge_id}/commissioned-spaces":          "200 200 200 200 200 200 200 200 200 200 200 200 401",  # noqa: E501
    # events, webhooks (Staffordshire Women's Aid's) and vacancy alerts (the police's)
    "GET /api/v1/events":                                           "200 200 200 200 200 200 200 200 200 200 200 200 401",  # noqa: E501
    "GET /api/v1/webhooks":                                         "200 403 200 403 403 403 403 200 403 200 403 403 401",  # noqa: E501
    "GET /api/v1/webhooks/{webhook_id}":                            "404 403 404 403 403 403 403 404 403 200 403 403 401",  # noqa: E501
    "GET /api/v1/webhooks/{webhook_id}/attempts":                   "404 403 404 403 403 403 403 404 403 200 403 403 401",  # noqa: E501
    "GET /api/v1/vacancy-alerts":                                   "403 200 200 403 403 403 200 200 200 200 200 200 401",  # noqa: E501
    "GET /api/v1/vacancy-alerts/{alert_id}":                        "403 200 200 403 403 403 404 404 404 404 404 404 401",  # noqa: E501
    # writes, each on an object of its own
    "POST /api/v1/organisations":                                   "201 403 403 403 403 403 403 403 403 403 403 403 401",  # noqa: E501
    "PATCH /api/v1/organisations/{organisation_id}":                "200 403 403 403 403 403 403 403 403 403 403 403 401",  # noqa: E501
    "POST /api/v1/services":                                        "201 403 403 403 403 403 403 403 403 403 403 403 401",  # noqa: E501
    "PATCH /api/v1/services/{service_id}":                          "200 403 403 403 403 403 403 403 403 403 403 403 401",  # noqa: E501
    # Issue 25: the partnership admin makes only an organisation's first admin (Glow's staff
    # user asked for here is Glow's admins' to make): 201 became 403 (rule user.create).
    "POST /api/v1/users":                                           "403 403 403 403 403 403 403 403 403 403 403 403 401",  # noqa: E501
    "PATCH /api/v1/users/{user_id}":                                "200 403 404 403 403 403 403 404 403 404 403 403 401",  # noqa: E501
    "POST /api/v1/referrals":                                       "403 201 201 403 403 403 201 201 201 201 403 201 401",  # noqa: E501
    "POST /api/v1/referrals/{referral_id}/notes":                   "403 201 201 403 403 403 404 404 404 404 201 404 401",  # noqa: E501
    "POST /api/v1/referrals/{referral_id}/transitions":             "403 403 403 403 403 403 404 404 404 404 200 404 401",  # noqa: E501
    "POST /api/v1/referrals/{referral_id}/hold":                    "403 201 201 403 403 403 404 404 404 404 201 404 401",  # noqa: E501
    "DELETE /api/v1/referrals/{referral_id}/hold":                  "403 204 204 403 403 403 404 404 404 404 204 404 401",  # noqa: E501
    "POST /api/v1/refuges/{refuge_id}/availability/confirm":        "403 403 403 403 403 403 403 403 403 403 200 403 401",  # noqa: E501
    "PUT /api/v1/refuges/{refuge_id}/availability":                 "403 403 403 403 403 403 403 403 403 403 200 403 401",  # noqa: E501
    "PATCH /api/v1/referrals/{referral_id}/stay":                   "403 403 403 403 403 403 404 404 404 404 200 404 401",  # noqa: E501
    "PUT /api/v1/refuges/{refuge_id}/commissioned-spaces":          "403 403 403 403 403 403 403 403 403 403 200 403 401",  # noqa: E501
    "POST /api/v1/refuges/{refuge_id}/holds/{hold_id}/release":     "403 403 403 403 403 403 403 403 403 403 200 403 401",  # noqa: E501
    "POST /api/v1/funds":                                           "201 403 403 403 201 403 403 403 403 403 403 403 401",  # noqa: E501
    "PATCH /api/v1/funds/{fund_id}":                                "200 403 403 403 200 403 403 403 403 403 403 403 401",  # noqa: E501
    "POST /api/v1/projects":                                        "201 403 403 403 201 403 403 403 403 403 403 403 401",  # noqa: E501
    "PATCH /api/v1/projects/{project_id}":                          "200 403 403 403 200 403 200 200 403 403 200 403 401",  # noqa: E501
    "POST /api/v1/projects/{project_id}/milestones":                "201 403 403 403 201 403 201 201 403 403 201 403 401",  # noqa: E501
    "PATCH /api/v1/projects/{project_id}/milestones/{milestone_id}":"200 403 403 403 200 403 200 200 403 403 200 403 401",  # noqa: E501
    "POST /api/v1/projects/{project_id}/spend":                     "201 403 403 403 201 403 201 201 403 403 201 403 401",  # noqa: E501
    "PATCH /api/v1/projects/{project_id}/spend/{period}":           "200 403 403 403 200 403 200 200 403 403 200 403 401",  # noqa: E501
    "POST /api/v1/projects/{project_id}/outputs":                   "201 403 403 403 201 403 201 201 403 403 201 403 401",  # noqa: E501
    "PATCH /api/v1/projects/{project_id}/outputs/{output_id}":      "200 403 403 403 200 403 200 200 403 403 200 403 401",  # noqa: E501
    "POST /api/v1/webhooks":                                        "201 403 201 403 403 403 403 201 403 201 403 403 401",  # noqa: E501
    "PATCH /api/v1/webhooks/{webhook_id}":                          "404 403 404 403 403 403 403 404 403 200 403 403 401",  # noqa: E501
    "POST /api/v1/webhooks/{webhook_id}/rotate-secret":             "404 403 404 403 403 403 403 404 403 200 403 403 401",  # noqa: E501
    "POST /api/v1/webhooks/{webhook_id}/replays":                   "404 403 404 403 403 403 403 404 403 202 403 403 401",  # noqa: E501
    "DELETE /api/v1/webhooks/{webhook_id}":                         "404 403 404 403 403 403 403 404 403 204 403 403 401",  # noqa: E501
    "POST /api/v1/vacancy-alerts":                                  "403 201 201 403 403 403 201 201 201 201 201 201 401",  # noqa: E501
    "DELETE /api/v1/vacancy-alerts/{alert_id}":                     "403 204 204 403 403 403 404 404 404 404 404 404 401",  # noqa: E501
    # the session: sign in (the anonymous caller with Glow's credentials), rotate, sign out
    "POST /api/v1/auth/login":                                      "200 200 200 200 200 200 200 200 200 200 200 200 200",  # noqa: E501
    "POST /api/v1/auth/refresh":                                    "200 200 200 200 200 200 200 200 200 200 200 200 401",  # noqa: E501
    "POST /api/v1/auth/logout":                                     "204 204 204 204 204 204 204 204 204 204 204 204 401",  # noqa: E501
}  # fmt: skip


def documented_type(operation: str, status: int) -> str:
    """The media type the document gives for this answer (JSON unless it says otherwise)."""
    method, path = operation.split(" ", 1)
    answer = SPEC["paths"][path][method.lower()]["responses"].get(str(status), {})
    return next(iter(answer.get("content", {})), "application/json")


def documented_statuses(operation: str) -> set[int]:
    method, path = operation.split(" ", 1)
    responses = SPEC["paths"][path][method.lower()]["responses"]
    return {int(code) for code in responses if code.isdigit()}


def test_every_operation_of_the_document_has_a_decision():
    missing = sorted(DOCUMENTED_OPERATIONS - set(MATRIX))
    assert not missing, f"operations without a row in the access matrix: {missing}"
    stale = sorted(set(MATRIX) - DOCUMENTED_OPERATIONS)
    assert not stale, f"rows for operations the document no longer has: {stale}"
    for operation, row in MATRIX.items():
        assert len(row.split()) == len(USERS), operation


def test_the_table_is_need_to_know():
    """Sanity of the decisions themselves: nobody outside the referral's parties reads it."""
    column = {user: index for index, user in enumerate(USERS)}
    for operation in ("GET /api/v1/referrals/{referral_id}", "GET /api/v1/audit-events"):
        row = MATRIX[operation].split()
        for user in ("opcc.analyst", "police.analyst", "swa.staff", "pathway.staff", ANONYMOUS):
            assert not row[column[user]].startswith("2"), (operation, user)
    for operation, row in MATRIX.items():
        if operation not in ("GET /healthz", "GET /readyz", "POST /api/v1/auth/login"):
            assert row.split()[column[ANONYMOUS]] == "401", operation


@pytest.mark.parametrize("username", USERS)
def test_each_user_gets_exactly_the_answers_the_table_gives(client, login, ids, username):
    world = build_world(client, login, ids)
    # The world's calls run in the table's order (test_data_exposure runs them in it too).
    assert list(calls_for(world)) == list(MATRIX)
    tokens = session_tokens(client, username)
    column = USERS.index(username)
    failures = []
    for operation, row in MATRIX.items():
        expected = int(row.split()[column])
        call = request_for(operation, world)
        response = send(client, call, username, tokens)
        status = response.status_code
        if status != expected:
            failures.append(
                f"{operation} as {username}: {status}, expected {expected}: "
                f"{response.get_data(as_text=True)[:200]}"
            )
        if status not in documented_statuses(operation):
            failures.append(f"{operation} answered {status}, which the document does not list")
        if status != 204:
            assert response.mimetype == documented_type(operation, status), operation
        if status >= 400:
            body = response.get_json()
            assert body["code"] == status and body["message"], (operation, body)
        if operation == "POST /api/v1/auth/refresh" and status == 200:
            tokens = response.get_json()  # the rotated session signs out next
        if operation == "POST /api/v1/refuges/{refuge_id}/availability/confirm" and status == 200:
            world.glow_availability_etag = response.headers["ETag"]  # the report PUT comes next
    assert not failures, "\n".join(failures)
