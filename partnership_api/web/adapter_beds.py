"""The bed board's and the refuges' pages' calls to the services (``adapter.py``'s rules: the
pages never touch the database nor decide access; a policy refusal goes on to the app's handler
as a 403 or 404 page; any other domain error comes out as ``adapter.Refusal``).

A report or confirmation made from a page names the version the form was drawn from as its
If-Match, exactly as the API's client sends the ETag it read.
"""

from __future__ import annotations

import uuid

from partnership_api import policy
from partnership_api.actors import Actor
from partnership_api.pagination import PageRequest
from partnership_api.services import (
    availability,
    availability_report,
    bed_search,
    holds,
    partnership,
    referral_reads,
    refuge_holds,
)
from partnership_api.services.versions import IfMatch
from partnership_api.web.adapter import _call, can

# --- bed spaces ---------------------------------------------------------------------------------


def bed_board(actor: Actor, args: dict) -> tuple[list[dict], list[dict]]:
    """The bed board's search (the API's arguments, checked by the same schema) and every
    active refuge for "why it does not fit", both from the bed search's cached snapshot."""
    from partnership_api.schemas.beds import BedSearchArgsSchema

    loaded = _call(BedSearchArgsSchema().load, args)
    answer, refuges = _call(bed_search.board, actor, loaded)
    return answer.results, refuges


def referral_for_bed_search(actor: Actor, referral_id: uuid.UUID) -> tuple[dict, dict]:
    """The bed search a referral asks for (its household, needs, and the subject's area to
    keep out when the risk comes from home: the bed search's own ``filters_of``), and the
    referral as the board needs it (reference, status, where it is addressed). One read,
    audited as a read of the referral; 404 unless the actor's organisation sent or received
    it, 403 for a role that never reads referrals."""
    read = _call(referral_reads.read_for_bed_search, actor, referral_id)
    return bed_search.filters_of(read), read


def set_vacancy_alert(actor: Actor, criteria: dict) -> dict:
    """A vacancy alert for a household of the officer's own (the API's alert: its schema,
    policy and audit): told when a space that fits opens."""
    from partnership_api.schemas.events import VacancyAlertCreateSchema
    from partnership_api.services import vacancy_alerts

    loaded = _call(VacancyAlertCreateSchema().load, criteria)
    return _call(vacancy_alerts.create, actor, loaded)


def hold_space(actor: Actor, referral_id: uuid.UUID, refuge_id: int, space_type: str):
    from partnership_api.schemas.beds import HoldCreateSchema

    data = _call(HoldCreateSchema().load, {"refuge_id": refuge_id, "space_type": space_type})
    return _call(holds.place_hold, actor, referral_id, data)


def release_hold(actor: Actor, referral_id: uuid.UUID) -> None:
    _call(holds.release_hold, actor, referral_id)


def refuge(actor: Actor, refuge_id: int) -> dict:
    """A refuge as this actor may see it: its address only for its own organisation (the
    policy's ``sees_address``, as the API's service read)."""
    shown = _call(availability.read_availability, actor, refuge_id)  # 404 unless a refuge
    service = _call(partnership.get_service, actor, refuge_id)
    history = _call(availability.availability_history, actor, refuge_id, PageRequest(1, 5))
    return {
        "id": service.id,
        "name": service.name,
        "organisation_id": service.organisation_id,
        "areas": list(service.areas),
        "phone": service.phone,
        "hours": service.hours,
        "facilities": service.facilities or {},
        "address": service.address if policy.sees_address(actor, service) else None,
        "availability": shown,
        "history": history.items,
        # Live holds on its beds: the refuge's own staff only (the policy's rule; audited).
        "holds": _call(refuge_holds.refuge_holds, actor, refuge_id)
        if policy.may(actor, "refuge.holds", service)
        else None,
    }


def require_refuge_holds(actor: Actor, refuge_id: int) -> None:
    """The policy's refusal of a refuge's holds to anyone but its own staff (audited)."""
    _call(refuge_holds.refuge_holds, actor, refuge_id)


def release_refuge_hold(
    actor: Actor, refuge_id: int, hold_id: uuid.UUID, reason_code: str, note: str
) -> dict:
    """The refuge releases a hold on its beds, with a reason (the API's release)."""
    from partnership_api.schemas.beds import HoldReleaseSchema

    data = {"reason_code": reason_code}
    if note.strip():
        data["note"] = note.strip()
    loaded = _call(HoldReleaseSchema().load, data)
    return _call(refuge_holds.release_by_refuge, actor, refuge_id, hold_id, loaded)


def may_report_availability(actor: Actor, refuge: dict) -> bool:
    """Whether to offer the report form: the policy's function rule and its own-refuge rule."""
    from types import SimpleNamespace

    return can(actor, "availability.update") and policy.may(
        actor, "availability.update", SimpleNamespace(organisation_id=refuge["organisation_id"])
    )


def report_availability(actor: Actor, refuge_id: int, version: int, spaces: list[dict]) -> dict:
    """The API's availability report, If-Match being the version the form was drawn from."""
    from partnership_api.schemas.beds import AvailabilityUpdateSchema

    data = _call(AvailabilityUpdateSchema().load, {"spaces": spaces})
    service = _call(availability_report.refuge_for_report, refuge_id)
    if_match = IfMatch(frozenset({availability.etag_for(refuge_id, version)}))
    return _call(availability_report.report_availability, actor, service, if_match, data)


def confirm_availability(actor: Actor, refuge_id: int, version: int) -> dict:
    """ "Still accurate": the API's confirmation, If-Match being the version the page showed."""
    service = _call(availability_report.refuge_for_report, refuge_id)
    if_match = IfMatch(frozenset({availability.etag_for(refuge_id, version)}))
    return _call(availability_report.confirm, actor, service, if_match)


def stale_after():
    return availability.stale_after()
