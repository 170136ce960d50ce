"""A referral's ``Idempotency-Key``: the body as stored, its fingerprint, and the replay of
the referral an earlier request with the same key made (``referrals.create``)."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime

from partnership_api import audit
from partnership_api.actors import Actor
from partnership_api.database import db
from partnership_api.domain_errors import Invalid
from partnership_api.models.referrals import IdempotencyKey
from partnership_api.services import referral_reads
from partnership_api.services.referral_reads import parties, visible


def stored(data: dict) -> dict:
    """The loaded body in the form it is stored (and fingerprinted) in: JSON types only."""
    return json.loads(json.dumps(data, default=str))


def fingerprint(body: dict) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def replay(actor: Actor, key: str, fingerprint: str) -> dict | None:
    """The referral an earlier request with this key made, if there was one."""
    row = db.session.get(IdempotencyKey, (actor.user_id, key))
    if row is None:
        return None
    if row.request_hash != fingerprint:
        raise Invalid.on(
            "Idempotency-Key",
            "Idempotency-Key: this key was used for a different referral; "
            "use a new key for a new referral.",
            "Already used with a different body.",
            location="headers",
        )
    referral = visible(actor, row.referral_id)
    answer = referral_reads.shown(referral.id)
    audit.record(
        "referral.read",
        "referral",
        referral.id,
        details={"idempotent_replay": True},
        **parties(referral),
    )
    db.session.commit()
    return answer


def remember(
    actor: Actor, key: str, fingerprint: str, referral_id: uuid.UUID, now: datetime
) -> None:
    """The key's row, committed with the referral it made: of two racers, one commits."""
    db.session.add(
        IdempotencyKey(
            user_id=actor.user_id,
            key=key,
            request_hash=fingerprint,
            referral_id=referral_id,
            created_at=now,
        )
    )
