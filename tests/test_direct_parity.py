"""Every prebuilt statement (``direct.statements``, the inbox's ``direct.referral_page``) gives
through ``direct`` exactly what SQLAlchemy gives for the same statement: the same rows, the
same values of the same types (times aware and in UTC), the same rows changed and the same
state left behind; on SQLite and on PostgreSQL. And a time is guarded as ``UTCDateTime``
guards it: a naive one is refused, nothing run.

Each case runs the statement twice on the same data, each time in a transaction that is
rolled back: once through ``direct`` and once through the session (the ORM's execution, with
its column types)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import orjson
import pytest
import sqlalchemy as sa

from partnership_api.direct import statements
from tests.conftest import is_postgres

GLOW = "Glow refuge"
DIALECT = "postgresql" if is_postgres() else "sqlite"
# Sent at commit, on PostgreSQL only: SQLite links the chain and takes positions in Python.
POSTGRES_ONLY = {
    "REPORT_IN_ONE",
    "BUMP_OR_MAKE_GENERATION",
    "AUDIT_APPEND",
    "AUDIT_MAKE_HEAD",
    "EVENTS_APPEND",
    "UPSERT_SPACE.postgresql",
}
SQLITE_ONLY = {"UPSERT_SPACE.sqlite"}


def _referral_body(to_service_id: int) -> dict:
    return {
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
        "safe_contact": {"phone": "07700 900123", "safe_to_call": True, "do_not_contact": False},
        "household": {"children": 2, "child_ages": [4, 13]},
        "needs": {"wheelchair": False, "interpreter_language": None, "nrpf": False},
        "consent": {"given": True},
        "summary": "She and her two children need a refuge place tonight.",
    }


@pytest.fixture
def world(client, login, ids):
    """A police officer's referral to Glow refuge with a live hold on a family space, and the
    officer's session."""
    officer = login("police.officer")
    made = client.post("/api/v1/referrals", json=_referral_body(ids.service[GLOW]), headers=officer)
    assert made.status_code == 201, made.get_json()
    referral_id = uuid.UUID(made.get_json()["id"])
    held = client.post(
        f"/api/v1/referrals/{referral_id}/hold",
        json={"refuge_id": ids.service[GLOW], "space_type": "family"},
        headers=officer,
    )
    assert held.status_code == 201, held.get_json()
    from partnership_api.extensions import db
    from partnership_api.models.beds import RefugeAvailability
    from partnership_api.models.partnership import AuthSession

    with client.application.app_context():
        session_id = db.session.scalar(
            sa.select(AuthSession.id)
            .where(AuthSession.user_id == ids.user["police.officer"])
            .order_by(AuthSession.created_at.desc())
        )
        version = db.session.scalar(
            sa.select(RefugeAvailability.version).where(
                RefugeAvailability.service_id == ids.service[GLOW]
            )
        )
        db.session.remove()
    assert version is not None
    return {
        "referral_id": referral_id,
        "session_id": session_id,
        "user_id": ids.user["police.officer"],
        "refuge": ids.service[GLOW],
        "glow": ids.org["Glow"],
        "version": version,
    }


def _actor(username: str):
    from partnership_api.extensions import db
    from partnership_api.models.partnership import Organisation, User
    from partnership_api.policy import Actor

    user, organisation = db.session.execute(
        sa.select(User, Organisation)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(User.username == username)
    ).one()
    return Actor(
        user_id=user.id,
        username=user.username,
        org_id=organisation.id,
        org_kind=organisation.kind,
        org_name=organisation.name,
        role=user.role,
        partnership_admin=user.partnership_admin,
        session_id=uuid.uuid4(),
    )


def _now() -> datetime:
    return datetime.now(UTC)


def _audit_events() -> dict:
    rows = [
        {
            "ord": 1,
            "content": "a" * 64,
            "public_id": str(uuid.uuid4()),
            "at": _now().isoformat(),
            "user_id": None,
            "username": "parity",
            "organisation_id": None,
            "action": "referral.list",
            "resource_type": "referral",
            "resource_id": None,
            "subject_organisation_id": None,
            "related_organisation_id": None,
            "request_id": None,
            "client_address": None,
            "outcome": "allowed",
            "details": {"ids": []},
        }
    ]
    return {"events": orjson.dumps(rows).decode()}


def _events_append(world) -> dict:
    events = [
        {
            "ord": 1,
            "id": str(uuid.uuid4()),
            "type": "availability.reported",
            "occurred_at": _now().isoformat(),
            "audience": "parties",
            "data": {"refuge_id": world["refuge"], "organisation_id": world["glow"]},
            "key": None,
        }
    ]
    parties = [{"ord": 1, "organisation_id": world["glow"]}]
    return {
        "events": orjson.dumps(events).decode(),
        "parties": orjson.dumps(parties).decode(),
        "count": 1,
    }


def _report_in_one(world, seen: int, now: datetime) -> dict:
    """A report of one family space (the single spaces dropped) from version ``seen``."""
    return {
        "refuge": world["refuge"],
        "seen": seen,
        "now": now,
        "at": now,
        "user": world["user_id"],
        "name": "parity",
        "reported": [{"space_type": "family", "total": 5, "vacant": 3}],
        "new_version": seen + 1,
    }


def _cases(world) -> dict[str, tuple[dict | list[dict], list]]:
    """Each statement's parameters, and the tables whose rows it may change (compared after)."""
    from partnership_api.models.audit import AuditChainHead, AuditEvent
    from partnership_api.models.beds import (
        AvailabilityReport,
        BedSearchGeneration,
        BedSpace,
        RefugeAvailability,
    )
    from partnership_api.models.events import Event, EventHead, EventOrganisation

    now = _now()
    refuge = world["refuge"]
    spaces = [
        {"service_id": refuge, "space_type": "family", "total": 5, "vacant": 3},
        {"service_id": refuge, "space_type": "single", "total": 2, "vacant": 0},
    ]
    return {
        "SIGNED_IN": (
            {"user_id": world["user_id"], "session_id": world["session_id"], "now": now},
            [],
        ),
        "READ_ONE": ({"referral_id": world["referral_id"], "now": now}, []),
        "REFUGE_FOR_REPORT": ({"service_id": refuge}, []),
        "TAKE_VERSION": (
            {
                "refuge": refuge,
                "seen": world["version"],
                "now": now,
                "user": world["user_id"],
                "name": "p",
            },
            [RefugeAvailability],
        ),
        "UPSERT_SPACE.postgresql": (spaces, [BedSpace]),
        "UPSERT_SPACE.sqlite": (spaces, [BedSpace]),
        "DROP_OTHER_SPACES": (
            {"refuge": refuge, "kept_0": "family", "kept_1": "family", "kept_2": "family"},
            [BedSpace],
        ),
        "INSERT_REPORT": (
            {
                "refuge": refuge,
                "at": now,
                "user": world["user_id"],
                "name": "parity",
                "reported": [{"space_type": "family", "total": 5, "vacant": 3}],
                "new_version": 99,
            },
            [AvailabilityReport],
        ),
        "HELD_AT": ({"service_id": refuge, "now": now}, []),
        "REPORT_IN_ONE": (
            _report_in_one(world, world["version"], now),
            [RefugeAvailability, BedSpace, AvailabilityReport],
        ),
        "CURRENT_SPACES": ({"service_id": refuge}, []),
        "BUMP_OR_MAKE_GENERATION": ({"first": 7}, [BedSearchGeneration]),
        "AUDIT_APPEND": (_audit_events(), [AuditEvent, AuditChainHead]),
        "AUDIT_MAKE_HEAD": ({"genesis": "0" * 64}, [AuditChainHead]),
        "EVENTS_APPEND": (_events_append(world), [Event, EventOrganisation, EventHead]),
    }


def _typed(value):
    """A value with its type; a time also says whether it is aware and in UTC."""
    if isinstance(value, datetime):
        return ("datetime", value, value.tzinfo is UTC)
    if isinstance(value, dict | list):
        return (type(value).__name__, orjson.dumps(value, option=orjson.OPT_SORT_KEYS))
    return (type(value).__name__, value)


def _rows(rows) -> list:
    return [(tuple(row._fields), tuple(_typed(v) for v in row)) for row in rows]


# Numbered by a sequence, which a rollback does not wind back: the second run's number is the
# next one, so the number is left out of the comparison.
NUMBERED_BY_SEQUENCE = {"availability_reports": "id"}


def _state(session, models) -> dict:
    found = {}
    for model in models:
        table = model.__table__
        numbered = NUMBERED_BY_SEQUENCE.get(table.name)
        columns = [c for c in table.columns if c.name != numbered]
        ordered = session.execute(sa.select(*columns).order_by(*table.primary_key.columns)).all()
        found[table.name] = _rows(ordered)
    return found


def _returns(stmt) -> bool:
    """Whether a change returns rows of its own (RETURNING, or a text statement's SELECT); a
    primary key the dialect returns by itself on an INSERT is not part of the answer."""
    return isinstance(stmt, sa.TextClause) or bool(stmt.exported_columns)


def _count(stmt, rowcount: int, returned: list) -> int | None:
    """Rows changed, where SQLAlchemy counts them (an UPDATE or DELETE: what the callers read);
    an INSERT's changes show in the state compared after."""
    return None if isinstance(stmt, sa.Insert) or returned else rowcount


def _through_direct(session, stmt, params, models):
    from partnership_api import direct

    if isinstance(params, list):
        outcome = direct.pipeline([direct.Step(stmt, params, many=True)], session)[0]
        answer = ("many", _state(session, models))
    elif isinstance(stmt, sa.Select) and models:  # a query that writes (data-changing CTEs)
        outcome = direct.pipeline([direct.Step(stmt, params)], session)[0]
        answer = ("rows", _rows(outcome.rows), _state(session, models))
    elif isinstance(stmt, sa.Select):
        answer = ("rows", _rows(direct.rows(stmt, params)))
    else:
        outcome = direct.pipeline([direct.Step(stmt, params)], session)[0]
        returned = _rows(outcome.rows) if _returns(stmt) else []
        answer = ("changed", _count(stmt, outcome.rowcount, returned), returned)
        answer += (_state(session, models),)
    session.rollback()
    return answer


def _through_sqlalchemy(session, stmt, params, models):
    if isinstance(params, list):
        session.execute(stmt, params)
        answer = ("many", _state(session, models))
    elif isinstance(stmt, sa.Select) and models:
        answer = ("rows", _rows(session.execute(stmt, params).all()), _state(session, models))
    elif isinstance(stmt, sa.Select):
        answer = ("rows", _rows(session.execute(stmt, params).all()))
    else:
        result = session.execute(stmt, params)
        returned = _rows(result.all()) if result.returns_rows and _returns(stmt) else []
        answer = ("changed", _count(stmt, result.rowcount, returned), returned)
        answer += (_state(session, models),)
    session.rollback()
    return answer


def _answers(app, stmt, params, models):
    from partnership_api.extensions import db

    with app.app_context():
        try:
            return (
                _through_direct(db.session, stmt, params, models),
                _through_sqlalchemy(db.session, stmt, params, models),
            )
        finally:
            db.session.remove()


def test_every_prebuilt_statement_has_a_parity_case(world):
    assert set(_cases(world)) == set(statements.ALL)


def _runs_here(name: str) -> bool:
    return name not in (SQLITE_ONLY if is_postgres() else POSTGRES_ONLY)


@pytest.mark.parametrize("name", sorted(statements.ALL))
def test_a_prebuilt_statement_answers_as_sqlalchemy_does(app, world, name):
    if not _runs_here(name):
        pytest.skip(f"{name} runs on the other database only")
    params, models = _cases(world)[name]
    through_direct, through_sqlalchemy = _answers(app, statements.ALL[name], params, models)
    assert through_direct == through_sqlalchemy
    if through_direct[0] == "rows":
        assert through_direct[1], f"{name} found nothing: a case must have something to compare"


@pytest.mark.skipif(not is_postgres(), reason="the one-statement report is PostgreSQL's")
def test_a_report_in_one_statement_writes_what_the_five_statements_write(app, world):
    """The report on PostgreSQL (``REPORT_IN_ONE``) against the statements SQLite still sends
    one by one (version, spaces, the other types dropped, the report, the live holds): the
    same rows written and the same holds read; from a stale version, nothing at all."""
    from partnership_api import direct
    from partnership_api.extensions import db
    from partnership_api.models.beds import AvailabilityReport, BedSpace, RefugeAvailability

    models = [RefugeAvailability, BedSpace, AvailabilityReport]
    now = _now()
    one = _report_in_one(world, world["version"], now)
    with app.app_context():
        try:
            before = _state(db.session, models)
            (outcome,) = direct.pipeline([direct.Step(statements.REPORT_IN_ONE, one)])
            assert [tuple(r) for r in outcome.rows] == [(1,)]
            in_one = _state(db.session, models)
            db.session.rollback()
            step_params = {k: one[k] for k in ("refuge", "seen", "now", "user", "name")}
            db.session.execute(statements.TAKE_VERSION, step_params)
            db.session.execute(
                statements.UPSERT_SPACE["postgresql"],
                [{"service_id": world["refuge"], **one["reported"][0]}],
            )
            db.session.execute(
                statements.DROP_OTHER_SPACES,
                {
                    "refuge": world["refuge"],
                    "kept_0": "family",
                    "kept_1": "family",
                    "kept_2": "family",
                },
            )
            db.session.execute(
                statements.INSERT_REPORT,
                {k: one[k] for k in ("refuge", "at", "user", "name", "reported", "new_version")},
            )
            in_five = _state(db.session, models)
            db.session.rollback()
            assert in_one == in_five != before

            stale = _report_in_one(world, world["version"] - 1, now)
            (outcome,) = direct.pipeline([direct.Step(statements.REPORT_IN_ONE, stale)])
            assert outcome.rows[0].taken == 0
            assert _state(db.session, models) == before
            db.session.rollback()
        finally:
            db.session.remove()


@pytest.mark.skipif(not is_postgres(), reason="row locks and snapshots: PostgreSQL's")
def test_a_report_counts_a_hold_committed_while_it_waited_for_the_space_row(
    app, client, login, world
):
    """A hold is placed on the family space (its row locked, the hold written) while the
    refuge reports: the report waits for the lock, and its answer counts that hold too (the
    holds are counted by a statement of their own, after the report's locks were granted)."""
    import threading
    import time

    from partnership_api.extensions import db
    from partnership_api.services import availability_report

    officer = login("police.officer")
    made = client.post("/api/v1/referrals", json=_referral_body(world["refuge"]), headers=officer)
    assert made.status_code == 201
    second = uuid.UUID(made.get_json()["id"])
    now = _now()
    found = {}
    with app.app_context():
        holder = db.engine.connect()
        holder.begin()
        holder.execute(
            sa.text(
                "SELECT 1 FROM bed_spaces WHERE service_id = :s AND space_type = 'family' "
                "FOR UPDATE"
            ),
            {"s": world["refuge"]},
        )
        holder.execute(
            sa.text(
                "INSERT INTO bed_holds (id, referral_id, service_id, space_type, state, "
                "created_at, expires_at, created_by_user_id) VALUES "
                "(:id, :r, :s, 'family', 'active', :n, :e, :u)"
            ),
            {
                "id": uuid.uuid4(),
                "r": second,
                "s": world["refuge"],
                "n": now,
                "e": now + timedelta(hours=1),
                "u": world["user_id"],
            },
        )

        def report():
            with app.app_context():
                actor = SimpleNamespace(user_id=world["user_id"], username="parity")
                found["held"] = availability_report._write_report(
                    actor,
                    world["refuge"],
                    world["version"],
                    [{"space_type": "family", "total": 5, "vacant": 3}],
                    now,
                )
                db.session.rollback()
                db.session.remove()

        reporter = threading.Thread(target=report)
        reporter.start()
        time.sleep(1.0)
        assert reporter.is_alive(), "the report did not wait for the space row's lock"
        holder.commit()
        holder.close()
        reporter.join(10)
        db.session.remove()
    assert found["held"] == {(world["refuge"], "family"): 2}


def test_the_read_and_the_session_check_find_what_they_should(app, world):
    """Not only equal to each other: the referral's live hold and the officer's live session."""
    from partnership_api import direct
    from partnership_api.extensions import db

    with app.app_context():
        if is_postgres():  # times are read back in UTC whatever the connection's zone
            db.session.execute(sa.text("SET LOCAL TIME ZONE 'America/New_York'"))
        (row,) = direct.rows(
            statements.READ_ONE, {"referral_id": world["referral_id"], "now": _now()}
        )
        assert row.hold_service_id == world["refuge"] and row.hold_space_type == "family"
        assert row.created_at.tzinfo is UTC and row.hold_expires_at.tzinfo is UTC
        signed_in = direct.signed_in(world["user_id"], world["session_id"], _now())
        assert signed_in.username == "police.officer"
        later = _now() + timedelta(days=365)
        assert direct.signed_in(world["user_id"], world["session_id"], later) is None
        # On a borrowed connection of its own (a bed search's): the same answer, in UTC.
        alone = direct.signed_in(world["user_id"], world["session_id"], _now(), alone=True)
        assert alone == signed_in
        assert direct.signed_in(world["user_id"], world["session_id"], later, alone=True) is None
        db.session.remove()


ORDERS = [("received", "desc"), ("received", "asc"), ("due", "asc"), ("due", "desc")]
LISTS = [
    ("police.officer", {}),
    ("glow.staff", {"direction": "received"}),
    ("police.officer", {"direction": "sent", "status": "submitted"}),
    ("glow.staff", {"overdue": False, "created_after": datetime(2020, 1, 1, tzinfo=UTC)}),
]


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("username, args", LISTS)
def test_an_inbox_page_answers_as_sqlalchemy_does(app, world, username, args, order):
    from partnership_api.direct import referral_page
    from partnership_api.services import referral_lists

    with app.app_context():
        actor = _actor(username)
        stmt = referral_lists._page_statement(actor, args, order)
        assert stmt is referral_page.statement(
            referral_lists.policy.referral_scope_key(actor),
            lambda: referral_lists._sides(actor, args),
            args,
            order,
        )
    params = {"now": _now(), "window": 20, "cap": 1000, "size": 20, "offset": 0}
    through_direct, through_sqlalchemy = _answers(app, stmt, params, [])
    assert through_direct == through_sqlalchemy
    assert through_direct[1], "the page is empty: nothing compared"


@pytest.mark.parametrize(
    "name, time_parameter",
    [("SIGNED_IN", "now"), ("READ_ONE", "now"), ("INSERT_REPORT", "at"), ("HELD_AT", "now")],
)
def test_a_naive_time_is_refused_and_nothing_runs(app, world, name, time_parameter):
    from partnership_api import direct
    from partnership_api.extensions import db
    from partnership_api.models.beds import AvailabilityReport

    params, _ = _cases(world)[name]
    params = {**params, time_parameter: datetime.now(UTC).replace(tzinfo=None)}
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count()).select_from(AvailabilityReport))
        with pytest.raises((ValueError, sa.exc.StatementError), match="naive datetime"):
            if isinstance(statements.ALL[name], sa.Select):
                direct.rows(statements.ALL[name], params)
            else:
                direct.execute(statements.ALL[name], params)
        db.session.rollback()
        after = db.session.scalar(sa.select(sa.func.count()).select_from(AvailabilityReport))
        db.session.remove()
    assert after == before


def test_a_time_in_another_zone_is_sent_as_the_same_instant(app, world):
    from partnership_api import direct
    from partnership_api.extensions import db

    in_new_york = _now().astimezone(ZoneInfo("America/New_York"))
    with app.app_context():
        found = direct.rows(
            statements.SIGNED_IN,
            {"user_id": world["user_id"], "session_id": world["session_id"], "now": in_new_york},
        )
        db.session.remove()
    assert [row.username for row in found] == ["police.officer"]


def test_only_the_direct_package_touches_the_driver():
    """The statements have one home: nothing else imports psycopg or takes a raw connection."""
    import ast
    from pathlib import Path

    package = Path(__file__).resolve().parent.parent / "partnership_api"
    offenders = []
    for path in package.rglob("*.py"):
        if path.parent.name == "direct" and path.parent.parent == package:
            continue
        text = path.read_text()
        tree = ast.parse(text)
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            if any(name.split(".")[0] == "psycopg" for name in names):
                offenders.append(f"{path.relative_to(package)} imports psycopg")
        for word in ("raw_connection(", "driver_connection"):
            if word in text:
                offenders.append(f"{path.relative_to(package)} uses {word}")
    assert offenders == []
