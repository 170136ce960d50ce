"""What each role may see, field by field, and a search for secrets in everything they get.

The secrets: the refuges' addresses (partnership_api/demo.py) and a victim's name, date of
birth, safe phone number and safe times, which the fixture's referrals from the police to
Glow's refuge carry. Each user, in a test of their own, makes every write of the access
matrix and then reads every GET operation of the document (lists and single objects, with
real ids, largest pages). In all of it:

- the victim's details reach only the referral's parties (police and Glow workers) and, even
  for them, never through the audit trail, statistics, exports or any error;
- a refuge's address reaches only its own organisation, and only through the services;
- who stayed in a refuge and her "specialist characteristics" (a stay's ``adults`` and
  ``characteristics``) reach only the refuge's own organisation, through the stay, and
  everyone else at most as suppressed counts in the commissioner's return;
- no object carries a field its response schema does not declare, and nothing looks like a
  password hash, a password or a refresh-token id.
"""

from __future__ import annotations

import json
import re

import pytest

from partnership_api import demo
from tests.factories import (
    ANONYMOUS,
    SPEC,
    STAY_CHARACTERISTICS,
    USERS,
    VICTIM_DATE_OF_BIRTH,
    VICTIM_NAME,
    VICTIM_PHONE,
    VICTIM_SAFE_TIMES,
    build_world,
    calls_for,
    request_for,
    send,
    session_tokens,
)

VICTIM_SECRETS = (VICTIM_NAME, VICTIM_DATE_OF_BIRTH, VICTIM_PHONE, VICTIM_SAFE_TIMES)
ADDRESSES = {s["name"]: (s["org"], s["address"]) for s in demo.SERVICES if s.get("address")}
ORGANISATION_OF = {username: org for username, org, _role, _admin in demo.USERS}
# The referral's parties who may read its personal data: workers of the police and of Glow.
PARTIES = {"police.officer", "police.admin", "glow.staff"}
FORBIDDEN_KEYS = {"password", "password_hash", "refresh_jti", "secret", "token_hash"}
# A webhook's signing secret is in the answer that makes it, and nowhere else.
SECRET_SHOWN_ONCE = {
    "POST /api/v1/webhooks",
    "POST /api/v1/webhooks/{webhook_id}/rotate-secret",
}
SECRET_LOOKING = re.compile(r"\$argon2|\$2[aby]\$|pbkdf2")
SESSION_OPERATIONS = (
    "POST /api/v1/auth/login",
    "POST /api/v1/auth/refresh",
    "POST /api/v1/auth/logout",
)
# Extra reads beyond the matrix's own: filters, largest pages, every referral of the fixture.
EXTRA_READS = (
    "/api/v1/referrals?direction=received&page_size=100",
    "/api/v1/referrals?direction=sent&status=submitted&page_size=100",
    "/api/v1/services?kind=refuge&page_size=100",
    "/api/v1/refuges?page_size=100",
    "/api/v1/beds/search",
    "/api/v1/audit-events?page_size=100",
    "/api/v1/audit-events?resource_type=referral&page_size=100",
    "/api/v1/stats/referrals?group_by=month&group_by=kind&group_by=area",
    "/api/v1/users?page_size=100",
)


def _resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def undeclared_fields(value, schema: dict, where: str = "$") -> list[str]:
    """Keys of ``value`` that its response schema does not declare, anywhere inside it."""
    schema = _resolve(schema)
    found: list[str] = []
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            found += undeclared_fields(item, schema["items"], f"{where}[{index}]")
    elif isinstance(value, dict) and "properties" in schema:
        for key, item in value.items():
            if key not in schema["properties"]:
                if not schema.get("additionalProperties"):
                    found.append(f"{where}.{key}")
                continue
            found += undeclared_fields(item, schema["properties"][key], f"{where}.{key}")
    return found


def keys_of(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for item in value.values() for k in keys_of(item)}
    if isinstance(value, list):
        return {k for item in value for k in keys_of(item)}
    return set()


def response_schema(operation: str, status: int) -> dict | None:
    method, path = operation.split(" ", 1)
    answer = SPEC["paths"][path][method.lower()]["responses"].get(str(status), {})
    return answer.get("content", {}).get("application/json", {}).get("schema")


def template_of(url: str) -> str | None:
    """The document's path for a concrete URL (so extra reads are checked against it too)."""
    path = url.split("?", 1)[0]
    for template in SPEC["paths"]:
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path):
            return template
    return None


class Seen:
    """Everything one user got back: (operation, status, text, body)."""

    def __init__(self):
        self.answers: list[tuple[str, int, str, object]] = []

    def add(self, operation: str, response) -> None:
        headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
        text = headers + "\n" + response.get_data(as_text=True)
        body = response.get_json(silent=True)
        self.answers.append((operation, response.status_code, text, body))


@pytest.mark.parametrize("username", [u for u in USERS if u != ANONYMOUS])  # 401s: matrix
def test_each_role_sees_only_the_fields_and_secrets_it_may(client, login, ids, username):
    world = build_world(client, login, ids)
    tokens = session_tokens(client, username)
    seen = Seen()
    calls = calls_for(world)  # in the access matrix's order
    writes = [op for op in calls if not op.startswith("GET ") and op not in SESSION_OPERATIONS]
    for operation in writes:
        call = calls[operation]
        if operation == "POST /api/v1/referrals":
            # Their own referral carries someone else: its answer is theirs to see.
            call.json = {**call.json, "subject": {"name": "Own Referral", "area": "E06000021"}}
            call.json["safe_contact"] = {"phone": "07700 900999"}
        seen.add(operation, send(client, call, username, tokens))
    for operation, call in calls_for(world).items():
        if operation.startswith("GET "):
            if "page_size" in json.dumps(SPEC["paths"][operation[4:]]["get"]):
                call.url += ("&" if "?" in call.url else "?") + "page_size=100"
            seen.add(operation, send(client, call, username, tokens))
    for referral in (world.referral, world.to_accept, world.to_hold, world.held):
        for suffix in ("", "/events"):
            call = request_for("GET /api/v1/referrals/{referral_id}", world)
            call.url = f"/api/v1/referrals/{referral}{suffix}"
            seen.add(
                f"GET /api/v1/referrals/{{referral_id}}{suffix}",
                send(client, call, username, tokens),
            )
    for url in EXTRA_READS:
        call = request_for("GET /api/v1/me", world)
        call.url = url
        seen.add(f"GET {template_of(url)}", send(client, call, username, tokens))

    own_org = ORGANISATION_OF.get(username)
    own_org_id = ids.org.get(own_org)
    leaks: list[str] = []
    seen_characteristics: list[list[str]] = []
    for operation, status, text, body in seen.answers:
        # The victim's details: the parties only, and only where a referral is shown.
        for secret in VICTIM_SECRETS:
            if secret in text:
                shows_referral = operation.startswith(
                    ("GET /api/v1/referrals", "POST /api/v1/referrals/{referral_id}/transitions")
                ) and not operation.endswith("/events")
                if username not in PARTIES or not shows_referral or status >= 300:
                    leaks.append(f"{operation} ({status}) shows {secret!r} to {username}")
        # Refuge addresses: their own organisation only, and only through the services.
        for refuge, (org, address) in ADDRESSES.items():
            if address in text and (org != own_org or "/api/v1/services" not in operation):
                leaks.append(f"{operation} ({status}) shows {refuge}'s address to {username}")
        if SECRET_LOOKING.search(text):
            leaks.append(f"{operation} ({status}) carries something like a password hash")
        if body is None:
            continue
        forbidden = keys_of(body) & FORBIDDEN_KEYS
        if operation in SECRET_SHOWN_ONCE:
            forbidden.discard("secret")  # a webhook's signing secret, to the admin who made it
        if forbidden:
            leaks.append(f"{operation} ({status}) has fields {sorted(forbidden)}")
        schema = response_schema(operation, status) if status < 300 else None
        if schema is not None:
            extra = undeclared_fields(body, schema)
            if extra:
                leaks.append(f"{operation} ({status}) has undeclared fields {extra}")
        stay_keys = keys_of(body) & {"characteristics", "characteristics_consent"}
        if stay_keys and not (operation.endswith("/stay") and username == "glow.staff"):
            leaks.append(f"{operation} ({status}) shows a stay's {sorted(stay_keys)} to {username}")
        if operation.endswith("/stay") and status < 300:
            seen_characteristics.append(body["characteristics"])
        if operation.startswith("GET /api/v1/services") and status == 200:
            for service in body if isinstance(body, list) else [body]:
                own = service["organisation_id"] == own_org_id
                if service["kind"] == "refuge" and ("address" in service) != own:
                    leaks.append(f"{operation}: address key of {service['name']} for {username}")
        if operation.startswith(("GET /api/v1/refuges", "GET /api/v1/beds")):
            if "address" in keys_of(body):
                leaks.append(f"{operation} has an address field")
    assert not leaks, "\n".join(leaks)

    # The search can find what it looks for: those who may see the secrets do see them.
    everything = "\n".join(text for _op, _status, text, _body in seen.answers)
    if username in PARTIES:
        for secret in VICTIM_SECRETS:
            assert secret in everything, f"{username} should read the referral's {secret!r}"
    if username == "glow.staff":
        assert ADDRESSES["Glow refuge"][1] in everything
        assert STAY_CHARACTERISTICS in seen_characteristics  # the refuge reads its own stay
    else:
        assert not seen_characteristics
    assert any(
        op == "GET /api/v1/services/{service_id}" and status == 200
        for op, status, _t, _b in seen.answers
    )


def test_a_referrals_personal_fields_are_all_there_for_its_parties(client, login, ids):
    """The positive side of need to know: the receiving refuge gets every field it needs."""
    world = build_world(client, login, ids)
    for username in sorted(PARTIES):
        response = client.get(f"/api/v1/referrals/{world.referral}", headers=login(username))
        assert response.status_code == 200
        referral = response.get_json()
        assert referral["subject"]["name"] == VICTIM_NAME
        assert referral["subject"]["date_of_birth"] == VICTIM_DATE_OF_BIRTH
        assert referral["safe_contact"]["phone"] == VICTIM_PHONE
        assert referral["safe_contact"]["safe_times"] == VICTIM_SAFE_TIMES
        assert referral["household"]["child_ages"] == [6]


def test_audit_events_name_fields_but_never_their_values(client, login, ids):
    """Even the partnership admin, who reads the whole trail, finds no personal data in it."""
    world = build_world(client, login, ids)
    glow = login("glow.staff")
    client.post(
        f"/api/v1/referrals/{world.referral}/notes",
        json={"text": f"Spoke to {VICTIM_NAME} on {VICTIM_PHONE}"},
        headers=glow,
    )
    client.get(f"/api/v1/referrals/{world.referral}", headers=glow)
    events = []
    page = 1
    while True:
        response = client.get(
            f"/api/v1/audit-events?page_size=100&page={page}", headers=login("partnership.admin")
        )
        assert response.status_code == 200
        events += response.get_json()
        if not json.loads(response.headers["X-Pagination"]).get("next_page"):
            break
        page += 1
    assert any(e["action"] == "referral.read" for e in events)
    text = json.dumps(events)
    for secret in VICTIM_SECRETS + tuple(address for _org, address in ADDRESSES.values()):
        assert secret not in text
    assert "Spoke to" not in text
