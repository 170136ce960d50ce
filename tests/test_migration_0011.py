"""Migration 0011 (audit public ids) on a trail already kept, told by the operator who
upgrades: every event gets its own random id, the chain still verifies, and the way back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.dblib import app_on_empty_database

BEFORE = "0010_drop_reference_counters"
START = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def kept_trail(conn, postgres: bool, count: int) -> None:
    """``count`` events chained as the service wrote them before 0011, and the chain's head."""
    from partnership_api.audit import GENESIS_HASH, content_digest, link_hash

    events = sa.table(
        "audit_events",
        *(sa.column(name) for name in ("id", "prev_hash", "hash", "action", "resource_type")),
        *(sa.column(name) for name in ("at", "organisation_id", "outcome", "details")),
    )
    prev = GENESIS_HASH
    for seq in range(1, count + 1):
        at = START + timedelta(minutes=seq)
        fields = {
            "at": at,
            "user_id": None,
            "username": None,
            "organisation_id": seq,
            "action": "referral.read",
            "resource_type": "referral",
            "resource_id": None,
            "subject_organisation_id": None,
            "related_organisation_id": None,
            "request_id": None,
            "client_address": None,
            "outcome": "allowed",
            "details": None,
        }
        digest = link_hash(seq, prev, content_digest(fields))
        conn.execute(
            events.insert().values(
                id=seq,
                prev_hash=prev,
                hash=digest,
                action="referral.read",
                resource_type="referral",
                at=at if postgres else at.replace(tzinfo=None),
                organisation_id=seq,
                outcome="allowed",
                details=None,
            )
        )
        prev = digest
    conn.execute(sa.text("DELETE FROM audit_chain_head"))
    conn.execute(
        sa.text("INSERT INTO audit_chain_head (id, last_seq, last_hash) VALUES (1, :seq, :hash)"),
        {"seq": count, "hash": prev},
    )


@pytest.mark.no_demo
def test_every_kept_audit_event_gets_a_random_id_and_the_chain_still_verifies(tmp_path):
    from flask_migrate import downgrade, upgrade

    from partnership_api import audit
    from partnership_api.extensions import db
    from partnership_api.models.audit import AuditEvent

    with app_on_empty_database(tmp_path, "m0011") as app, app.app_context():
        upgrade(revision=BEFORE)
        postgres = db.engine.dialect.name == "postgresql"
        with db.engine.begin() as conn:
            kept_trail(conn, postgres, 5)
        upgrade()
        rows = db.session.execute(
            sa.select(AuditEvent.id, AuditEvent.public_id).order_by(AuditEvent.id)
        ).all()
        public = [row.public_id for row in rows]
        assert len(rows) == 5 and all(isinstance(p, uuid.UUID) for p in public)
        assert len(set(public)) == 5
        assert audit.verify_chain() == (5, None)
        # A new event gets its own id, and links on to the kept ones.
        audit.record("referral.read", "referral", organisation_id=1)
        db.session.commit()
        assert audit.verify_chain() == (6, None)
        newest = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.id == 6))
        assert newest.public_id not in public
        db.session.remove()
        # Two events may not share an id.
        with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
            conn.execute(
                sa.update(AuditEvent.__table__)
                .where(AuditEvent.id == 2)
                .values(public_id=public[0])
            )
        downgrade(revision=BEFORE)
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("audit_events")}
        assert "public_id" not in columns
        assert db.session.scalar(sa.text("SELECT count(*) FROM audit_events")) == 6
