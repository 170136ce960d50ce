"""Stolen, forged and stale tokens, sessions, and sign-in throttling, told by an attacker.

Every forged or stale token is answered with a JSON 401 and counted against the caller's
address; the first failure of an address's window leaves one refused ``auth.failures`` event in
the audit trail (a flood of junk tokens cannot flood the trail: see the end of this file).
Sessions live in the database, so a logout, a deactivation or a
password reset is honoured at once, by this process and by any other serving the same data.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests import faultlib
from tests.conftest import DEMO_PASSWORD, TEST_SETTINGS

SECRET = TEST_SETTINGS["JWT_SECRET_KEY"]
LOGIN = "/api/v1/auth/login"


# --- helpers -----------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _json_b64(value: dict) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


def _hs256_by_hand(header: dict, claims: dict, key: bytes) -> str:
    """Sign with HMAC ourselves (PyJWT rightly refuses a PEM public key as an HMAC secret)."""
    signing_input = f"{_json_b64(header)}.{_json_b64(claims)}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _sign_in(client, username: str, password: str = DEMO_PASSWORD) -> dict:
    response = client.post(LOGIN, json={"username": username, "password": password})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _token_refusals(db_session) -> int:
    from partnership_api.models.audit import AuditEvent

    db_session.rollback()  # see what the requests committed
    return db_session.scalar(
        sa.select(sa.func.count(AuditEvent.id)).where(
            AuditEvent.action == "auth.failures", AuditEvent.outcome == "refused"
        )
    )


def _address_failures(db_session, address: str = "127.0.0.1") -> int:
    from partnership_api.models.partnership import AuthCounter

    db_session.rollback()
    counter = db_session.get(AuthCounter, f"address:{address}")
    return counter.count if counter else 0


def _assert_refused_and_audited(client, db_session, token: str) -> None:
    counted = _address_failures(db_session)
    response = client.get("/api/v1/me", headers=_bearer(token))
    assert response.status_code == 401
    assert response.is_json
    assert response.get_json()["message"] == "A valid access token is required."
    # Counted against the address, and the address's window is on the audit trail once.
    assert _address_failures(db_session) == counted + 1
    assert _token_refusals(db_session) == 1


@pytest.fixture
def officer(client):
    """A live session of police.officer: its tokens and the verified claims of its access token."""
    tokens = _sign_in(client, "police.officer")
    return {**tokens, "claims": _claims(tokens["access_token"])}


def _forge(claims: dict, key: str = SECRET, algorithm: str = "HS256", **changes) -> str:
    return jwt.encode({**claims, **changes}, key, algorithm=algorithm)


# --- forged and stale access tokens ------------------------------------------------------------


def test_the_genuine_token_works_and_is_not_audited_as_refused(client, db_session, officer):
    before = _token_refusals(db_session)
    assert client.get("/api/v1/me", headers=_bearer(officer["access_token"])).status_code == 200
    assert _token_refusals(db_session) == before


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "bEaReR"])
def test_the_scheme_in_any_letter_case_is_the_same_token(client, db_session, officer, scheme):
    # RFC 7235: an authentication scheme is case-insensitive; a client writing "bearer" is
    # answered as one writing "Bearer", and a forged token is refused whatever the case.
    token = officer["access_token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"{scheme} {token}"})
    assert me.status_code == 200 and me.get_json()["username"] == "police.officer"
    forged = _forge(officer["claims"], key="x" * 48)
    refused = client.get("/api/v1/me", headers={"Authorization": f"{scheme} {forged}"})
    assert refused.status_code == 401


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_an_unsigned_alg_none_token_is_refused(client, db_session, officer, alg):
    unsigned = f"{_json_b64({'alg': alg, 'typ': 'JWT'})}.{_json_b64(officer['claims'])}."
    _assert_refused_and_audited(client, db_session, unsigned)


def test_an_rs256_token_signed_with_the_attackers_own_key_is_refused(client, db_session, officer):
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(officer["claims"], private_key, algorithm="RS256")
    _assert_refused_and_audited(client, db_session, token)


def test_an_hs256_token_keyed_with_a_public_key_is_refused(client, db_session, officer):
    # The classic RS/HS confusion: a verifier that accepts whatever "alg" says would check
    # this HMAC with the public key as the secret.
    public_pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    token = _hs256_by_hand({"alg": "HS256", "typ": "JWT"}, officer["claims"], public_pem)
    _assert_refused_and_audited(client, db_session, token)


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_a_token_signed_with_the_right_key_but_another_hmac_algorithm_is_refused(
    client, db_session, officer
):
    _assert_refused_and_audited(client, db_session, _forge(officer["claims"], algorithm="HS512"))


def test_a_token_signed_with_a_wrong_key_is_refused(client, db_session, officer):
    token = _forge(officer["claims"], key="a-guessed-secret-that-is-long-enough-0123456789")
    _assert_refused_and_audited(client, db_session, token)


def test_an_expired_token_is_refused(client, db_session, officer):
    now = int(time.time())
    token = _forge(officer["claims"], iat=now - 3600, nbf=now - 3600, exp=now - 60)
    _assert_refused_and_audited(client, db_session, token)


def test_a_token_not_yet_valid_is_refused(client, db_session, officer):
    now = int(time.time())
    token = _forge(officer["claims"], nbf=now + 3600, exp=now + 7200)
    _assert_refused_and_audited(client, db_session, token)


def test_a_token_of_a_logged_out_session_is_refused(client, db_session, officer):
    headers = _bearer(officer["access_token"])
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    _assert_refused_and_audited(client, db_session, officer["access_token"])


def test_a_refresh_token_is_not_an_access_token(client, db_session, officer):
    _assert_refused_and_audited(client, db_session, officer["refresh_token"])


@pytest.mark.parametrize(
    "claim, value",
    [
        ("org", "the commissioner's office"),
        ("org", 999),
        ("role", "admin"),
        ("sub", "the partnership admin"),
        # A fixed id: every xdist worker must collect the same test ids.
        ("sid", "5f0c7a4e-2b1d-4c8e-9a3f-6d2e1b0c9a87"),
        ("exp", 4102444800),
        ("type", "refresh"),
    ],
)
def test_an_edited_claim_breaks_the_signature(client, db_session, officer, ids, claim, value):
    value = {
        "the commissioner's office": ids.org["Staffordshire Commissioner's Office"],
        "the partnership admin": str(ids.user["partnership.admin"]),
    }.get(value, value)
    assert officer["claims"][claim] != value
    header, _payload, signature = officer["access_token"].split(".")
    edited = f"{header}.{_json_b64({**officer['claims'], claim: value})}.{signature}"
    _assert_refused_and_audited(client, db_session, edited)


def test_a_validly_signed_token_naming_another_user_for_this_session_is_refused(
    client, db_session, officer, ids
):
    # Even with the key, the session ties the token to one user: another sub does not fit it.
    token = _forge(officer["claims"], sub=str(ids.user["partnership.admin"]))
    _assert_refused_and_audited(client, db_session, token)


def test_a_validly_signed_token_without_a_session_id_is_refused(client, db_session, officer):
    claims = {k: v for k, v in officer["claims"].items() if k != "sid"}
    _assert_refused_and_audited(client, db_session, _forge(claims))


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "a.b.c",
        "e30.e30.",
        "....",
        "x" * 5000,
        "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln",
        "\u00e9\u00e9\u00e9.\u00e9.\u00e9",
    ],
)
def test_garbage_is_refused(client, db_session, token):
    _assert_refused_and_audited(client, db_session, token)


@pytest.mark.parametrize("header", ["Basic cG9saWNlOnB3", "Bearer", "Bearer ", "Token abc"])
def test_a_malformed_authorization_header_is_a_json_401(client, header):
    response = client.get("/api/v1/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.is_json


def test_no_token_at_all_is_a_json_401(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.is_json


def test_the_refusal_is_audited_with_the_callers_address_and_request_id(client, db_session):
    from partnership_api.models.audit import AuditEvent

    response = client.get(
        "/api/v1/me",
        headers={**_bearer("garbage"), "X-Request-ID": "stolen-token-probe-1"},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert response.status_code == 401
    db_session.rollback()
    event = db_session.scalar(
        sa.select(AuditEvent).where(AuditEvent.request_id == "stolen-token-probe-1")
    )
    assert event is not None
    assert (event.action, event.outcome, event.user_id) == ("auth.failures", "refused", None)
    assert event.details["first_action"] == "auth.token"
    assert event.client_address == "203.0.113.9"


# --- sessions: refresh rotation, logout, deactivation, password reset ---------------------------


def _refresh(client, refresh_token: str):
    return client.post("/api/v1/auth/refresh", headers=_bearer(refresh_token))


def test_refresh_rotates_and_the_old_refresh_token_stops_working(client, officer):
    first = _refresh(client, officer["refresh_token"])
    assert first.status_code == 200
    rotated = first.get_json()
    assert rotated["refresh_token"] != officer["refresh_token"]
    assert client.get("/api/v1/me", headers=_bearer(rotated["access_token"])).status_code == 200
    assert _refresh(client, rotated["refresh_token"]).status_code == 200


def test_reusing_an_old_refresh_token_revokes_the_whole_session(client, db_session, officer):
    from partnership_api.models.audit import AuditEvent

    newer = _refresh(client, officer["refresh_token"]).get_json()
    newest = _refresh(client, newer["refresh_token"]).get_json()
    assert client.get("/api/v1/me", headers=_bearer(newest["access_token"])).status_code == 200

    # Someone replays the first refresh token (stolen earlier): the whole session ends.
    replay = _refresh(client, officer["refresh_token"])
    assert replay.status_code == 401 and replay.is_json
    assert client.get("/api/v1/me", headers=_bearer(newest["access_token"])).status_code == 401
    assert client.get("/api/v1/me", headers=_bearer(officer["access_token"])).status_code == 401
    assert _refresh(client, newest["refresh_token"]).status_code == 401

    db_session.rollback()
    reasons = db_session.scalars(
        sa.select(AuditEvent.details).where(
            AuditEvent.action == "auth.refresh", AuditEvent.outcome == "refused"
        )
    ).all()
    assert {"reason": "refresh_token_reused"} in reasons


def test_an_access_token_cannot_refresh(client, officer):
    response = _refresh(client, officer["access_token"])
    assert response.status_code == 401 and response.is_json


def test_a_forged_refresh_token_cannot_refresh(client, officer):
    refresh_claims = _claims(officer["refresh_token"])
    forged = _forge(refresh_claims, key="a-guessed-secret-that-is-long-enough-0123456789")
    assert _refresh(client, forged).status_code == 401
    # ... and the genuine one is still fine: a forgery does not end someone else's session.
    assert _refresh(client, officer["refresh_token"]).status_code == 200


def test_logging_out_ends_the_refresh_token_too(client, officer):
    assert (
        client.post("/api/v1/auth/logout", headers=_bearer(officer["access_token"])).status_code
        == 204
    )
    assert _refresh(client, officer["refresh_token"]).status_code == 401


def test_a_cached_bed_search_refuses_the_token_at_once_after_logging_out(client, officer):
    # The bed search checks its session on a connection of its own and answers from a cache:
    # a sign-out must still end it on the very next request, as everywhere else.
    headers = _bearer(officer["access_token"])
    for _ in range(2):  # the second one answered from the search cache
        assert client.get("/api/v1/beds/search?children=1", headers=headers).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    refused = client.get("/api/v1/beds/search?children=1", headers=headers)
    assert refused.status_code == 401


def test_logging_out_one_session_leaves_the_users_other_sessions(client):
    phone = _sign_in(client, "swa.staff")
    desk = _sign_in(client, "swa.staff")
    assert (
        client.post("/api/v1/auth/logout", headers=_bearer(phone["access_token"])).status_code
        == 204
    )
    assert client.get("/api/v1/me", headers=_bearer(phone["access_token"])).status_code == 401
    assert client.get("/api/v1/me", headers=_bearer(desk["access_token"])).status_code == 200


def test_a_deactivated_users_unexpired_tokens_are_refused(client, login, ids):
    worker = _sign_in(client, "glow.staff")
    assert client.get("/api/v1/me", headers=_bearer(worker["access_token"])).status_code == 200
    deactivated = client.patch(
        f"/api/v1/users/{ids.user['glow.staff']}",
        json={"active": False},
        headers=login("partnership.admin"),
    )
    assert deactivated.status_code == 200
    assert client.get("/api/v1/me", headers=_bearer(worker["access_token"])).status_code == 401
    assert _refresh(client, worker["refresh_token"]).status_code == 401


def test_a_password_reset_revokes_every_session_of_that_user(client, login, ids):
    first = _sign_in(client, "newera.staff")
    second = _sign_in(client, "newera.staff")
    reset = client.patch(
        f"/api/v1/users/{ids.user['newera.staff']}",
        json={"password": "a-brand-new-long-password"},
        headers=login("newera.admin"),
    )
    assert reset.status_code == 200
    for session in (first, second):
        assert client.get("/api/v1/me", headers=_bearer(session["access_token"])).status_code == 401
        assert _refresh(client, session["refresh_token"]).status_code == 401
    assert (
        client.post(LOGIN, json={"username": "newera.staff", "password": DEMO_PASSWORD}).status_code
        == 401
    )
    fresh = _sign_in(client, "newera.staff", "a-brand-new-long-password")
    assert client.get("/api/v1/me", headers=_bearer(fresh["access_token"])).status_code == 200


# --- a second app process on the same database -------------------------------------------------


@pytest.fixture(scope="module")
def second_process(database):
    """The API in a gunicorn process of its own, serving this run's test database."""
    env = faultlib.app_environment(
        str(database["SQLALCHEMY_DATABASE_URI"]),
        JWT_SECRET_KEY=SECRET,
        DATABASE_SCHEMA=database.get("DATABASE_SCHEMA"),
        RATELIMIT_ENABLED="false",
    )
    server = faultlib.AppServer(env, workers=1, threads=2)
    try:
        server.start()
        yield server
    finally:
        server.destroy()


def test_a_logout_in_one_process_is_honoured_by_another_at_once(client, second_process):
    tokens = _sign_in(client, "police.officer")
    status, answer = faultlib.request(
        "GET", second_process.url("/api/v1/me"), token=tokens["access_token"]
    )
    assert status == 200 and answer.json["username"] == "police.officer"

    assert (
        client.post("/api/v1/auth/logout", headers=_bearer(tokens["access_token"])).status_code
        == 204
    )

    status, answer = faultlib.request(
        "GET", second_process.url("/api/v1/me"), token=tokens["access_token"]
    )
    assert status == 401 and answer.is_json
    status, _ = faultlib.request(
        "POST", second_process.url("/api/v1/auth/refresh"), token=tokens["refresh_token"]
    )
    assert status == 401


def test_a_session_rotated_in_one_process_cannot_be_replayed_in_another(client, second_process):
    tokens = _sign_in(client, "swa.staff")
    status, rotated = faultlib.request(
        "POST", second_process.url("/api/v1/auth/refresh"), token=tokens["refresh_token"]
    )
    assert status == 200
    assert _refresh(client, tokens["refresh_token"]).status_code == 401  # replay: session ends
    status, _ = faultlib.request(
        "GET", second_process.url("/api/v1/me"), token=rotated.json["access_token"]
    )
    assert status == 401


# --- sign-in throttling ------------------------------------------------------------------------


def _attempt(client, username: str, password: str, address: str = "127.0.0.1"):
    return client.post(
        LOGIN,
        json={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def _twenty_wrong(client, username: str, address: str = "127.0.0.1") -> list:
    return [_attempt(client, username, f"wrong-{i}", address) for i in range(20)]


def test_wrong_passwords_lock_the_address_and_name_pair_and_then_the_right_one_is_refused(
    client,
):
    answers = _twenty_wrong(client, "swa.staff")
    assert all(a.is_json for a in answers)
    statuses = [a.status_code for a in answers]
    assert statuses[:5] == [401] * 5
    assert statuses[5:] == [429] * 15
    assert "Retry-After" in answers[-1].headers
    right = _attempt(client, "swa.staff", DEMO_PASSWORD)
    assert right.status_code == 429 and right.is_json
    assert "access_token" not in right.get_json()


def test_a_hostile_partner_cannot_lock_the_refuges_night_worker_out(client):
    # From their own office, someone types the on-call worker's name with wrong passwords,
    # again and again: only their own address is locked for that name.
    hostile = [_attempt(client, "swa.staff", f"guess-{i}", "203.0.113.66") for i in range(12)]
    assert hostile[-1].status_code == 429
    # The night worker, at the refuge, signs in at once.
    night_worker = _attempt(client, "swa.staff", DEMO_PASSWORD, "192.0.2.80")
    assert night_worker.status_code == 200, night_worker.get_json()


def test_the_lock_holds_on_a_worker_whose_rate_limiter_has_counted_nothing(client):
    from partnership_api.extensions import limiter

    _twenty_wrong(client, "pathway.staff")
    limiter.reset()  # another worker, without shared limiter storage: the lock is in the database
    right = _attempt(client, "pathway.staff", DEMO_PASSWORD)
    assert right.status_code == 429 and right.is_json
    assert "access_token" not in right.get_json()


def test_the_per_address_sign_in_limit_is_shared_by_every_worker(client):
    from partnership_api.extensions import limiter

    # make run serves three workers: without shared storage each would grant the whole budget.
    answers = [_attempt(client, f"guess.{i}", "wrong", "198.51.100.20") for i in range(20)]
    assert [a.status_code for a in answers] == [401] * 20
    limiter.reset()  # a worker whose own memory has counted nothing
    assert _attempt(client, "guess.x", "wrong", "198.51.100.20").status_code == 429


def test_the_lock_is_audited_once_not_per_attempt(client, db_session):
    from partnership_api.models.audit import AuditEvent

    _twenty_wrong(client, "glow.staff")
    db_session.rollback()
    refused = db_session.scalars(
        sa.select(AuditEvent.details)
        .where(
            AuditEvent.action == "auth.login",
            AuditEvent.outcome == "refused",
            AuditEvent.username == "glow.staff",
        )
        .order_by(AuditEvent.id)
    ).all()
    # The first wrong password, and the one that locked the pair: not twenty rows.
    assert refused == [{"reason": "bad_credentials"}, {"reason": "pair_locked"}]


def test_an_unknown_username_is_throttled_exactly_like_a_real_one(client):
    real = _twenty_wrong(client, "newera.staff", "192.0.2.1")
    unknown = _twenty_wrong(client, "no.such.user", "192.0.2.2")
    assert [a.status_code for a in real] == [a.status_code for a in unknown]
    assert [a.get_json()["message"] for a in real] == [a.get_json()["message"] for a in unknown]
    assert "Retry-After" in real[-1].headers and "Retry-After" in unknown[-1].headers


def test_a_locked_account_and_a_throttled_unknown_name_read_the_same(client):
    from partnership_api.extensions import limiter

    # The pair lock and the per-address limit must not be told apart by their message, nor
    # a real name from an unknown one: otherwise the message says whether the account exists.
    _twenty_wrong(client, "swa.admin", "192.0.2.3")
    limiter.reset()
    locked = _attempt(client, "swa.admin", "wrong-again", "192.0.2.3")
    throttled = _twenty_wrong(client, "no.such.admin", "192.0.2.4")[-1]
    assert locked.status_code == throttled.status_code == 429
    assert locked.get_json()["message"] == throttled.get_json()["message"]


def test_a_name_in_other_capitals_is_another_name_and_locks_only_itself(client):
    # Names are matched exactly (issue 25): "Police.Officer" is not police.officer's account,
    # so its wrong passwords lock that pair only, and it can never sign in.
    wrong = [_attempt(client, "Police.Officer", f"wrong-{i}") for i in range(6)]
    assert [a.status_code for a in wrong] == [401] * 5 + [429]
    assert _attempt(client, "police.officer", DEMO_PASSWORD).status_code == 200


def test_one_address_trying_many_names_is_throttled_and_another_address_is_not(client):
    answers = [_attempt(client, f"guess.{i}", "wrong", "198.51.100.7") for i in range(25)]
    statuses = [a.status_code for a in answers]
    assert statuses[:20] == [401] * 20
    assert statuses[20:] == [429] * 5
    assert all(a.is_json for a in answers)
    # Even the right password of a real user is refused from that address for now ...
    assert _attempt(client, "police.officer", DEMO_PASSWORD, "198.51.100.7").status_code == 429
    # ... while an officer at another address signs in.
    assert _attempt(client, "police.officer", DEMO_PASSWORD, "198.51.100.8").status_code == 200


def test_throttling_one_account_does_not_lock_out_another(client):
    _twenty_wrong(client, "opcc.staff")
    assert _attempt(client, "opcc.analyst", DEMO_PASSWORD, "192.0.2.44").status_code == 200


# --- failed authentication per client address: no audit flood -------------------------------------


def test_a_flood_of_junk_tokens_from_one_address_writes_one_audit_event_and_then_429(
    client, db_session
):
    from partnership_api.models.audit import AuditEvent

    db_session.rollback()
    before = db_session.scalar(sa.select(sa.func.count(AuditEvent.id)))
    address = {"REMOTE_ADDR": "203.0.113.40"}
    junk = [
        {"Authorization": "Bearer garbage"},
        {"Authorization": "Basic cG9saWNlLm9mZmljZXI6Z3Vlc3M="},
        {"Authorization": "Bearer not.a.jwt"},
    ]
    statuses = [
        client.get("/api/v1/me", headers=junk[i % 3], environ_base=address).status_code
        for i in range(25)
    ]
    # Junk refresh tokens count in the same budget.
    statuses += [
        client.post(
            "/api/v1/auth/refresh", headers=_bearer(f"junk-{i}"), environ_base=address
        ).status_code
        for i in range(15)
    ]
    assert statuses[:30] == [401] * 30
    assert statuses[30:] == [429] * 10
    db_session.rollback()
    written = db_session.scalars(
        sa.select(AuditEvent).where(AuditEvent.id > before).order_by(AuditEvent.id)
    ).all()
    assert [(e.action, e.client_address) for e in written] == [("auth.failures", "203.0.113.40")]
    assert written[0].details["limit"] == 30
    # Another address is not affected, and a valid token from the flooded one still works.
    other = client.get("/api/v1/me", headers=junk[0], environ_base={"REMOTE_ADDR": "192.0.2.9"})
    assert other.status_code == 401


def test_a_flooded_address_still_serves_a_signed_in_officer(client, officer):
    address = {"REMOTE_ADDR": "203.0.113.41"}
    for _ in range(31):
        client.get("/api/v1/me", headers=_bearer("garbage"), environ_base=address)
    good = client.get("/api/v1/me", headers=_bearer(officer["access_token"]), environ_base=address)
    assert good.status_code == 200


# --- issue 25, point 1: junk tokens must not lock password sign-in for an address -------------


def test_junk_tokens_from_a_police_stations_address_do_not_lock_anyone_out_of_signing_in(client):
    from tests import pagelib

    # Someone at the police station's one public address (no account needed) sends junk
    # bearer tokens and junk refresh tokens until the address is answered 429 ...
    for _ in range(31):
        client.get("/api/v1/me", headers=_bearer("junk"))
    for i in range(5):
        client.post("/api/v1/auth/refresh", headers=_bearer(f"junk-{i}"))
    assert client.get("/api/v1/me", headers=_bearer("junk")).status_code == 429
    # ... and every officer behind that address still signs in with the right password,
    # through the API and through the pages.
    assert _attempt(client, "police.officer", DEMO_PASSWORD).status_code == 200
    assert _attempt(client, "police.admin", DEMO_PASSWORD).status_code == 200
    page = pagelib.sign_in(client, "police.analyst")
    assert page.status_code == 303, page.text[:300]


def test_wrong_passwords_for_many_names_do_not_lock_the_address_for_the_right_ones(
    client, monkeypatch
):
    # A hostile user at the shared address types wrong passwords for many names, slowly enough
    # to stay under the per-minute attempt limit (raised here in place of waiting): each
    # name-and-address pair locks, the address's right passwords for other names still work.
    monkeypatch.setitem(client.application.config, "LOGIN_RATE_LIMIT", "1000 per minute")
    names = ("swa.staff", "glow.staff", "newera.staff", "opcc.staff", "swa.admin", "glow.x")
    names += ("no.such.user", "newera.admin")  # 8 names x 5 wrong passwords: 40 failures
    for round_ in range(6):
        for name in names:
            _attempt(client, name, f"wrong-{round_}", "198.51.100.90")
    assert _attempt(client, "swa.staff", DEMO_PASSWORD, "198.51.100.90").status_code == 429
    assert _attempt(client, "police.officer", DEMO_PASSWORD, "198.51.100.90").status_code == 200


@pytest.fixture
def behind_a_proxy(database):
    """The app as served behind one TLS proxy (TRUSTED_PROXIES=1), on this run's database."""
    from partnership_api import create_app

    app = create_app({**TEST_SETTINGS, **database, "TRUSTED_PROXIES": 1})
    return app.test_client()


def _via_proxy(client, username: str, password: str, forwarded_for: str):
    return client.post(
        LOGIN,
        json={"username": username, "password": password},
        headers={"X-Forwarded-For": forwarded_for, "X-Forwarded-Proto": "https"},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},  # the proxy's own address
    )


def test_behind_a_trusted_proxy_one_callers_lock_is_not_everyones(behind_a_proxy, db_session):
    from partnership_api.models.audit import AuditEvent

    # Every request reaches the app from the proxy's one address; the proxy says who called.
    for i in range(6):
        _via_proxy(behind_a_proxy, "swa.staff", f"guess-{i}", "203.0.113.66")
    assert _via_proxy(behind_a_proxy, "swa.staff", DEMO_PASSWORD, "203.0.113.66").status_code == 429
    # The night worker at the refuge, through the same proxy, signs in at once.
    assert _via_proxy(behind_a_proxy, "swa.staff", DEMO_PASSWORD, "192.0.2.80").status_code == 200
    db_session.rollback()
    addresses = set(
        db_session.scalars(
            sa.select(AuditEvent.client_address).where(AuditEvent.action == "auth.login")
        )
    )
    assert addresses == {"203.0.113.66", "192.0.2.80"}


def test_without_trusted_proxies_a_forged_forwarded_for_does_not_dodge_the_lock(client):
    for i in range(6):
        _attempt(client, "glow.staff", f"guess-{i}", "203.0.113.67")
    forged = client.post(
        LOGIN,
        json={"username": "glow.staff", "password": DEMO_PASSWORD},
        headers={"X-Forwarded-For": "192.0.2.99"},
        environ_base={"REMOTE_ADDR": "203.0.113.67"},
    )
    assert forged.status_code == 429
