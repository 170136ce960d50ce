"""Organisations, services and users."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from partnership_api.models.partnership import (
    ORGANISATION_KINDS,
    ROLES,
    SERVICE_KINDS,
    USERNAME_PATTERN,
    USERNAME_RULE,
)
from partnership_api.oruk.taxonomy import TERM_CODES
from partnership_api.schemas.bounds import AREA, USERNAME_LENGTH, one_of
from partnership_api.schemas.common import (
    AreaCode,
    FullMatch,
    NonEmptyText,
    ResponseSchema,
    StrictSchema,
    Text,
)

LANGUAGE = validate.Length(min=2, max=40)


CHARITY_NUMBER = FullMatch(
    r"^[0-9]{6,8}$",
    error="A charity number of the Charity Commission for England and Wales: 6 to 8 digits.",
)
COMPANY_NUMBER = FullMatch(
    r"^([0-9]{8}|[A-Z]{2}[0-9]{6})$",
    error="A Companies House number: 8 digits, or 2 capital letters and 6 digits.",
)


def CharityNumber(**kwargs) -> ma.fields.String:  # noqa: N802 - a field factory
    return ma.fields.String(
        allow_none=True,
        validate=[ma.validate.Length(max=8), CHARITY_NUMBER],
        metadata={"description": "registered charity number (England and Wales)"},
        **kwargs,
    )


def CompanyNumber(**kwargs) -> ma.fields.String:  # noqa: N802
    return ma.fields.String(
        allow_none=True,
        validate=[ma.validate.Length(max=8), COMPANY_NUMBER],
        metadata={"description": "Companies House number"},
        **kwargs,
    )


class OrganisationSchema(ResponseSchema):
    id = ma.fields.Integer(dump_only=True)
    name = ma.fields.String(required=True)
    kind = ma.fields.String(required=True, validate=validate.OneOf(ORGANISATION_KINDS))
    areas = ma.fields.List(ma.fields.String(metadata=AREA))
    charity_number = ma.fields.String(allow_none=True, metadata={"maxLength": 8})
    company_number = ma.fields.String(allow_none=True, metadata={"maxLength": 8})
    created_at = ma.fields.AwareDateTime(dump_only=True)


class OrganisationCreateSchema(StrictSchema):
    name = NonEmptyText(200, required=True)
    kind = ma.fields.String(required=True, validate=validate.OneOf(ORGANISATION_KINDS))
    areas = ma.fields.List(AreaCode(), validate=validate.Length(max=20), load_default=list)
    charity_number = CharityNumber()
    company_number = CompanyNumber()


class OrganisationUpdateSchema(StrictSchema):
    """Its name, areas and registered numbers; its kind decides access, so it never changes."""

    name = NonEmptyText(200)
    areas = ma.fields.List(AreaCode(), validate=validate.Length(max=20))
    charity_number = CharityNumber()
    company_number = CompanyNumber()


class FacilitiesSchema(StrictSchema):
    """What a refuge can take: children, sons up to an age, wheelchairs, NRPF, pets…"""

    max_children = ma.fields.Integer(validate=validate.Range(min=0, max=20), allow_none=True)
    max_son_age = ma.fields.Integer(validate=validate.Range(min=0, max=25), allow_none=True)
    wheelchair_accessible = ma.fields.Boolean()
    accepts_nrpf = ma.fields.Boolean()
    accepts_pets = ma.fields.Boolean()
    women_only = ma.fields.Boolean()
    languages = ma.fields.List(
        ma.fields.String(validate=LANGUAGE), validate=validate.Length(max=30)
    )


DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
HH_MM = FullMatch(r"^([01]\d|2[0-3]):[0-5]\d$", error="A time as HH:MM (24-hour clock).")
AGE = validate.Range(min=0, max=120)


class OpeningHoursSchema(StrictSchema):
    """Days of the week and the hours open on them, UK local time."""

    days = ma.fields.List(
        ma.fields.String(validate=validate.OneOf(DAYS)),
        required=True,
        validate=validate.Length(min=1, max=7),
        metadata={"example": ["MO", "TU", "WE", "TH", "FR"]},
    )
    opens_at = ma.fields.String(
        required=True,
        validate=[validate.Length(max=5), HH_MM],
        metadata={"example": "09:00", "maxLength": 5},
    )
    closes_at = ma.fields.String(
        required=True,
        validate=[validate.Length(max=5), HH_MM],
        metadata={"example": "17:00", "maxLength": 5},
    )


class DirectoryFieldsSchema(StrictSchema):
    """What the public directory (/oruk) shows of a listed service. A refuge is listed without
    any location, whatever is set: only its phone and the county-wide area."""

    description = Text(2000)
    eligibility = Text(1000, allow_none=True)
    minimum_age = ma.fields.Integer(validate=AGE, allow_none=True)
    maximum_age = ma.fields.Integer(validate=AGE, allow_none=True)
    languages = ma.fields.List(
        ma.fields.String(validate=LANGUAGE), validate=validate.Length(max=30)
    )
    opening_hours = ma.fields.List(
        ma.fields.Nested(OpeningHoursSchema), validate=validate.Length(max=14)
    )
    taxonomy_terms = ma.fields.List(
        ma.fields.String(validate=validate.OneOf(TERM_CODES)),
        validate=validate.Length(max=len(TERM_CODES)),
    )

    @ma.validates_schema
    def _ages_in_order(self, data, **_kwargs):
        low, high = data.get("minimum_age"), data.get("maximum_age")
        if low is not None and high is not None and low > high:
            raise ma.ValidationError("Must not be above maximum_age.", "minimum_age")


class ServiceSchema(ResponseSchema):
    id = ma.fields.Integer(required=True)
    organisation_id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    kind = ma.fields.String(required=True, metadata=one_of(SERVICE_KINDS))
    areas = ma.fields.List(ma.fields.String(metadata=AREA), required=True)
    phone = ma.fields.String(allow_none=True)
    hours = ma.fields.String(allow_none=True)
    facilities = ma.fields.Nested(FacilitiesSchema, required=True)
    active = ma.fields.Boolean()
    search = ma.fields.String(
        validate=validate.Length(min=1, max=80),
        metadata={"description": "part of the username or the full name, any case"},
    )
    address = ma.fields.String(
        allow_none=True,
        metadata={"description": "present only for users of the service's own organisation"},
    )
    public = ma.fields.Boolean(metadata={"description": "listed in the public directory (/oruk)"})
    public_id = ma.fields.UUID(metadata={"description": "the service's id in /oruk"})
    description = ma.fields.String()
    eligibility = ma.fields.String(allow_none=True)
    minimum_age = ma.fields.Integer(allow_none=True)
    maximum_age = ma.fields.Integer(allow_none=True)
    languages = ma.fields.List(ma.fields.String())
    opening_hours = ma.fields.List(ma.fields.Nested(OpeningHoursSchema))
    taxonomy_terms = ma.fields.List(
        ma.fields.String(
            validate=validate.OneOf(TERM_CODES), metadata={**one_of(TERM_CODES), "maxLength": 40}
        )
    )


PUBLIC_CHOICE = (
    "listed in the public directory (/oruk); a refuge is listed with its phone and the "
    "county-wide area only, never a location"
)


class ServiceCreateSchema(DirectoryFieldsSchema):
    organisation_id = ma.fields.Integer(
        required=True, validate=validate.Range(min=1, max=2**31 - 1)
    )
    name = NonEmptyText(200, required=True)
    kind = ma.fields.String(required=True, validate=validate.OneOf(SERVICE_KINDS))
    areas = ma.fields.List(AreaCode(), required=True, validate=validate.Length(min=1, max=20))
    phone = Text(40, allow_none=True)
    hours = Text(200, allow_none=True)
    facilities = ma.fields.Nested(FacilitiesSchema, load_default=dict)
    address = Text(500, allow_none=True)
    public = ma.fields.Boolean(load_default=True, metadata={"description": PUBLIC_CHOICE})


class ServiceUpdateSchema(DirectoryFieldsSchema):
    name = NonEmptyText(200)
    areas = ma.fields.List(AreaCode(), validate=validate.Length(min=1, max=20))
    phone = Text(40, allow_none=True)
    hours = Text(200, allow_none=True)
    facilities = ma.fields.Nested(FacilitiesSchema)
    address = Text(500, allow_none=True)
    active = ma.fields.Boolean()
    search = ma.fields.String(
        validate=validate.Length(min=1, max=80),
        metadata={"description": "part of the username or the full name, any case"},
    )
    public = ma.fields.Boolean(metadata={"description": PUBLIC_CHOICE})


class ServiceQueryArgsSchema(StrictSchema):
    kind = ma.fields.String(validate=validate.OneOf(SERVICE_KINDS))
    area = AreaCode()
    organisation_id = ma.fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))


class UserSchema(ResponseSchema):
    id = ma.fields.UUID(required=True)
    username = ma.fields.String(required=True, metadata=USERNAME_LENGTH)
    full_name = ma.fields.String()
    organisation_id = ma.fields.Integer(required=True)
    role = ma.fields.String(required=True, metadata=one_of(ROLES))
    partnership_admin = ma.fields.Boolean(required=True)
    active = ma.fields.Boolean(required=True)
    email = ma.fields.String(
        allow_none=True,
        metadata={
            "maxLength": 254,
            "format": "email",
            "description": "where content-free notices go, if anywhere",
        },
    )
    last_login_at = ma.fields.AwareDateTime(allow_none=True)
    created_at = ma.fields.AwareDateTime()


PASSWORD = validate.Length(min=12, max=256, error="Passwords need 12 to 256 characters.")
USERNAME = FullMatch(USERNAME_PATTERN, error=USERNAME_RULE)


EMAIL = {
    "allow_none": True,
    "validate": validate.Length(max=254),
    "metadata": {
        "description": "optional: emailed (with SMTP_URL set) that a referral or a vacancy "
        "alert is waiting, never with personal data; null removes it"
    },
}


class UserCreateSchema(StrictSchema):
    username = ma.fields.String(required=True, validate=[validate.Length(min=3, max=80), USERNAME])
    full_name = Text(200, load_default="")
    organisation_id = ma.fields.Integer(
        validate=validate.Range(min=1, max=2**31 - 1),
        metadata={"description": "partnership admin only; defaults to the caller's organisation"},
    )
    role = ma.fields.String(required=True, validate=validate.OneOf(ROLES))
    password = ma.fields.String(required=True, load_only=True, validate=PASSWORD)
    partnership_admin = ma.fields.Boolean(
        metadata={"description": "partnership admin only"},
    )
    email = ma.fields.Email(**EMAIL)


class UserUpdateSchema(StrictSchema):
    full_name = Text(200)
    role = ma.fields.String(validate=validate.OneOf(ROLES))
    active = ma.fields.Boolean()
    search = ma.fields.String(
        validate=validate.Length(min=1, max=80),
        metadata={"description": "part of the username or the full name, any case"},
    )
    password = ma.fields.String(load_only=True, validate=PASSWORD)
    email = ma.fields.Email(**EMAIL)
    reason = Text(
        500,
        load_only=True,
        metadata={"description": "why (e.g. a deactivation): kept in the audit trail only"},
    )


class UserQueryArgsSchema(StrictSchema):
    organisation_id = ma.fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    role = ma.fields.String(validate=validate.OneOf(ROLES))
    active = ma.fields.Boolean()
    search = ma.fields.String(
        validate=validate.Length(min=1, max=80),
        metadata={"description": "part of the username or the full name, any case"},
    )
