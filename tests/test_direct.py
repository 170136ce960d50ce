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
    from partnership_api.services import referral_reads

    with pytest.raises(sa.exc.ArgumentError, match="referral_id"):
        direct.rows(referral_reads.READ_ONE, {"now": None})
    assert direct.rows(referral_reads.READ_ONE, {"referral_id": uuid.uuid4(), "now": None}) == []
