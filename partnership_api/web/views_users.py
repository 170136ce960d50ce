"""Pages: the users of an organisation (of all, for the partnership admin)."""

from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for

import partnership_api.web.adapter as adapter
import partnership_api.web.presenters as presenters
from partnership_api.web.forms_funding import (
    UserForm,
)
from partnership_api.web.pages import blp, organisation_choices
from partnership_api.web.render import render_page

# --- users --------------------------------------------------------------------------------------


def _users_view(form, status=200):
    listed = adapter.users(g.actor)  # 403 page unless the policy lets this actor manage users
    return render_page(
        "users.html",
        "Users",
        status=status,
        has_errors=bool(form.errors),
        users=presenters.users_page(g.actor, listed, adapter.organisation_names(g.actor)),
        form=form,
        roles=UserForm.role.kwargs["choices"],
        choose_organisation=g.actor.partnership_admin,
    )


def _user_form() -> UserForm:
    form = UserForm()
    form.organisation_id.choices = [("", "Your own organisation")] + organisation_choices()
    return form


@blp.route("/users", methods=["GET", "POST"])
def users():
    """Users of the organisation (all, for the partnership admin): list and create."""
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
            made = adapter.create_user(g.actor, data)
        except adapter.Refusal as refusal:
            if refusal.status not in (409, 422):
                raise
            if not presenters.api_errors_onto(form, refusal.errors, UserForm.API_FIELDS):
                form.form_errors.append(refusal.message)
        else:
            flash(f"User {made.username} created.", "success")
            return redirect(url_for("web.users"), code=303)
    elif request.method == "GET":
        form = UserForm(formdata=None)
        form.organisation_id.choices = [("", "Your own organisation")] + organisation_choices()
    return _users_view(form, 400 if form.errors else 200)


@blp.route("/users/<uuid:user_id>", methods=["POST"])
def user(user_id):
    """Change a user's role, deactivate or reactivate them, or reset their password."""
    change = request.form.get("change")
    if change == "role":
        data = {"role": request.form.get("role", "")}
    elif change in ("deactivate", "activate"):
        data = {"active": change == "activate"}
    elif change == "password":
        data = {"password": request.form.get("password", "")}
    else:
        abort(400)
    try:
        changed = adapter.change_user(g.actor, user_id, data)
    except adapter.Refusal as refusal:
        if refusal.status not in (409, 422):
            raise
        flash(f"Not changed: {presenters.refusal_words(refusal)}", "problem")
    else:
        flash(f"{changed.username}: {presenters.USER_CHANGES[change]}.", "success")
    return redirect(url_for("web.users"), code=303)
