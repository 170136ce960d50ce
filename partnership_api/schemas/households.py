"""A referral's household: the children who come too, as a count and ages or as each child's
age and sex (refuges decide on the ages of sons)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from partnership_api.schemas.common import ResponseSchema, StrictSchema

CHILD_SEXES = ("female", "male")
MAX_CHILDREN = 20
CHILD_AGE = validate.Range(min=0, max=25)


class ChildSchema(StrictSchema):
    """One child who comes with the person: refuges decide on the ages of sons."""

    age = ma.fields.Integer(required=True, validate=CHILD_AGE)
    sex = ma.fields.String(required=True, validate=validate.OneOf(CHILD_SEXES))


class HouseholdSchema(StrictSchema):
    """The children who come too: a count and ages, or each child's age and sex.

    With ``children_detail``, ``children`` and ``child_ages`` are derived from it; sent as
    well, they must agree with it (the same number, the same ages in any order).
    """

    children = ma.fields.Integer(
        validate=validate.Range(min=0, max=MAX_CHILDREN),
        metadata={"doc_default": 0, "description": "how many children; 0 when absent"},
    )
    child_ages = ma.fields.List(
        ma.fields.Integer(validate=CHILD_AGE),
        validate=validate.Length(max=MAX_CHILDREN),
        metadata={"doc_default": [], "description": "one age per child, or none at all"},
    )
    children_detail = ma.fields.List(
        ma.fields.Nested(ChildSchema),
        validate=validate.Length(max=MAX_CHILDREN),
        metadata={
            "description": "each child's age and sex; children and child_ages follow from it"
        },
    )

    @ma.validates_schema
    def _ages_match_children(self, data: dict, **_kwargs) -> None:
        detail = data.get("children_detail")
        if detail is None:
            ages = data.get("child_ages") or []
            if ages and len(ages) != data.get("children", 0):
                raise ma.ValidationError(
                    "Give one age per child (or none at all).", field_name="child_ages"
                )
            return
        errors: dict[str, list[str]] = {}
        if "children" in data and data["children"] != len(detail):
            errors["children"] = [
                f"{data['children']} children, but children_detail describes {len(detail)}."
            ]
        ages = data.get("child_ages") or []
        if ages and sorted(ages) != sorted(child["age"] for child in detail):
            errors["child_ages"] = ["These ages are not the ages in children_detail."]
        if errors:
            raise ma.ValidationError(errors)

    @ma.post_load
    def _derived(self, data: dict, **_kwargs) -> dict:
        detail = data.get("children_detail")
        if detail is None:
            return {"children": data.get("children", 0), "child_ages": data.get("child_ages", [])}
        return {
            "children": len(detail),
            "child_ages": [child["age"] for child in detail],
            "children_detail": detail,
        }


class ChildOutSchema(ResponseSchema):
    age = ma.fields.Integer(required=True)
    sex = ma.fields.String(required=True, validate=validate.OneOf(CHILD_SEXES))


class HouseholdOutSchema(ResponseSchema):
    children = ma.fields.Integer()
    child_ages = ma.fields.List(ma.fields.Integer())
    children_detail = ma.fields.List(
        ma.fields.Nested(ChildOutSchema),
        metadata={"description": "present when the referrer gave each child's age and sex"},
    )
