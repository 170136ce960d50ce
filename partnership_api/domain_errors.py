"""What can go wrong in the domain, said in the domain's words: no HTTP, no Flask.

Services and the policy raise these; each caller turns them into its own answer. The API has
one handler (``errors.py``) that makes each the JSON error it always was (the status below,
the message, and the field errors under ``errors``); a web page can show the message next to
the fields; the worker and the CLI can log or print it.

    DomainError
    ├── Invalid               422  a value breaks a rule of the domain (field errors)
    ├── Unauthenticated       401  no valid sign-in (wrong password, a token no longer valid)
    ├── Refused               403  the policy refuses (404 when the object must stay hidden)
    ├── NotFound              404  no such thing
    ├── Conflict              409  wrong status, no space left, a name taken
    ├── PreconditionFailed    412  it changed since the version the caller read
    ├── PreconditionRequired  428  the caller did not say which version it read
    └── Throttled             429  too many attempts; ``retry_after`` seconds

A policy refusal carries what the audit trail records about it (``RefusalRecord``): whoever
catches it writes that, in a transaction of its own (the API's handler does).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class DomainError(Exception):
    """A failure the caller can understand and act on. ``fields`` maps a field (of the
    request's ``location``: its body, query or headers) to what is wrong with it."""

    status = 400

    def __init__(
        self,
        message: str,
        *,
        fields: dict[str, list[str]] | None = None,
        location: str = "json",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields
        self.location = location

    @classmethod
    def on(cls, field: str, message: str, detail: str | None = None, **kwargs: Any):
        """The error named on one field: ``detail`` (else the message itself) is its note."""
        return cls(message, fields={field: [detail or message]}, **kwargs)


class Invalid(DomainError):
    status = 422


class Unauthenticated(DomainError):
    status = 401


class NotFound(DomainError):
    status = 404

    def __init__(self, message: str = "Not found.", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)


class Conflict(DomainError):
    status = 409


class PreconditionFailed(DomainError):
    status = 412


class PreconditionRequired(DomainError):
    status = 428


class Throttled(DomainError):
    status = 429

    def __init__(self, message: str, *, retry_after: int | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


@dataclass(frozen=True)
class RefusalRecord:
    """What the audit trail records of a refused attempt (outcome ``refused``)."""

    action: str
    resource_type: str
    resource_id: object = None
    details: dict | None = None
    subject_organisation_id: int | None = None
    related_organisation_id: int | None = None


class Refused(DomainError):
    """The policy said no: 403, or 404 when the object must not be seen to exist.

    ``actor`` is who was refused; ``record`` what the audit trail keeps of it (None: nothing).
    """

    def __init__(
        self,
        message: str,
        *,
        hidden: bool = False,
        actor: Any = None,
        record: RefusalRecord | None = None,
    ) -> None:
        super().__init__(message)
        self.status = 404 if hidden else 403
        self.hidden = hidden
        self.actor = actor
        self.record = record


# The name the issue uses for a policy refusal seen from outside.
Forbidden = Refused
