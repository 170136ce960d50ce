"""Forms of the funding and users pages (Flask-WTF, govuk-frontend-wtf widgets)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovDateInput,
    GovPasswordInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from partnership_api.models.funding import CATEGORIES, PROJECT_STATUSES
from partnership_api.web.forms import AREA_CHOICES, GovDateField

# --- funding ------------------------------------------------------------------------------------


def pence_of(text: str | None) -> int | None:
    """ "£12,500.50" → 1250050; None for nothing; ValueError for anything else."""
    from decimal import Decimal, InvalidOperation

    cleaned = (text or "").replace("£", "").replace(",", "").strip()
    if not cleaned:
        return None
    try:
        amount = Decimal(cleaned)
    except InvalidOperation as error:
        raise ValueError("Enter an amount in pounds, like 1250.50") from error
    if amount != amount.quantize(Decimal("0.01")) or amount < 0:
        raise ValueError("Enter an amount in pounds and pence, like 1250.50")
    return int(amount * 100)


class Money(StringField):
    """An amount in pounds, kept as typed, checked to whole pence."""

    def pre_validate(self, form):
        try:
            pence_of(self.data)
        except ValueError as error:
            raise ValidationError(str(error)) from error

    @property
    def pence(self) -> int | None:
        return pence_of(self.data)


class ProjectForm(FlaskForm):
    fund_id = SelectField(
        "Fund", choices=[], widget=GovSelect(), validators=[InputRequired("Choose a fund")]
    )
    title = StringField(
        "Title", widget=GovTextInput(), validators=[InputRequired("Enter a title"), Length(max=200)]
    )
    description = TextAreaField("Description (optional)", widget=GovTextArea())
    category = SelectField(
        "Category",
        choices=[(c, c.replace("_", " ").capitalize()) for c in CATEGORIES],
        widget=GovSelect(),
    )
    lead_organisation_id = SelectField("Lead organisation", choices=[], widget=GovSelect())
    delivery_organisation_ids = SelectMultipleField(
        "Delivery partners", choices=[], widget=GovCheckboxesInput(), validators=[Optional()]
    )
    areas = SelectMultipleField(
        "Areas", choices=AREA_CHOICES, widget=GovCheckboxesInput(), validators=[Optional()]
    )
    amount_awarded = Money(
        "Amount awarded, in pounds",
        widget=GovTextInput(),
        validators=[InputRequired("Enter the amount awarded")],
    )
    awarded_on = GovDateField(
        "Awarded on",
        widget=GovDateInput(),
        format="%d %m %Y",
        validators=[InputRequired("Enter the day the award was made")],
        description="The day the funder made the award, for example 27 3 2026",
    )
    submit = SubmitField("Add project", widget=GovSubmitInput())

    API_FIELDS = {
        ("fund_id",): "fund_id",
        ("title",): "title",
        ("description",): "description",
        ("category",): "category",
        ("lead_organisation_id",): "lead_organisation_id",
        ("delivery_organisation_ids",): "delivery_organisation_ids",
        ("areas",): "areas",
        ("amount_awarded_pence",): "amount_awarded",
        ("awarded_on",): "awarded_on",
    }


class SpendForm(FlaskForm):
    period = StringField(
        "Quarter, for example 2026-Q3",
        widget=GovTextInput(),
        validators=[InputRequired("Enter the quarter")],
    )
    actual = Money("Spent in the quarter, in pounds", widget=GovTextInput())
    forecast = Money("Forecast for the quarter, in pounds (optional)", widget=GovTextInput())
    submit = SubmitField("Report spend", widget=GovSubmitInput())

    API_FIELDS = {
        ("period",): "period",
        ("actual_pence",): "actual",
        ("forecast_pence",): "forecast",
    }


class MilestoneForm(FlaskForm):
    title = StringField(
        "Milestone", widget=GovTextInput(), validators=[InputRequired("Enter the milestone")]
    )
    due_on = GovDateField(
        "Due on",
        widget=GovDateInput(),
        format="%d %m %Y",
        validators=[InputRequired("Enter the due date")],
    )
    submit = SubmitField("Add milestone", widget=GovSubmitInput())

    API_FIELDS = {("title",): "title", ("due_on",): "due_on"}


RAG_CHOICES = [("", "Not rated"), ("green", "Green"), ("amber", "Amber"), ("red", "Red")]


class ProjectStatusForm(FlaskForm):
    version = HiddenField()
    status = SelectField(
        "Status",
        choices=[(s, s.replace("_", " ").capitalize()) for s in PROJECT_STATUSES],
        widget=GovSelect(),
    )
    rag_delivery = SelectField("Delivery rating", choices=RAG_CHOICES, widget=GovSelect())
    rag_spend = SelectField("Spend rating", choices=RAG_CHOICES, widget=GovSelect())
    rag_risk = SelectField("Risk rating", choices=RAG_CHOICES, widget=GovSelect())
    rag_commentary = TextAreaField("Commentary", widget=GovTextArea())
    submit = SubmitField("Save status", widget=GovSubmitInput())

    API_FIELDS = {("status",): "status", ("rag_commentary",): "rag_commentary"}


# --- users --------------------------------------------------------------------------------------

ROLE_CHOICES = [
    ("staff", "Staff: does the work"),
    ("analyst", "Analyst: reads figures only"),
    ("admin", "Admin: does the work and manages users"),
]


class UserForm(FlaskForm):
    username = StringField(
        "Username",
        widget=GovTextInput(),
        validators=[InputRequired("Enter a username"), Length(max=80)],
    )
    full_name = StringField(
        "Full name (optional)", widget=GovTextInput(), validators=[Length(max=200)]
    )
    email = StringField(
        "Email for notices (optional)",
        description="Only told that a referral or a vacancy alert is waiting, never any details.",
        widget=GovTextInput(),
        validators=[Length(max=254)],
    )
    organisation_id = SelectField(
        "Organisation", choices=[], widget=GovSelect(), validators=[Optional()]
    )
    role = RadioField("Role", choices=ROLE_CHOICES, default="staff", widget=GovRadioInput())
    password = PasswordField(
        "First password (at least 12 characters)",
        widget=GovPasswordInput(),
        validators=[InputRequired("Enter a first password")],
    )
    submit = SubmitField("Create user", widget=GovSubmitInput())

    API_FIELDS = {
        ("username",): "username",
        ("full_name",): "full_name",
        ("email",): "email",
        ("organisation_id",): "organisation_id",
        ("role",): "role",
        ("password",): "password",
    }
