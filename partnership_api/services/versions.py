"""Versions and If-Match: every fund, project, milestone, spend line and output changes only from
the version its writer read (missing → 428, stale → 412), by a conditional ``UPDATE … WHERE
version = :read``. A refuge's availability uses the same ``IfMatch`` with its own tags."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from partnership_api.database import db
from partnership_api.domain_errors import PreconditionFailed, PreconditionRequired
from partnership_api.models.base import utcnow


@dataclass(frozen=True)
class IfMatch:
    """What a writer says it read: the (strong) tags it names, or any version at all (``*``).

    A caller that names nothing passes None instead."""

    tags: frozenset[str] = frozenset()
    any: bool = False
    # It named a weak ETag (W/…): no write accepts one.
    weak: bool = False

    def names(self, tag: str) -> bool:
        return tag in self.tags


def etag_of(item) -> str:
    """The ETag header value of a fund, project, milestone, spend line or output."""
    return f'"{item.version}"'


def the_version_read(if_match: IfMatch | None) -> str:
    """The one strong ETag an If-Match names: every conditional write names exactly the version
    its writer read. Missing, ``*``, a weak ETag or a list of them (which would let a writer
    claim every version at once and pass the lost-update check): 428."""
    if if_match is None:
        raise PreconditionRequired(
            "Send If-Match with the ETag of the version you read (GET it first)."
        )
    if if_match.any:
        raise PreconditionRequired("If-Match must name the version you read, not '*'.")
    if if_match.weak or len(if_match.tags) != 1:
        raise PreconditionRequired(
            "If-Match must name exactly one version, the one you read, as one strong ETag "
            "(not a list, not W/).",
            fields={"If-Match": ["Exactly one strong ETag."]},
            location="headers",
        )
    (tag,) = if_match.tags
    return tag


def check_if_match(if_match: IfMatch | None, item) -> None:
    if the_version_read(if_match) != str(item.version):
        raise PreconditionFailed(
            f"It has changed since you read it (it is now version {item.version}). "
            "Read it again and reapply your change."
        )


def claim(model, item, if_match: IfMatch | None) -> None:
    """Check ``If-Match``, then move ``item`` to its next version only if nobody else has."""
    check_if_match(if_match, item)
    now = utcnow()
    claimed = db.session.execute(
        sa.update(model)
        .where(model.id == item.id, model.version == item.version)
        .values(version=item.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        raise PreconditionFailed("It changed while you were changing it. Read it again and retry.")
    # The row is ours now; keep the in-memory copy in step without another UPDATE.
    db.session.expire(item, ["version", "updated_at"])
