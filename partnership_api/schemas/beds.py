"""Refuges, their bed spaces and availability reports, bed search and holds."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from partnership_api.models.beds import HOLD_STATES, SPACE_TYPES
from partnership_api.schemas.bounds import (
    AREA,
    COUNT,
    NAME_LENGTH,
    USERNAME_LENGTH,
    VERSION,
    one_of,
)
from partnership_api.schemas.common import (
    AreaCode,
    NonEmptyText,
    ResponseSchema,
    StrictSchema,
    Text,
)
from partnership_api.schemas.partnership import FacilitiesSchema

SPACE_TYPE = validate.OneOf(SPACE_TYPES)
MAX_SPACES = 500
DB_INT = validate.Range(min=1, max=2**31 - 1)


class SpaceSchema(ResponseSchema):
    space_type = ma.fields.String(required=True, metadata={"enum": list(SPACE_TYPES)})
    total = ma.fields.Integer(required=True)
    vacant = ma.fields.Integer(required=True)
    held = ma.fields.Integer(required=True, metadata={**COUNT, "description": "live holds"})
    available = ma.fields.Integer(
        required=True, metadata={**COUNT, "description": "vacant − live holds, never below 0"}
    )
    overcommitted = ma.fields.Integer(
        required=True,
        metadata={**COUNT, "description": "live holds beyond the vacant spaces (0 normally)"},
    )


class AvailabilitySchema(ResponseSchema):
    refuge_id = ma.fields.Integer(required=True)
    spaces = ma.fields.List(ma.fields.Nested(SpaceSchema), required=True)
    updated_at = ma.fields.AwareDateTime(
        required=True, allow_none=True, metadata={"description": "time of the last report"}
    )
    updated_by = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            **USERNAME_LENGTH,
            "description": "who reported: the username for the refuge's own organisation, the "
            "organisation's name for everyone else",
        },
    )
    stale = ma.fields.Boolean(
        required=True,
        metadata={"description": "no report, or the last one is older than the stale limit"},
    )
    version = ma.fields.Integer(required=True, metadata={**VERSION, "description": "report number"})
    warnings = ma.fields.List(
        ma.fields.String(metadata={"maxLength": 200}),
        required=True,
        metadata={
            "maxItems": len(SPACE_TYPES),
            "description": "e.g. live holds exceed the vacant spaces of a type",
        },
    )


class SpaceReportSchema(StrictSchema):
    space_type = ma.fields.String(required=True, validate=SPACE_TYPE)
    total = ma.fields.Integer(required=True, validate=validate.Range(min=0, max=MAX_SPACES))
    vacant = ma.fields.Integer(required=True, validate=validate.Range(min=0, max=MAX_SPACES))

    @ma.validates_schema
    def vacant_within_total(self, data, **kwargs):
        if "total" in data and "vacant" in data and data["vacant"] > data["total"]:
            raise ma.ValidationError("Cannot exceed total.", field_name="vacant")


class AvailabilityUpdateSchema(StrictSchema):
    spaces = ma.fields.List(
        ma.fields.Nested(SpaceReportSchema),
        required=True,
        validate=validate.Length(max=len(SPACE_TYPES)),
        metadata={"description": "the refuge's whole report: a type left out has no spaces"},
    )

    @ma.validates_schema
    def one_entry_per_type(self, data, **kwargs):
        types = [space["space_type"] for space in data.get("spaces", [])]
        if len(types) != len(set(types)):
            raise ma.ValidationError("Each space type at most once.", field_name="spaces")


class ReportedSpaceSchema(ResponseSchema):
    space_type = ma.fields.String(required=True, metadata=one_of(SPACE_TYPES))
    total = ma.fields.Integer(required=True)
    vacant = ma.fields.Integer(required=True)


class AvailabilityReportSchema(ResponseSchema):
    id = ma.fields.Integer(required=True)
    reported_at = ma.fields.AwareDateTime(required=True)
    reported_by = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            **USERNAME_LENGTH,
            "description": "the username for the refuge's own organisation, the organisation's "
            "name for everyone else",
        },
    )
    version = ma.fields.Integer(required=True, metadata=VERSION)
    spaces = ma.fields.List(ma.fields.Nested(ReportedSpaceSchema), required=True)


class RefugeSchema(ResponseSchema):
    """A refuge as every partner sees it: never its address."""

    id = ma.fields.Integer(required=True)
    refuge_id = ma.fields.Integer(
        required=True, metadata={"description": "the same as id: the name bed search and holds use"}
    )
    organisation_id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True, metadata=NAME_LENGTH)
    areas = ma.fields.List(
        ma.fields.String(metadata=AREA), required=True, metadata={"maxItems": 20}
    )
    phone = ma.fields.String(allow_none=True, metadata={"maxLength": 40})
    hours = ma.fields.String(allow_none=True, metadata={"maxLength": 200})
    facilities = ma.fields.Nested(FacilitiesSchema, required=True)
    availability = ma.fields.Nested(AvailabilitySchema, required=True)


class RefugeQueryArgsSchema(StrictSchema):
    area = AreaCode()
    organisation_id = ma.fields.Integer(validate=DB_INT)


class BedSearchArgsSchema(StrictSchema):
    PURE_QUERY = True  # loaded from the query string alone: kept per worker (query_args.py)

    area = ma.fields.List(
        AreaCode(),
        validate=validate.Length(max=9),
        metadata={"description": "refuges serving any of these districts (repeatable)"},
    )
    exclude_area = ma.fields.List(
        AreaCode(),
        validate=validate.Length(max=9),
        metadata={"description": "keep out refuges serving these districts (repeatable)"},
    )
    space_type = ma.fields.String(
        validate=SPACE_TYPE,
        metadata={
            "description": "the type needed; when absent: accessible for a wheelchair user, "
            "else family when children > 0, else any"
        },
    )
    children = ma.fields.Integer(
        validate=validate.Range(min=0, max=20),
        metadata={"description": "refuges that take at least this many children"},
    )
    oldest_son_age = ma.fields.Integer(
        validate=validate.Range(min=0, max=25),
        metadata={"description": "refuges that take sons of this age"},
    )
    wheelchair = ma.fields.Boolean(metadata={"description": "wheelchair-accessible refuges"})
    nrpf = ma.fields.Boolean(metadata={"description": "refuges that accept NRPF"})
    pets = ma.fields.Boolean(metadata={"description": "refuges that accept pets"})
    language = NonEmptyText(
        40, metadata={"description": "refuges that list this language (any letter case)"}
    )
    women_only = ma.fields.Boolean(metadata={"description": "women-only refuges"})
    for_referral = ma.fields.UUID(
        metadata={
            "description": "a referral your organisation sent or received: its household "
            "(children, the oldest son's age), needs (wheelchair, NRPF, pets, interpreter "
            "language) and, when the risk comes from home, the subject's area to keep out fill "
            "the filters not given here; areas to keep out add up. The read is audited."
        }
    )


class AvailableSpaceSchema(ResponseSchema):
    space_type = ma.fields.String(required=True, metadata=one_of(SPACE_TYPES))
    available = ma.fields.Integer(required=True, metadata=COUNT)


class BedSearchResultSchema(ResponseSchema):
    refuge_id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True, metadata=NAME_LENGTH)
    organisation_id = ma.fields.Integer(required=True)
    areas = ma.fields.List(
        ma.fields.String(metadata=AREA), required=True, metadata={"maxItems": 20}
    )
    facilities = ma.fields.Nested(FacilitiesSchema, required=True)
    spaces = ma.fields.List(ma.fields.Nested(AvailableSpaceSchema), required=True)
    updated_at = ma.fields.AwareDateTime(required=True, allow_none=True)
    stale = ma.fields.Boolean(required=True)


class HoldCreateSchema(StrictSchema):
    refuge_id = ma.fields.Integer(required=True, validate=DB_INT)
    space_type = ma.fields.String(required=True, validate=SPACE_TYPE)


class HoldSchema(ResponseSchema):
    id = ma.fields.UUID(required=True)
    referral_id = ma.fields.UUID(required=True)
    refuge_id = ma.fields.Integer(required=True, attribute="service_id")
    space_type = ma.fields.String(required=True, metadata=one_of(SPACE_TYPES))
    state = ma.fields.String(required=True, metadata=one_of(HOLD_STATES))
    created_at = ma.fields.AwareDateTime(required=True)
    expires_at = ma.fields.AwareDateTime(required=True)


HOLD_RELEASE_REASONS = (
    "not_suitable",
    "space_no_longer_free",
    "referral_not_genuine",
    "unable_to_contact",
    "other",
)


class HoldHouseholdSchema(ResponseSchema):
    children = ma.fields.Integer(required=True, metadata={"description": "children coming"})
    son_ages = ma.fields.List(
        ma.fields.Integer(validate=validate.Range(min=0, max=25)),
        required=True,
        validate=validate.Length(max=20),  # a household has at most 20 children
        metadata={"description": "the sons' ages, youngest first"},
    )


class RefugeHoldSchema(ResponseSchema):
    """A hold on the refuge's beds as its own staff see it."""

    id = ma.fields.UUID(required=True)
    referral_id = ma.fields.UUID(required=True)
    referral_reference = ma.fields.String(required=True, metadata={"maxLength": 32})
    referral_from_organisation_id = ma.fields.Integer(required=True)
    placed_by_organisation_id = ma.fields.Integer(
        allow_none=True, metadata={"description": "the organisation of whoever placed it"}
    )
    placed_by_organisation = ma.fields.String(allow_none=True, metadata=NAME_LENGTH)
    refuge_id = ma.fields.Integer(required=True)
    space_type = ma.fields.String(required=True, metadata=one_of(SPACE_TYPES))
    state = ma.fields.String(required=True, metadata=one_of(HOLD_STATES))
    created_at = ma.fields.AwareDateTime(required=True)
    expires_at = ma.fields.AwareDateTime(required=True)
    ended_at = ma.fields.AwareDateTime(allow_none=True)
    end_reason = ma.fields.String(allow_none=True, metadata={"maxLength": 200})
    household = ma.fields.Nested(
        HoldHouseholdSchema,
        required=True,
        metadata={"description": "the household the space is held for (no name)"},
    )


class HoldReleaseSchema(StrictSchema):
    reason_code = ma.fields.String(
        required=True,
        validate=validate.OneOf(HOLD_RELEASE_REASONS),
        metadata={"description": "why the refuge released it (kept on the timeline and audited)"},
    )
    note = Text(2000, metadata={"description": "more, for the referral's timeline"})
