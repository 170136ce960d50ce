"""A referral's transitions: accept, decline, redirect, withdraw, close, with the coded
reasons of the safe-accommodation return, the placement authority and the end of a stay."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from partnership_api.models.referrals import DECLINE_REASONS, LEGACY_DECLINE_REASONS
from partnership_api.models.safe_accommodation import DESTINATIONS, STAY_END_REASONS
from partnership_api.schemas.common import EnglishAreaCode, NonEmptyText, StrictSchema, Text

ACTIONS = ("accept", "decline", "redirect", "withdraw", "close")
DB_INT = validate.Range(min=1, max=2**31 - 1)

# Which optional fields each action takes, and which it needs.
ACTION_FIELDS = {
    "accept": ((), ("placement_area",)),
    "decline": (("reason_code",), ("reason_code", "reason_text")),
    "redirect": (("to_service_id",), ("to_service_id", "reason_code", "reason_text")),
    "withdraw": ((), ("reason_code", "reason_text")),
    "close": (("outcome",), ("outcome", "end_reason", "end_reason_text", "destination")),
}
OPTIONAL_FIELDS = (
    "reason_code",
    "reason_text",
    "to_service_id",
    "outcome",
    "placement_area",
    "end_reason",
    "end_reason_text",
    "destination",
)


class TransitionSchema(StrictSchema):
    action = ma.fields.String(required=True, validate=validate.OneOf(ACTIONS))
    reason_code = ma.fields.String(
        validate=validate.OneOf(DECLINE_REASONS + LEGACY_DECLINE_REASONS),
        metadata={
            "description": "decline (required), redirect or withdraw (optional): why the "
            "household was not supported, from the safe-accommodation return's list (a "
            "`needs_not_met_…` code names the need); the first API's codes "
            f"({', '.join(LEGACY_DECLINE_REASONS)}) are still accepted and mapped onto it"
        },
    )
    reason_text = NonEmptyText(
        200, metadata={"description": "with reason_code `other`: what the reason was"}
    )
    placement_area = EnglishAreaCode(
        metadata={
            "description": "accept (a refuge referral): the local authority where she is "
            "placed; the refuge's area when it has only one"
        }
    )
    end_reason = ma.fields.String(
        validate=validate.OneOf(STAY_END_REASONS),
        metadata={"description": "close (a refuge stay): why the stay ended"},
    )
    end_reason_text = NonEmptyText(
        200, metadata={"description": "close, with end_reason `other`: what the reason was"}
    )
    destination = ma.fields.String(
        validate=validate.OneOf(DESTINATIONS),
        metadata={"description": "close (a refuge stay): where the household went"},
    )
    note = Text(5000, metadata={"description": "why; kept on the timeline"})
    to_service_id = ma.fields.Integer(
        validate=DB_INT, metadata={"description": "redirect: the service that should take it"}
    )
    outcome = NonEmptyText(2000, metadata={"description": "close: what happened"})

    @ma.validates_schema
    def _fields_fit_action(self, data: dict, **_kwargs) -> None:
        action = data.get("action")
        if action not in ACTION_FIELDS:
            return
        needed, allowed = ACTION_FIELDS[action]
        errors: dict[str, list[str]] = {}
        for field in needed:
            if data.get(field) is None:
                errors[field] = [f"Required to {action} a referral."]
        for field in OPTIONAL_FIELDS:
            if field in data and field not in allowed:
                errors[field] = [f"Not used when you {action} a referral."]
        if errors:
            raise ma.ValidationError(errors)
