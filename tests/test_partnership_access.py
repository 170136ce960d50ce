"""Sign-in, organisations, services and users, told role by role."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import DEMO_PASSWORD

SWA_ADDRESS = "14 Demo Secret Row"
GLOW_ADDRESS = "3 Hidden Demo Lane"
PATHWAY_ADDRESS = "27 Confidential Demo Close"
DEMO_USERS = [
    "partnership.admin",
    "police.officer",
    "police.admin",
    "police.analyst",
    "opcc.staff",
    "opcc.analyst",
    "newera.staff",
    "newera.admin",
    "swa.staff",
    "swa.admin",
    "glow.staff",
    "pathway.staff",
]


# --- signing in ---------------------------------------------------------------------------------


@pytest.mark.parametrize("username", DEMO_USERS)
def test_every_demo_user_signs_in_and_sees_who_they_are(client, login, username):
    me = client.get("/api/v1/me", headers=login(username))
    assert me.status_code == 200
    body = me.get_json()
    assert body["username"] == username
    assert set(body["organisation"]) == {"id", "name", "kind"}


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(client):
    wrong = client.post("/api/v1/auth/login", json={"username": "swa.staff", "password": "nope"})
    unknown = client.post("/api/v1/auth/login", json={"username": "nobody", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json()["message"] == unknown.get_json()["message"]


def test_a_login_answer_has_the_contracted_fields(client):
    body = client.post(
        "/api/v1/auth/login", json={"username": "swa.staff", "password": DEMO_PASSWORD}
    ).get_json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 15 * 60
    assert body["access_token"] and body["refresh_token"]


def test_logout_ends_the_session_at_once(client, login):
    headers = login("police.officer")
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_a_deactivated_users_unexpired_token_is_refused(client, login, ids):
    worker = login("glow.staff")
    assert client.get("/api/v1/me", headers=worker).status_code == 200
    admin = login("partnership.admin")
    changed = client.patch(
        f"/api/v1/users/{ids.user['glow.staff']}", json={"active": False}, headers=admin
    )
    assert changed.status_code == 200
    refused = client.get("/api/v1/me", headers=worker)
    assert refused.status_code == 401 and refused.is_json
    again = client.post(
        "/api/v1/auth/login", json={"username": "glow.staff", "password": DEMO_PASSWORD}
    )
    assert again.status_code == 401


# --- every route is public on purpose or protected --------------------------------------------

PUBLIC = {
    ("/healthz", "GET"),
    ("/readyz", "GET"),
    ("/openapi.json", "GET"),
    ("/docs", "GET"),
    ("/docs/assets/<filename>", "GET"),
    ("/api/v1/auth/login", "POST"),
    ("/api/v1/auth/refresh", "POST"),
    # Prometheus's: its own bearer token (METRICS_TOKEN), never a user's: tests/test_metrics.py
    ("/metrics", "GET"),
    # The public directory (Open Referral UK): read-only, tests/test_oruk.py
    ("/oruk/", "GET"),
    ("/oruk/openapi.json", "GET"),
    ("/oruk/services", "GET"),
    ("/oruk/services/<uuid:service_id>", "GET"),
    ("/oruk/service_at_locations", "GET"),
    ("/oruk/service_at_locations/<uuid:service_at_location_id>", "GET"),
    ("/oruk/taxonomies", "GET"),
    ("/oruk/taxonomies/<uuid:taxonomy_id>", "GET"),
    ("/oruk/taxonomy_terms", "GET"),
    ("/oruk/taxonomy_terms/<uuid:term_id>", "GET"),
}


# Pages anyone may open (partnership_api/web/pages.py); every other page sends a caller without
# a page session to the sign-in page, and never answers a bearer token.
OPEN_PAGES = {
    ("/sign-in", "GET"),
    ("/sign-in", "POST"),
    ("/assets/<path:filename>", "GET"),
}


def test_every_route_is_either_explicitly_public_or_protected(app, client, login):
    from partnership_api.smorest import is_page_endpoint, is_public
    from partnership_api.web.pages import OPEN_PAGES as open_endpoints

    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            key = (rule.rule, method)
            if is_page_endpoint(rule.endpoint):
                if rule.endpoint in open_endpoints:
                    assert key in OPEN_PAGES, f"{method} {rule.rule} is open but not in the list"
                    continue
                path = rule.build(
                    {
                        name: 1
                        if type(converter).__name__ != "UUIDConverter"
                        else "00000000-0000-4000-8000-000000000000"
                        for name, converter in rule._converters.items()
                    },
                    append_unknown=False,
                )[1]
                # No session cookie: sent to sign in, even with an API token.
                for headers in ({}, login("partnership.admin")):
                    response = client.open(path, method=method, headers=headers)
                    assert response.status_code == 303, f"{method} {rule.rule} answers unsigned"
                    assert response.headers["Location"].startswith("/sign-in")
                continue
            if is_public(rule.endpoint, view, method):
                assert key in PUBLIC, f"{method} {rule.rule} is public but not in the list"
                continue
            path = rule.rule
            for argument in rule.arguments:
                path = path.replace(f"<{argument}>", "1")
                for converter in ("int", "uuid", "string"):
                    path = path.replace(
                        f"<{converter}:{argument}>",
                        "00000000-0000-4000-8000-000000000000" if converter == "uuid" else "1",
                    )
            response = client.open(path, method=method)
            assert response.status_code == 401, f"{method} {rule.rule} answers without a token"
            assert response.is_json


# --- organisations ------------------------------------------------------------------------------


def test_any_signed_in_user_lists_organisations_but_only_the_partnership_admin_adds_one(
    client, login
):
    listed = client.get("/api/v1/organisations", headers=login("opcc.analyst"))
    assert listed.status_code == 200
    assert len(listed.get_json()) == 6
    new = {"name": "Drive Partnership", "kind": "provider", "areas": ["E07000197"]}
    for username in ("police.admin", "swa.admin", "opcc.staff"):
        assert (
            client.post("/api/v1/organisations", json=new, headers=login(username)).status_code
            == 403
        )
    created = client.post("/api/v1/organisations", json=new, headers=login("partnership.admin"))
    assert created.status_code == 201
    assert (
        client.post(
            "/api/v1/organisations", json=new, headers=login("partnership.admin")
        ).status_code
        == 409
    )


# --- services and refuge addresses --------------------------------------------------------------


def test_a_refuges_address_is_shown_only_to_its_own_organisation(client, login, ids):
    swa_refuge = ids.service["Staffordshire Women's Aid refuge"]
    own = client.get(f"/api/v1/services/{swa_refuge}", headers=login("swa.staff"))
    assert own.get_json()["address"].startswith(SWA_ADDRESS)
    for username in DEMO_USERS:
        if username.startswith("swa."):
            continue
        single = client.get(f"/api/v1/services/{swa_refuge}", headers=login(username))
        assert single.status_code == 200
        assert "address" not in single.get_json()
        listed = client.get("/api/v1/services?page_size=100", headers=login(username))
        assert SWA_ADDRESS not in listed.get_data(as_text=True)


def test_a_refuge_user_cannot_change_another_refuges_address(client, login, ids):
    glow_refuge = ids.service["Glow refuge"]
    for username in ("swa.admin", "swa.staff", "pathway.staff"):
        response = client.patch(
            f"/api/v1/services/{glow_refuge}", json={"address": "leaked"}, headers=login(username)
        )
        assert response.status_code == 403
    assert GLOW_ADDRESS in client.get(
        f"/api/v1/services/{glow_refuge}", headers=login("glow.staff")
    ).get_data(as_text=True)


def test_an_org_admin_manages_only_their_own_services(client, login, ids):
    swa_refuge = ids.service["Staffordshire Women's Aid refuge"]
    admin = login("swa.admin")
    url = f"/api/v1/services/{swa_refuge}"
    etag = client.get(url, headers=admin).headers["ETag"]
    changed = client.patch(url, json={"hours": "24/7"}, headers={**admin, "If-Match": etag})
    assert changed.status_code == 200 and changed.get_json()["hours"] == "24/7"
    new = {
        "organisation_id": ids.org["Glow"],
        "name": "Glow outreach",
        "kind": "victim_support",
        "areas": ["E06000021"],
    }
    assert client.post("/api/v1/services", json=new, headers=login("swa.admin")).status_code == 403
    assert client.post("/api/v1/services", json=new, headers=login("glow.staff")).status_code == 403
    assert (
        client.post("/api/v1/services", json=new, headers=login("partnership.admin")).status_code
        == 201
    )


def test_services_filter_by_kind_and_area(client, login):
    headers = login("police.officer")
    refuges = client.get("/api/v1/services?kind=refuge", headers=headers).get_json()
    assert {s["name"] for s in refuges} == {
        "Staffordshire Women's Aid refuge",
        "Glow refuge",
        "Pathway refuge",
    }
    tamworth = client.get("/api/v1/services?kind=refuge&area=E07000199", headers=headers)
    assert [s["name"] for s in tamworth.get_json()] == ["Pathway refuge"]
    bad = client.get("/api/v1/services?area=W99999999", headers=headers)
    assert bad.status_code == 422


# --- users --------------------------------------------------------------------------------------


def test_an_org_admin_creates_and_manages_users_of_their_own_organisation(client, login, ids):
    admin = login("swa.admin")
    created = client.post(
        "/api/v1/users",
        json={"username": "swa.night", "role": "staff", "password": "a-long-enough-password"},
        headers=admin,
    )
    assert created.status_code == 201
    user = created.get_json()
    assert user["organisation_id"] == ids.org["Staffordshire Women's Aid"]
    assert "password" not in user and "password_hash" not in user
    promoted = client.patch(f"/api/v1/users/{user['id']}", json={"role": "admin"}, headers=admin)
    assert promoted.status_code == 200 and promoted.get_json()["role"] == "admin"
    listed = client.get("/api/v1/users", headers=admin).get_json()
    assert {u["organisation_id"] for u in listed} == {ids.org["Staffordshire Women's Aid"]}


def test_an_org_admin_cannot_touch_another_organisations_users(client, login, ids):
    admin = login("swa.admin")
    police_officer = ids.user["police.officer"]
    assert client.get(f"/api/v1/users/{police_officer}", headers=admin).status_code == 404
    assert (
        client.patch(
            f"/api/v1/users/{police_officer}", json={"active": False}, headers=admin
        ).status_code
        == 404
    )
    elsewhere = client.post(
        "/api/v1/users",
        json={
            "username": "planted",
            "role": "admin",
            "password": "a-long-enough-password",
            "organisation_id": ids.org["Staffordshire Police"],
        },
        headers=admin,
    )
    assert elsewhere.status_code == 403
    assert (
        client.post(
            "/api/v1/auth/login", json={"username": "police.officer", "password": DEMO_PASSWORD}
        ).status_code
        == 200
    )


def test_staff_and_analysts_cannot_manage_users(client, login, ids):
    for username in ("swa.staff", "police.analyst", "opcc.staff"):
        headers = login(username)
        assert client.get("/api/v1/users", headers=headers).status_code == 403
        assert (
            client.get(f"/api/v1/users/{ids.user['swa.staff']}", headers=headers).status_code == 403
        )


@pytest.mark.parametrize(
    "smuggled",
    [
        {"partnership_admin": True},
        {"organisation_id": 1},
        {"role": "admin", "partnership_admin": True},
    ],
)
def test_mass_assignment_is_rejected_not_silently_applied(client, login, ids, smuggled):
    admin = login("swa.admin")
    own = ids.user["swa.staff"]
    patched = client.patch(f"/api/v1/users/{own}", json=smuggled, headers=admin)
    assert patched.status_code == 422
    if "partnership_admin" in smuggled:
        created = client.post(
            "/api/v1/users",
            json={
                "username": "sneaky",
                "role": "staff",
                "password": "a-long-enough-password",
                **smuggled,
            },
            headers=admin,
        )
        assert created.status_code == 403
    me = client.get("/api/v1/me", headers=login("swa.staff")).get_json()
    assert me["partnership_admin"] is False and me["role"] == "staff"
    assert me["organisation"]["id"] == ids.org["Staffordshire Women's Aid"]


def test_a_user_cannot_promote_themselves(client, login, ids):
    headers = login("swa.staff")
    response = client.patch(
        f"/api/v1/users/{ids.user['swa.staff']}", json={"role": "admin"}, headers=headers
    )
    assert response.status_code == 403


def test_only_the_partnership_admin_makes_a_partnership_admin(client, login, ids):
    created = client.post(
        "/api/v1/users",
        json={
            "username": "second.admin",
            "role": "admin",
            "password": "a-long-enough-password",
            "partnership_admin": True,
            "organisation_id": ids.org["Staffordshire Commissioner's Office"],
        },
        headers=login("partnership.admin"),
    )
    assert created.status_code == 201 and created.get_json()["partnership_admin"] is True


def test_a_password_reset_ends_the_users_sessions(client, login, ids, db_session):
    # By the worker's own organisation's admin (the partnership admin may not: issue 25).
    worker = login("swa.staff")
    reset = client.patch(
        f"/api/v1/users/{ids.user['swa.staff']}",
        json={"password": "a-brand-new-password"},
        headers=login("swa.admin"),
    )
    assert reset.status_code == 200
    assert client.get("/api/v1/me", headers=worker).status_code == 401
    from partnership_api.models.partnership import User

    stored = db_session.scalar(sa.select(User.password_hash).where(User.username == "swa.staff"))
    assert stored.startswith("$argon2")


def test_an_org_admin_cannot_take_over_the_partnership_admin(client, login, ids):
    created = client.post(
        "/api/v1/users",
        json={"username": "opcc.admin", "role": "admin", "password": "another-long-password"},
        headers=login("partnership.admin"),
    )
    assert created.status_code == 201
    opcc_admin = login("opcc.admin", "another-long-password")
    target = ids.user["partnership.admin"]
    for change in ({"password": "attacker-chosen-pw"}, {"active": False}, {"role": "staff"}):
        assert (
            client.patch(f"/api/v1/users/{target}", json=change, headers=opcc_admin).status_code
            == 403
        )
    assert client.get("/api/v1/me", headers=login("partnership.admin")).status_code == 200


def test_a_refused_cross_organisation_user_creation_is_audited(client, login, ids, db_session):
    from partnership_api.models.audit import AuditEvent

    refused = client.post(
        "/api/v1/users",
        json={
            "username": "x.evil",
            "role": "admin",
            "password": "a-long-enough-password",
            "organisation_id": ids.org["Staffordshire Police"],
        },
        headers=login("swa.admin"),
    )
    assert refused.status_code == 403
    events = db_session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.action == "user.create", AuditEvent.outcome == "refused"
        )
    ).all()
    assert [(e.username, e.subject_organisation_id) for e in events] == [
        ("swa.admin", ids.org["Staffordshire Police"])
    ]


# --- issue 25, point 4: the partnership admin cannot become a refuge worker -----------------------

NEW_PASSWORD = "a-long-enough-password"
SWA_ORG = "Staffordshire Women's Aid"


def _make(client, headers, **body):
    return client.post(
        "/api/v1/users", json={"password": NEW_PASSWORD, "role": "staff", **body}, headers=headers
    )


def _feed(client, headers) -> list[dict]:
    answer = client.get("/api/v1/events?page_size=100", headers=headers)
    assert answer.status_code == 200
    return [e for e in answer.get_json() if e["type"] == "user.password_reset_refused"]


def test_the_partnership_admin_makes_only_an_organisations_first_admin(client, login, ids):
    admin = login("partnership.admin")
    # A worker in a refuge, to sign in as and read its address and referrals: refused.
    worker = _make(client, admin, username="glow.nightcover", organisation_id=ids.org["Glow"])
    assert worker.status_code == 403
    assert "first admin" in worker.get_json()["message"]
    # SWA has an admin already: a second one is SWA's to make.
    second = _make(
        client, admin, username="swa.second", role="admin", organisation_id=ids.org[SWA_ORG]
    )
    assert second.status_code == 403
    # Glow has no admin yet: its first is the partnership admin's job ...
    first = _make(
        client, admin, username="glow.manager", role="admin", organisation_id=ids.org["Glow"]
    )
    assert first.status_code == 201
    again = _make(
        client, admin, username="glow.deputy", role="admin", organisation_id=ids.org["Glow"]
    )
    assert again.status_code == 403
    # ... and Glow's admin makes Glow's other users.
    glow_admin = login("glow.manager", NEW_PASSWORD)
    assert _make(client, glow_admin, username="glow.nightcover").status_code == 201
    # In its own organisation the partnership admin is an ordinary admin.
    assert _make(client, admin, username="opcc.newstarter").status_code == 201


def test_the_partnership_admin_cannot_reset_a_refuge_workers_password(
    client, login, ids, db_session
):
    from partnership_api.models.audit import AuditEvent

    admin = login("partnership.admin")
    url = f"/api/v1/users/{ids.user['swa.staff']}"
    reset = client.patch(url, json={"password": "now-i-know-her-password"}, headers=admin)
    assert reset.status_code == 403, reset.get_json()
    assert "own organisation's admins" in reset.get_json()["message"]
    # Her password is unchanged, and nobody signs in with the new one.
    wrong = client.post(
        "/api/v1/auth/login",
        json={"username": "swa.staff", "password": "now-i-know-her-password"},
    )
    assert wrong.status_code == 401
    assert login("swa.staff").get("Authorization")
    # SWA's admins are told (the feed, and SWA's webhooks); nobody else is.
    (told,) = _feed(client, login("swa.admin"))
    assert told["data"] == {
        "organisation_id": ids.org[SWA_ORG],
        "user_id": str(ids.user["swa.staff"]),
    }
    for outsider in ("swa.staff", "police.admin", "partnership.admin", "newera.admin"):
        assert _feed(client, login(outsider)) == [], outsider
    db_session.rollback()
    refused = db_session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.action == "user.reset_password", AuditEvent.outcome == "refused"
        )
    ).all()
    assert [e.username for e in refused] == ["partnership.admin"]
    # SWA's own admin resets it; the partnership admin still resets her own office's users.
    assert (
        client.patch(url, json={"password": NEW_PASSWORD}, headers=login("swa.admin")).status_code
        == 200
    )
    own = f"/api/v1/users/{ids.user['opcc.staff']}"
    assert client.patch(own, json={"password": NEW_PASSWORD}, headers=admin).status_code == 200
