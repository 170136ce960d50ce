"""The audit trail: append-only, hash-chained events."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from partnership_api.database import db


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (
        sa.Index("ix_audit_events_org_at", "organisation_id", "at"),
        sa.Index("ix_audit_events_resource", "resource_type", "resource_id"),
        sa.Index("ix_audit_events_subject_org", "subject_organisation_id", "at"),
        sa.Index("ix_audit_events_public_id", "public_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # chain sequence
    # The id the API shows (issue 25): the chain's sequence counts every organisation's audited
    # actions, so an organisation admin's own consecutive events would show how many others
    # made between. Random, outside the hash (the chain is unchanged by it).
    public_id: Mapped[uuid.UUID] = mapped_column(default=uuid.uuid4)
    at: Mapped[datetime] = mapped_column(index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    username: Mapped[str | None] = mapped_column(sa.String(80))
    organisation_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(sa.String(60), index=True)
    resource_type: Mapped[str] = mapped_column(sa.String(40))
    resource_id: Mapped[str | None] = mapped_column(sa.String(64))
    # The organisation the record is about (e.g. a referral's sender or receiver), so an org
    # admin sees events about their own organisation's records.
    subject_organisation_id: Mapped[int | None]
    related_organisation_id: Mapped[int | None]
    request_id: Mapped[str | None] = mapped_column(sa.String(64))
    client_address: Mapped[str | None] = mapped_column(sa.String(64))
    outcome: Mapped[str] = mapped_column(sa.String(10))
    details: Mapped[dict | None] = mapped_column(sa.JSON)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))


class AuditChainHead(db.Model):
    """One row: the last sequence number and hash. Locking it orders the chain."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(sa.String(64))
