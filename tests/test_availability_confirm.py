""" "Still accurate": a refuge worker confirms her refuge's figures without changing them.

Told by Glow's night worker, and by those who must not confirm for her: another refuge's
staff, an officer, the commissioner's office, the partnership admin.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from partnership_api.models.audit import AuditEvent
from partnership_api.models.base import utcnow
from partnership_api.models.beds import AvailabilityReport, RefugeAvailability

GLOW = "Glow refuge"


def _url(refuge: int, what: str = "availability") -> str:
    return f"/api/v1/refuges/{refuge}/{what}"


def _read(client, headers, refuge):
    response = client.get(_url(refuge), headers=headers)
    assert response.status_code == 200
    return response


def test_a_refuge_worker_confirms_and_the_report_is_fresh_again(
    client, login, ids, db_session, app
):
    h = login("glow.staff")
    glow = ids.service[GLOW]
    # The night worker's report is older than the limit: stale for every officer searching.
    row = db_session.get(RefugeAvailability, glow)
    row.updated_at = utcnow() - app.config["AVAILABILITY_STALE_AFTER"] - timedelta(minutes=5)
    db_session.commit()
    # The test's app context is shared by the client's requests (Flask pushes none of its own
    # when one is active): start them on a fresh session, as every real request is.
    db_session.remove()
    before = _read(client, h, glow)
    assert before.get_json()["stale"] is True
    history_before = client.get(_url(glow, "availability/history"), headers=h).get_json()

    response = client.post(
        _url(glow, "availability/confirm"), headers={**h, "If-Match": before.headers["ETag"]}
    )

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["stale"] is False and body["updated_by"] == "glow.staff"
    # The figures are the ones she confirmed: nothing changed but the time and the version.
    assert body["spaces"] == before.get_json()["spaces"]
    assert body["version"] == before.get_json()["version"] + 1
    new_etag = response.headers["ETag"]
    assert new_etag != before.headers["ETag"]
    officer = login("police.officer")
    after = _read(client, officer, glow)
    assert after.headers["ETag"] == new_etag and after.get_json()["stale"] is False
    # The bed search sees it fresh too.
    found = client.get("/api/v1/beds/search?nrpf=true", headers=officer).get_json()
    assert [r["stale"] for r in found if r["refuge_id"] == glow] == [False]

    # Kept in the history: a report of the same figures, newest first.
    history = client.get(_url(glow, "availability/history"), headers=h).get_json()
    assert len(history) == len(history_before) + 1
    newest = history[0]
    assert newest["version"] == body["version"] and newest["reported_by"] == "glow.staff"
    assert newest["spaces"] == [
        {"space_type": s["space_type"], "total": s["total"], "vacant": s["vacant"]}
        for s in before.get_json()["spaces"]
    ]
    # And in the audit trail, as a confirmation.
    event = db_session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "availability.confirm")
    ).one()
    assert event.resource_type == "refuge" and event.resource_id == str(glow)
    assert event.outcome == "allowed" and event.username == "glow.staff"
    assert event.subject_organisation_id == ids.org["Glow"]
    assert event.details["version"] == body["version"]


def test_a_confirmation_on_a_stale_etag_is_refused_with_412(client, login, ids, db_session):
    h = login("glow.staff")
    glow = ids.service[GLOW]
    etag = _read(client, h, glow).headers["ETag"]
    # A colleague saves new figures first.
    changed = client.put(
        _url(glow),
        json={"spaces": [{"space_type": "family", "total": 2, "vacant": 0}]},
        headers={**h, "If-Match": etag},
    )
    assert changed.status_code == 200
    reports = db_session.scalar(sa.select(sa.func.count()).select_from(AvailabilityReport))

    response = client.post(_url(glow, "availability/confirm"), headers={**h, "If-Match": etag})

    assert response.status_code == 412
    # Her confirmation never vouches for figures she has not seen.
    assert _read(client, h, glow).headers["ETag"] == changed.headers["ETag"]
    assert db_session.scalar(sa.select(sa.func.count()).select_from(AvailabilityReport)) == reports


@pytest.mark.parametrize("if_match", [None, "*", 'W/"refuge-1-v1"', '"refuge-1-v1", "refuge-1-v2"'])
def test_a_confirmation_without_one_strong_etag_is_refused_with_428(
    client, login, ids, db_session, if_match
):
    h = login("glow.staff")
    glow = ids.service[GLOW]
    before = _read(client, h, glow).headers["ETag"]
    headers = dict(h) if if_match is None else {**h, "If-Match": if_match}
    response = client.post(_url(glow, "availability/confirm"), headers=headers)
    assert response.status_code == 428
    assert _read(client, h, glow).headers["ETag"] == before
    assert not db_session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "availability.confirm")
    ).all()


@pytest.mark.parametrize(
    "username",
    [
        "swa.staff",  # another refuge's staff, as for the report
        "police.officer",
        "opcc.staff",
        "partnership.admin",
        "police.analyst",
    ],
)
def test_nobody_but_the_refuges_own_staff_confirms_it(client, login, ids, db_session, username):
    glow = ids.service[GLOW]
    h = login(username)
    etag = _read(client, h, glow).headers["ETag"]
    response = client.post(_url(glow, "availability/confirm"), headers={**h, "If-Match": etag})
    assert response.status_code == 403
    assert _read(client, h, glow).headers["ETag"] == etag
    refused = db_session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.outcome == "refused", AuditEvent.username == username
        )
    ).all()
    assert refused, "a refused confirmation is audited"


def test_a_service_that_is_not_a_refuge_cannot_be_confirmed(client, login, ids):
    h = login("glow.staff")
    for service in (ids.service["New Era helpline"], 999999):
        response = client.post(
            _url(service, "availability/confirm"), headers={**h, "If-Match": '"refuge-1-v1"'}
        )
        assert response.status_code == 404


def test_signed_out_nobody_confirms(client, ids):
    response = client.post(
        _url(ids.service[GLOW], "availability/confirm"), headers={"If-Match": '"refuge-1-v1"'}
    )
    assert response.status_code == 401
