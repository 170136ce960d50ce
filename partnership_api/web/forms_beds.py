"""The bed board's and the refuges' forms (Flask-WTF, govuk-frontend-wtf widgets)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    HiddenField,
    IntegerField,
    RadioField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from partnership_api.web.forms import AREA_CHOICES

SPACE_CHOICES = [
    ("", "Any that fits the household"),
    ("single", "Single"),
    ("family", "Family"),
    ("accessible", "Accessible"),
]


class BedSearchForm(FlaskForm):
    """Household first: who needs a space, then where. A GET form: no CSRF token needed."""

    class Meta:
        csrf = False

    children = IntegerField(
        "Number of children coming with her",
        widget=GovTextInput(),
        validators=[Optional(), NumberRange(min=0, max=20, message="Enter 0 to 20 children")],
    )
    oldest_son_age = IntegerField(
        "Age of her oldest son, if she has a son",
        widget=GovTextInput(),
        validators=[Optional(), NumberRange(min=0, max=25, message="Enter an age from 0 to 25")],
    )
    space_type = RadioField(
        "Type of space", choices=SPACE_CHOICES, default="", widget=GovRadioInput()
    )
    needs = SelectMultipleField(
        "She needs",
        choices=[
            ("wheelchair", "Wheelchair access"),
            ("nrpf", "A refuge that accepts no recourse to public funds (NRPF)"),
            ("pets", "A refuge that accepts pets"),
            ("women_only", "A women-only refuge"),
        ],
        widget=GovCheckboxesInput(),
        validators=[Optional()],
    )
    language = StringField(
        "Language she speaks, if not English (refuges that list it)",
        widget=GovTextInput(),
        validators=[Optional(), Length(max=40)],
    )
    area = SelectMultipleField(
        "Areas she could go to (none ticked: anywhere)",
        choices=AREA_CHOICES,
        widget=GovCheckboxesInput(),
        validators=[Optional()],
    )
    exclude_area = SelectMultipleField(
        "Areas she must not go to (for example the perpetrator's area)",
        choices=AREA_CHOICES,
        widget=GovCheckboxesInput(),
        validators=[Optional()],
    )
    referral = HiddenField()
    submit = SubmitField("Search", widget=GovSubmitInput())


SPACES_RANGE = NumberRange(min=0, max=500, message="Enter a number of spaces from 0 to 500")


class AvailabilityForm(FlaskForm):
    """A refuge's whole report: totals and vacancies by type; the version it was drawn from."""

    version = HiddenField()
    single_total = IntegerField(
        "Single spaces in total",
        widget=GovTextInput(),
        validators=[Optional(), SPACES_RANGE],
    )
    single_vacant = IntegerField(
        "Single spaces vacant",
        widget=GovTextInput(),
        validators=[Optional(), SPACES_RANGE],
    )
    family_total = IntegerField(
        "Family spaces in total",
        widget=GovTextInput(),
        validators=[Optional(), SPACES_RANGE],
    )
    family_vacant = IntegerField(
        "Family spaces vacant",
        widget=GovTextInput(),
        validators=[Optional(), SPACES_RANGE],
    )
    accessible_total = IntegerField(
        "Accessible spaces in total",
        widget=GovTextInput(),
        validators=[Optional(), SPACES_RANGE],
    )
    accessible_vacant = IntegerField(
        "Accessible spaces vacant",
        widget=GovTextInput(),
        validators=[Optional(), SPACES_RANGE],
    )
    submit = SubmitField("Save spaces", widget=GovSubmitInput())

    def validate(self, extra_validators=None) -> bool:
        """Each type's vacant spaces within its total, said on the vacant field."""
        valid = super().validate(extra_validators)
        for kind in ("single", "family", "accessible"):
            total, vacant = getattr(self, f"{kind}_total"), getattr(self, f"{kind}_vacant")
            if total.errors or vacant.errors or vacant.data is None:
                continue
            if vacant.data > (total.data or 0):
                vacant.errors = list(vacant.errors) + [
                    f"{kind.capitalize()} spaces vacant cannot be more than the "
                    f"{kind} spaces in total ({total.data or 0})"
                ]
                valid = False
        return valid

    def field_of(self, index: int, name: str) -> str | None:
        """The form field behind the API's ``spaces[index].name`` (the order of ``spaces``)."""
        spaces = self.spaces()
        if 0 <= index < len(spaces) and name in ("total", "vacant"):
            return f"{spaces[index]['space_type']}_{name}"
        return None

    def spaces(self) -> list[dict]:
        found = []
        for kind in ("single", "family", "accessible"):
            total, vacant = (
                getattr(self, f"{kind}_total").data,
                getattr(self, f"{kind}_vacant").data,
            )
            if total or vacant:
                found.append({"space_type": kind, "total": total or 0, "vacant": vacant or 0})
        return found


HOLD_RELEASE_CHOICES = [
    ("not_suitable", "The space is not suitable for this household"),
    ("space_no_longer_free", "The space is no longer free"),
    ("referral_not_genuine", "The referral does not look genuine"),
    ("unable_to_contact", "We could not contact her or the referrer"),
    ("other", "Another reason (say in the note)"),
]


class ReleaseHoldForm(FlaskForm):
    reason_code = RadioField(
        "Why are you releasing this space?",
        choices=HOLD_RELEASE_CHOICES,
        widget=GovRadioInput(),
        validators=[InputRequired("Choose why you are releasing the space")],
    )
    note = TextAreaField(
        "Note for the referral's timeline (optional)",
        widget=GovTextArea(),
        validators=[Length(max=2000, message="Enter 2000 characters or fewer")],
    )
    submit = SubmitField("Release the space", widget=GovSubmitInput())

    def validate_note(self, field) -> None:
        if self.reason_code.data == "other" and not (field.data or "").strip():
            raise ValidationError("Say why you are releasing the space")


class ConfirmAvailabilityForm(FlaskForm):
    """ "Still accurate": confirm the report as it stands; the version it was drawn from."""

    version = HiddenField()
    submit = SubmitField("Still accurate", widget=GovSubmitInput())
