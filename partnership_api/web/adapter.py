"""The one place the pages call the services and the policy.

The pages never touch the database and never decide access: they call the same service
functions as the API's views (so the same policy checks and the same audit events happen),
and this module turns whatever those services refuse with into one exception, ``Refusal``,
with the HTTP status the API would answer. A view shows a refusal in its form (409, 412, 422)
or lets it become the error page (403, 404).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from partnership_api import policy
from partnership_api.policy import Actor
from partnership_api.services import signin

T = TypeVar("T")


class Refusal(Exception):
    """A service said no: ``status`` as the API would answer, its message, field errors."""

    def __init__(self, status: int, message: str, errors: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors or {}


def _call(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    try:
        return function(*args, **kwargs)
    except HTTPException as error:  # flask_smorest.abort in the services
        data = getattr(error, "data", None) or {}
        raise Refusal(
            error.code or 500, data.get("message") or error.description or "", data.get("errors")
        ) from error
    except ValidationError as error:
        raise Refusal(422, "Check the values entered.", error.normalized_messages()) from error
    except policy.Refused as refused:  # the policy's own refusal, should one reach here
        raise Refusal(refused.status, refused.message) from refused


def can(actor: Actor, action: str) -> bool:
    """Whether the policy lets this actor's kind and role use a function at all (for what
    a page offers: the service still decides when it is used)."""
    return policy.can(actor, action)


# --- signing in and out -----------------------------------------------------------------------


def sign_in(username: str, password: str) -> tuple[uuid.UUID, uuid.UUID]:
    """The API's own sign-in (same lock, throttling and audit): (user id, session id)."""
    return _call(signin.open_page_session, username, password)


def sign_out(actor: Actor) -> None:
    _call(signin.logout, actor)


def end_idle_session(session_id: uuid.UUID, user_id: uuid.UUID) -> None:
    _call(signin.end_idle_page_session, session_id, user_id)


# --- reading ----------------------------------------------------------------------------------


def _page(page: int, size: int):
    from flask_smorest.pagination import PaginationParameters

    return PaginationParameters(page, size)


def referral_page(actor: Actor, args: dict, page: int = 1, size: int = 20) -> tuple[list, int]:
    """A page of the organisation's referrals (the API's list: same scope, same audit) and
    how many match."""
    from partnership_api.services import referrals

    pagination = _page(page, size)
    shown = _call(referrals.list_referrals, actor, args, pagination)
    return shown, pagination.item_count or 0


def count_referrals(actor: Actor, args: dict) -> int:
    return referral_page(actor, args, 1, 1)[1]


def refuges_of(organisation_id: int | None = None) -> list:
    """Active refuges (all, or one organisation's), by name; never their addresses here."""
    from partnership_api.extensions import db
    from partnership_api.services import beds

    args = {} if organisation_id is None else {"organisation_id": organisation_id}
    return list(db.session.scalars(beds.refuges_query(args)))


def availability_of(refuge_ids: list[int]) -> dict[int, dict]:
    from partnership_api.services import beds

    return _call(beds.availability_of, refuge_ids)


def funding_summary(actor: Actor) -> dict:
    from partnership_api.services import funding

    return _call(funding.funding_summary, actor)


def home_facts(actor: Actor) -> dict:
    """What the start page needs, each fact from the service the API uses for it."""
    facts: dict[str, Any] = {}
    if can(actor, "referral.read"):
        facts["new"] = count_referrals(actor, {"direction": "received", "status": "submitted"})
        facts["overdue"] = count_referrals(actor, {"direction": "received", "overdue": True})
        facts["sent_waiting"] = count_referrals(actor, {"direction": "sent", "status": "submitted"})
    if can(actor, "availability.update"):
        refuges = refuges_of(actor.org_id)
        facts["own_refuges"] = refuges
        facts["own_availability"] = availability_of([r.id for r in refuges])
    facts["funding"] = funding_summary(actor)
    return facts


# --- bed spaces ---------------------------------------------------------------------------------


def search_beds(args: dict) -> list[dict]:
    """The API's bed search (same arguments, checked by the same schema, same cache)."""
    import orjson

    from partnership_api.schemas.beds import BedSearchArgsSchema
    from partnership_api.services import beds

    loaded = _call(BedSearchArgsSchema().load, args)
    return orjson.loads(_call(beds.search, loaded))


def open_victim_referrals(actor: Actor) -> list[dict]:
    """The actor's organisation's open victim referrals a space could be held for."""
    if not can(actor, "bed.hold"):
        return []
    found = []
    for status in ("submitted", "accepted"):
        shown, _total = referral_page(actor, {"kind": "victim", "status": status}, 1, 50)
        found.extend(shown)
    return found


def hold_space(actor: Actor, referral_id: uuid.UUID, refuge_id: int, space_type: str):
    from partnership_api.schemas.beds import HoldCreateSchema
    from partnership_api.services import beds

    data = _call(HoldCreateSchema().load, {"refuge_id": refuge_id, "space_type": space_type})
    return _call(beds.place_hold, actor, referral_id, data)


# --- directory: organisations and services (nothing secret: never an address) -----------------


def organisation_names() -> dict[int, str]:
    import sqlalchemy as sa

    from partnership_api.extensions import db
    from partnership_api.models.partnership import Organisation

    return dict(db.session.execute(sa.select(Organisation.id, Organisation.name)).all())


def receiving_services() -> list[tuple[int, str, str, str]]:
    """Active services that receive referrals: (id, name, kind, organisation name)."""
    import sqlalchemy as sa

    from partnership_api.extensions import db
    from partnership_api.models.partnership import Organisation, Service

    rows = db.session.execute(
        sa.select(Service.id, Service.name, Service.kind, Organisation.name)
        .join(Organisation, Organisation.id == Service.organisation_id)
        .where(
            Service.active.is_(True),
            Service.kind.in_(("refuge", "victim_support", "perpetrator_programme")),
        )
        .order_by(Service.name)
    ).all()
    return [tuple(row) for row in rows]


# --- referrals ----------------------------------------------------------------------------------


def read_referral(actor: Actor, referral_id: uuid.UUID) -> tuple[dict, list[dict]]:
    """The referral and its timeline: the API's two reads, each audited as the API audits it."""
    from partnership_api.services import referrals

    return (
        _call(referrals.read, actor, referral_id),
        _call(referrals.events, actor, referral_id),
    )


def make_referral(actor: Actor, data: dict, idempotency_key: str) -> tuple[dict, bool]:
    """Checked by the API's own schema, then made by the API's service (idempotently)."""
    from partnership_api.schemas.referrals import ReferralCreateSchema
    from partnership_api.services import referrals

    loaded = _call(ReferralCreateSchema().load, data)
    return _call(referrals.create, actor, loaded, idempotency_key)


def act_on_referral(actor: Actor, referral_id: uuid.UUID, data: dict) -> dict:
    from partnership_api.schemas.referrals import TransitionSchema
    from partnership_api.services import referrals

    loaded = _call(TransitionSchema().load, data)
    return _call(referrals.transition, actor, referral_id, loaded)


def add_note(actor: Actor, referral_id: uuid.UUID, text: str) -> dict:
    from partnership_api.schemas.referrals import NoteCreateSchema
    from partnership_api.services import referrals

    loaded = _call(NoteCreateSchema().load, {"text": text})
    return _call(referrals.add_note, actor, referral_id, loaded["text"])


def release_hold(actor: Actor, referral_id: uuid.UUID) -> None:
    from partnership_api.services import beds

    _call(beds.release_hold, actor, referral_id)


def refuge(actor: Actor, refuge_id: int) -> dict:
    """A refuge as this actor may see it: its address only for its own organisation (the
    policy's ``sees_address``, as the API's service read)."""
    from partnership_api.services import beds

    service = _call(beds.get_refuge, refuge_id)
    return {
        "id": service.id,
        "name": service.name,
        "organisation_id": service.organisation_id,
        "areas": list(service.areas),
        "phone": service.phone,
        "hours": service.hours,
        "facilities": service.facilities or {},
        "address": service.address if policy.sees_address(actor, service) else None,
        "availability": _call(beds.get_availability, service),
        "history": _call(_recent_reports, service),
    }


def _recent_reports(service, count: int = 5) -> list:
    from partnership_api.extensions import db
    from partnership_api.services import beds

    return list(db.session.scalars(beds.history_query(service).limit(count)))


def may_report_availability(actor: Actor, refuge: dict) -> bool:
    """Whether to offer the report form: the policy's function rule and its own-refuge rule."""
    from types import SimpleNamespace

    if not can(actor, "availability.update"):
        return False
    try:
        policy.OBJECT_RULES["availability.update"](
            actor, SimpleNamespace(organisation_id=refuge["organisation_id"])
        )
    except policy.Refused:
        return False
    return True


def report_availability(actor: Actor, refuge_id: int, version: int, spaces: list[dict]) -> dict:
    """The API's availability report, If-Match being the version the form was drawn from."""
    from werkzeug.datastructures import ETags

    from partnership_api.schemas.beds import AvailabilityUpdateSchema
    from partnership_api.services import beds

    data = _call(AvailabilityUpdateSchema().load, {"spaces": spaces})
    service = _call(beds.refuge_for_report, refuge_id)
    if_match = ETags([beds.etag_for(refuge_id, version)])
    return _call(beds.report_availability, actor, service, if_match, data)


# --- funding ------------------------------------------------------------------------------------


def projects(actor: Actor) -> list[dict]:
    """Every project as the API lists it (any signed-in user reads funding)."""
    from partnership_api.extensions import db
    from partnership_api.services import funding

    found = list(db.session.scalars(funding.list_projects_stmt({})))
    return _call(funding.present_projects, found)


def project(actor: Actor, project_id: int) -> dict:
    """One project with its milestones, quarterly spend and outputs (the API's reads)."""
    from partnership_api.extensions import db
    from partnership_api.services import funding

    item = _call(funding.get_project, project_id)
    return {
        "project": funding.present_project(item),
        "etag": funding.etag_of(item),
        "milestones": [
            funding.present_milestone(m)
            for m in db.session.scalars(funding.milestones_stmt(project_id))
        ],
        "spend": [
            funding.present_spend_line(line)
            for line in db.session.scalars(funding.spend_stmt(project_id))
        ],
        "outputs": [
            funding.present_output(o) for o in db.session.scalars(funding.outputs_stmt(project_id))
        ],
        "delivery_organisation_ids": list(item.delivery_organisation_ids),
        "item": item,
    }


def funds() -> list:
    from partnership_api.extensions import db
    from partnership_api.services import funding

    return list(db.session.scalars(funding.list_funds_stmt({})))


def may_progress(actor: Actor, item) -> bool:
    """Whether to offer progress forms on this project (the policy's own rule)."""
    if not can(actor, "project.progress"):
        return False
    try:
        policy.OBJECT_RULES["project.progress"](actor, item)
    except policy.Refused:
        return False
    return True


def create_project(actor: Actor, data: dict):
    from partnership_api.schemas.funding import ProjectCreateSchema
    from partnership_api.services import funding

    return _call(funding.create_project, actor, _call(ProjectCreateSchema().load, data))


def report_spend(actor: Actor, project_id: int, data: dict):
    from partnership_api.schemas.funding import SpendLineCreateSchema
    from partnership_api.services import funding

    loaded = _call(SpendLineCreateSchema().load, data)
    return _call(funding.create_spend_line, actor, project_id, loaded)


def add_milestone(actor: Actor, project_id: int, data: dict):
    from partnership_api.schemas.funding import MilestoneCreateSchema
    from partnership_api.services import funding

    loaded = _call(MilestoneCreateSchema().load, data)
    return _call(funding.create_milestone, actor, project_id, loaded)


def change_project(actor: Actor, project_id: int, version: int, data: dict):
    """The API's project change, If-Match being the version the form was drawn from."""
    from werkzeug.datastructures import ETags

    from partnership_api.schemas.funding import ProjectUpdateSchema
    from partnership_api.services import funding

    loaded = _call(ProjectUpdateSchema().load, data)
    return _call(funding.update_project, actor, project_id, loaded, ETags([str(version)]))


# --- users --------------------------------------------------------------------------------------


def users(actor: Actor) -> list:
    """The users this actor manages: the API list's own rule and scope."""
    import sqlalchemy as sa

    from partnership_api.extensions import db
    from partnership_api.models.partnership import User

    _call(policy.require, actor, "user.manage")
    stmt = policy.scope_users(actor, sa.select(User).order_by(User.username))
    return list(db.session.scalars(stmt))


def create_user(actor: Actor, data: dict):
    from partnership_api.schemas.partnership import UserCreateSchema
    from partnership_api.services import partnership

    return _call(partnership.create_user, actor, _call(UserCreateSchema().load, data))


def change_user(actor: Actor, user_id: uuid.UUID, data: dict):
    from partnership_api.schemas.partnership import UserUpdateSchema
    from partnership_api.services import partnership

    loaded = _call(UserUpdateSchema().load, data)
    user = _call(partnership.get_user, actor, user_id)
    return _call(partnership.update_user, actor, user, loaded)
