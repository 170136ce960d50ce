"""The pages' forms: Flask-WTF (a CSRF token in each) with govuk-frontend-wtf widgets."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovDateInput,
    GovPasswordInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from partnership_api.models.funding import CATEGORIES, PROJECT_STATUSES
from partnership_api.models.partnership import AREAS
from partnership_api.models.referrals import DECLINE_REASONS


class SignInForm(FlaskForm):
    username = StringField(
        "Username",
        widget=GovTextInput(),
        validators=[InputRequired(message="Enter your username"), Length(max=80)],
    )
    password = PasswordField(
        "Password",
        widget=GovPasswordInput(),
        validators=[InputRequired(message="Enter your password"), Length(max=200)],
    )
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class SignOutForm(FlaskForm):
    submit = SubmitField("Sign out", widget=GovSubmitInput())


# --- bed search ---------------------------------------------------------------------------------

AREA_CHOICES = [(code, name) for code, name in sorted(AREAS.items(), key=lambda item: item[1])]
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
        ],
        widget=GovCheckboxesInput(),
        validators=[Optional()],
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


class HoldForm(FlaskForm):
    referral = SelectField("Hold for referral", choices=[], widget=GovSelect())
    refuge_id = HiddenField()
    space_type = HiddenField()
    submit = SubmitField("Hold a space", widget=GovSubmitInput())


# --- referrals ----------------------------------------------------------------------------------

YES_NO = [("yes", "Yes"), ("no", "No")]


class GovDateField(DateField):
    """A date as GOV.UK's three boxes (day, month, year); a form sent without them is an
    empty date, not an error of the widget."""

    def process(self, formdata, *args, **kwargs):
        super().process(formdata, *args, **kwargs)
        if formdata is not None and len(self.raw_data or []) != 3:
            self.raw_data = ["", "", ""]


class ReferralForm(FlaskForm):
    """The whole referral; every field maps to the API's ``ReferralCreateSchema``."""

    idempotency_key = HiddenField()
    kind = RadioField(
        "Who is being referred",
        choices=[("victim", "A victim"), ("perpetrator", "A perpetrator")],
        default="victim",
        widget=GovRadioInput(),
    )
    to_service_id = SelectField(
        "Refer to", choices=[], widget=GovSelect(), validators=[InputRequired("Choose a service")]
    )
    subject_name = StringField(
        "Full name", widget=GovTextInput(), validators=[InputRequired("Enter their name")]
    )
    subject_date_of_birth = GovDateField(
        "Date of birth", widget=GovDateInput(), format="%d %m %Y", validators=[Optional()]
    )
    subject_gender = StringField("Gender (optional)", widget=GovTextInput())
    subject_area = SelectField(
        "Area they live in",
        choices=[("", "Choose an area")] + AREA_CHOICES,
        widget=GovSelect(),
        validators=[InputRequired("Choose the area they live in")],
    )
    risk_level = RadioField(
        "DASH risk level",
        choices=[("standard", "Standard"), ("medium", "Medium"), ("high", "High")],
        widget=GovRadioInput(),
        validators=[InputRequired("Choose the DASH risk level")],
    )
    dash_score = IntegerField(
        "DASH score (optional, 0 to 27; 14 or more means high risk)",
        widget=GovTextInput(),
        validators=[Optional(), NumberRange(min=0, max=27, message="A DASH score is from 0 to 27")],
    )
    marac = BooleanField("Referred to MARAC", widget=GovCheckboxInput())
    safe_phone = StringField("Safe phone number", widget=GovTextInput())
    safe_times = StringField("Safe times to call", widget=GovTextInput())
    safe_to_call = BooleanField("It is safe to call this number", widget=GovCheckboxInput())
    may_leave_message = BooleanField("A message may be left", widget=GovCheckboxInput())
    do_not_contact = BooleanField("Do not contact them directly", widget=GovCheckboxInput())
    children = IntegerField(
        "Number of children",
        widget=GovTextInput(),
        default=0,
        validators=[Optional(), NumberRange(min=0, max=20, message="Enter 0 to 20 children")],
    )
    child_ages = StringField(
        "Children's ages, separated by commas (for example 4, 13)", widget=GovTextInput()
    )
    needs = SelectMultipleField(
        "Needs",
        choices=[
            ("wheelchair", "Wheelchair access"),
            ("nrpf", "No recourse to public funds (NRPF)"),
            ("pets", "Pets"),
        ],
        widget=GovCheckboxesInput(),
        validators=[Optional()],
    )
    interpreter_language = StringField("Interpreter language (optional)", widget=GovTextInput())
    other_needs = TextAreaField("Other needs (optional)", widget=GovTextArea())
    consent_given = RadioField(
        "Did they consent to this referral?",
        choices=YES_NO,
        widget=GovRadioInput(),
        validators=[InputRequired("Say whether they consented")],
    )
    lawful_basis = StringField(
        "Lawful basis without consent (for example safeguarding)", widget=GovTextInput()
    )
    rationale = TextAreaField("Why refer without consent", widget=GovTextArea())
    summary = TextAreaField(
        "Summary", widget=GovTextArea(), validators=[InputRequired("Enter a summary")]
    )
    submit = SubmitField("Make referral", widget=GovSubmitInput())

    # The API's field paths, for its validation errors, to the fields of this form.
    API_FIELDS = {
        ("kind",): "kind",
        ("to_service_id",): "to_service_id",
        ("subject", "name"): "subject_name",
        ("subject", "date_of_birth"): "subject_date_of_birth",
        ("subject", "gender"): "subject_gender",
        ("subject", "area"): "subject_area",
        ("risk_level",): "risk_level",
        ("dash_score",): "dash_score",
        ("marac",): "marac",
        ("safe_contact", "phone"): "safe_phone",
        ("safe_contact", "safe_times"): "safe_times",
        ("household", "children"): "children",
        ("household", "child_ages"): "child_ages",
        ("needs", "interpreter_language"): "interpreter_language",
        ("needs", "other"): "other_needs",
        ("consent", "lawful_basis"): "lawful_basis",
        ("consent", "rationale"): "rationale",
        ("summary",): "summary",
    }


class TransitionForm(FlaskForm):
    action = HiddenField()
    reason_code = SelectField(
        "Reason",
        choices=[("", "Choose a reason")]
        + [(r, r.replace("_", " ").capitalize()) for r in DECLINE_REASONS],
        widget=GovSelect(),
    )
    to_service_id = SelectField("Redirect to", choices=[], widget=GovSelect())
    outcome = TextAreaField("Outcome", widget=GovTextArea())
    note = TextAreaField("Note for the timeline (optional)", widget=GovTextArea())


class NoteForm(FlaskForm):
    text = TextAreaField(
        "Add a note", widget=GovTextArea(), validators=[InputRequired("Enter the note")]
    )
    submit = SubmitField("Add note", widget=GovSubmitInput())


class AvailabilityForm(FlaskForm):
    """A refuge's whole report: totals and vacancies by type; the version it was drawn from."""

    version = HiddenField()
    single_total = IntegerField(
        "Single spaces in total",
        widget=GovTextInput(),
        validators=[Optional(), NumberRange(min=0, max=500)],
    )
    single_vacant = IntegerField(
        "Single spaces vacant",
        widget=GovTextInput(),
        validators=[Optional(), NumberRange(min=0, max=500)],
    )
    family_total = IntegerField(
        "Family spaces in total",
        widget=GovTextInput(),
        validators=[Optional(), NumberRange(min=0, max=500)],
    )
    family_vacant = IntegerField(
        "Family spaces vacant",
        widget=GovTextInput(),
        validators=[Optional(), NumberRange(min=0, max=500)],
    )
    accessible_total = IntegerField(
        "Accessible spaces in total",
        widget=GovTextInput(),
        validators=[Optional(), NumberRange(min=0, max=500)],
    )
    accessible_vacant = IntegerField(
        "Accessible spaces vacant",
        widget=GovTextInput(),
        validators=[Optional(), NumberRange(min=0, max=500)],
    )
    submit = SubmitField("Save spaces", widget=GovSubmitInput())

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
        ("organisation_id",): "organisation_id",
        ("role",): "role",
        ("password",): "password",
    }
