"""The last active admin, under concurrency, on PostgreSQL (issue 25, point 9).

Two admins of one organisation demote each other at the same moment: each request saw the
other still an admin, both succeeded, and the organisation was left with none. The check now
locks the organisation's admin rows first, so the second waits for the first and then finds
itself the last.
"""

from __future__ import annotations

import threading

import pytest

from tests.conftest import is_postgres
from tests.factories import at_once

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not is_postgres(), reason="needs PostgreSQL's concurrency"),
]


def test_two_admins_demoting_each_other_at_once_leave_one_admin(
    app, client, login, ids, monkeypatch
):
    from partnership_api.services import partnership

    first = login("swa.admin")
    made = client.post(
        "/api/v1/users",
        json={"username": "swa.deputy", "role": "admin", "password": "a-long-enough-password"},
        headers=first,
    )
    assert made.status_code == 201
    deputy_id = made.get_json()["id"]
    second = login("swa.deputy", "a-long-enough-password")

    # Both requests reach the moment after their check before either writes, if nothing
    # keeps the second out (a barrier that gives up after a while, when one of them waits
    # for the other's lock instead).
    checked = threading.Barrier(2)
    keeps_an_admin = partnership._keeps_an_admin

    def check_then_wait(user, data):
        keeps_an_admin(user, data)
        try:
            checked.wait(timeout=3)
        except threading.BrokenBarrierError:
            pass

    monkeypatch.setattr(partnership, "_keeps_an_admin", check_then_wait)
    demote = {"role": "staff"}
    results = at_once(
        app,
        [
            ("patch", f"/api/v1/users/{deputy_id}", {"json": demote, "headers": first}),
            (
                "patch",
                f"/api/v1/users/{ids.user['swa.admin']}",
                {"json": demote, "headers": second},
            ),
        ],
    )
    assert sorted(status for status, _ in results) == [200, 409], results
    loser = next(answer for status, answer in results if status == 409)
    assert "last active admin" in loser["message"]
    monkeypatch.undo()
    admins = [
        user["username"]
        for user in client.get(
            "/api/v1/users?page_size=100", headers=login("partnership.admin")
        ).get_json()
        if user["role"] == "admin" and user["active"] and user["username"].startswith("swa.")
    ]
    assert len(admins) == 1, admins
