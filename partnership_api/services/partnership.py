"""Setting up the partnership: organisations, services, users."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask_smorest import abort

from partnership_api import audit, auth, policy
from partnership_api.domain_errors import Conflict
from partnership_api.extensions import db
from partnership_api.models.partnership import Organisation, Service, User
from partnership_api.policy import Actor
from partnership_api.services import signin


def create_organisation(actor: Actor, data: dict) -> Organisation:
    policy.require(actor, "organisation.create")
    if db.session.scalar(sa.select(Organisation.id).where(Organisation.name == data["name"])):
        abort(
            409,
            message="An organisation with that name exists.",
            errors={"json": {"name": ["Already taken."]}},
        )
    org = Organisation(**data)
    db.session.add(org)
    db.session.flush()
    audit.record("organisation.create", "organisation", org.id, subject_organisation_id=org.id)
    db.session.commit()
    return org


def update_organisation(actor: Actor, org_id: int, data: dict) -> Organisation:
    """Change an organisation's name, areas or registered numbers (the partnership admin)."""
    policy.require(actor, "organisation.change")
    org = get_organisation(org_id)
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


def get_organisation(org_id: int) -> Organisation:
    org = db.session.get(Organisation, org_id)
    if org is None:
        abort(404, message="Not found.")
    return org


def get_service(service_id: int) -> Service:
    service = db.session.get(Service, service_id)
    if service is None:
        abort(404, message="Not found.")
    return service


def create_service(actor: Actor, data: dict) -> Service:
    policy.require(actor, "service.create")
    org = db.session.get(Organisation, data["organisation_id"])
    if org is None:
        abort(
            422,
            message="No such organisation.",
            errors={"json": {"organisation_id": ["No such organisation."]}},
        )
    candidate = Service(organisation_id=org.id, kind=data["kind"])
    policy.authorize(actor, "service.update", candidate)
    service = Service(**data)
    db.session.add(service)
    db.session.flush()
    audit.record("service.create", "service", service.id, subject_organisation_id=org.id)
    db.session.commit()
    return service


def update_service(actor: Actor, service: Service, data: dict) -> Service:
    policy.authorize(actor, "service.update", service)
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


def get_user(actor: Actor, user_id: uuid.UUID) -> User:
    policy.require(actor, "user.manage")
    user = db.session.get(User, user_id)
    if user is None:
        abort(404, message="Not found.")
    policy.authorize(actor, "user.read", user)
    return user


def create_user(actor: Actor, data: dict) -> User:
    policy.require(actor, "user.manage")
    org_id = data.pop("organisation_id", None)
    make_partnership_admin = data.pop("partnership_admin", None)
    if not actor.partnership_admin:
        if org_id not in (None, actor.org_id):
            audit.record_refusal(
                "user.create",
                "user",
                None,
                actor=actor,
                details={"reason": "other_organisation"},
                subject_organisation_id=org_id,
            )
            abort(403, message="You can only create users in your own organisation.")
        if make_partnership_admin:
            audit.record_refusal(
                "user.create",
                "user",
                None,
                actor=actor,
                details={"reason": "partnership_admin"},
                subject_organisation_id=actor.org_id,
            )
            abort(403, message="Only the partnership admin can make a partnership admin.")
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
        abort(
            422,
            message="No such organisation.",
            errors={"json": {"organisation_id": ["No such organisation."]}},
        )
    if username_taken(data["username"]):
        abort(
            409,
            message="That username is taken.",
            errors={"json": {"username": ["Already taken."]}},
        )
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


def username_taken(username: str) -> bool:
    return db.session.scalar(sa.select(User.id).where(User.username == username)) is not None


def organisation_named(name: str) -> Organisation | None:
    return db.session.scalar(sa.select(Organisation).where(Organisation.name == name))


def update_user(actor: Actor, user: User, data: dict) -> User:
    policy.authorize(actor, "user.update", user)
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
        details={"fields": changed},
    )
    db.session.commit()
    return user
