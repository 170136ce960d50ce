"""What the tests build and ask, shared: referrals, holds, reports, webhooks, the access
matrix's world, the pages' form data. Test modules import these from here, never from each
other (tests/test_test_layout.py)."""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from standardwebhooks import Webhook

from partnership_api.models.referrals import IdempotencyKey, Referral, ReferralEvent
from tests.conftest import DEMO_PASSWORD

# --- referrals through the API --------------------------------------------------------------------

REFERRALS_URL = "/api/v1/referrals"
SWA_REFUGE = "Staffordshire Women's Aid refuge"
GLOW_REFUGE = "Glow refuge"
NEW_ERA_PERPETRATORS = "New Era perpetrator service"
NEW_ERA_SUPPORT = "New Era victim support"


def victim_referral(to_service_id: int, **changes) -> dict:
    """A high-risk victim with two children, shared without consent to keep her safe."""
    body = {
        "kind": "victim",
        "to_service_id": to_service_id,
        "risk_level": "high",
        "dash_score": 16,
        "marac": True,
        "subject": {
            "name": "Jane Example",
            "date_of_birth": "1990-04-02",
            "gender": "female",
            "area": "E07000197",
        },
        "safe_contact": {
            "phone": "07700 900123",
            "safe_to_call": True,
            "may_leave_message": False,
            "safe_times": "weekdays 10:00-12:00",
            "do_not_contact": True,
        },
        "household": {"children": 2, "child_ages": [4, 13]},
        "needs": {"wheelchair": False, "interpreter_language": None, "nrpf": False},
        "consent": {
            "given": False,
            "lawful_basis": "safeguarding",
            "rationale": "High risk of serious harm; the abuser monitors her phone.",
        },
        "summary": "Attended a domestic incident at 01:40; she needs a refuge place tonight.",
    }
    body.update(changes)
    return body


def make_referral(client, headers, body, **kwargs):
    """POST a referral as these headers; its body, after checking it was made (201)."""
    response = client.post(REFERRALS_URL, json=body, headers=headers, **kwargs)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def transition(client, headers, referral_id, **body):
    """POST an action (accept, decline, redirect, withdraw, close) on a referral."""
    return client.post(f"{REFERRALS_URL}/{referral_id}/transitions", json=body, headers=headers)


def referral_counts(db_session) -> tuple[int, int, int]:
    """How many referrals, timeline entries and idempotency keys the database holds."""
    db_session.rollback()
    return (
        db_session.scalar(sa.select(sa.func.count()).select_from(Referral)),
        db_session.scalar(sa.select(sa.func.count()).select_from(ReferralEvent)),
        db_session.scalar(sa.select(sa.func.count()).select_from(IdempotencyKey)),
    )


# --- holds ----------------------------------------------------------------------------------------

PATHWAY_REFUGE = "Pathway refuge"


def consenting_victim_referral(to_service_id: int, **changes) -> dict:
    """A high-risk victim with two children who consented to the referral."""
    body = {
        "kind": "victim",
        "to_service_id": to_service_id,
        "risk_level": "high",
        "dash_score": 16,
        "marac": True,
        "subject": {
            "name": "Jane Example",
            "date_of_birth": "1990-04-02",
            "gender": "female",
            "area": "E07000197",
        },
        "safe_contact": {
            "phone": "07700 900123",
            "safe_to_call": True,
            "may_leave_message": False,
            "safe_times": "weekdays 10:00-12:00",
            "do_not_contact": False,
        },
        "household": {"children": 2, "child_ages": [4, 13]},
        "needs": {"wheelchair": False, "interpreter_language": None, "nrpf": False},
        "consent": {"given": True},
        "summary": "She and her two children need a refuge place tonight.",
    }
    body.update(changes)
    return body


def hold(client, headers, referral_id, refuge_id, space_type="family"):
    """POST a hold of a space at a refuge for a referral."""
    return client.post(
        f"{REFERRALS_URL}/{referral_id}/hold",
        json={"refuge_id": refuge_id, "space_type": space_type},
        headers=headers,
    )


def figures(client, headers, refuge_id, space_type="family") -> dict:
    """A refuge's current figures (total, vacant, held) for one type of space."""
    body = client.get(f"/api/v1/refuges/{refuge_id}/availability", headers=headers).get_json()
    return next(s for s in body["spaces"] if s["space_type"] == space_type)


def timeline(client, headers, referral_id) -> list[str]:
    """The kinds of a referral's timeline entries, in order."""
    response = client.get(f"{REFERRALS_URL}/{referral_id}/events", headers=headers)
    assert response.status_code == 200
    return [event["kind"] for event in response.get_json()]


# --- bed search -----------------------------------------------------------------------------------


def bed_search(client, headers, query=""):
    """The bed search's results for a query string (200 checked)."""
    response = client.get(f"/api/v1/beds/search{query}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def refuge_names(results, ids):
    """The names of the refuges in bed-search results, in their order."""
    by_id = {v: k for k, v in ids.service.items()}
    return [by_id[r["refuge_id"]] for r in results]


# --- referral rows behind the API (statistics, retention) -----------------------------------------

POLICE = "Staffordshire Police"
ROW_CREATED_AT = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)


def referral_row(ids, org_of_service, *, to=SWA_REFUGE, sender=POLICE, **fields):
    """A referral row with personal data in every personal field (inserted behind the API)."""
    from partnership_api.models.referrals import Referral

    created = fields.pop("created_at", ROW_CREATED_AT)
    values = dict(
        reference=f"REF-T-{uuid.uuid4().hex[:12]}",
        kind="victim",
        status="submitted",
        risk_level="high",
        dash_score=15,
        marac=True,
        subject_area="E07000197",
        subject={
            "name": "Jane Example",
            "date_of_birth": "1990-04-02",
            "gender": "female",
            "area": fields.get("subject_area", "E07000197"),
        },
        safe_contact={"phone": "07700 900123", "safe_times": "weekdays 10:00-12:00"},
        household={"children": 2, "child_ages": [4, 13]},
        needs={"wheelchair": False, "interpreter_language": "Polish", "nrpf": False},
        consent={"given": True, "lawful_basis": "consent", "rationale": "Agreed at the scene."},
        summary="Ex-partner broke in last night; she fears for the children.",
        from_organisation_id=ids.org[sender],
        to_service_id=ids.service[to],
        to_organisation_id=org_of_service[ids.service[to]],
        created_at=created,
        updated_at=created,
        status_changed_at=created,
        response_due_at=created + timedelta(hours=24),
    )
    values.update(fields)
    return Referral(**values)


def add_referrals(db_session, ids, *specs):
    """Insert referrals: each spec is (how many, fields). Returns their ids."""
    from partnership_api.models.partnership import Service

    org_of_service = dict(db_session.execute(sa.select(Service.id, Service.organisation_id)).all())
    made = []
    for count, fields in specs:
        made.extend(referral_row(ids, org_of_service, **fields) for _ in range(count))
    db_session.add_all(made)
    db_session.commit()
    return [r.id for r in made]


# --- requests at once -----------------------------------------------------------------------------


def at_once(app, calls):
    """Run each ``(method, url, kwargs)`` in its own thread with its own client, together."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, method, url, kwargs):
        client = app.test_client()
        barrier.wait()
        response = getattr(client, method)(url, **kwargs)
        results[i] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=run, args=(i, *call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(r is not None for r in results), "a request did not finish"
    return results


# --- funding: projects read and changed with their ETag -------------------------------------------

EDUCATION = "Education campaign: healthy relationships"  # delivered by New Era and Glow


def project_id(client, headers, title: str) -> int:
    """The id of the project with this title."""
    listed = client.get("/api/v1/projects", query_string={"page_size": 100}, headers=headers)
    assert listed.status_code == 200
    (found,) = [p["id"] for p in listed.get_json() if p["title"] == title]
    return found


def read_with_etag(client, headers, url: str):
    """GET ``url``; returns (body, ETag header as sent back in If-Match)."""
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json(), response.headers["ETag"]


def patch_with_etag(client, headers, url: str, body: dict, etag: str | None = "read"):
    """PATCH with the current ETag (read first), a given one, or none (etag=None)."""
    if etag == "read":
        etag = read_with_etag(client, headers, url)[1]
    extra = {"If-Match": etag} if etag else {}
    return client.patch(url, json=body, headers={**headers, **extra})


def audit_events(db_session, **where):
    """The audit trail's events matching ``where`` (column=value), oldest first."""
    from partnership_api.models.audit import AuditEvent

    db_session.expire_all()
    stmt = sa.select(AuditEvent).order_by(AuditEvent.id)
    for name, value in where.items():
        stmt = stmt.where(getattr(AuditEvent, name) == value)
    found = db_session.scalars(stmt).all()
    db_session.rollback()  # never hold SQLite's write lock while the app works
    return found


# --- funds, projects and the 360Giving schema -----------------------------------------------------

GIVING_SCHEMAS = Path(__file__).resolve().parent / "data" / "360giving"


def giving_validator() -> Draft202012Validator:
    """The package schema, its $ref to the grant schema resolved to the file beside it."""
    package = json.loads((GIVING_SCHEMAS / "360-giving-package-schema.json").read_text())
    grant = json.loads((GIVING_SCHEMAS / "360-giving-schema.json").read_text())
    grant_resource = Resource(contents=grant, specification=DRAFT202012)
    ref = package["properties"]["grants"]["items"]["$ref"]
    registry = Registry().with_resources([(ref, grant_resource), (grant["$id"], grant_resource)])
    return Draft202012Validator(
        package, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def new_fund(client, h, name: str) -> int:
    """A new fund made by the commissioner's office; its id."""
    created = client.post("/api/v1/funds", json={"name": name, "funder": "Home Office"}, headers=h)
    assert created.status_code == 201
    return created.get_json()["id"]


def new_project(client, h, ids, fund_id: int, award: int, **extra) -> int:
    """A new project of a fund led and delivered by Glow; its id."""
    body = {
        "fund_id": fund_id,
        "title": extra.pop("title", f"Project awarded {award}"),
        "category": "other",
        "lead_organisation_id": ids.org["Glow"],
        "delivery_organisation_ids": [ids.org["Glow"]],
        "areas": ["E06000021"],
        "amount_awarded_pence": award,
        "awarded_on": extra.pop("awarded_on", "2026-01-15"),
        **extra,
    }
    created = client.post("/api/v1/projects", json=body, headers=h)
    assert created.status_code == 201, created.get_json()
    return created.get_json()["id"]


def start_delivery(client, h, pid: int, actual_start: str) -> None:
    """Move a project into delivery from a date."""
    url = f"/api/v1/projects/{pid}"
    started = patch_with_etag(
        client, h, url, {"status": "in_delivery", "actual_start": actual_start}
    )
    assert started.status_code == 200, started.get_json()


# --- the access matrix's world: every operation on real objects of other organisations ------------

SPEC = json.loads((Path(__file__).resolve().parent.parent / "openapi" / "openapi.json").read_text())
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


# The victim's details every referral of the fixture carries (test_data_exposure looks for them).
VICTIM_NAME = "Ffion Quillfeather"
VICTIM_DATE_OF_BIRTH = "1984-07-19"
VICTIM_PHONE = "07700 900461"
VICTIM_SAFE_TIMES = "Tuesdays 13:15-13:45 only"


# The characteristics the admitted resident agreed to have recorded (test_data_exposure).
STAY_CHARACTERISTICS = ["lgbt_plus", "nrpf"]


def named_victim_referral(to_service_id: int) -> dict:
    """The access matrix's referral: the victim whose name, birth date, phone and safe
    times test_data_exposure looks for in every answer."""
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
    swa_cursor: str = ""  # a feed cursor of Staffordshire Women's Aid's: the outbox's start
    alert: str = ""  # the police's, on `referral`
    extra: dict = field(default_factory=dict)

    @property
    def glow_refuge(self) -> int:
        return self.service["Glow refuge"]


def _ok(response, status: int = 200):
    """The response, after checking its status."""
    assert response.status_code == status, response.get_json()
    return response


def build_world(client, login, ids) -> World:
    """Referrals (one with a hold), Glow's availability ETag, a project and its progress."""
    world = World(org=ids.org, service=ids.service, user=ids.user)
    officer = login("police.officer")
    glow_refuge = world.glow_refuge

    def refer() -> str:
        body = named_victim_referral(glow_refuge)
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
    from partnership_api.events.cursors import cursor_for

    with client.application.app_context():
        world.swa_cursor = cursor_for(0, world.org["Staffordshire Women's Aid"])
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
    """One request of the access matrix: method, URL, body, headers and which token."""

    method: str
    url: str
    json: object = None
    headers: dict = field(default_factory=dict)
    token: str = "access"  # which of the caller's tokens goes in Authorization


def calls_for(w: World) -> dict[str, Call]:
    """The request each user sends for each operation, on the world's objects, in the order
    of the access matrix's rows (reads, writes on objects of their own, the session)."""
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
        "GET /api/v1/beds/search": Call("GET", "/api/v1/beds/search?space_type=family"),
        "GET /api/v1/refuges/{refuge_id}/holds": Call(
            "GET", f"/api/v1/refuges/{w.glow_refuge}/holds"
        ),
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
        "GET /api/v1/events": Call("GET", "/api/v1/events?types=referral.created"),
        "GET /api/v1/webhooks": Call("GET", "/api/v1/webhooks"),
        "GET /api/v1/webhooks/{webhook_id}": Call("GET", f"/api/v1/webhooks/{w.webhook}"),
        "GET /api/v1/webhooks/{webhook_id}/attempts": Call(
            "GET", f"/api/v1/webhooks/{w.webhook}/attempts"
        ),
        "GET /api/v1/vacancy-alerts": Call("GET", "/api/v1/vacancy-alerts"),
        "GET /api/v1/vacancy-alerts/{alert_id}": Call("GET", f"/api/v1/vacancy-alerts/{w.alert}"),
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
        "POST /api/v1/referrals": Call(
            "POST", "/api/v1/referrals", named_victim_referral(w.glow_refuge)
        ),
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
        "POST /api/v1/refuges/{refuge_id}/holds/{hold_id}/release": Call(
            "POST",
            f"/api/v1/refuges/{w.glow_refuge}/holds/{w.hold_to_release}/release",
            {"reason_code": "not_suitable", "note": "Released by the access matrix."},
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
            "POST", f"/api/v1/webhooks/{w.webhook}/replays", {"from_cursor": w.swa_cursor}
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
    return calls


def request_for(operation: str, w: World) -> Call:
    """The request each user sends for one operation, on the world's objects."""
    return calls_for(w)[operation]


def session_tokens(client, username: str) -> dict:
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


# --- events and the delivery worker ---------------------------------------------------------------


def all_events(app) -> list:
    """Every event of the outbox, in position order, with the organisations that hear it."""
    from partnership_api.extensions import db
    from partnership_api.models.events import Event, EventOrganisation

    with app.app_context():
        events = db.session.scalars(sa.select(Event).order_by(Event.position)).all()
        parties = {}
        for row in db.session.execute(sa.select(EventOrganisation)).scalars():
            parties.setdefault(row.position, set()).add(row.organisation_id)
        shown = [
            {
                "id": str(e.id),
                "type": e.type,
                "position": e.position,
                "data": e.data,
                "audience": e.audience,
                "parties": parties.get(e.position, set()),
            }
            for e in events
        ]
        db.session.remove()
    return shown


def positions_of(app, bodies) -> list[int]:
    """Where delivered or listed events are in the outbox, looked up by their ids: what a
    listener is shown carries no position (issue 25)."""
    from partnership_api.extensions import db
    from partnership_api.models.events import Event

    with app.app_context():
        found = dict(
            db.session.execute(
                sa.select(Event.id, Event.position).where(
                    Event.id.in_([uuid.UUID(str(b["id"])) for b in bodies])
                )
            ).all()
        )
        db.session.remove()
    return [found[uuid.UUID(str(b["id"]))] for b in bodies]


def run_worker(app, now=None):
    """One pass of the delivery worker (as at ``now``, if given)."""
    from partnership_api.events.delivery import Worker
    from partnership_api.extensions import db

    with app.app_context():
        Worker("test-worker").run_once(now)
        db.session.remove()


def refer(client, login, to_service_id, who="police.officer") -> str:
    """A new referral of the access matrix's victim to a service; its id."""
    response = client.post(
        "/api/v1/referrals", json=named_victim_referral(to_service_id), headers=login(who)
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def act(client, login, who, referral_id, **body):
    """POST an action on a referral as ``who``."""
    response = client.post(
        f"/api/v1/referrals/{referral_id}/transitions", json=body, headers=login(who)
    )
    return response


def report(client, login, who, refuge_id, spaces):
    """A refuge's availability report as ``who``, with the ETag read first."""
    headers = login(who)
    etag = client.get(f"/api/v1/refuges/{refuge_id}/availability", headers=headers).headers["ETag"]
    return client.put(
        f"/api/v1/refuges/{refuge_id}/availability",
        json={"spaces": spaces},
        headers={**headers, "If-Match": etag},
    )


# --- webhooks -------------------------------------------------------------------------------------


def register(client, login, url, types=("availability.reported",), who="swa.admin") -> dict:
    """A webhook registered by an organisation's admin (201 checked); its answer."""
    response = client.post(
        "/api/v1/webhooks", json={"url": url, "event_types": list(types)}, headers=login(who)
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def swa_reports(client, login, ids, vacant: int):
    """Staffordshire Women's Aid reports ``vacant`` of its 4 single rooms (200 checked)."""
    refuge = ids.service["Staffordshire Women's Aid refuge"]
    response = report(
        client, login, "swa.staff", refuge, [{"space_type": "single", "total": 4, "vacant": vacant}]
    )
    assert response.status_code == 200, response.get_json()


def verified(secret: str, delivery) -> dict:
    """A delivery's payload, after verifying its Standard Webhooks signature."""
    return Webhook(secret).verify(delivery.body, delivery.headers)


# --- vacancy alerts -------------------------------------------------------------------------------

STOKE = "E06000021"


def matched(app) -> list[dict]:
    """The vacancy.matched events of the outbox."""
    return [e for e in all_events(app) if e["type"] == "vacancy.matched"]


def glow_family(client, login, ids, vacant: int):
    """Glow reports ``vacant`` of its 2 family rooms (200 checked)."""
    response = report(
        client,
        login,
        "glow.staff",
        ids.service["Glow refuge"],
        [{"space_type": "family", "total": 2, "vacant": vacant}],
    )
    assert response.status_code == 200, response.get_json()


def set_alert(client, login, referral_id=None, **criteria) -> dict:
    """A vacancy alert the police officer sets (201 checked); its answer."""
    body = {"area": [STOKE], "space_type": "family", **criteria}
    if referral_id:
        body["referral_id"] = referral_id
    response = client.post("/api/v1/vacancy-alerts", json=body, headers=login("police.officer"))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


# --- the pages ------------------------------------------------------------------------------------

PAGE_REFERRAL = {
    "kind": "victim",
    "risk_level": "high",
    "dash_score": 16,
    "marac": True,
    "subject": {"name": "Page Test Person", "date_of_birth": "1990-04-02", "area": "E07000197"},
    "safe_contact": {"phone": "07700 900999", "safe_to_call": True, "safe_times": "Mon 9-10"},
    "household": {
        "children_detail": [{"age": 4, "sex": "female"}, {"age": 13, "sex": "male"}],
    },
    "needs": {"risk_from_home": True},
    "consent": {"given": True},
    "summary": "A page test referral.",
}


def query_db(app, statement):
    """Look behind the pages in a context of its own (a test-wide app context would make the
    test client's requests share one ``g``, and with it one CSRF token)."""
    from partnership_api.extensions import db

    with app.app_context():
        try:
            return db.session.execute(statement).scalars().all()
        finally:
            db.session.remove()


def referral_total(app) -> int:
    """How many referrals there are, read behind the pages."""
    from partnership_api.models.referrals import Referral

    return query_db(app, sa.select(sa.func.count()).select_from(Referral))[0]


def quarter_from_now(step: int) -> str:
    """The quarter ``step`` quarters from this one, like 2026-Q3."""
    from datetime import date

    today = date.today()
    index = today.year * 4 + (today.month - 1) // 3 + step
    return f"{index // 4}-Q{index % 4 + 1}"


def referral_form_fields(app, ids, **changes) -> dict:
    """The new-referral form's fields for a referral to Staffordshire Women's Aid."""
    fields = {
        "kind": "victim",
        "to_service_id": str(ids.service["Staffordshire Women's Aid refuge"]),
        "subject_name": "Form Person",
        "subject_area": "E07000197",
        "risk_level": "medium",
        "children": "2",
        "daughter_ages": "4",
        "son_ages": "13",
        "consent_given": "yes",
        "summary": "Made through the page.",
    }
    fields.update(changes)
    return fields


# --- Schemathesis ---------------------------------------------------------------------------------


def schemathesis_checks() -> list:
    """What every Schemathesis answer is checked for (imported here only when asked)."""
    from schemathesis.checks import (
        content_type_conformance,
        not_a_server_error,
        response_schema_conformance,
        status_code_conformance,
    )

    return [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]


def schemathesis_headers(app, username: str, fresh: bool = False) -> dict:
    """Authorization headers for a role, signed in once per app (or again if ``fresh``)."""
    tokens = app.config.setdefault("_schemathesis_tokens", {})
    if fresh or username not in tokens:
        from partnership_api.extensions import db, limiter
        from partnership_api.models.partnership import AuthCounter

        # Signing in again and again here is the harness, not an attack: forget the counts.
        limiter.reset()
        with app.app_context():
            db.session.execute(AuthCounter.__table__.delete())
            db.session.commit()
        response = app.test_client().post(
            "/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD}
        )
        assert response.status_code == 200
        tokens[username] = response.get_json()["access_token"]
    return {"Authorization": f"Bearer {tokens[username]}"}
