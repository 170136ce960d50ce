"""Reads run without a transaction on PostgreSQL, and the hottest statements go straight
through the driver: what that must never allow, told from inside a read."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from tests.conftest import is_postgres

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not is_postgres(), reason="only PostgreSQL reads run without a transaction"),
]


@pytest.fixture
def inside_a_read(app, ids):
    """A GET's request context whose session has taken its connection, as a read does."""
    from flask import g

    from partnership_api.extensions import db
    from partnership_api.transactions import begin_read

    with app.test_request_context("/api/v1/referrals", method="GET"):
        g.read_only = True
        begin_read(db.session())
        yield db.session
        db.session.rollback()
        db.session.close()


def test_a_read_cannot_write_through_the_session(inside_a_read):
    from partnership_api.models.beds import BedSearchGeneration

    with pytest.raises(RuntimeError, match="writes need a transaction"):
        inside_a_read.execute(
            sa.update(BedSearchGeneration).values(generation=BedSearchGeneration.generation + 1)
        )


def test_a_read_cannot_flush_changed_objects(inside_a_read, ids):
    from partnership_api.models.partnership import Service

    service = inside_a_read.get(Service, ids.service["Glow refuge"])
    service.name = "Renamed by a read"
    with pytest.raises(RuntimeError, match="writes need a transaction"):
        inside_a_read.flush()


def test_a_read_cannot_write_through_the_driver(inside_a_read, ids):
    from partnership_api import direct
    from partnership_api.services import search_cache

    with pytest.raises(RuntimeError, match="writes need a transaction"):
        direct.execute(search_cache.BUMP_GENERATION, {})


def test_a_read_may_still_write_its_own_audit_events(inside_a_read, ids):
    from partnership_api import audit
    from partnership_api.models.audit import AuditEvent

    before = inside_a_read.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    audit.record("referral.list", "referral", None, details={"ids": []})
    inside_a_read.commit()
    after = inside_a_read.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    assert after == before + 1


def test_a_prebuilt_statement_missing_a_value_is_refused_not_run_with_null(inside_a_read):
    from partnership_api import direct
    from partnership_api.direct import statements

    with pytest.raises(sa.exc.ArgumentError, match="referral_id"):
        direct.rows(statements.READ_ONE, {"now": None})
    assert direct.rows(statements.READ_ONE, {"referral_id": uuid.uuid4(), "now": None}) == []


def test_a_read_cannot_queue_a_write_for_its_commit(inside_a_read):
    from partnership_api import direct
    from partnership_api.direct import statements

    direct.at_commit(inside_a_read(), statements.BUMP_OR_MAKE_GENERATION, {"first": 1})
    with pytest.raises(RuntimeError, match="writes need a transaction"):
        inside_a_read.commit()


# --- a change's commit: the head rows' statements go together, in the lock order -------------


def _a_change_with_its_audit_event_and_its_event(session, ids) -> None:
    """What a refuge's report does at commit: an audit event, a change bed search shows, and
    an event, each with its head row to lock."""
    from partnership_api import audit
    from partnership_api.events import outbox
    from partnership_api.services import search_cache

    refuge = ids.service["Glow refuge"]
    audit.record("availability.report", "refuge", refuge, username="glow.staff")
    search_cache.mark_changed(session)
    outbox.emit(
        "availability.reported",
        [ids.org["Glow"]],
        refuge_id=refuge,
        organisation_id=ids.org["Glow"],
        key=f"bench-{refuge}",
    )


def _counts(session) -> dict:
    from partnership_api.models.audit import AuditEvent
    from partnership_api.models.beds import BedSearchGeneration
    from partnership_api.models.events import Event

    return {
        "audit": session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)),
        "events": session.scalar(sa.select(sa.func.count()).select_from(Event)),
        "generation": session.scalar(sa.select(BedSearchGeneration.generation)),
    }


def test_a_change_sends_its_head_statements_in_one_round_trip_in_the_lock_order(
    app, ids, monkeypatch
):
    from partnership_api import audit, direct
    from partnership_api.direct import statements
    from partnership_api.extensions import db

    sent = []
    real_pipeline = direct.pipeline

    def spying(steps, session=None):
        sent.append([step.stmt for step in steps])
        return real_pipeline(steps, session)

    monkeypatch.setattr(direct, "pipeline", spying)
    with app.app_context():
        before = _counts(db.session)
        _a_change_with_its_audit_event_and_its_event(db.session, ids)
        db.session.commit()
        after = _counts(db.session)
        assert audit.verify_chain()[1] is None
        db.session.remove()
    assert sent == [
        [statements.AUDIT_APPEND, statements.BUMP_OR_MAKE_GENERATION, statements.EVENTS_APPEND]
    ]
    assert after["audit"] == before["audit"] + 1
    assert after["events"] == before["events"] + 1
    assert after["generation"] == before["generation"] + 1


def test_missing_head_rows_are_made_at_commit_and_the_chain_still_holds(app, ids):
    from partnership_api import audit
    from partnership_api.extensions import db
    from partnership_api.models.audit import AuditChainHead, AuditEvent
    from partnership_api.models.beds import BedSearchGeneration
    from partnership_api.models.events import Event, EventHead, EventOrganisation

    with app.app_context():
        # A database set up by hand: the chain starts afresh, and so do the events.
        for model in (
            AuditEvent,
            AuditChainHead,
            EventOrganisation,
            Event,
            EventHead,
            BedSearchGeneration,
        ):
            db.session.execute(sa.delete(model))
        db.session.commit()
        _a_change_with_its_audit_event_and_its_event(db.session, ids)
        db.session.commit()
        assert db.session.scalar(sa.select(AuditChainHead.last_seq)) == 1
        assert db.session.scalar(sa.select(EventHead.last_position)) == 1
        assert db.session.scalars(sa.select(Event.position)).all() == [1]
        assert db.session.scalar(sa.select(BedSearchGeneration.generation)) is not None
        assert audit.verify_chain()[1] is None
        db.session.remove()


def test_a_failing_head_statement_leaves_the_whole_change_unwritten(app, ids):
    from partnership_api.extensions import db
    from partnership_api.models.partnership import Service

    with app.app_context():
        _a_change_with_its_audit_event_and_its_event(db.session, ids)
        db.session.commit()
        before = _counts(db.session)
        # The same event key again: the events' statement, the last of the three, fails.
        db.session.get(Service, ids.service["Glow refuge"]).name = "Glow (renamed)"
        _a_change_with_its_audit_event_and_its_event(db.session, ids)
        with pytest.raises(sa.exc.IntegrityError):
            db.session.commit()
        db.session.rollback()
        assert _counts(db.session) == before
        assert db.session.get(Service, ids.service["Glow refuge"]).name != "Glow (renamed)"
        db.session.remove()
