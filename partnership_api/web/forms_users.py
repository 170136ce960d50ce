"""Forms of the users pages (Flask-WTF, govuk-frontend-wtf widgets)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovPasswordInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import PasswordField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

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


class UserFilterForm(FlaskForm):
    """The users list's filter and search: a GET form, so no CSRF token."""

    class Meta:
        csrf = False

    organisation = SelectField(
        "Organisation", choices=[], widget=GovSelect(), validators=[Optional()]
    )
    search = StringField(
        "Name or username",
        widget=GovTextInput(),
        validators=[Optional(), Length(max=80, message="Enter at most 80 characters")],
    )
    submit = SubmitField("Show users", widget=GovSubmitInput())


class RoleForm(FlaskForm):
    role = RadioField("Role", choices=ROLE_CHOICES, widget=GovRadioInput())
    submit = SubmitField("Change role", widget=GovSubmitInput())

    API_FIELDS = {("role",): "role"}


class PasswordResetForm(FlaskForm):
    password = PasswordField(
        "New password (at least 12 characters)",
        widget=GovPasswordInput(),
        validators=[InputRequired("Enter a new password")],
    )
    submit = SubmitField("Reset password", widget=GovSubmitInput())

    API_FIELDS = {("password",): "password"}


class DeactivateForm(FlaskForm):
    reason = TextAreaField(
        "Why is this user being deactivated?",
        description="Kept in the audit trail. For example: left the organisation.",
        widget=GovTextArea(),
        validators=[
            DataRequired("Enter why this user is being deactivated"),
            Length(max=500, message="Enter at most 500 characters"),
        ],
    )
    submit = SubmitField("Yes, deactivate", widget=GovSubmitInput())

    API_FIELDS = {("reason",): "reason"}


class ReactivateForm(FlaskForm):
    submit = SubmitField("Reactivate", widget=GovSubmitInput())
