"""The audit trail, told by the admins who oversee it and by someone who tampers with it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import DEMO_PASSWORD

CONTRACT_FIELDS = {
    "id",
    "at",
    "user_id",
    "username",
    "organisation_id",
    "action",
    "resource_type",
    "resource_id",
    "request_id",
    "client_address",
    "outcome",
}
NEW_USER = {"username": "swa.volunteer", "role": "staff", "password": "a-long-enough-password"}


def events(db_session, **where):
    """The events written so far, oldest first, read behind the API."""
    from partnership_api.models.audit import AuditEvent

    db_session.expire_all()
    stmt = sa.select(AuditEvent).order_by(AuditEvent.id)
    for name, value in where.items():
        stmt = stmt.where(getattr(AuditEvent, name) == value)
    return db_session.scalars(stmt).all()


def trail(client, headers, **params):
    response = client.get("/api/v1/audit-events", query_string=params, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# --- every audited action leaves an event -----------------------------------------------------


def test_signing_in_and_failing_to_sign_in_are_recorded(client, db_session, ids):
    client.post("/api/v1/auth/login", json={"username": "glow.staff", "password": "wrong"})
    client.post("/api/v1/auth/login", json={"username": "glow.staff", "password": DEMO_PASSWORD})
    failed, succeeded = events(db_session, action="auth.login")
    assert (failed.outcome, failed.username, failed.details) == (
        "refused",
        "glow.staff",
        {"reason": "bad_credentials"},
    )
    assert failed.subject_organisation_id == ids.org["Glow"]
    assert succeeded.outcome == "allowed" and succeeded.resource_id == str(ids.user["glow.staff"])
    assert succeeded.request_id and succeeded.client_address
    assert "wrong" not in str(failed.details) and DEMO_PASSWORD not in str(succeeded.details)


def test_signing_out_is_recorded(client, login, db_session, ids):
    client.post("/api/v1/auth/logout", headers=login("swa.staff"))
    (event,) = events(db_session, action="auth.logout")
    assert event.user_id == ids.user["swa.staff"] and event.outcome == "allowed"


def test_user_administration_is_recorded(client, login, db_session, ids):
    admin = login("swa.admin")
    created = client.post("/api/v1/users", json=NEW_USER, headers=admin)
    assert created.status_code == 201
    user_id = created.get_json()["id"]
    changed = client.patch(f"/api/v1/users/{user_id}", json={"active": False}, headers=admin)
    assert changed.status_code == 200
    (create,) = events(db_session, action="user.create")
    (update,) = events(db_session, action="user.update")
    for event in (create, update):
        assert event.username == "swa.admin" and event.resource_id == user_id
        assert event.subject_organisation_id == ids.org["Staffordshire Women's Aid"]
    assert update.details == {"fields": ["active"]}
    assert NEW_USER["password"] not in str(create.details)


def test_service_changes_are_recorded(client, login, db_session, ids):
    admin = login("swa.admin")
    created = client.post(
        "/api/v1/services",
        json={
            "organisation_id": ids.org["Staffordshire Women's Aid"],
            "name": "SWA outreach",
            "kind": "victim_support",
            "areas": ["E07000197"],
        },
        headers=admin,
    )
    assert created.status_code == 201
    service_id = created.get_json()["id"]
    assert (
        client.patch(
            f"/api/v1/services/{service_id}",
            json={"hours": "Mon-Fri"},
            headers={**admin, "If-Match": created.headers["ETag"]},
        ).status_code
        == 200
    )
    assert [e.resource_id for e in events(db_session, action="service.create")] == [str(service_id)]
    (update,) = events(db_session, action="service.update")
    assert update.details == {"fields": ["hours"]} and update.outcome == "allowed"


def test_a_refused_read_of_a_hidden_object_leaves_a_refused_event(client, login, db_session, ids):
    police_officer = ids.user["police.officer"]
    hidden = client.get(f"/api/v1/users/{police_officer}", headers=login("swa.admin"))
    assert hidden.status_code == 404
    (refusal,) = events(db_session, action="user.read")
    assert refusal.outcome == "refused" and refusal.username == "swa.admin"
    assert refusal.resource_id == str(police_officer)
    assert refusal.details == {"status": 404}


def test_a_refused_function_leaves_a_refused_event(client, login, db_session, ids):
    response = client.get(
        f"/api/v1/users/{ids.user['police.officer']}", headers=login("glow.staff")
    )
    assert response.status_code == 403
    (refusal,) = events(db_session, action="user.manage", outcome="refused")
    assert refusal.username == "glow.staff" and refusal.organisation_id == ids.org["Glow"]


def test_reading_the_trail_and_the_figures_are_recorded_too(client, login, db_session):
    trail(client, login("police.admin"), action="auth.login")
    client.get("/api/v1/stats/referrals", headers=login("police.analyst"))
    (read,) = events(db_session, action="audit.read")
    assert read.username == "police.admin" and read.details["filters"] == {"action": "auth.login"}
    (figures,) = events(db_session, action="stats.read")
    assert figures.username == "police.analyst"


# --- who sees which events ---------------------------------------------------------------------


def test_an_org_admin_sees_their_own_organisations_events_only(client, login, ids):
    login("police.officer")
    login("glow.staff")
    login("swa.staff")
    client.post("/api/v1/auth/login", json={"username": "police.admin", "password": "x"})
    admin = login("swa.admin")
    swa = ids.org["Staffordshire Women's Aid"]
    police = ids.org["Staffordshire Police"]

    seen = trail(client, admin, page_size=100)
    assert {e["username"] for e in seen} == {"swa.staff", "swa.admin"}
    assert all(e["organisation_id"] == swa for e in seen)
    # Asking for another organisation's events by name gives nothing away.
    assert trail(client, admin, organisation_id=police) == []
    assert trail(client, admin, user_id=str(ids.user["police.officer"])) == []
    assert trail(client, admin, action="auth.login", outcome="refused") == []


def test_the_partnership_admin_sees_every_organisations_events(client, login, ids):
    login("police.officer")
    login("glow.staff")
    admin = login("partnership.admin")
    police = trail(client, admin, organisation_id=ids.org["Staffordshire Police"])
    assert [e["username"] for e in police] == ["police.officer"]
    everyone = {e["username"] for e in trail(client, admin, action="auth.login")}
    assert {"police.officer", "glow.staff", "partnership.admin"} <= everyone


@pytest.mark.parametrize(
    "username", ["police.officer", "police.analyst", "opcc.staff", "opcc.analyst", "glow.staff"]
)
def test_staff_and_analysts_cannot_read_the_trail(client, login, db_session, username):
    response = client.get("/api/v1/audit-events", headers=login(username))
    assert response.status_code == 403
    (refusal,) = events(db_session, action="audit.read")
    assert refusal.outcome == "refused" and refusal.username == username


def test_the_trail_cannot_be_changed_through_the_api(client, login):
    admin = login("partnership.admin")
    assert client.get("/api/v1/audit-events").status_code == 401
    for method in ("post", "put", "patch", "delete"):
        response = getattr(client, method)("/api/v1/audit-events", json={}, headers=admin)
        assert response.status_code == 405, method
        assert "GET" in response.headers["Allow"]


# --- reading it --------------------------------------------------------------------------------


def test_events_have_the_contracted_fields_newest_first_and_page(client, login, ids):
    for i in range(3):  # from three addresses: each is the first failure of its pair
        client.post(
            "/api/v1/auth/login",
            json={"username": "newera.staff", "password": "no"},
            environ_base={"REMOTE_ADDR": f"192.0.2.{i + 1}"},
        )
    admin = login("newera.admin")
    response = client.get("/api/v1/audit-events", query_string={"page_size": 2}, headers=admin)
    assert response.status_code == 200
    first_page = response.get_json()
    assert len(first_page) == 2
    assert CONTRACT_FIELDS <= set(first_page[0])
    # Its id is random (issue 25): newest first shows in the times and the order of events.
    assert first_page[0]["at"] >= first_page[1]["at"] and first_page[0]["id"] != first_page[1]["id"]
    assert first_page[0]["username"] == "newera.admin"  # its own sign-in is the newest
    assert first_page[0]["outcome"] == "allowed" and first_page[1]["outcome"] == "refused"
    assert '"total": 4' in response.headers["X-Pagination"]
    at = datetime.fromisoformat(first_page[0]["at"])
    assert at.tzinfo is not None


def test_filters_narrow_the_trail(client, login, ids):
    client.post("/api/v1/auth/login", json={"username": "glow.staff", "password": "no"})
    login("glow.staff")
    admin = login("partnership.admin")
    glow_staff = str(ids.user["glow.staff"])
    mine = trail(client, admin, user_id=glow_staff)
    assert [e["action"] for e in mine] == ["auth.login"]  # the failure had no signed-in user
    by_resource = trail(client, admin, resource_type="user", resource_id=glow_staff)
    assert [e["outcome"] for e in by_resource] == ["allowed", "refused"]
    now = datetime.now(UTC)
    assert trail(client, admin, to=(now - timedelta(hours=1)).isoformat()) == []
    recent = trail(client, admin, **{"from": (now - timedelta(hours=1)).isoformat()})
    assert len(recent) >= 3
    bad = client.get("/api/v1/audit-events", query_string={"outcome": "maybe"}, headers=admin)
    assert bad.status_code == 422
    backwards = client.get(
        "/api/v1/audit-events",
        query_string={"from": now.isoformat(), "to": (now - timedelta(days=1)).isoformat()},
        headers=admin,
    )
    assert backwards.status_code == 422


# --- tamper evidence ---------------------------------------------------------------------------


@pytest.fixture
def some_history(client, login):
    login("police.officer")
    client.post("/api/v1/auth/login", json={"username": "police.officer", "password": "no"})
    login("swa.staff")
    login("glow.staff")


def test_an_untouched_trail_verifies(app, some_history, db_session):
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert f"{len(events(db_session))} events checked" in result.output


def test_editing_one_event_in_the_database_is_named_by_verify(app, some_history, db_session):
    from partnership_api.models.audit import AuditEvent

    target = events(db_session, outcome="refused")[0].id
    db_session.execute(
        sa.update(AuditEvent).where(AuditEvent.id == target).values(action="auth.logout")
    )
    db_session.commit()
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"broken at event {target}:" in result.output
    assert "does not match its hash" in result.output


def test_rewriting_an_events_hash_too_breaks_the_next_link(app, some_history, db_session):
    from partnership_api.models.audit import AuditEvent

    target = events(db_session)[1].id
    db_session.execute(sa.update(AuditEvent).where(AuditEvent.id == target).values(hash="f" * 64))
    db_session.commit()
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"broken at event {target}:" in result.output


@pytest.mark.parametrize("which", ["first", "middle", "last"])
def test_deleting_an_event_is_detected(app, some_history, db_session, which):
    from partnership_api.models.audit import AuditEvent

    ids = [e.id for e in events(db_session)]
    target = {"first": ids[0], "middle": ids[len(ids) // 2], "last": ids[-1]}[which]
    db_session.execute(sa.delete(AuditEvent).where(AuditEvent.id == target))
    db_session.commit()
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"broken at event {target}:" in result.output


def _rewrite_in_the_first_format(db_session):
    """The trail as the first hash format (``audit.legacy_digest``) would have written it."""
    from partnership_api import audit
    from partnership_api.models.audit import AuditChainHead, AuditEvent

    prev = audit.GENESIS_HASH
    for event in db_session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)):
        event.prev_hash = prev
        event.hash = prev = audit.legacy_digest(event)
    db_session.get(AuditChainHead, 1).last_hash = prev
    db_session.commit()


def test_a_trail_begun_in_the_first_hash_format_still_verifies(
    app, some_history, client, login, db_session
):
    _rewrite_in_the_first_format(db_session)
    legacy = events(db_session)
    login("newera.staff")  # events in the current format, chained onto the old ones
    assert len(events(db_session)) > len(legacy)
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output


def test_an_edited_event_of_the_first_format_is_still_named(
    app, some_history, client, login, db_session
):
    from partnership_api.models.audit import AuditEvent

    _rewrite_in_the_first_format(db_session)
    target = events(db_session)[1].id
    login("newera.staff")
    db_session.execute(
        sa.update(AuditEvent).where(AuditEvent.id == target).values(username="someone.else")
    )
    db_session.commit()
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"broken at event {target}:" in result.output


def test_the_first_format_cannot_follow_the_current_one(app, some_history, login, db_session):
    """Once the chain is in the current format, an event hashed the old way is a forgery."""
    from partnership_api import audit
    from partnership_api.models.audit import AuditChainHead

    last = events(db_session)[-1]
    last.hash = audit.legacy_digest(last)
    db_session.get(AuditChainHead, 1).last_hash = last.hash
    db_session.commit()
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"broken at event {last.id}:" in result.output
