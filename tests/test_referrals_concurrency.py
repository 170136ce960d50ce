"""Referrals under concurrency, on PostgreSQL: retries racing, partners acting at once."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest
import sqlalchemy as sa

from partnership_api.models.referrals import IdempotencyKey, Referral
from tests.conftest import is_postgres
from tests.factories import (
    GLOW_REFUGE,
    REFERRALS_URL,
    SWA_REFUGE,
    at_once,
    make_referral,
    victim_referral,
)

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not is_postgres(), reason="needs PostgreSQL's concurrency"),
]


def test_one_key_from_eight_retries_at_once_makes_one_referral(app, login, ids, db_session):
    police = login("police.officer")
    headers = {**police, "Idempotency-Key": str(uuid.uuid4())}
    body = victim_referral(ids.service[SWA_REFUGE])
    results = at_once(app, [("post", REFERRALS_URL, {"json": body, "headers": headers})] * 8)

    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 1, 200: 7}, results
    assert len({answer["id"] for _, answer in results}) == 1
    db_session.rollback()
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Referral)) == 1
    assert db_session.scalar(sa.select(sa.func.count()).select_from(IdempotencyKey)) == 1


def test_eight_officers_referring_at_once_get_eight_different_references(app, login, ids):
    police = login("police.officer")
    body = victim_referral(ids.service[SWA_REFUGE])
    results = at_once(app, [("post", REFERRALS_URL, {"json": body, "headers": police})] * 8)
    assert [status for status, _ in results] == [201] * 8
    assert len({answer["reference"] for _, answer in results}) == 8


def test_accept_and_withdraw_at_once_exactly_one_wins(app, client, login, ids, db_session):
    police, swa = login("police.officer"), login("swa.staff")
    for _ in range(3):
        referral = make_referral(client, police, victim_referral(ids.service[SWA_REFUGE]))
        url = f"{REFERRALS_URL}/{referral['id']}/transitions"
        results = at_once(
            app,
            [
                ("post", url, {"json": {"action": "accept"}, "headers": swa}),
                ("post", url, {"json": {"action": "withdraw"}, "headers": police}),
            ],
        )
        assert sorted(status for status, _ in results) == [200, 409], results
        winner = next(answer for status, answer in results if status == 200)
        loser = next(answer for status, answer in results if status == 409)
        assert winner["status"] in loser["message"]
        final = client.get(f"{REFERRALS_URL}/{referral['id']}", headers=police).get_json()
        assert final["status"] == winner["status"]
        events = client.get(f"{REFERRALS_URL}/{referral['id']}/events", headers=police).get_json()
        assert [e["kind"] for e in events] == ["created", winner["status"]]


def test_two_redirects_at_once_make_one_onward_referral(app, client, login, ids, db_session):
    police, swa = login("police.officer"), login("swa.staff")
    referral = make_referral(client, police, victim_referral(ids.service[SWA_REFUGE]))
    body = {"action": "redirect", "to_service_id": ids.service[GLOW_REFUGE]}
    url = f"{REFERRALS_URL}/{referral['id']}/transitions"
    results = at_once(app, [("post", url, {"json": body, "headers": swa})] * 2)
    assert sorted(status for status, _ in results) == [200, 409], results
    db_session.rollback()
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Referral)) == 2


def test_sixteen_audited_reads_at_once_keep_the_trail_one_unbroken_line(
    app, client, login, ids, db_session
):
    """Each read writes its event; all of them racing still give one chain, verified whole."""
    from partnership_api.models.audit import AuditEvent

    police = login("police.officer")
    made = make_referral(client, police, victim_referral(ids.service[SWA_REFUGE]))
    before = db_session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    reads = [("get", f"{REFERRALS_URL}/{made['id']}", {"headers": police})] * 12
    inboxes = [("get", f"{REFERRALS_URL}?direction=sent", {"headers": police})] * 4
    results = at_once(app, reads + inboxes)

    assert [status for status, _ in results] == [200] * 16
    db_session.rollback()
    after = db_session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    assert after - before == 16
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert f"{after} events checked" in result.output
