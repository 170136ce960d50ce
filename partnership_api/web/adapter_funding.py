"""The funding and users pages' calls to the services (``adapter.py``'s rules: the pages never
touch the database nor decide access; a policy refusal goes on to the app's handler as a 403
or 404 page; any other domain error comes out as ``adapter.Refusal``).

A change made from a page names the version the form was drawn from as its If-Match, exactly
as the API's client sends the ETag it read: a change in between is a 412, never overwritten.
"""

from __future__ import annotations

import uuid
from datetime import date

from partnership_api import policy
from partnership_api.actors import Actor
from partnership_api.services import funds as funds_service
from partnership_api.services import giving_export as giving_export_service
from partnership_api.services import partnership, project_export, project_progress
from partnership_api.services import projects as projects_service
from partnership_api.services.versions import IfMatch
from partnership_api.web.adapter import _call, can, every


def _if_match(version: int) -> IfMatch:
    return IfMatch(frozenset({str(version)}))


# --- funding ------------------------------------------------------------------------------------


def projects(actor: Actor) -> list[dict]:
    return every(projects_service.list_projects, actor, {})


def project(actor: Actor, project_id: int) -> dict:
    """One project with its milestones, quarterly spend and outputs (the API's reads)."""
    item = _call(projects_service.get_project, actor, project_id)
    return {
        "project": projects_service.present_project(item),
        # The API's lists, already shown as the API answers them.
        "milestones": every(project_progress.list_milestones, actor, project_id),
        "spend": every(project_progress.list_spend_lines, actor, project_id),
        "outputs": every(project_progress.list_outputs, actor, project_id),
        "item": item,
    }


def funds(actor: Actor) -> list:
    return every(funds_service.list_funds, actor, {})


def may_progress(actor: Actor, item) -> bool:
    """Whether to offer progress forms on this project (the policy's own rule)."""
    return can(actor, "project.progress") and policy.may(actor, "project.progress", item)


def create_project(actor: Actor, data: dict):
    from partnership_api.schemas.funding import ProjectCreateSchema

    return _call(projects_service.create_project, actor, _call(ProjectCreateSchema().load, data))


def report_spend(actor: Actor, project_id: int, data: dict):
    from partnership_api.schemas.funding import SpendLineCreateSchema

    loaded = _call(SpendLineCreateSchema().load, data)
    return _call(project_progress.create_spend_line, actor, project_id, loaded)


def add_milestone(actor: Actor, project_id: int, data: dict):
    from partnership_api.schemas.funding import MilestoneCreateSchema

    loaded = _call(MilestoneCreateSchema().load, data)
    return _call(project_progress.create_milestone, actor, project_id, loaded)


def change_project(actor: Actor, project_id: int, version: int, data: dict):
    """The API's project change, If-Match being the version the form was drawn from."""
    from partnership_api.schemas.funding import ProjectUpdateSchema

    loaded = _call(ProjectUpdateSchema().load, data)
    if_match = IfMatch(frozenset({str(version)}))
    return _call(projects_service.update_project, actor, project_id, loaded, if_match)


def project_list(actor: Actor, args: dict) -> list[dict]:
    """The projects matching the list's filters (checked by the API's own query schema)."""
    from partnership_api.schemas.funding import ProjectQueryArgsSchema

    loaded = _call(ProjectQueryArgsSchema().load, args)
    return every(projects_service.list_projects, actor, loaded)


def projects_csv(actor: Actor, args: dict) -> str:
    from partnership_api.schemas.funding import ProjectQueryArgsSchema

    loaded = _call(ProjectQueryArgsSchema().load, args)
    return _call(project_export.projects_csv, actor, loaded)


def giving_export(actor: Actor) -> dict:
    """The 360Giving package, as the API's schema writes it."""
    from partnership_api.schemas.funding_reports import GrantPackageSchema

    return GrantPackageSchema().dump(_call(giving_export_service.giving_export, actor))


def may_change(actor: Actor, item) -> bool:
    """Whether the commissioner's fields (a milestone's date, an output's target) are offered."""
    return policy.can(actor, "project.change") and policy.may(actor, "project.change", item)


def milestone(actor: Actor, project_id: int, milestone_id: int) -> dict:
    found = _call(project_progress.get_milestone, actor, project_id, milestone_id)
    return project_progress.present_milestone(found)


def complete_milestone(
    actor: Actor, project_id: int, milestone_id: int, version: int, done_on: date
) -> dict:
    from partnership_api.schemas.funding import MilestoneUpdateSchema

    data = _call(MilestoneUpdateSchema().load, {"completed_on": done_on.isoformat()})
    changed = _call(
        project_progress.update_milestone,
        actor,
        project_id,
        milestone_id,
        data,
        _if_match(version),
    )
    return project_progress.present_milestone(changed)


def spend_line(actor: Actor, project_id: int, period: str) -> tuple[dict, list[dict]]:
    """A quarter's line and its history (as first reported, then each correction)."""
    line = _call(project_progress.get_spend_line, actor, project_id, period)
    history = _call(project_progress.spend_history, actor, project_id, period)
    return project_progress.present_spend_line(line), history


def correct_spend(actor: Actor, project_id: int, period: str, version: int, data: dict) -> dict:
    from partnership_api.schemas.funding import SpendLineUpdateSchema

    loaded = _call(SpendLineUpdateSchema().load, data)
    changed = _call(
        project_progress.update_spend_line, actor, project_id, period, loaded, _if_match(version)
    )
    return project_progress.present_spend_line(changed)


def output(actor: Actor, project_id: int, output_id: int) -> dict:
    found = _call(project_progress.get_output, actor, project_id, output_id)
    return project_progress.present_output(found)


def add_output(actor: Actor, project_id: int, data: dict) -> dict:
    from partnership_api.schemas.funding import OutputCreateSchema

    loaded = _call(OutputCreateSchema().load, data)
    made = _call(project_progress.create_output, actor, project_id, loaded)
    return project_progress.present_output(made)


def record_output(actor: Actor, project_id: int, output_id: int, version: int, data: dict) -> dict:
    from partnership_api.schemas.funding import OutputUpdateSchema

    loaded = _call(OutputUpdateSchema().load, data)
    changed = _call(
        project_progress.update_output, actor, project_id, output_id, loaded, _if_match(version)
    )
    return project_progress.present_output(changed)


# --- users --------------------------------------------------------------------------------------


def users(actor: Actor) -> list:
    """The users this actor manages: the API list's own rule and scope."""
    return every(partnership.list_users, actor, {})


def create_user(actor: Actor, data: dict):
    from partnership_api.schemas.partnership import UserCreateSchema

    return _call(partnership.create_user, actor, _call(UserCreateSchema().load, data))


def change_user(actor: Actor, user_id: uuid.UUID, data: dict):
    from partnership_api.schemas.partnership import UserUpdateSchema

    loaded = _call(UserUpdateSchema().load, data)
    user = _call(partnership.get_user, actor, user_id)
    return _call(partnership.update_user, actor, user, loaded)


def user_list(actor: Actor, args: dict) -> list:
    """The users this actor manages, filtered (the API's query schema, rule and scope)."""
    from partnership_api.schemas.partnership import UserQueryArgsSchema

    loaded = _call(UserQueryArgsSchema().load, args)
    return every(partnership.list_users, actor, loaded)


def user(actor: Actor, user_id: uuid.UUID):
    """One user this actor manages (404 for another organisation's, as the API)."""
    return _call(partnership.get_user, actor, user_id)
