"""Pages: the users of an organisation (of all, for the partnership admin), and each user's page
with its changes: role, password, deactivate (after an "are you sure" page, with a reason kept
in the audit trail) and reactivate.

Who may do what is the service's (``partnership.list_users``, ``get_user``, ``update_user``,
``create_user``): a user of another organisation is a 404 page, a refused function a 403 page,
and a refusal the service explains (the last admin, a name taken) is shown in its words.
"""

from __future__ import annotations

import uuid

from flask import flash, g, redirect, request, url_for

import partnership_api.web.adapter as adapter
import partnership_api.web.adapter_funding as adapter_funding
import partnership_api.web.presenters as presenters
from partnership_api.web.forms_users import (
    DeactivateForm,
    PasswordResetForm,
    ReactivateForm,
    RoleForm,
    UserFilterForm,
    UserForm,
)
from partnership_api.web.pages import blp, organisation_choices
from partnership_api.web.render import render_page

# --- the list, and a new user -------------------------------------------------------------------


def _filters() -> tuple[UserFilterForm, dict]:
    form = UserFilterForm(request.args)
    form.organisation.choices = [("", "Every organisation")] + organisation_choices()
    args: dict = {}
    if form.validate():
        if form.organisation.data:
            args["organisation_id"] = int(form.organisation.data)
        if (form.search.data or "").strip():
            args["search"] = form.search.data.strip()
    return form, args


def _users_view(form, status=200):
    adapter.require(g.actor, "user.manage")  # a 403 page, audited, as the API's
    filters, args = _filters()
    listed = adapter_funding.user_list(g.actor, args)
    return render_page(
        "users.html",
        "Users",
        status=status,
        has_errors=bool(form.errors) or bool(filters.errors),
        users=presenters.users_page(g.actor, listed, adapter.organisation_names(g.actor)),
        filtered=bool(args),
        filters=filters,
        form=form,
        choose_organisation=g.actor.partnership_admin,
    )


def _user_form() -> UserForm:
    form = UserForm()
    form.organisation_id.choices = [("", "Your own organisation")] + organisation_choices()
    return form


@blp.route("/users", methods=["GET", "POST"])
def users():
    """Users of the organisation (all, for the partnership admin): list, search and create."""
    form = _user_form()
    if request.method == "POST" and form.validate_on_submit():
        data = {
            "username": form.username.data.strip(),
            "full_name": form.full_name.data or "",
            "role": form.role.data,
            "password": form.password.data,
        }
        if (form.email.data or "").strip():
            data["email"] = form.email.data.strip()
        if g.actor.partnership_admin and form.organisation_id.data:
            data["organisation_id"] = int(form.organisation_id.data)
        try:
            made = adapter_funding.create_user(g.actor, data)
        except adapter.Refusal as refusal:
            if refusal.status not in (409, 422):
                raise
            if not presenters.api_errors_onto(form, refusal.errors, UserForm.API_FIELDS):
                form.form_errors.append(presenters.refusal_words(refusal))
        else:
            flash(f"User {made.username} created.", "success")
            return redirect(url_for("web.user", user_id=made.id), code=303)
    elif request.method == "GET":
        form = UserForm(formdata=None)
        form.organisation_id.choices = [("", "Your own organisation")] + organisation_choices()
    return _users_view(form, 400 if form.errors else 200)


# --- one user -----------------------------------------------------------------------------------


def _user_view(user_id: uuid.UUID, *, role_form=None, password_form=None, status=200):
    user = adapter_funding.user(g.actor, user_id)  # 404 for another organisation's user
    role_form = role_form or RoleForm(formdata=None, data={"role": user.role})
    password_form = password_form or PasswordResetForm(formdata=None)
    forms = [role_form, password_form]
    return render_page(
        "user.html",
        user.username,
        status=status,
        has_errors=any(f.errors for f in forms),
        page=presenters.user_page(g.actor, user, adapter.organisation_names(g.actor)),
        role_form=role_form,
        password_form=password_form,
        reactivate_form=ReactivateForm(formdata=None),
        forms=forms,
    )


def _change(user_id: uuid.UUID, form, data: dict, change: str):
    """Make the change; a refusal the service explains goes back on the form, in words."""
    try:
        changed = adapter_funding.change_user(g.actor, user_id, data)
    except adapter.Refusal as refusal:
        if refusal.status not in (409, 422):
            raise
        if not presenters.api_errors_onto(form, refusal.errors, type(form).API_FIELDS):
            form.form_errors.append(refusal.message)
        return None
    flash(f"{changed.username}: {presenters.USER_CHANGES[change]}.", "success")
    return redirect(url_for("web.user", user_id=user_id), code=303)


@blp.route("/users/<uuid:user_id>")
def user(user_id):
    """A user: who they are, their last sign-in, and the changes this admin may make."""
    return _user_view(user_id)


@blp.route("/users/<uuid:user_id>/role", methods=["POST"])
def user_role(user_id):
    form = RoleForm()
    if form.validate_on_submit():
        done = _change(user_id, form, {"role": form.role.data}, "role")
        if done:
            return done
    return _user_view(user_id, role_form=form, status=400)


@blp.route("/users/<uuid:user_id>/password", methods=["POST"])
def user_password(user_id):
    form = PasswordResetForm()
    username = adapter_funding.user(g.actor, user_id).username
    if form.validate_on_submit():
        done = _change(user_id, form, {"password": form.password.data}, "password")
        if done:
            return done
    # Every problem names whose password it is.
    form.password.errors = [
        f"The password of {username} was not reset: {message}" for message in form.password.errors
    ]
    return _user_view(user_id, password_form=form, status=400)


@blp.route("/users/<uuid:user_id>/deactivate", methods=["GET", "POST"])
def user_deactivate(user_id):
    """Are you sure? Deactivating signs the user out everywhere; the reason is audited."""
    user = adapter_funding.user(g.actor, user_id)
    form = DeactivateForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            data = {"active": False, "reason": form.reason.data.strip()}
            done = _change(user_id, form, data, "deactivate")
            if done:
                return done
        status = 400
    else:
        form = DeactivateForm(formdata=None)
    return render_page(
        "user_deactivate.html",
        f"Deactivate {user.username}",
        status=status,
        has_errors=bool(form.errors),
        user=user,
        form=form,
    )


@blp.route("/users/<uuid:user_id>/reactivate", methods=["POST"])
def user_reactivate(user_id):
    form = ReactivateForm()
    if form.validate_on_submit():
        try:
            changed = adapter_funding.change_user(g.actor, user_id, {"active": True})
        except adapter.Refusal as refusal:
            if refusal.status not in (409, 422):
                raise
            flash(f"Not reactivated: {presenters.refusal_words(refusal)}", "problem")
        else:
            flash(f"{changed.username}: {presenters.USER_CHANGES['activate']}.", "success")
    return redirect(url_for("web.user", user_id=user_id), code=303)
