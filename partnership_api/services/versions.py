"""Versions and If-Match: every fund, project, milestone, spend line and output changes only from
the version its writer read (missing → 428, stale → 412), by a conditional ``UPDATE … WHERE
version = :read``."""

from __future__ import annotations

import sqlalchemy as sa
from flask_smorest import abort
from werkzeug.datastructures import ETags

from partnership_api.extensions import db
from partnership_api.models.base import utcnow

# --- ETags and conditional updates ---------------------------------------------------------------


def etag_of(item) -> str:
    """The ETag header value of a fund, project, milestone, spend line or output."""
    return f'"{item.version}"'


def check_if_match(if_match: ETags | None, item) -> None:
    if if_match is None or (not if_match and not if_match.star_tag):
        abort(
            428,
            message="Send If-Match with the ETag of the version you read (GET it first).",
        )
    if if_match.star_tag:
        abort(428, message="If-Match must name the version you read, not '*'.")
    if not if_match.contains(str(item.version)):
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
