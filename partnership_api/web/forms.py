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
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

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


# --- bed search ---------------------------------------------------------------------------------

AREA_CHOICES = [(code, name) for code, name in sorted(AREAS.items(), key=lambda item: item[1])]
# --- referrals ----------------------------------------------------------------------------------

YES_NO = [("yes", "Yes"), ("no", "No")]


class GovDateField(DateField):
    """A date as GOV.UK's three boxes (day, month, year); a form sent without them is an
    empty date, not an error of the widget."""

    def process(self, formdata, *args, **kwargs):
        super().process(formdata, *args, **kwargs)
        if formdata is not None and len(self.raw_data or []) != 3:
            self.raw_data = ["", "", ""]


def ages_of(text: str | None) -> list[int]:
    """ "4, 13" → [4, 13]; ValueError for anything but ages from 0 to 25."""
    ages = [int(a) for a in (text or "").replace(" ", "").split(",") if a]
    if any(not 0 <= age <= 25 for age in ages):
        raise ValueError("out of range")
    return ages


def ages_list(form, field) -> None:
    try:
        ages_of(field.data)
    except ValueError:
        raise ValidationError(
            "Enter ages from 0 to 25 as numbers separated by commas, like 4, 13"
        ) from None


class ReferralForm(FlaskForm):
    """The whole referral; every field maps to the API's ``ReferralCreateSchema``."""

    idempotency_key = HiddenField()
    # A space of this type held at the refuge referred to, in the same call ("Refer and hold").
    hold_space_type = HiddenField()
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
    # Each child's age and sex (the API's children_detail): refuges decide on the ages of sons.
    daughter_ages = StringField(
        "Ages of her daughters, separated by commas (for example 4, 9)",
        widget=GovTextInput(),
        validators=[ages_list],
    )
    son_ages = StringField(
        "Ages of her sons, separated by commas (for example 13)",
        widget=GovTextInput(),
        validators=[ages_list],
    )
    needs = SelectMultipleField(
        "Needs",
        choices=[
            ("wheelchair", "Wheelchair access"),
            ("nrpf", "No recourse to public funds (NRPF)"),
            ("pets", "Pets"),
            ("risk_from_home", "The risk comes from her home area: keep refuges there out"),
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
        ("household", "child_ages"): "son_ages",
        ("household", "children_detail"): "son_ages",
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


DECLINE_WORDS = {
    "no_capacity": "No capacity: no space, or no worker to take it on",
    "needs_not_met_disability": "We cannot meet her needs: disability or wheelchair access",
    "needs_not_met_nrpf": "We cannot meet her needs: no recourse to public funds",
    "needs_not_met_older_sons": "We cannot meet her needs: her older sons",
    "needs_not_met_larger_family": "We cannot meet her needs: a larger family",
    "needs_not_met_substance_use": "We cannot meet her needs: substance use",
    "needs_not_met_mental_health": "We cannot meet her needs: mental health",
    "declined_offer": "She declined the offer",
    "risk_too_high": "The risk is too high for this setting",
    "other": "Another reason (say in the note)",
}


class DeclineForm(FlaskForm):
    reason_code = RadioField(
        "Why are you declining this referral?",
        choices=[
            (code, DECLINE_WORDS.get(code, code.replace("_", " "))) for code in DECLINE_REASONS
        ],
        widget=GovRadioInput(),
        validators=[InputRequired("Choose why you are declining the referral")],
    )
    reason_text = StringField(
        "If another reason, what was it?",
        widget=GovTextInput(),
        validators=[Length(max=200, message="Enter 200 characters or fewer")],
    )
    note = TextAreaField(
        "Note for the referrer (optional)",
        widget=GovTextArea(),
        validators=[Length(max=5000, message="Enter 5000 characters or fewer")],
    )
    submit = SubmitField("Decline referral", widget=GovSubmitInput())

    def validate_reason_text(self, field) -> None:
        if self.reason_code.data == "other" and not (field.data or "").strip():
            raise ValidationError("Say what the other reason was")


STAY_END_WORDS = [
    ("support_no_longer_needed", "Support is no longer needed"),
    ("moved_on", "She moved on"),
    ("evicted", "Evicted or asked to leave"),
    ("left_without_notice", "Left without notice"),
    ("returned_to_perpetrator", "Returned to the perpetrator"),
    ("other", "Another reason"),
]
DESTINATION_WORDS = [
    ("own_tenancy", "Her own tenancy"),
    ("social_housing", "Social housing"),
    ("private_rent", "Private rented home"),
    ("family_or_friends", "Family or friends"),
    ("another_refuge", "Another refuge"),
    ("temporary_accommodation", "Temporary accommodation"),
    ("unknown", "Not known"),
]


class CloseForm(FlaskForm):
    """Closing a referral; for a stay in a refuge, why it ended and where she went (the
    safe-accommodation return counts both)."""

    outcome = TextAreaField(
        "What happened?",
        widget=GovTextArea(),
        validators=[
            DataRequired("Say what happened"),
            Length(max=2000, message="Enter 2000 characters or fewer"),
        ],
    )
    end_reason = RadioField(
        "Why did her stay end?",
        choices=STAY_END_WORDS,
        widget=GovRadioInput(),
        validate_choice=False,  # asked only for a stay in a refuge (below)
    )
    end_reason_text = StringField(
        "If another reason, what was it?",
        widget=GovTextInput(),
        validators=[Length(max=200, message="Enter 200 characters or fewer")],
    )
    destination = RadioField(
        "Where did she go?",
        choices=DESTINATION_WORDS,
        widget=GovRadioInput(),
        validate_choice=False,
    )
    submit = SubmitField("Close referral", widget=GovSubmitInput())

    def __init__(self, *args, stay: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.stay = stay

    def validate_end_reason(self, field) -> None:
        if self.stay and field.data not in dict(STAY_END_WORDS):
            raise ValidationError("Choose why her stay ended")

    def validate_destination(self, field) -> None:
        if self.stay and field.data not in dict(DESTINATION_WORDS):
            raise ValidationError("Choose where she went, or Not known")

    def validate_end_reason_text(self, field) -> None:
        if self.stay and self.end_reason.data == "other" and not (field.data or "").strip():
            raise ValidationError("Say what the other reason was")


class WithdrawForm(FlaskForm):
    note = TextAreaField(
        "Why are you withdrawing this referral?",
        widget=GovTextArea(),
        validators=[
            DataRequired("Say why you are withdrawing the referral"),
            Length(max=5000, message="Enter 5000 characters or fewer"),
        ],
    )
    submit = SubmitField("Withdraw referral", widget=GovSubmitInput())


class NoteForm(FlaskForm):
    text = TextAreaField(
        "Add a note", widget=GovTextArea(), validators=[InputRequired("Enter the note")]
    )
    submit = SubmitField("Add note", widget=GovSubmitInput())
