"""Versions and If-Match: every fund, project, milestone, spend line and output changes only from
the version its writer read (missing → 428, stale → 412), by a conditional ``UPDATE … WHERE
version = :read``."""

from __future__ import annotations

import sqlalchemy as sa
from flask_smorest import abort
from werkzeug.datastructures import ETags

from partnership_api.domain_errors import PreconditionRequired
from partnership_api.extensions import db
from partnership_api.models.base import utcnow

# --- ETags and conditional updates ---------------------------------------------------------------


def etag_of(item) -> str:
    """The ETag header value of a fund, project, milestone, spend line or output."""
    return f'"{item.version}"'


def the_version_read(if_match: ETags | None) -> str:
    """The one strong ETag an ``If-Match`` names: every conditional write names exactly the
    version its writer read. Missing, ``*``, a weak ETag or a list of them (which would let a
    writer claim every version at once and pass the lost-update check): 428."""
    if if_match is None or (not if_match and not if_match.star_tag):
        raise PreconditionRequired(
            "Send If-Match with the ETag of the version you read (GET it first).",
            fields={"If-Match": ["Missing."]},
            location="headers",
        )
    if if_match.star_tag:
        raise PreconditionRequired(
            "If-Match must name the version you read, not '*'.",
            fields={"If-Match": ["'*' is not a version."]},
            location="headers",
        )
    if len(if_match) != 1 or len(if_match.as_set(include_weak=True)) != 1:
        raise PreconditionRequired(
            "If-Match must name exactly one version, the one you read, as one strong ETag "
            "(not a list, not W/).",
            fields={"If-Match": ["Exactly one strong ETag."]},
            location="headers",
        )
    return next(iter(if_match))


def check_if_match(if_match: ETags | None, item) -> None:
    if the_version_read(if_match) != str(item.version):
        abort(
            412,
            message=f"It has changed since you read it (it is now version {item.version}). "
            "Read it again and reapply your change.",
        )


def claim(model, item, if_match: ETags | None) -> None:
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
        abort(412, message="It changed while you were changing it. Read it again and retry.")
    # The row is ours now; keep the in-memory copy in step without another UPDATE.
    db.session.expire(item, ["version", "updated_at"])


def unprocessable(field: str, message: str) -> None:
    abort(422, message=message, errors={"json": {field: [message]}})
