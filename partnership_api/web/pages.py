"""The web pages' blueprint: thin views that load through the adapter, present and render.

Every page needs a signed-in page session (``session.py``) except the sign-in page and the
assets; every POST carries a CSRF token and comes from this site. An object the policy hides
is a 404 page, a refused function a 403 page (``errors.py``), exactly as the API answers.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, g, redirect, request, url_for

from partnership_api.ratelimits import login_account_limit, login_address_limit
from partnership_api.web import adapter, assets, csrf, presenters, session
from partnership_api.web.forms import (
    AvailabilityForm,
    BedSearchForm,
    MilestoneForm,
    NoteForm,
    ProjectForm,
    ProjectStatusForm,
    ReferralForm,
    SignInForm,
    SpendForm,
    TransitionForm,
    UserForm,
)
from partnership_api.web.render import render_page

blp = Blueprint("web", __name__)
assets.register(blp)

# Pages anyone may open; every other page needs a signed-in session.
OPEN_PAGES = frozenset({"web.sign_in", "web.asset"})


@blp.before_request
def sign_in_page_request():
    g.actor = None
    if request.endpoint == "web.asset":
        return None
    actor = session.signed_in_actor()
    if actor is None and request.endpoint not in OPEN_PAGES:
        target = request.full_path if request.method == "GET" else None
        return redirect(url_for("web.sign_in", next=safe_next(target)), code=303)
    if request.method == "POST":
        csrf.protect()  # a 400 page when the token is missing, wrong or from another session
    if request.endpoint in OPEN_PAGES:
        g.page_actor = actor
        return None
    g.actor = actor
    # A GET page only reads (and writes its audit events): on PostgreSQL without a
    # transaction, as the API's GETs (auth.begin_read).
    g.read_only = request.method == "GET"
    return None


@blp.errorhandler(adapter.Refusal)
def refused(refusal: adapter.Refusal):
    from werkzeug.exceptions import HTTPException

    from partnership_api.web.errors import error_page

    error = HTTPException(refusal.message)
    error.code = refusal.status
    return error_page(error, refusal.message)


def safe_next(target: str | None) -> str | None:
    """Only a path of this site (never ``//host`` or a full URL) is followed after sign-in."""
    if not target:
        return None
    target = target.rstrip("?")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or target.startswith("/sign-"):
        return None
    return target


# --- signing in and out -------------------------------------------------------------------------


@blp.route("/sign-in", methods=["GET", "POST"])
@login_address_limit
@login_account_limit
def sign_in():
    """Sign in with a username and password: the API's own checks, lock and throttling."""
    next_page = safe_next(request.args.get("next"))
    if request.method == "GET" and g.get("page_actor") is not None:
        return redirect(next_page or url_for("web.home"), code=303)
    form = SignInForm()
    refused, status = None, 200
    if form.validate_on_submit():
        try:
            user_id, session_id = adapter.sign_in(form.username.data, form.password.data)
        except adapter.Refusal as refusal:
            if refusal.status not in (401, 429):
                raise
            refused, status = refusal.message, refusal.status
        else:
            session.begin(user_id, session_id)
            return redirect(next_page or url_for("web.home"), code=303)
    elif request.method == "POST":
        status = 400
    action = url_for("web.sign_in", next=next_page) if next_page else url_for("web.sign_in")
    page = presenters.sign_in_page(form, action, refused, session.why_ended())
    return render_page(
        "sign_in.html", "Sign in", status=status, has_errors=bool(page.errors), form=form, page=page
    )


@blp.route("/sign-out", methods=["POST"])
def sign_out():
    """Sign out: this session ends at once, for the pages and on every worker."""
    adapter.sign_out(g.actor)
    session.end()
    flash("You have signed out.", "success")
    return redirect(url_for("web.sign_in"), code=303)


# --- the start page ---------------------------------------------------------------------------


@blp.route("/")
def home():
    """What needs doing now, for this role."""
    page = presenters.home_page(g.actor, adapter.home_facts(g.actor))
    return render_page("home.html", "Home", page=page)


# --- bed spaces ---------------------------------------------------------------------------------


@blp.route("/beds")
def beds():
    """Household-first bed search: spaces now, freshness in words and colour, and why the
    other refuges do not fit; hold a space for an open referral."""
    form = BedSearchForm(request.args)
    args = None
    found: list[dict] = []
    if request.args and form.validate():
        args = presenters.search_args(form)
        try:
            found = adapter.search_beds(g.actor, args)
        except adapter.Refusal as refusal:
            if refusal.status != 422:
                raise
            form.form_errors.append(refusal.message)
            args = None
    page = presenters.bed_board(
        g.actor,
        args,
        found,
        adapter.refuges_of(g.actor) if args is not None else [],
        adapter.open_victim_referrals(g.actor) if args is not None else [],
        adapter.stale_after(),
    )
    return render_page(
        "beds.html",
        "Find a bed space",
        status=400 if form.errors else 200,
        has_errors=bool(form.errors),
        form=form,
        page=page,
        selected_referral=form.referral.data or "",
    )


@blp.route("/beds/hold", methods=["POST"])
def hold():
    """Hold a space for one of the organisation's open referrals (the API's own rules)."""
    try:
        referral_id = uuid.UUID(request.form.get("referral", ""))
        refuge_id = int(request.form.get("refuge_id", ""))
    except ValueError:
        abort(400)
    space_type = request.form.get("space_type", "")
    try:
        held = adapter.hold_space(g.actor, referral_id, refuge_id, space_type)
    except adapter.Refusal as refusal:
        if refusal.status not in (409, 422):
            raise
        flash(f"The space was not held: {refusal.message}", "problem")
        return redirect(url_for("web.beds"), code=303)
    flash(f"Space held until {presenters.on_day(held.expires_at)}.", "success")
    return redirect(url_for("web.referral", referral_id=referral_id), code=303)


# --- referrals ----------------------------------------------------------------------------------


@blp.route("/referrals")
def referrals():
    """The inbox and outbox: tabs Received, Sent, Overdue, Closed; paginated."""
    tab = request.args.get("tab", "received")
    if tab not in presenters.TABS:
        abort(404)
    try:
        page = max(int(request.args.get("page", "1")), 1)
    except ValueError:
        abort(400)
    rows, total = adapter.referral_page(
        g.actor, presenters.tab_args(tab), page, presenters.PAGE_SIZE
    )
    shown = presenters.inbox(g.actor, tab, rows, total, page, adapter.organisation_names(g.actor))
    title = f"Referrals: {presenters.TABS[tab][0].lower()}"
    return render_page("referrals.html", title, page=shown)


@blp.route("/referrals/new", methods=["GET", "POST"])
def new_referral():
    """Make a referral; a double submit makes one (the idempotency key is in the form)."""
    adapter.require(g.actor, "referral.create")  # a 403 page, audited, as the API's
    form = ReferralForm()
    services = adapter.receiving_services(g.actor)
    form.to_service_id.choices = [("", "Choose a service")] + [
        (str(sid), f"{name} ({org})") for sid, name, _kind, org in services
    ]
    if request.method == "GET":
        form.idempotency_key.data = str(uuid.uuid4())
    status = 200
    if form.validate_on_submit():
        try:
            key = str(uuid.UUID(form.idempotency_key.data or ""))
        except ValueError:
            abort(400)
        try:
            shown, created = adapter.make_referral(g.actor, presenters.referral_data(form), key)
        except adapter.Refusal as refusal:
            if refusal.status != 422:
                raise
            if not presenters.api_errors_onto(form, refusal.errors, ReferralForm.API_FIELDS):
                form.form_errors.append(refusal.message)
        else:
            flash(
                f"Referral {shown['reference']} made."
                if created
                else f"Referral {shown['reference']} was already made.",
                "success",
            )
            return redirect(url_for("web.referral", referral_id=shown["id"]), code=303)
    if form.errors:
        status = 400
    return render_page(
        "referral_new.html",
        "Make a referral",
        status=status,
        has_errors=bool(form.errors),
        form=form,
    )


@blp.route("/referrals/<uuid:referral_id>")
def referral(referral_id):
    """One referral (its sender and receiver only; audited as the API read), its timeline
    and the actions its status allows."""
    shown, events = adapter.read_referral(g.actor, referral_id)
    page = presenters.referral_page(
        g.actor,
        shown,
        events,
        adapter.organisation_names(g.actor),
        adapter.receiving_services(g.actor),
    )
    return render_page(
        "referral.html",
        f"Referral {shown['reference']}",
        page=page,
        transition=TransitionForm(formdata=None),
        note=NoteForm(formdata=None),
    )


@blp.route("/referrals/<uuid:referral_id>/actions", methods=["POST"])
def act(referral_id):
    """Accept, decline, redirect, withdraw or close (the API's transition, its rules)."""
    form = TransitionForm()
    data = {"action": form.action.data}
    for name in ("reason_code", "to_service_id", "outcome", "note"):
        value = getattr(form, name).data
        if value not in (None, ""):
            data[name] = int(value) if name == "to_service_id" and value.isdigit() else value
    try:
        adapter.act_on_referral(g.actor, referral_id, data)
    except adapter.Refusal as refusal:
        if refusal.status not in (409, 422):
            raise
        flash(f"Not done: {presenters.refusal_words(refusal)}", "problem")
    else:
        flash(f"Referral {presenters.ACTION_DONE.get(data['action'], 'changed')}.", "success")
    return redirect(url_for("web.referral", referral_id=referral_id), code=303)


@blp.route("/referrals/<uuid:referral_id>/notes", methods=["POST"])
def note(referral_id):
    form = NoteForm()
    try:
        adapter.add_note(g.actor, referral_id, form.text.data or "")
    except adapter.Refusal as refusal:
        if refusal.status not in (409, 422):
            raise
        flash(f"The note was not added: {presenters.refusal_words(refusal)}", "problem")
    else:
        flash("Note added.", "success")
    return redirect(url_for("web.referral", referral_id=referral_id), code=303)


@blp.route("/referrals/<uuid:referral_id>/hold/release", methods=["POST"])
def release(referral_id):
    adapter.release_hold(g.actor, referral_id)
    flash("The space is no longer held.", "success")
    return redirect(url_for("web.referral", referral_id=referral_id), code=303)


# --- a refuge -----------------------------------------------------------------------------------


@blp.route("/refuges/<int:refuge_id>", methods=["GET", "POST"])
def refuge(refuge_id):
    """A refuge's spaces; its own staff change them (If-Match: a conflict is shown, never
    overwritten); everyone else reads, without the address."""
    shown = adapter.refuge(g.actor, refuge_id)
    can_report = adapter.may_report_availability(g.actor, shown)
    stale_after = adapter.stale_after()
    conflict = None
    status = 200
    if request.method == "POST":
        form = AvailabilityForm()  # the service refuses anyone but the refuge's own staff
        if form.validate_on_submit():
            try:
                version = int(form.version.data or "")
            except ValueError:
                abort(400)
            try:
                adapter.report_availability(g.actor, refuge_id, version, form.spaces())
            except adapter.Refusal as refusal:
                if refusal.status == 412:
                    shown = adapter.refuge(g.actor, refuge_id)
                    conflict = presenters.conflict_words(shown["availability"], form.spaces())
                    # The form now shows the figures as they are (the message says what was
                    # typed): saving again is a decision made knowing the other change.
                    form = AvailabilityForm(
                        formdata=None,
                        data=presenters.availability_form_data(shown["availability"]),
                    )
                    status = 409
                elif refusal.status == 422:
                    form.form_errors.append(presenters.refusal_words(refusal))
                else:
                    raise
            else:
                flash("Bed spaces saved.", "success")
                return redirect(url_for("web.refuge", refuge_id=refuge_id), code=303)
        if form.errors:
            status = 400
    else:
        form = AvailabilityForm(data=presenters.availability_form_data(shown["availability"]))
    page = presenters.refuge_page(shown, can_report, stale_after, conflict)
    return render_page(
        "refuge.html",
        shown["name"],
        status=status,
        has_errors=bool(form.errors) or conflict is not None,
        page=page,
        form=form,
    )


# --- funding ------------------------------------------------------------------------------------


@blp.route("/funding")
def funding():
    """Per fund awarded, spent, forecast and remaining, a chart, RAG counts, what needs
    attention."""
    page = presenters.funding_page(
        g.actor, adapter.funding_summary(g.actor), adapter.projects(g.actor)
    )
    return render_page("funding.html", "Funding", page=page)


# --- projects -----------------------------------------------------------------------------------


def _organisation_choices() -> list[tuple[str, str]]:
    return [(str(i), name) for i, name in sorted(adapter.organisation_names(g.actor).items())]


@blp.route("/projects/new", methods=["GET", "POST"])
def new_project():
    """The commissioner's office adds a project."""
    adapter.require(g.actor, "project.change")  # a 403 page, audited, as the API's
    form = ProjectForm()
    funds = adapter.funds(g.actor)
    form.fund_id.choices = [("", "Choose a fund")] + [(str(f.id), f.name) for f in funds]
    form.lead_organisation_id.choices = _organisation_choices()
    form.delivery_organisation_ids.choices = _organisation_choices()
    if form.validate_on_submit():
        data = {
            "fund_id": int(form.fund_id.data),
            "title": form.title.data,
            "description": form.description.data or "",
            "category": form.category.data,
            "lead_organisation_id": int(form.lead_organisation_id.data),
            "delivery_organisation_ids": [
                int(i) for i in form.delivery_organisation_ids.data or []
            ],
            "areas": list(form.areas.data or []),
            "amount_awarded_pence": form.amount_awarded.pence,
        }
        try:
            made = adapter.create_project(g.actor, data)
        except adapter.Refusal as refusal:
            if refusal.status not in (409, 422):
                raise
            if not presenters.api_errors_onto(form, refusal.errors, ProjectForm.API_FIELDS):
                form.form_errors.append(refusal.message)
        else:
            flash(f"Project {made.title} added.", "success")
            return redirect(url_for("web.project", project_id=made.id), code=303)
    return render_page(
        "project_new.html",
        "Add a project",
        status=400 if form.errors else 200,
        has_errors=bool(form.errors),
        form=form,
    )


def _project_view(
    project_id, *, spend_form=None, milestone_form=None, status_form=None, conflict=None, status=200
):
    shown = adapter.project(g.actor, project_id)
    page = presenters.project_page(
        g.actor,
        shown,
        adapter.organisation_names(g.actor),
        {f.id: f.name for f in adapter.funds(g.actor)},
        adapter.may_progress(g.actor, shown["item"]),
        conflict,
    )
    spend_form = spend_form or SpendForm(formdata=None)
    milestone_form = milestone_form or MilestoneForm(formdata=None)
    if status_form is None:
        status_form = ProjectStatusForm(
            formdata=None, data=presenters.status_form_data(shown["project"])
        )
    forms = [spend_form, milestone_form, status_form]
    return render_page(
        "project.html",
        shown["project"]["title"],
        status=status,
        has_errors=any(f.errors for f in forms) or conflict is not None,
        page=page,
        spend_form=spend_form,
        milestone_form=milestone_form,
        status_form=status_form,
        forms=forms,
    )


@blp.route("/projects/<int:project_id>")
def project(project_id):
    """A project: milestones, quarterly spend against the award, outputs against targets,
    and the forms the role may use."""
    return _project_view(project_id)


@blp.route("/projects/<int:project_id>/spend", methods=["POST"])
def project_spend(project_id):
    form = SpendForm()
    if form.validate_on_submit():
        data = {
            "period": form.period.data.strip(),
            "actual_pence": form.actual.pence,
            "forecast_pence": form.forecast.pence,
        }
        try:
            adapter.report_spend(g.actor, project_id, data)
        except adapter.Refusal as refusal:
            if refusal.status not in (409, 422):
                raise
            if not presenters.api_errors_onto(form, refusal.errors, SpendForm.API_FIELDS):
                form.form_errors.append(refusal.message)
        else:
            flash(f"Spend for {data['period']} reported.", "success")
            return redirect(url_for("web.project", project_id=project_id), code=303)
    return _project_view(project_id, spend_form=form, status=400)


@blp.route("/projects/<int:project_id>/milestones", methods=["POST"])
def project_milestone(project_id):
    form = MilestoneForm()
    if form.validate_on_submit():
        data = {"title": form.title.data, "due_on": form.due_on.data.isoformat()}
        try:
            adapter.add_milestone(g.actor, project_id, data)
        except adapter.Refusal as refusal:
            if refusal.status not in (409, 422):
                raise
            if not presenters.api_errors_onto(form, refusal.errors, MilestoneForm.API_FIELDS):
                form.form_errors.append(refusal.message)
        else:
            flash("Milestone added.", "success")
            return redirect(url_for("web.project", project_id=project_id), code=303)
    return _project_view(project_id, milestone_form=form, status=400)


@blp.route("/projects/<int:project_id>/status", methods=["POST"])
def project_status(project_id):
    """Status and ratings (the commissioner's office), with the version read as If-Match."""
    form = ProjectStatusForm()
    if form.validate_on_submit():
        try:
            version = int(form.version.data or "")
        except ValueError:
            abort(400)
        data = {
            "status": form.status.data,
            "rag": {
                "delivery": form.rag_delivery.data or None,
                "spend": form.rag_spend.data or None,
                "risk": form.rag_risk.data or None,
            },
            "rag_commentary": form.rag_commentary.data or None,
        }
        try:
            adapter.change_project(g.actor, project_id, version, data)
        except adapter.Refusal as refusal:
            if refusal.status == 412:
                shown = adapter.project(g.actor, project_id)["project"]
                conflict = (
                    f"It was changed at {presenters.on_day(shown['updated_at'])}, after you "
                    "opened this page; your change was not saved. The form now shows the "
                    "project as it is."
                )
                fresh = ProjectStatusForm(formdata=None, data=presenters.status_form_data(shown))
                return _project_view(project_id, status_form=fresh, conflict=conflict, status=409)
            if refusal.status not in (409, 422):
                raise
            if not presenters.api_errors_onto(form, refusal.errors, ProjectStatusForm.API_FIELDS):
                form.form_errors.append(presenters.refusal_words(refusal))
        else:
            flash("Project saved.", "success")
            return redirect(url_for("web.project", project_id=project_id), code=303)
    return _project_view(project_id, status_form=form, status=400)


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
    form.organisation_id.choices = [("", "Your own organisation")] + _organisation_choices()
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
        form.organisation_id.choices = [("", "Your own organisation")] + _organisation_choices()
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
