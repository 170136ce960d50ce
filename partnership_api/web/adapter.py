"""The one place the pages call the services and the policy.

The pages never touch the database and never decide access: they call the same service
functions as the API's views (so the same policy checks and the same audit events happen).
A refusal of the policy (``Refused``: 403, or 404 for what must not be seen) goes on to the
app's one handler, which audits it and, for a page, answers with the error page. Any other
domain error a view may want to show in its form (409, 412, 422, 401, 429) comes out of this
module as ``Refusal``, with the status the API would answer and the fields it names.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, TypeVar

from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from partnership_api import context, policy
from partnership_api.actors import Actor
from partnership_api.domain_errors import DomainError, Refused
from partnership_api.pagination import MAX_PAGE_SIZE, Page, PageRequest
from partnership_api.services import (
    availability,
    partnership,
    referral_lists,
    referral_reads,
    referral_rules,
    referrals,
    signin,
)
from partnership_api.services import (
    funding_summary as funding_summary_service,
)

T = TypeVar("T")


class Refusal(Exception):
    """A service said no: ``status`` as the API would answer, its message, field errors."""

    def __init__(
        self,
        status: int,
        message: str,
        errors: dict | None = None,
        retry_after: int | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors or {}
        self.retry_after = retry_after  # seconds, for a 429 (the shared sign-in counters)


def _call(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    try:
        return function(*args, **kwargs)
    except Refused:
        raise  # audited and answered (a 403 or 404 page) by the app's handler
    except DomainError as error:
        fields = {error.location: error.fields} if error.fields else {}
        retry_after = getattr(error, "retry_after", None)
        raise Refusal(error.status, error.message, fields, retry_after) from error
    except HTTPException as error:
        data = getattr(error, "data", None) or {}
        raise Refusal(
            error.code or 500, data.get("message") or error.description or "", data.get("errors")
        ) from error
    except ValidationError as error:
        raise Refusal(422, "Check the values entered.", error.normalized_messages()) from error


def every(function: Callable[..., Page], *args: Any) -> list:
    """Every item of one of the services' lists, read page by page (the API's largest page)
    until its total is reached: a page that needs the whole list is never cut short."""
    size = context.setting_or("MAX_PAGE_SIZE", MAX_PAGE_SIZE)
    items: list = []
    number = 1
    while True:
        found = _call(function, *args, PageRequest(number, size))
        items += found.items
        if not found.items or len(items) >= found.total:
            return items
        number += 1


def can(actor: Actor, action: str) -> bool:
    """Whether the policy lets this actor's kind and role use a function at all (for what
    a page offers: the service still decides when it is used)."""
    return policy.can(actor, action)


def may(actor: Actor, action: str, item: Any) -> bool:
    """The policy's ``may`` (the object's rule and, for a referral's step, its status) on a
    service's result as the page has it: a dict is read as the policy reads an object."""
    return policy.may(actor, action, SimpleNamespace(**item) if isinstance(item, dict) else item)


def require(actor: Actor, action: str) -> None:
    """The policy's function check: a refusal is audited and becomes the 403 page."""
    policy.require(actor, action)


# --- signing in and out -----------------------------------------------------------------------


def sign_in(username: str, password: str, address: str) -> tuple[uuid.UUID, uuid.UUID]:
    """The API's own sign-in (same shared counters, lock and audit): (user id, session id)."""
    return _call(signin.open_page_session, username, password, address)


def sign_out(actor: Actor) -> None:
    _call(signin.logout, actor)


def end_idle_session(session_id: uuid.UUID, user_id: uuid.UUID) -> None:
    _call(signin.end_idle_page_session, session_id, user_id)


# --- directory: organisations and services (never an address here) --------------------------


def organisation_names(actor: Actor) -> dict[int, str]:
    return {o.id: o.name for o in every(partnership.list_organisations, actor)}


def services_detail(actor: Actor) -> list[dict]:
    """Every active service as the pages offer it (never an address): id, name, kind, its
    organisation's name, the areas it serves, its phone, its facilities (a refuge's)."""
    names = organisation_names(actor)
    return sorted(
        (
            {
                "id": s.id,
                "name": s.name,
                "kind": s.kind,
                "organisation_id": s.organisation_id,
                "organisation": names.get(s.organisation_id, ""),
                "areas": list(s.areas or ()),
                "phone": s.phone,
                "hours": s.hours,
                "facilities": s.facilities or {},
            }
            for s in every(partnership.list_services, actor, {})
            if s.active
        ),
        key=lambda row: row["name"],
    )


def receives_referrals(actor: Actor) -> bool:
    """Whether the actor's organisation runs a service that receives referrals (the police
    only send them: their referral list opens on what they sent)."""
    return any(
        s["organisation_id"] == actor.org_id and s["kind"] in referral_rules.RECEIVING_KINDS
        for s in services_detail(actor)
    )


# --- referrals ----------------------------------------------------------------------------------


def referral_page(
    actor: Actor,
    args: dict,
    page: int = 1,
    size: int = 20,
    order: tuple[str, str] = referral_lists.DEFAULT_ORDER,
) -> tuple[list, int]:
    """A page of the organisation's referrals (the API's list: same scope, same audit) in
    ``order`` (by received or response due), and how many match."""
    found = _call(referral_lists.list_referrals, actor, args, PageRequest(page, size), order)
    return found.items, found.total


def count_referrals(actor: Actor, args: dict) -> int:
    return referral_page(actor, args, 1, 1)[1]


def read_referral(actor: Actor, referral_id: uuid.UUID) -> tuple[dict, list[dict]]:
    """The referral and its timeline: the API's two reads, each audited as the API audits it."""
    return (
        _call(referral_reads.read, actor, referral_id),
        _call(referral_reads.events, actor, referral_id),
    )


def make_referral(actor: Actor, data: dict, idempotency_key: str) -> tuple[dict, bool]:
    """Checked by the API's own schema, then made by the API's service (idempotently)."""
    from partnership_api.schemas.referrals import ReferralCreateSchema

    loaded = _call(ReferralCreateSchema().load, data)
    return _call(referrals.create, actor, loaded, idempotency_key)


def check_referral(data: dict) -> None:
    """The API's schema's checks of a referral, without making it ("Check your answers")."""
    from partnership_api.schemas.referrals import ReferralCreateSchema

    _call(ReferralCreateSchema().load, data)


def act_on_referral(actor: Actor, referral_id: uuid.UUID, data: dict) -> dict:
    from partnership_api.schemas.referrals import TransitionSchema

    loaded = _call(TransitionSchema().load, data)
    return _call(referrals.transition, actor, referral_id, loaded)


def add_note(actor: Actor, referral_id: uuid.UUID, text: str) -> dict:
    from partnership_api.schemas.referrals import NoteCreateSchema

    loaded = _call(NoteCreateSchema().load, {"text": text})
    return _call(referrals.add_note, actor, referral_id, loaded["text"])


# --- bed spaces ---------------------------------------------------------------------------------


def refuges_of(actor: Actor, organisation_id: int | None = None) -> list[dict]:
    """Active refuges (all, or one organisation's) with their availability, by name."""
    args = {} if organisation_id is None else {"organisation_id": organisation_id}
    return every(availability.list_refuges, actor, args)


# --- funding ------------------------------------------------------------------------------------
# The funding and users pages' other calls are in ``adapter_funding.py``.


def funding_summary(actor: Actor) -> dict:
    return _call(funding_summary_service.funding_summary, actor)


# --- home: since you last looked ----------------------------------------------------------------

HOME_ROWS = 10  # referrals in each of Home's tables (the referrals page has them all)


def home_facts(actor: Actor) -> dict:
    """What the start page needs, each fact from the service the API uses for it (the same
    policy checks, scopes and audit events)."""
    from partnership_api.services import changes, refuge_holds

    facts: dict[str, Any] = {}
    if can(actor, "referral.read"):
        facts["new"] = count_referrals(actor, {"direction": "received", "status": "submitted"})
        facts["overdue"] = count_referrals(actor, {"direction": "received", "overdue": True})
        facts["sent_waiting"] = count_referrals(actor, {"direction": "sent", "status": "submitted"})
        facts["sent"] = referral_page(actor, {"direction": "sent"}, 1, HOME_ROWS)[0]
        facts["awaiting"] = referral_page(
            actor, {"direction": "received", "status": "submitted"}, 1, HOME_ROWS, ("due", "asc")
        )[0]
    if can(actor, "availability.update"):
        facts["own_refuges"] = refuges_of(actor, actor.org_id)
        facts["holds"] = [
            (refuge, _call(refuge_holds.refuge_holds, actor, refuge["id"]))
            for refuge in facts["own_refuges"]
            if policy.may(
                actor, "refuge.holds", SimpleNamespace(organisation_id=refuge["organisation_id"])
            )
        ]
    facts["funding"] = funding_summary(actor)
    facts["names"] = organisation_names(actor)
    facts["changes"] = _call(changes.since_last_looked, actor)
    return facts
