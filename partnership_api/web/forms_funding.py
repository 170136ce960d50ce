"""Forms of the funding pages (Flask-WTF, govuk-frontend-wtf widgets)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovDateInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from partnership_api.services.project_export import CATEGORY_WORDS, STATUS_WORDS
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
        choices=list(CATEGORY_WORDS.items()),
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


QUARTER_HINT = "Financial-year quarters, April to March, as the funders report them."


class SpendForm(FlaskForm):
    period = SelectField(
        "Quarter",
        description=QUARTER_HINT + " A quarter already reported is corrected from its row above.",
        choices=[],  # the quarters not yet reported (presenters.quarter_choices)
        widget=GovSelect(),
        validators=[InputRequired("Choose the quarter")],
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


class MilestoneDoneForm(FlaskForm):
    version = HiddenField()
    done_on = GovDateField(
        "Done on",
        widget=GovDateInput(),
        format="%d %m %Y",
        validators=[InputRequired("Enter the day the milestone was done")],
        description="For example 27 3 2026",
    )
    submit = SubmitField("Mark as done", widget=GovSubmitInput())

    API_FIELDS = {("completed_on",): "done_on"}


class SpendCorrectionForm(FlaskForm):
    version = HiddenField()
    actual = Money("Spent in the quarter, in pounds", widget=GovTextInput())
    forecast = Money("Forecast for the quarter, in pounds (optional)", widget=GovTextInput())
    submit = SubmitField("Save correction", widget=GovSubmitInput())

    API_FIELDS = {("actual_pence",): "actual", ("forecast_pence",): "forecast"}


def whole_number(form, field) -> None:
    text = (field.data or "").replace(",", "").strip()
    if text and not (text.isdigit() and int(text) <= 10**12):
        raise ValidationError(f"Enter {field.label.text.lower()} as a whole number, like 12")


def count_of(text: str | None) -> int | None:
    """ "1,200" → 1200; None for nothing (checked first by ``whole_number``)."""
    cleaned = (text or "").replace(",", "").strip()
    return int(cleaned) if cleaned else None


class OutputForm(FlaskForm):
    metric = StringField(
        "What is counted",
        description="For example: cameras installed",
        widget=GovTextInput(),
        validators=[InputRequired("Enter what is counted"), Length(max=200)],
    )
    unit = StringField(
        "Unit",
        description="For example: cameras",
        widget=GovTextInput(),
        validators=[InputRequired("Enter the unit"), Length(max=40)],
    )
    target = StringField("Target (optional)", widget=GovTextInput(), validators=[whole_number])
    delivered = StringField(
        "Delivered so far (optional)", widget=GovTextInput(), validators=[whole_number]
    )
    submit = SubmitField("Add output", widget=GovSubmitInput())

    API_FIELDS = {
        ("metric",): "metric",
        ("unit",): "unit",
        ("target",): "target",
        ("actual",): "delivered",
    }


class OutputRecordForm(FlaskForm):
    version = HiddenField()
    actual = StringField(
        "Delivered so far",
        widget=GovTextInput(),
        validators=[InputRequired("Enter how many have been delivered so far"), whole_number],
    )
    target = StringField(
        "Target (optional)",
        description="Only the commissioner's office changes a target.",
        widget=GovTextInput(),
        validators=[whole_number],
    )
    submit = SubmitField("Save output", widget=GovSubmitInput())

    API_FIELDS = {("actual",): "actual", ("target",): "target"}


class ProjectFilterForm(FlaskForm):
    """The projects list's filters and order: a GET form, so no CSRF token."""

    class Meta:
        csrf = False

    fund = SelectField("Fund", choices=[], widget=GovSelect(), validators=[Optional()])
    status = SelectField(
        "Status",
        choices=[("", "Any status")] + list(STATUS_WORDS.items()),
        widget=GovSelect(),
        validators=[Optional()],
    )
    rag = SelectField(
        "Rating",
        choices=[("", "Any rating"), ("red", "Red on any"), ("amber", "Amber on any")]
        + [("green", "Green on any")],
        widget=GovSelect(),
        validators=[Optional()],
    )
    area = SelectField(
        "Area",
        choices=[("", "Any area")] + AREA_CHOICES,
        widget=GovSelect(),
        validators=[Optional()],
    )
    sort = SelectField(
        "Sort by",
        choices=[
            ("title", "Title, A to Z"),
            ("awarded", "Awarded, largest first"),
            ("spent", "Spent, largest first"),
            ("remaining", "Remaining, largest first"),
            ("status", "Status"),
            ("updated", "Last update, oldest first"),
        ],
        widget=GovSelect(),
        validators=[Optional()],
    )
    submit = SubmitField("Show projects", widget=GovSubmitInput())


RAG_CHOICES = [("", "Not rated"), ("green", "Green"), ("amber", "Amber"), ("red", "Red")]


class ProjectStatusForm(FlaskForm):
    version = HiddenField()
    status = SelectField(
        "Status",
        choices=list(STATUS_WORDS.items()),
        widget=GovSelect(),
    )
    rag_delivery = SelectField("Delivery rating", choices=RAG_CHOICES, widget=GovSelect())
    rag_spend = SelectField("Spend rating", choices=RAG_CHOICES, widget=GovSelect())
    rag_risk = SelectField("Risk rating", choices=RAG_CHOICES, widget=GovSelect())
    rag_commentary = TextAreaField("Commentary", widget=GovTextArea())
    cancellation_reason = TextAreaField(
        "Why it is cancelled (only when cancelling)", widget=GovTextArea()
    )
    submit = SubmitField("Save status", widget=GovSubmitInput())

    API_FIELDS = {
        ("status",): "status",
        ("rag_commentary",): "rag_commentary",
        ("cancellation_reason",): "cancellation_reason",
        ("rag", "delivery"): "rag_delivery",
        ("rag", "spend"): "rag_spend",
        ("rag", "risk"): "rag_risk",
    }
