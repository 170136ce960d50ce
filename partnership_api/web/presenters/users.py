"""The users list and a user's page."""

from __future__ import annotations

from partnership_api.web.presenters.common import Actor, dataclass, on_day

ROLE_WORDS = {"staff": "Staff", "analyst": "Analyst", "admin": "Admin"}


def role_words(user) -> str:
    words = ROLE_WORDS.get(user.role, user.role.capitalize())
    return words + (", partnership admin" if user.partnership_admin else "")


def _status(user) -> dict:
    if user.active:
        return {"text": "Active", "colour": "green"}
    return {"text": "Deactivated", "colour": "grey"}


def _last_sign_in(user) -> str:
    return on_day(user.last_login_at) if user.last_login_at else "Never signed in"


def manageable(actor: Actor, user) -> bool:
    """Whether to offer changes: never one's own account here, and only the partnership admin
    manages a partnership admin (the policy's rule; the service still decides)."""
    return user.id != actor.user_id and (actor.partnership_admin or not user.partnership_admin)


def users_page(actor: Actor, users: list, names: dict) -> list[dict]:
    """One row per user, linking to the user's page, where the changes are."""
    return [
        {
            "id": user.id,
            "href": f"/users/{user.id}",
            "username": user.username,
            "full_name": user.full_name or "Not given",
            "organisation": names.get(user.organisation_id, ""),
            "role": role_words(user),
            "active": user.active,
            "status": _status(user),
            "last_sign_in": _last_sign_in(user),
        }
        for user in users
    ]


@dataclass
class UserPage:
    id: object
    username: str
    rows: list[dict]
    active: bool
    manageable: bool
    role: str


def user_page(actor: Actor, user, names: dict) -> UserPage:
    pairs = [
        ("Username", user.username),
        ("Name", user.full_name or "Not given"),
        ("Organisation", names.get(user.organisation_id, "")),
        ("Role", role_words(user)),
        ("Status", _status(user)["text"]),
        ("Last sign-in", _last_sign_in(user)),
        ("Email for notices", user.email or "Not given"),
        ("Created", on_day(user.created_at)),
    ]
    return UserPage(
        id=user.id,
        username=user.username,
        rows=[{"key": {"text": k}, "value": {"text": v}} for k, v in pairs],
        active=user.active,
        manageable=manageable(actor, user),
        role=user.role,
    )


USER_CHANGES = {
    "role": "role changed",
    "deactivate": "deactivated, signed out everywhere",
    "activate": "reactivated",
    "password": "password reset, signed out everywhere",
}
