"""Referrals: the body a referrer sends, the answer partners read, transitions and the timeline."""

from __future__ import annotations

from datetime import date

import marshmallow as ma
from marshmallow import validate

from partnership_api.models.beds import SPACE_TYPES
from partnership_api.models.referrals import (
    DECLINE_REASONS,
    LEGACY_DECLINE_REASONS,
    REFERRAL_KINDS,
    RISK_LEVELS,
    STATUSES,
)
from partnership_api.models.safe_accommodation import (
    NOT_SUPPORTED_REASONS,
    UNMET_NEEDS,
)
from partnership_api.schemas.bounds import AREA, GSS_CODE, USERNAME_LENGTH, one_of
from partnership_api.schemas.common import (
    AreaCode,
    EnglishAreaCode,
    NonEmptyText,
    ResponseSchema,
    StrictSchema,
    Text,
    no_control_characters,
)
from partnership_api.schemas.households import HouseholdOutSchema, HouseholdSchema
from partnership_api.schemas.referrals_transitions import TransitionSchema  # noqa: F401 - its old home

DASH_HIGH_RISK_SCORE = 14
DASH_MAX_SCORE = 27
ACTIONS = ("accept", "decline", "redirect", "withdraw", "close")
DB_INT = validate.Range(min=1, max=2**31 - 1)
NEEDS_DEFAULT = {
    "wheelchair": False,
    "interpreter_language": None,
    "nrpf": False,
    "pets": False,
    "other": None,
}


# --- the body of a new referral ---------------------------------------------------------------


class SubjectSchema(StrictSchema):
    """The person referred."""

    name = NonEmptyText(200, required=True)
    date_of_birth = ma.fields.Date(allow_none=True, load_default=None)
    gender = Text(40, allow_none=True, load_default=None)
    area = AreaCode(required=True)

    @ma.validates("date_of_birth")
    def _born_in_the_past(self, value: date | None, **_kwargs) -> None:
        if value is not None and (value > date.today() or value.year < 1900):
            raise ma.ValidationError("Must be a real date of birth, not in the future.")


class SafeContactSchema(StrictSchema):
    """How the person may be contacted without the abuser knowing."""

    phone = Text(40, allow_none=True, load_default=None)
    safe_to_call = ma.fields.Boolean(load_default=False)
    may_leave_message = ma.fields.Boolean(load_default=False)
    safe_times = Text(200, allow_none=True, load_default=None)
    do_not_contact = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "true: nobody may contact the person directly"},
    )


class NeedsSchema(StrictSchema):
    wheelchair = ma.fields.Boolean(load_default=False)
    interpreter_language = Text(40, allow_none=True, load_default=None)
    nrpf = ma.fields.Boolean(
        load_default=False, metadata={"description": "no recourse to public funds"}
    )
    pets = ma.fields.Boolean(load_default=False)
    other = Text(1000, allow_none=True, load_default=None)
    risk_from_home = ma.fields.Boolean(
        metadata={
            "description": "the risk comes from where the person lives: bed search for this "
            "referral keeps out refuges serving the subject's area"
        }
    )


class ConsentSchema(StrictSchema):
    """Whether the person agreed to the referral; without consent, the lawful basis and why."""

    given = ma.fields.Boolean(required=True)
    lawful_basis = Text(200, allow_none=True, load_default=None)
    rationale = Text(2000, allow_none=True, load_default=None)

    @ma.validates_schema
    def _basis_without_consent(self, data: dict, **_kwargs) -> None:
        if data.get("given") is False:
            errors = {
                field: ["Required when consent was not given."]
                for field in ("lawful_basis", "rationale")
                if not (data.get(field) or "").strip()
            }
            if errors:
                raise ma.ValidationError(errors)


class HoldWithReferralSchema(StrictSchema):
    """Hold a space at the refuge the referral goes to, in the same call."""

    space_type = ma.fields.String(required=True, validate=validate.OneOf(SPACE_TYPES))


class ReferralCreateSchema(StrictSchema):
    kind = ma.fields.String(required=True, validate=validate.OneOf(REFERRAL_KINDS))
    to_service_id = ma.fields.Integer(
        required=True,
        validate=DB_INT,
        metadata={
            "description": "a victim referral goes to a refuge or victim support service, a "
            "perpetrator referral to a perpetrator programme"
        },
    )
    risk_level = ma.fields.String(required=True, validate=validate.OneOf(RISK_LEVELS))
    dash_score = ma.fields.Integer(
        allow_none=True,
        load_default=None,
        validate=validate.Range(min=0, max=DASH_MAX_SCORE, error="A DASH score is from 0 to 27."),
        metadata={"description": "14 or more means the risk level must be high"},
    )
    marac = ma.fields.Boolean(load_default=False)
    subject = ma.fields.Nested(SubjectSchema, required=True)
    safe_contact = ma.fields.Nested(SafeContactSchema, required=True)
    household = ma.fields.Nested(
        HouseholdSchema, load_default=lambda: {"children": 0, "child_ages": []}
    )
    needs = ma.fields.Nested(NeedsSchema, load_default=lambda: NEEDS_DEFAULT.copy())
    consent = ma.fields.Nested(ConsentSchema, required=True)
    summary = NonEmptyText(5000, required=True)
    fleeing_from = EnglishAreaCode(
        metadata={
            "description": "the local authority she is fleeing from: any current English "
            "district's ONS GSS code; the subject's area when absent",
            "example": "E08000025",
        }
    )
    follows_referral_id = ma.fields.UUID(
        metadata={
            "description": "an earlier referral for the same household that was declined, "
            "withdrawn or redirected: the two count as one household in the safe-accommodation "
            "return"
        }
    )
    hold = ma.fields.Nested(
        HoldWithReferralSchema,
        metadata={
            "description": "refer here and hold a space: with a refuge as `to_service_id`, "
            "holds one space of this type there for the referral, in the same transaction "
            "(both are made or neither; 409 when no such space is available)"
        },
    )

    @ma.validates_schema
    def _level_fits_score(self, data: dict, **_kwargs) -> None:
        score = data.get("dash_score")
        level = data.get("risk_level")
        if score is not None and score >= DASH_HIGH_RISK_SCORE and level in RISK_LEVELS:
            if level != "high":
                raise ma.ValidationError(
                    f"A DASH score of {score} means high risk; judgement may raise the level "
                    "but never lower it below what the score says.",
                    field_name="risk_level",
                )


class IdempotencyHeaderSchema(ma.Schema):
    """The ``Idempotency-Key`` header: a retry with the same key never makes a second referral."""

    class Meta:
        unknown = ma.EXCLUDE

    idempotency_key = ma.fields.String(
        data_key="Idempotency-Key",
        validate=[validate.Length(min=1, max=100), no_control_characters],
        metadata={
            "description": "a key of your choosing, unique per referral (a UUID): the same key "
            "and body again return the original referral (200) and create nothing; the same "
            "key with a different body is a 422"
        },
    )


# --- transitions and notes ----------------------------------------------------------------------


class NoteCreateSchema(StrictSchema):
    text = NonEmptyText(5000, required=True)


# --- queries ----------------------------------------------------------------------------------


class ReferralQueryArgsSchema(StrictSchema):
    PURE_QUERY = True  # loaded from the query string alone: kept per worker (query_args.py)

    status = ma.fields.String(validate=validate.OneOf(STATUSES))
    kind = ma.fields.String(validate=validate.OneOf(REFERRAL_KINDS))
    risk_level = ma.fields.String(validate=validate.OneOf(RISK_LEVELS))
    direction = ma.fields.String(
        validate=validate.OneOf(("sent", "received")),
        metadata={"description": "sent by your organisation, or received by it; both if absent"},
    )
    to_service_id = ma.fields.Integer(validate=DB_INT)
    area = AreaCode()
    overdue = ma.fields.Boolean(
        metadata={"description": "still submitted after its response was due"}
    )
    created_after = ma.fields.AwareDateTime()
    created_before = ma.fields.AwareDateTime()
    modified_after = ma.fields.AwareDateTime()

    @ma.validates_schema
    def _window_is_forwards(self, data: dict, **_kwargs) -> None:
        after, before = data.get("created_after"), data.get("created_before")
        if after is not None and before is not None and after >= before:
            raise ma.ValidationError(
                "created_before must be later than created_after.", field_name="created_before"
            )


# --- answers ----------------------------------------------------------------------------------


class SubjectOutSchema(ResponseSchema):
    name = ma.fields.String()
    date_of_birth = ma.fields.String(allow_none=True, metadata={"format": "date"})
    gender = ma.fields.String(allow_none=True)
    area = ma.fields.String(allow_none=True, metadata=AREA)


class SafeContactOutSchema(ResponseSchema):
    do_not_contact = ma.fields.Boolean()
    phone = ma.fields.String(allow_none=True)
    safe_to_call = ma.fields.Boolean()
    may_leave_message = ma.fields.Boolean()
    safe_times = ma.fields.String(allow_none=True)


class NeedsOutSchema(ResponseSchema):
    wheelchair = ma.fields.Boolean()
    interpreter_language = ma.fields.String(allow_none=True)
    nrpf = ma.fields.Boolean()
    pets = ma.fields.Boolean()
    other = ma.fields.String(allow_none=True)
    risk_from_home = ma.fields.Boolean()


class ConsentOutSchema(ResponseSchema):
    given = ma.fields.Boolean()
    lawful_basis = ma.fields.String(allow_none=True)
    rationale = ma.fields.String(allow_none=True)


class ReferralHoldSchema(ResponseSchema):
    id = ma.fields.UUID(required=True)
    referral_id = ma.fields.UUID(required=True)
    refuge_id = ma.fields.Integer(required=True)
    space_type = ma.fields.String(required=True, validate=validate.OneOf(SPACE_TYPES))
    expires_at = ma.fields.AwareDateTime(required=True)


class NotSupportedSchema(ResponseSchema):
    reason = ma.fields.String(required=True, validate=validate.OneOf(NOT_SUPPORTED_REASONS))
    need = ma.fields.String(allow_none=True, required=True, validate=validate.OneOf(UNMET_NEEDS))
    text = ma.fields.String(allow_none=True, required=True, metadata={"maxLength": 200})


class ReferralSchema(ResponseSchema):
    id = ma.fields.UUID(required=True)
    reference = ma.fields.String(
        required=True,
        metadata={
            "maxLength": 20,
            "pattern": "^REF-[0-9]{4}-[0-9A-Z]{6,}$",
            "example": "REF-2026-7KQ2XM4D",
            "description": "REF-, the year, and eight random characters (never a sequence)",
        },
    )
    do_not_contact = ma.fields.Boolean(
        required=True,
        metadata={"description": "true: nobody may contact the person directly. Shown first."},
    )
    kind = ma.fields.String(required=True, validate=validate.OneOf(REFERRAL_KINDS))
    status = ma.fields.String(required=True, validate=validate.OneOf(STATUSES))
    from_organisation_id = ma.fields.Integer(required=True)
    to_organisation_id = ma.fields.Integer(required=True)
    to_service_id = ma.fields.Integer(required=True)
    risk_level = ma.fields.String(required=True, validate=validate.OneOf(RISK_LEVELS))
    dash_score = ma.fields.Integer(allow_none=True)
    marac = ma.fields.Boolean(required=True)
    subject = ma.fields.Nested(SubjectOutSchema, required=True)
    safe_contact = ma.fields.Nested(SafeContactOutSchema, required=True)
    household = ma.fields.Nested(HouseholdOutSchema, required=True)
    needs = ma.fields.Nested(NeedsOutSchema, required=True)
    consent = ma.fields.Nested(ConsentOutSchema, required=True)
    summary = ma.fields.String(allow_none=True)
    decline_reason = ma.fields.String(
        allow_none=True, metadata=one_of(DECLINE_REASONS + LEGACY_DECLINE_REASONS)
    )
    not_supported = ma.fields.Nested(
        NotSupportedSchema,
        allow_none=True,
        required=True,
        metadata={"description": "declined, withdrawn or redirected: why, as the return codes it"},
    )
    fleeing_from = ma.fields.String(
        allow_none=True, required=True, metadata={**GSS_CODE, "description": "ONS GSS code"}
    )
    placement_area = ma.fields.String(
        allow_none=True,
        required=True,
        metadata={**GSS_CODE, "description": "ONS GSS code of where she was placed, once admitted"},
    )
    out_of_area = ma.fields.Boolean(
        allow_none=True,
        required=True,
        metadata={"description": "placed outside the district she fled from; null if unknown"},
    )
    household_id = ma.fields.UUID(
        allow_none=True,
        required=True,
        metadata={"description": "the same for every referral of one household"},
    )
    outcome = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime(required=True)
    updated_at = ma.fields.AwareDateTime(required=True)
    response_due_at = ma.fields.AwareDateTime(required=True)
    overdue = ma.fields.Boolean(required=True)
    redirected_to = ma.fields.UUID(allow_none=True, required=True)
    redirected_from = ma.fields.UUID(allow_none=True, required=True)
    hold = ma.fields.Nested(ReferralHoldSchema, allow_none=True, required=True)


class ReferralEventSchema(ResponseSchema):
    id = ma.fields.Integer(required=True)
    referral_id = ma.fields.UUID(required=True)
    at = ma.fields.AwareDateTime(required=True)
    kind = ma.fields.String(
        required=True,
        metadata={
            "maxLength": 30,
            "description": "created, accepted, declined, redirected, withdrawn, closed, note, "
            "or a hold's hold_… event",
        },
    )
    user_id = ma.fields.UUID(
        allow_none=True,
        metadata={
            "description": "who took the step; null when they act for another organisation "
            "than the reader's (`organisation_id` says which)"
        },
    )
    username = ma.fields.String(
        allow_none=True,
        metadata={
            **USERNAME_LENGTH,
            "description": "null, as `user_id`, for another organisation's users",
        },
    )
    organisation_id = ma.fields.Integer(allow_none=True)
    from_status = ma.fields.String(allow_none=True, metadata=one_of(STATUSES))
    to_status = ma.fields.String(allow_none=True, metadata=one_of(STATUSES))
    reason_code = ma.fields.String(
        allow_none=True, metadata=one_of(DECLINE_REASONS + LEGACY_DECLINE_REASONS)
    )
    note = ma.fields.String(allow_none=True)
    details = ma.fields.Dict(allow_none=True)
