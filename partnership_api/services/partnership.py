"""Setting up the partnership: organisations, services, users."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from partnership_api import audit, auth, events, policy
from partnership_api.database import db
from partnership_api.domain_errors import Conflict, Invalid, NotFound
from partnership_api.models.partnership import Organisation, Service, ServiceArea, User
from partnership_api.pagination import Page, PageRequest, page_of
from partnership_api.policy import Actor
from partnership_api.services import signin, usernames, versions


def create_organisation(actor: Actor, data: dict) -> Organisation:
    policy.require(actor, "organisation.create")
    if db.session.scalar(sa.select(Organisation.id).where(Organisation.name == data["name"])):
        raise Conflict.on("name", "An organisation with that name exists.", "Already taken.")
    org = Organisation(**data)
    db.session.add(org)
    db.session.flush()
    audit.record("organisation.create", "organisation", org.id, subject_organisation_id=org.id)
    db.session.commit()
    return org


def update_organisation(actor: Actor, org_id: int, data: dict) -> Organisation:
    """Change an organisation's name, areas or registered numbers (the partnership admin)."""
    policy.require(actor, "organisation.change")
    org = get_organisation(actor, org_id)
    if "name" in data and data["name"] != org.name:
        taken = db.session.scalar(
            sa.select(Organisation.id).where(
                Organisation.name == data["name"], Organisation.id != org.id
            )
        )
        if taken:
            raise Conflict.on("name", "An organisation with that name exists.", "Already taken.")
    for key, value in data.items():
        setattr(org, key, value)
    db.session.flush()
    audit.record(
        "organisation.update",
        "organisation",
        org.id,
        subject_organisation_id=org.id,
        details={"fields": sorted(data)},
    )
    db.session.commit()
    return org


def list_organisations(actor: Actor, page: PageRequest) -> Page:
    """The partnership's organisations, in the order they joined."""
    policy.require(actor, "organisation.read")
    return page_of(sa.select(Organisation).order_by(Organisation.id), page)


def get_organisation(actor: Actor, org_id: int) -> Organisation:
    policy.require(actor, "organisation.read")
    org = db.session.get(Organisation, org_id)
    if org is None:
        raise NotFound()
    return org


def list_services(actor: Actor, args: dict, page: PageRequest) -> Page:
    """Services, by kind, organisation and area."""
    policy.require(actor, "service.read")
    stmt = sa.select(Service).order_by(Service.id)
    if "kind" in args:
        stmt = stmt.where(Service.kind == args["kind"])
    if "organisation_id" in args:
        stmt = stmt.where(Service.organisation_id == args["organisation_id"])
    if "area" in args:
        stmt = stmt.where(
            Service.id.in_(
                sa.select(ServiceArea.service_id).where(ServiceArea.gss_code == args["area"])
            )
        )
    return page_of(stmt, page)


def get_service(actor: Actor, service_id: int) -> Service:
    policy.require(actor, "service.read")
    service = db.session.get(Service, service_id)
    if service is None:
        raise NotFound()
    return service


def create_service(actor: Actor, data: dict) -> Service:
    policy.require(actor, "service.create")
    org = db.session.get(Organisation, data["organisation_id"])
    if org is None:
        raise Invalid.on("organisation_id", "No such organisation.")
    candidate = Service(organisation_id=org.id, kind=data["kind"])
    policy.authorize(actor, "service.update", candidate)
    service = Service(**data)
    db.session.add(service)
    db.session.flush()
    audit.record("service.create", "service", service.id, subject_organisation_id=org.id)
    db.session.commit()
    return service


def update_service(actor: Actor, service: Service, data: dict, if_match) -> Service:
    """Change a service from the version its writer read (If-Match). ``facilities`` is merged
    field by field: sending one field never wipes the others (a refuge silently dropped from
    filtered bed searches)."""
    policy.authorize(actor, "service.update", service)
    versions.claim(Service, service, if_match)
    if "facilities" in data:
        data["facilities"] = {**(service.facilities or {}), **data["facilities"]}
    for key, value in data.items():
        setattr(service, key, value)
    audit.record(
        "service.update",
        "service",
        service.id,
        subject_organisation_id=service.organisation_id,
        details={"fields": sorted(data)},
    )
    db.session.commit()
    return service


def list_users(actor: Actor, args: dict, page: PageRequest) -> Page:
    """Users of the actor's organisation (of every one, for the partnership admin)."""
    policy.require(actor, "user.manage")
    stmt = policy.scope_users(actor, sa.select(User).order_by(User.username))
    for key in ("organisation_id", "role", "active"):
        if key in args:
            stmt = stmt.where(getattr(User, key) == args[key])
    if args.get("search"):
        words = args["search"].strip().lower()
        stmt = stmt.where(
            sa.or_(
                sa.func.lower(User.username).contains(words, autoescape=True),
                sa.func.lower(User.full_name).contains(words, autoescape=True),
            )
        )
    return page_of(stmt, page)


def get_user(actor: Actor, user_id: uuid.UUID) -> User:
    policy.require(actor, "user.manage")
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound()
    policy.authorize(actor, "user.read", user)
    return user


def create_user(actor: Actor, data: dict) -> User:
    policy.require(actor, "user.manage")
    org_id = data.pop("organisation_id", None)
    make_partnership_admin = data.pop("partnership_admin", None)
    target = org_id or actor.org_id
    first_admin = not db.session.scalar(
        sa.select(sa.func.count())
        .select_from(User)
        .where(User.organisation_id == target, User.role == "admin", User.active.is_(True))
    )
    new = policy.NewUser(org_id, bool(make_partnership_admin), data["role"], first_admin)
    policy.authorize(actor, "user.create", new)
    return _add_user(
        data,
        org_id or actor.org_id,
        bool(make_partnership_admin),
        audit_details={"partnership_admin": bool(make_partnership_admin)},
    )


def create_user_by_operator(
    username: str, organisation_id: int, role: str, partnership_admin: bool, password: str
) -> User:
    """A user made by an operator at the server's console (``flask create-user``): no signed-in
    actor, so no policy; audited as made by ``cli``."""
    data = {"username": username, "role": role, "password": password}
    return _add_user(
        data, organisation_id, partnership_admin, audit_details={"via": "cli"}, username="cli"
    )


def _add_user(
    data: dict,
    org_id: int,
    partnership_admin: bool,
    *,
    audit_details: dict,
    username: str | None = None,
) -> User:
    """Check the organisation and the name, store the password's hash, audit, commit."""
    if db.session.get(Organisation, org_id) is None:
        raise Invalid.on("organisation_id", "No such organisation.")
    if usernames.unusable(data["username"]):
        # Generic: the answer must not tell an organisation's admin which names other
        # organisations use. The attempt is on the audit trail.
        audit.record_refusal(
            "user.create",
            "user",
            None,
            username=username,
            details={"reason": "username_unavailable"},
            subject_organisation_id=org_id,
        )
        raise Invalid.on("username", "Choose another username.", "This username cannot be used.")
    password = data.pop("password")
    user = User(
        **data,
        organisation_id=org_id,
        partnership_admin=partnership_admin,
        password_hash=auth.hash_password(password),
    )
    db.session.add(user)
    db.session.flush()
    audit.record(
        "user.create",
        "user",
        user.id,
        username=username,
        subject_organisation_id=org_id,
        details={"role": user.role, **audit_details},
    )
    db.session.commit()
    return user


def _keeps_an_admin(user: User, data: dict) -> None:
    """409 when the change would leave the user's organisation with no active admin (its last
    admin demoting or deactivating themselves, or being demoted): nobody could then manage
    its users but the partnership admin.

    The organisation's active admin rows are locked before they are counted (``FOR UPDATE``
    on PostgreSQL), so two admins demoting each other at once cannot both see the other still
    an admin: the second waits for the first's commit, then finds itself the last."""
    stays_admin = data.get("role", user.role) == "admin" and data.get("active", user.active)
    if stays_admin or not (user.role == "admin" and user.active):
        return
    admins = db.session.scalars(
        sa.select(User.id)
        .where(
            User.organisation_id == user.organisation_id,
            User.role == "admin",
            User.active.is_(True),
        )
        .order_by(User.id)
        .with_for_update()
    ).all()
    if not [admin for admin in admins if admin != user.id]:
        raise Conflict(
            "This is the organisation's last active admin: make another admin first.",
            fields={"role": ["The organisation needs an active admin."]},
        )


def username_taken(username: str) -> bool:
    """The name breaks the rule, is taken, or looks like a taken one (``services.usernames``)."""
    return usernames.unusable(username)


def organisation_named(name: str) -> Organisation | None:
    return db.session.scalar(sa.select(Organisation).where(Organisation.name == name))


def update_user(actor: Actor, user: User, data: dict) -> User:
    policy.authorize(actor, "user.update", user)
    if "password" in data and not policy.may(actor, "user.reset_password", user):
        # The organisation's admins hear of the attempt, whatever follows (issue 25).
        events.emit(
            "user.password_reset_refused",
            [user.organisation_id],
            organisation_id=user.organisation_id,
            user_id=user.id,
        )
        db.session.commit()
        policy.authorize(actor, "user.reset_password", user)  # refused: 403, audited
    reason = data.pop("reason", None)
    _keeps_an_admin(user, data)
    changed = sorted(key for key in data if key != "password")
    if "password" in data:
        user.password_hash = auth.hash_password(data.pop("password"))
        signin.clear_lock(user.username)
        auth.revoke_user_sessions(user.id, "password_reset")
        changed.append("password")
    for key, value in data.items():
        setattr(user, key, value)
    if data.get("active") is False:
        auth.revoke_user_sessions(user.id, "deactivated")
    audit.record(
        "user.update",
        "user",
        user.id,
        subject_organisation_id=user.organisation_id,
        details={"fields": changed, **({"reason": reason} if reason else {})},
    )
    db.session.commit()
    return user
