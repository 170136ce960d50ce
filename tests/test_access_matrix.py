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

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import DEMO_PASSWORD

SPEC = json.loads((Path(__file__).resolve().parent.parent / "openapi" / "openapi.json").read_text())
DOCUMENTED_OPERATIONS = {
    f"{method.upper()} {path}"
    for path, operations in SPEC["paths"].items()
    for method in operations
    if method in ("get", "post", "put", "patch", "delete")
}

ANONYMOUS = "anonymous"
USERS = (
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
    ANONYMOUS,
)

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

# The victim's details every referral of the fixture carries (test_data_exposure looks for them).
VICTIM_NAME = "Ffion Quillfeather"
VICTIM_DATE_OF_BIRTH = "1984-07-19"
VICTIM_PHONE = "07700 900461"
VICTIM_SAFE_TIMES = "Tuesdays 13:15-13:45 only"
# The characteristics the admitted resident agreed to have recorded (test_data_exposure).
STAY_CHARACTERISTICS = ["lgbt_plus", "nrpf"]


def victim_referral(to_service_id: int) -> dict:
    return {
        "kind": "victim",
        "to_service_id": to_service_id,
        "risk_level": "high",
        "dash_score": 17,
        "marac": True,
        "subject": {
            "name": VICTIM_NAME,
            "date_of_birth": VICTIM_DATE_OF_BIRTH,
            "gender": "female",
            "area": "E06000021",
        },
        "safe_contact": {
            "phone": VICTIM_PHONE,
            "safe_to_call": True,
            "may_leave_message": False,
            "safe_times": VICTIM_SAFE_TIMES,
            "do_not_contact": False,
        },
        "household": {"children": 1, "child_ages": [6]},
        "needs": {"wheelchair": False, "interpreter_language": None, "nrpf": True},
        "consent": {"given": True},
        "summary": "Officer attended at 02:10; she and her son need a refuge place tonight.",
    }


@dataclass
class World:
    """Real objects of other organisations, made through the API as their owners would."""

    org: dict[str, int]
    service: dict[str, int]
    user: dict[str, object]
    referral: str = ""  # police → Glow's refuge: read, listed, noted
    to_accept: str = ""  # police → Glow's refuge: accepted by Glow
    to_hold: str = ""  # police → Glow's refuge: a single space to hold there
    held: str = ""  # police → Glow's refuge, with a family space held at Glow's refuge
    hold_to_release: str = ""  # a single space at Glow's refuge, held by the police
    glow_refuge_etag: str = ""
    glow_availability_etag: str = ""
    fund: int = 0
    fund_etag: str = ""
    project: int = 0  # delivered by New Era and Glow
    project_etag: str = ""
    milestone: int = 0
    milestone_etag: str = ""
    period: str = ""
    spend_etag: str = ""
    output: int = 0
    output_etag: str = ""
    admitted: str = ""  # accepted by Glow's refuge: a stay there
    webhook: str = ""  # Staffordshire Women's Aid's
    alert: str = ""  # the police's, on `referral`
    extra: dict = field(default_factory=dict)

    @property
    def glow_refuge(self) -> int:
        return self.service["Glow refuge"]


def _ok(response, status: int = 200):
    assert response.status_code == status, response.get_json()
    return response


def build_world(client, login, ids) -> World:
    """Referrals (one with a hold), Glow's availability ETag, a project and its progress."""
    world = World(org=ids.org, service=ids.service, user=ids.user)
    officer = login("police.officer")
    glow_refuge = world.glow_refuge

    def refer() -> str:
        body = victim_referral(glow_refuge)
        return _ok(client.post("/api/v1/referrals", json=body, headers=officer), 201).get_json()[
            "id"
        ]

    # Glow reports free single rooms: one to hold in the table, one held to release, and
    # enough that the police's share of Glow's spaces (HOLD_SHARE_PER_REFUGE_PERCENT: half of
    # 7, so 3) covers their three holds there.
    glow = login("glow.staff")
    url = f"/api/v1/refuges/{glow_refuge}/availability"
    etag = _ok(client.get(url, headers=glow)).headers["ETag"]
    spaces = [
        {"space_type": "single", "total": 6, "vacant": 6},
        {"space_type": "family", "total": 2, "vacant": 1},
    ]
    _ok(client.put(url, json={"spaces": spaces}, headers={**glow, "If-Match": etag}))
    world.referral, world.to_accept, world.to_hold, world.held = (refer() for _ in range(4))
    world.admitted = refer()
    _ok(
        client.post(
            f"/api/v1/referrals/{world.admitted}/transitions",
            json={"action": "accept", "placement_area": "E06000021"},
            headers=glow,
        )
    )
    # Who stayed, with the characteristics she agreed to have recorded: Glow's eyes only.
    _ok(
        client.patch(
            f"/api/v1/referrals/{world.admitted}/stay",
            json={"characteristics_consent": True, "characteristics": STAY_CHARACTERISTICS},
            headers=glow,
        )
    )
    _ok(
        client.post(
            f"/api/v1/referrals/{world.held}/hold",
            json={"refuge_id": glow_refuge, "space_type": "family"},
            headers=officer,
        ),
        201,
    )
    world.hold_to_release = _ok(
        client.post(
            f"/api/v1/referrals/{refer()}/hold",
            json={"refuge_id": glow_refuge, "space_type": "single"},
            headers=officer,
        ),
        201,
    ).get_json()["id"]
    world.glow_refuge_etag = _ok(
        client.get(f"/api/v1/services/{glow_refuge}", headers=officer)
    ).headers["ETag"]
    response = _ok(client.get(f"/api/v1/refuges/{glow_refuge}/availability", headers=officer))
    world.glow_availability_etag = response.headers["ETag"]

    project = next(
        p
        for p in _ok(client.get("/api/v1/projects?page_size=100", headers=officer)).get_json()
        if set(p["delivery_organisation_ids"]) == {ids.org["New Era"], ids.org["Glow"]}
    )
    world.project = project["id"]
    world.fund = project["fund_id"]
    base = f"/api/v1/projects/{world.project}"
    world.project_etag = _ok(client.get(base, headers=officer)).headers["ETag"]
    world.fund_etag = _ok(client.get(f"/api/v1/funds/{world.fund}", headers=officer)).headers[
        "ETag"
    ]
    milestone = _ok(client.get(f"{base}/milestones", headers=officer)).get_json()[0]
    world.milestone = milestone["id"]
    world.milestone_etag = _ok(
        client.get(f"{base}/milestones/{world.milestone}", headers=officer)
    ).headers["ETag"]
    line = _ok(client.get(f"{base}/spend", headers=officer)).get_json()[0]
    world.period = line["period"]
    world.spend_etag = _ok(client.get(f"{base}/spend/{world.period}", headers=officer)).headers[
        "ETag"
    ]
    output = _ok(client.get(f"{base}/outputs", headers=officer)).get_json()[0]
    world.output = output["id"]
    world.output_etag = _ok(client.get(f"{base}/outputs/{world.output}", headers=officer)).headers[
        "ETag"
    ]
    world.webhook = _ok(
        client.post(
            "/api/v1/webhooks",
            json={"url": "http://127.0.0.1:9/swa", "event_types": ["availability.reported"]},
            headers=login("swa.admin"),
        ),
        201,
    ).get_json()["id"]
    world.alert = _ok(
        client.post(
            "/api/v1/vacancy-alerts",
            json={"referral_id": world.referral, "space_type": "family", "children": 1},
            headers=officer,
        ),
        201,
    ).get_json()["id"]
    return world


@dataclass
class Call:
    method: str
    url: str
    json: object = None
    headers: dict = field(default_factory=dict)
    token: str = "access"  # which of the caller's tokens goes in Authorization


def request_for(operation: str, w: World) -> Call:
    """The request each user sends for an operation, on the world's objects."""
    project = f"/api/v1/projects/{w.project}"
    glow = w.org["Glow"]
    today = date.today().isoformat()
    calls = {
        "GET /healthz": Call("GET", "/healthz"),
        "GET /readyz": Call("GET", "/readyz"),
        "GET /api/v1/me": Call("GET", "/api/v1/me"),
        "GET /api/v1/organisations": Call("GET", "/api/v1/organisations"),
        "GET /api/v1/organisations/{organisation_id}": Call("GET", f"/api/v1/organisations/{glow}"),
        "GET /api/v1/services": Call("GET", "/api/v1/services"),
        "GET /api/v1/services/{service_id}": Call("GET", f"/api/v1/services/{w.glow_refuge}"),
        "GET /api/v1/users": Call("GET", "/api/v1/users"),
        "GET /api/v1/users/{user_id}": Call("GET", f"/api/v1/users/{w.user['glow.staff']}"),
        "GET /api/v1/referrals": Call("GET", "/api/v1/referrals"),
        "GET /api/v1/referrals/{referral_id}": Call("GET", f"/api/v1/referrals/{w.referral}"),
        "GET /api/v1/referrals/{referral_id}/events": Call(
            "GET", f"/api/v1/referrals/{w.referral}/events"
        ),
        "GET /api/v1/refuges": Call("GET", "/api/v1/refuges"),
        "GET /api/v1/refuges/{refuge_id}/availability": Call(
            "GET", f"/api/v1/refuges/{w.glow_refuge}/availability"
        ),
        "GET /api/v1/refuges/{refuge_id}/availability/history": Call(
            "GET", f"/api/v1/refuges/{w.glow_refuge}/availability/history"
        ),
        "GET /api/v1/refuges/{refuge_id}/holds": Call(
            "GET", f"/api/v1/refuges/{w.glow_refuge}/holds"
        ),
        "GET /api/v1/beds/search": Call("GET", "/api/v1/beds/search?space_type=family"),
        "GET /api/v1/funds": Call("GET", "/api/v1/funds"),
        "GET /api/v1/funds/{fund_id}": Call("GET", f"/api/v1/funds/{w.fund}"),
        "GET /api/v1/projects": Call("GET", "/api/v1/projects"),
        "GET /api/v1/projects/{project_id}": Call("GET", project),
        "GET /api/v1/projects/{project_id}/milestones": Call("GET", f"{project}/milestones"),
        "GET /api/v1/projects/{project_id}/milestones/{milestone_id}": Call(
            "GET", f"{project}/milestones/{w.milestone}"
        ),
        "GET /api/v1/projects/{project_id}/spend": Call("GET", f"{project}/spend"),
        "GET /api/v1/projects/{project_id}/spend/{period}": Call(
            "GET", f"{project}/spend/{w.period}"
        ),
        "GET /api/v1/projects/{project_id}/spend/{period}/history": Call(
            "GET", f"{project}/spend/{w.period}/history"
        ),
        "GET /api/v1/projects/{project_id}/outputs": Call("GET", f"{project}/outputs"),
        "GET /api/v1/projects/{project_id}/outputs/{output_id}": Call(
            "GET", f"{project}/outputs/{w.output}"
        ),
        "GET /api/v1/funding/summary": Call("GET", "/api/v1/funding/summary"),
        "GET /api/v1/exports/360giving": Call("GET", "/api/v1/exports/360giving"),
        "GET /api/v1/exports/projects.csv": Call("GET", "/api/v1/exports/projects.csv"),
        "GET /api/v1/audit-events": Call("GET", "/api/v1/audit-events"),
        "GET /api/v1/stats/referrals": Call("GET", "/api/v1/stats/referrals?group_by=risk_level"),
        "GET /api/v1/stats/safe-accommodation-return": Call(
            "GET", "/api/v1/stats/safe-accommodation-return?year=2025"
        ),
        "GET /api/v1/stats/unmet-need": Call("GET", "/api/v1/stats/unmet-need?group_by=reason"),
        "GET /api/v1/referrals/{referral_id}/stay": Call(
            "GET", f"/api/v1/referrals/{w.admitted}/stay"
        ),
        "GET /api/v1/refuges/{refuge_id}/commissioned-spaces": Call(
            "GET", f"/api/v1/refuges/{w.glow_refuge}/commissioned-spaces"
        ),
        "PATCH /api/v1/referrals/{referral_id}/stay": Call(
            "PATCH",
            f"/api/v1/referrals/{w.admitted}/stay",
            {"adults": [{"sex": "female", "trans": "no"}], "children": 1},
        ),
        "PUT /api/v1/refuges/{refuge_id}/commissioned-spaces": Call(
            "PUT",
            f"/api/v1/refuges/{w.glow_refuge}/commissioned-spaces",
            {"spaces": [{"accommodation_type": "refuge", "spaces": 4}]},
        ),
        "POST /api/v1/organisations": Call(
            "POST", "/api/v1/organisations", {"name": "Matrix Outreach", "kind": "provider"}
        ),
        "PATCH /api/v1/organisations/{organisation_id}": Call(
            "PATCH", f"/api/v1/organisations/{glow}", {"charity_number": "1234567"}
        ),
        "POST /api/v1/services": Call(
            "POST",
            "/api/v1/services",
            {
                "organisation_id": glow,
                "name": "Glow outreach",
                "kind": "victim_support",
                "areas": ["E06000021"],
            },
        ),
        "PATCH /api/v1/services/{service_id}": Call(
            "PATCH",
            f"/api/v1/services/{w.glow_refuge}",
            {"hours": "24 hours, every day"},
            {"If-Match": w.glow_refuge_etag},
        ),
        "POST /api/v1/users": Call(
            "POST",
            "/api/v1/users",
            {
                "username": "glow.newstarter",
                "role": "staff",
                "password": "a-long-enough-password",
                "organisation_id": glow,
            },
        ),
        "PATCH /api/v1/users/{user_id}": Call(
            "PATCH", f"/api/v1/users/{w.user['glow.staff']}", {"full_name": "Renamed By Matrix"}
        ),
        "POST /api/v1/referrals": Call("POST", "/api/v1/referrals", victim_referral(w.glow_refuge)),
        "POST /api/v1/referrals/{referral_id}/notes": Call(
            "POST", f"/api/v1/referrals/{w.referral}/notes", {"text": "Called back at 03:00."}
        ),
        "POST /api/v1/referrals/{referral_id}/transitions": Call(
            "POST", f"/api/v1/referrals/{w.to_accept}/transitions", {"action": "accept"}
        ),
        "POST /api/v1/referrals/{referral_id}/hold": Call(
            "POST",
            f"/api/v1/referrals/{w.to_hold}/hold",
            {"refuge_id": w.glow_refuge, "space_type": "single"},
        ),
        "DELETE /api/v1/referrals/{referral_id}/hold": Call(
            "DELETE", f"/api/v1/referrals/{w.held}/hold"
        ),
        "POST /api/v1/refuges/{refuge_id}/holds/{hold_id}/release": Call(
            "POST",
            f"/api/v1/refuges/{w.glow_refuge}/holds/{w.hold_to_release}/release",
            {"reason_code": "not_suitable", "note": "Released by the access matrix."},
        ),
        "POST /api/v1/refuges/{refuge_id}/availability/confirm": Call(
            "POST",
            f"/api/v1/refuges/{w.glow_refuge}/availability/confirm",
            None,
            {"If-Match": w.glow_availability_etag},
        ),
        "PUT /api/v1/refuges/{refuge_id}/availability": Call(
            "PUT",
            f"/api/v1/refuges/{w.glow_refuge}/availability",
            {
                "spaces": [
                    {"space_type": "single", "total": 2, "vacant": 1},
                    {"space_type": "family", "total": 2, "vacant": 1},
                ]
            },
            {"If-Match": w.glow_availability_etag},
        ),
        "POST /api/v1/funds": Call(
            "POST", "/api/v1/funds", {"name": "Matrix Fund", "funder": "Home Office"}
        ),
        "PATCH /api/v1/funds/{fund_id}": Call(
            "PATCH",
            f"/api/v1/funds/{w.fund}",
            {"description": "Changed by the matrix."},
            {"If-Match": w.fund_etag},
        ),
        "POST /api/v1/projects": Call(
            "POST",
            "/api/v1/projects",
            {
                "fund_id": w.fund,
                "title": "Matrix project",
                "category": "other",
                "lead_organisation_id": glow,
                "amount_awarded_pence": 100_000,
                "awarded_on": today,
            },
        ),
        "PATCH /api/v1/projects/{project_id}": Call(
            "PATCH",
            project,
            {"rag_commentary": "On track, says the matrix."},
            {"If-Match": w.project_etag},
        ),
        "POST /api/v1/projects/{project_id}/milestones": Call(
            "POST", f"{project}/milestones", {"title": "Matrix milestone", "due_on": today}
        ),
        "PATCH /api/v1/projects/{project_id}/milestones/{milestone_id}": Call(
            "PATCH",
            f"{project}/milestones/{w.milestone}",
            {"completed_on": today},
            {"If-Match": w.milestone_etag},
        ),
        "POST /api/v1/projects/{project_id}/spend": Call(
            "POST", f"{project}/spend", {"period": "2031-Q1", "forecast_pence": 10_000}
        ),
        "PATCH /api/v1/projects/{project_id}/spend/{period}": Call(
            "PATCH",
            f"{project}/spend/{w.period}",
            {"actual_pence": 12_345},
            {"If-Match": w.spend_etag},
        ),
        "POST /api/v1/projects/{project_id}/outputs": Call(
            "POST", f"{project}/outputs", {"metric": "matrix sessions", "unit": "sessions"}
        ),
        "PATCH /api/v1/projects/{project_id}/outputs/{output_id}": Call(
            "PATCH",
            f"{project}/outputs/{w.output}",
            {"actual": 46},
            {"If-Match": w.output_etag},
        ),
        "GET /api/v1/events": Call("GET", "/api/v1/events?after=0&types=referral.created"),
        "GET /api/v1/webhooks": Call("GET", "/api/v1/webhooks"),
        "GET /api/v1/webhooks/{webhook_id}": Call("GET", f"/api/v1/webhooks/{w.webhook}"),
        "GET /api/v1/webhooks/{webhook_id}/attempts": Call(
            "GET", f"/api/v1/webhooks/{w.webhook}/attempts"
        ),
        "GET /api/v1/vacancy-alerts": Call("GET", "/api/v1/vacancy-alerts"),
        "GET /api/v1/vacancy-alerts/{alert_id}": Call("GET", f"/api/v1/vacancy-alerts/{w.alert}"),
        "POST /api/v1/webhooks": Call(
            "POST",
            "/api/v1/webhooks",
            {"url": "http://127.0.0.1:9/matrix", "event_types": ["referral.created"]},
        ),
        "PATCH /api/v1/webhooks/{webhook_id}": Call(
            "PATCH", f"/api/v1/webhooks/{w.webhook}", {"description": "Changed by the matrix."}
        ),
        "POST /api/v1/webhooks/{webhook_id}/rotate-secret": Call(
            "POST", f"/api/v1/webhooks/{w.webhook}/rotate-secret"
        ),
        "POST /api/v1/webhooks/{webhook_id}/replays": Call(
            "POST", f"/api/v1/webhooks/{w.webhook}/replays", {"from_position": 1}
        ),
        "DELETE /api/v1/webhooks/{webhook_id}": Call("DELETE", f"/api/v1/webhooks/{w.webhook}"),
        "POST /api/v1/vacancy-alerts": Call(
            "POST", "/api/v1/vacancy-alerts", {"space_type": "single", "area": ["E07000197"]}
        ),
        "DELETE /api/v1/vacancy-alerts/{alert_id}": Call(
            "DELETE", f"/api/v1/vacancy-alerts/{w.alert}"
        ),
        "POST /api/v1/auth/login": Call("POST", "/api/v1/auth/login", token="none"),
        "POST /api/v1/auth/refresh": Call("POST", "/api/v1/auth/refresh", token="refresh"),
        "POST /api/v1/auth/logout": Call("POST", "/api/v1/auth/logout"),
    }
    return calls[operation]


def sign_in(client, username: str) -> dict:
    """Both tokens of a new session (none for the anonymous caller)."""
    if username == ANONYMOUS:
        return {}
    response = client.post(
        "/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def send(client, call: Call, username: str, tokens: dict):
    """Send a call as this user; a sign-in sends their own credentials (Glow's for no one)."""
    headers = dict(call.headers)
    token = tokens.get(f"{call.token}_token")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = call.json
    if call.method == "POST" and call.url == "/api/v1/auth/login":
        name = "glow.staff" if username == ANONYMOUS else username
        body = {"username": name, "password": DEMO_PASSWORD}
    return client.open(call.url, method=call.method, json=body, headers=headers)


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
    tokens = sign_in(client, username)
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
