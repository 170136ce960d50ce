"""The policy on its own, without HTTP: every rule of ``policy.py`` for every demo user.

The expectations are written out here from the table in ``shared/domain.md`` (not computed
from the policy's code), user by user, so a rule that changes, or a rule added without an
expectation, fails here.
"""

from __future__ import annotations

import ast
import inspect
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from partnership_api import policy
from partnership_api.demo import ORGANISATIONS, USERS
from partnership_api.domain_errors import Refused
from partnership_api.policy import Actor, HoldAttempt, NewUser

ORG_IDS = {name: number for number, (name, _kind, _areas) in enumerate(ORGANISATIONS, start=1)}
ORG_KINDS = {name: kind for name, kind, _areas in ORGANISATIONS}
POLICE, OPCC = ORG_IDS["Staffordshire Police"], ORG_IDS["Staffordshire Commissioner's Office"]
NEW_ERA, SWA = ORG_IDS["New Era"], ORG_IDS["Staffordshire Women's Aid"]
GLOW, PATHWAY = ORG_IDS["Glow"], ORG_IDS["Pathway"]

ACTORS = {
    username: Actor(
        user_id=uuid.uuid4(),
        username=username,
        org_id=ORG_IDS[org],
        org_kind=ORG_KINDS[org],
        org_name=org,
        role=role,
        partnership_admin=partnership_admin,
        session_id=uuid.uuid4(),
    )
    for username, org, role, partnership_admin in USERS
}
EVERYONE = frozenset(ACTORS)
ORG_ADMINS = frozenset({"partnership.admin", "police.admin", "newera.admin", "swa.admin"})
PROVIDER_WORKERS = frozenset(
    {"newera.staff", "newera.admin", "swa.staff", "swa.admin", "glow.staff", "pathway.staff"}
)
REFERRAL_WORKERS = PROVIDER_WORKERS | {"police.officer", "police.admin"}
COMMISSIONER_WORKERS = frozenset({"partnership.admin", "opcc.staff"})

# Who may use each function at all (everyone else: Refused, 403).
FUNCTIONS: dict[str, frozenset[str]] = {
    "organisation.read": EVERYONE,
    "service.read": EVERYONE,
    "refuge.read": EVERYONE,
    "availability.read": EVERYONE,
    "bed.search": EVERYONE,
    "fund.read": EVERYONE,
    "project.read": EVERYONE,
    "funding.summary": EVERYONE,
    "funding.export": EVERYONE,
    "stats.read": EVERYONE,
    "organisation.create": frozenset({"partnership.admin"}),
    "organisation.change": frozenset({"partnership.admin"}),
    "service.create": ORG_ADMINS,
    "user.manage": ORG_ADMINS,
    "audit.read": ORG_ADMINS,
    "referral.create": REFERRAL_WORKERS,
    "referral.read": REFERRAL_WORKERS,
    "referral.act": REFERRAL_WORKERS,
    "bed.hold": REFERRAL_WORKERS,
    "availability.update": PROVIDER_WORKERS,
    "fund.change": COMMISSIONER_WORKERS,
    "project.change": COMMISSIONER_WORKERS,
    "project.progress": COMMISSIONER_WORKERS | PROVIDER_WORKERS,
    "events.read": EVERYONE,
    "webhook.manage": ORG_ADMINS,
    "vacancy_alert.manage": REFERRAL_WORKERS,
    # Safe accommodation (issue 26): a stay is the refuge's; the return the commissioner's.
    "stay.read": PROVIDER_WORKERS,
    "stay.change": PROVIDER_WORKERS,
    "commissioned_spaces.read": EVERYONE,
    "commissioned_spaces.report": PROVIDER_WORKERS,
    "stats.safe_accommodation": frozenset({"partnership.admin", "opcc.staff", "opcc.analyst"}),
}

# The objects the object rules are asked about.
REFERRAL = SimpleNamespace(id=uuid.uuid4(), from_organisation_id=POLICE, to_organisation_id=GLOW)
SWA_REFUGE = SimpleNamespace(id=4, organisation_id=SWA, kind="refuge")
SWA_WORKER = SimpleNamespace(id=uuid.uuid4(), organisation_id=SWA, partnership_admin=False)
SWA_PARTNERSHIP_ADMIN = SimpleNamespace(
    id=uuid.uuid4(), organisation_id=SWA, partnership_admin=True
)
THE_PARTNERSHIP_ADMIN = SimpleNamespace(
    id=uuid.uuid4(), organisation_id=OPCC, partnership_admin=True
)
PROJECT = SimpleNamespace(id=7, lead_organisation_id=OPCC, delivery_organisation_ids=[NEW_ERA])
OWN_ORG_USER = NewUser(organisation_id=None, partnership_admin=False)
SWA_USER = NewUser(organisation_id=SWA, partnership_admin=False)
# Issue 25: the partnership admin makes only an organisation's first admin.
GLOWS_FIRST_ADMIN = NewUser(GLOW, partnership_admin=False, role="admin", first_admin=True)
SWAS_SECOND_ADMIN = NewUser(SWA, partnership_admin=False, role="admin", first_admin=False)
OPCC_WORKER = SimpleNamespace(id=uuid.uuid4(), organisation_id=OPCC, partnership_admin=False)
NEW_PARTNERSHIP_ADMIN = NewUser(organisation_id=None, partnership_admin=True)

REFERRAL_PARTIES = frozenset({"police.officer", "police.admin", "glow.staff"})

# Holds (issue 18): the police's referral goes to Glow's refuge (service 5).
GLOW_REFUGE = SimpleNamespace(id=5, organisation_id=GLOW, kind="refuge")
TO_GLOW_REFUGE = SimpleNamespace(
    id=uuid.uuid4(), from_organisation_id=POLICE, to_organisation_id=GLOW, to_service_id=5
)
STAY_AT_GLOW = SimpleNamespace(referral_id=TO_GLOW_REFUGE.id, organisation_id=GLOW, refuge_id=5)
HOLD_THERE = HoldAttempt(TO_GLOW_REFUGE, refuge_id=5, refuge_organisation_id=GLOW)
HOLD_ELSEWHERE = HoldAttempt(TO_GLOW_REFUGE, refuge_id=4, refuge_organisation_id=SWA)
HOLD_AGAIN = HoldAttempt(
    TO_GLOW_REFUGE,
    refuge_id=5,
    refuge_organisation_id=GLOW,
    earlier_hold_lasts_until=datetime(2099, 1, 1, tzinfo=UTC),
)


def outcomes(allowed: frozenset[str], forbidden: frozenset[str] = frozenset()) -> dict:
    """Each user's answer: "ok" for ``allowed``, 403 for ``forbidden``, 404 for the rest."""
    return {u: "ok" if u in allowed else 403 if u in forbidden else 404 for u in ACTORS}


def forbidden_unless(allowed: frozenset[str]) -> dict:
    return outcomes(allowed, EVERYONE - allowed)


# (rule, object) → each user's answer.
OBJECTS: dict[tuple[str, str], tuple[object, dict]] = {
    ("referral.read", "police→Glow"): (REFERRAL, outcomes(REFERRAL_PARTIES)),
    ("referral.note", "police→Glow"): (REFERRAL, outcomes(REFERRAL_PARTIES)),
    ("referral.hold", "police→Glow"): (REFERRAL, outcomes(REFERRAL_PARTIES)),
    **{
        (f"referral.{act}", "police→Glow"): (
            REFERRAL,
            outcomes(frozenset({"glow.staff"}), frozenset({"police.officer", "police.admin"})),
        )
        for act in ("accept", "decline", "redirect", "close")
    },
    ("referral.withdraw", "police→Glow"): (
        REFERRAL,
        outcomes(frozenset({"police.officer", "police.admin"}), frozenset({"glow.staff"})),
    ),
    ("service.update", "SWA refuge"): (
        SWA_REFUGE,
        forbidden_unless(frozenset({"partnership.admin", "swa.admin"})),
    ),
    ("availability.update", "SWA refuge"): (
        SWA_REFUGE,
        forbidden_unless(frozenset({"swa.staff", "swa.admin"})),
    ),
    ("user.read", "SWA worker"): (
        SWA_WORKER,
        outcomes(frozenset({"partnership.admin", "swa.admin"})),
    ),
    ("user.update", "SWA worker"): (
        SWA_WORKER,
        outcomes(frozenset({"partnership.admin", "swa.admin"})),
    ),
    ("user.update", "SWA partnership admin"): (
        SWA_PARTNERSHIP_ADMIN,
        outcomes(frozenset({"partnership.admin"}), frozenset({"swa.admin"})),
    ),
    ("user.read", "the partnership admin"): (
        THE_PARTNERSHIP_ADMIN,
        outcomes(frozenset({"partnership.admin"})),
    ),
    ("user.create", "own organisation"): (OWN_ORG_USER, outcomes(EVERYONE)),
    ("user.create", "in SWA"): (
        SWA_USER,
        forbidden_unless(frozenset({"swa.staff", "swa.admin"})),
    ),
    ("user.create", "Glow's first admin"): (
        GLOWS_FIRST_ADMIN,
        forbidden_unless(frozenset({"partnership.admin", "glow.staff"})),
    ),
    ("user.create", "a second admin of SWA"): (
        SWAS_SECOND_ADMIN,
        forbidden_unless(frozenset({"swa.staff", "swa.admin"})),
    ),
    # Issue 25: another organisation's passwords are its own admins' to reset.
    ("user.reset_password", "SWA worker"): (
        SWA_WORKER,
        outcomes(frozenset({"swa.admin"}), frozenset({"partnership.admin"})),
    ),
    ("user.reset_password", "the commissioner's office's worker"): (
        OPCC_WORKER,
        outcomes(frozenset({"partnership.admin"})),
    ),
    ("user.create", "a partnership admin"): (
        NEW_PARTNERSHIP_ADMIN,
        forbidden_unless(frozenset({"partnership.admin"})),
    ),
    # Nobody refers to their own organisation's services (Glow's only user here: glow.staff).
    ("referral.create", "Glow refuge"): (
        GLOW_REFUGE,
        outcomes(EVERYONE - {"glow.staff"}, frozenset({"glow.staff"})),
    ),
    # A hold only at the refuge the referral goes to; renewal only by that refuge.
    ("bed_hold.place", "at the referral's refuge"): (HOLD_THERE, outcomes(REFERRAL_PARTIES)),
    ("bed_hold.place", "at another refuge"): (
        HOLD_ELSEWHERE,
        outcomes(frozenset(), REFERRAL_PARTIES),
    ),
    ("bed_hold.place", "again within its lifetime"): (
        HOLD_AGAIN,
        outcomes(frozenset({"glow.staff"}), frozenset({"police.officer", "police.admin"})),
    ),
    ("refuge.holds", "SWA refuge"): (
        SWA_REFUGE,
        forbidden_unless(frozenset({"swa.staff", "swa.admin"})),
    ),
    # A stay at Glow's refuge: Glow's workers only; every other refuge's hidden from it.
    ("stay.read", "at Glow's refuge"): (STAY_AT_GLOW, outcomes(frozenset({"glow.staff"}))),
    ("stay.change", "at Glow's refuge"): (STAY_AT_GLOW, outcomes(frozenset({"glow.staff"}))),
    ("commissioned_spaces.report", "SWA refuge"): (
        SWA_REFUGE,
        forbidden_unless(frozenset({"swa.staff", "swa.admin"})),
    ),
    ("project.change", "delivered by New Era"): (
        PROJECT,
        forbidden_unless(COMMISSIONER_WORKERS),
    ),
    ("project.progress", "delivered by New Era"): (
        PROJECT,
        forbidden_unless(COMMISSIONER_WORKERS | {"newera.staff", "newera.admin"}),
    ),
}


def test_every_rule_of_the_policy_has_expectations_here():
    assert set(policy.FUNCTION_RULES) == set(FUNCTIONS)
    assert {rule for rule, _ in OBJECTS} == set(policy.OBJECT_RULES)
    # A function some user is refused says why.
    for action, allowed in FUNCTIONS.items():
        if allowed != EVERYONE:
            assert policy.FUNCTION_MESSAGES[action]


@pytest.mark.parametrize("username", sorted(ACTORS))
@pytest.mark.parametrize("action", sorted(FUNCTIONS))
def test_each_function_for_each_demo_user(action, username):
    actor = ACTORS[username]
    allowed = username in FUNCTIONS[action]
    assert policy.can(actor, action) is allowed
    if allowed:
        policy.require(actor, action)
        return
    with pytest.raises(Refused) as refused:
        policy.require(actor, action)
    assert refused.value.status == 403 and not refused.value.hidden
    assert refused.value.message == policy.FUNCTION_MESSAGES[action]
    assert refused.value.actor is actor
    record = refused.value.record
    assert (record.action, record.resource_id, record.details) == (action, None, {"status": 403})


@pytest.mark.parametrize("username", sorted(ACTORS))
@pytest.mark.parametrize("case", sorted(OBJECTS), ids=lambda case: f"{case[0]}:{case[1]}")
def test_each_object_rule_for_each_demo_user(case, username):
    action = case[0]
    item, expected = OBJECTS[case]
    actor = ACTORS[username]
    assert policy.may(actor, action, item) is (expected[username] == "ok")
    if expected[username] == "ok":
        policy.authorize(actor, action, item)
        return
    with pytest.raises(Refused) as refused:
        policy.authorize(actor, action, item)
    assert refused.value.status == expected[username]
    assert refused.value.hidden is (expected[username] == 404)
    if refused.value.hidden:
        assert refused.value.message == "Not found."  # a hidden object's answer says nothing
    assert refused.value.record.action == action
    assert refused.value.record.resource_id == getattr(item, "id", None)


def test_a_refused_referral_is_recorded_against_both_its_organisations():
    with pytest.raises(Refused) as refused:
        policy.authorize(ACTORS["swa.staff"], "referral.read", REFERRAL)
    record = refused.value.record
    assert record.resource_type == "referral"
    assert (record.subject_organisation_id, record.related_organisation_id) == (POLICE, GLOW)
    assert record.details == {"status": 404}


def test_a_refused_report_is_recorded_against_the_refuge_and_its_organisation():
    with pytest.raises(Refused) as refused:
        policy.authorize(ACTORS["glow.staff"], "availability.update", SWA_REFUGE)
    record = refused.value.record
    assert (record.resource_type, record.resource_id) == ("refuge", SWA_REFUGE.id)
    assert record.subject_organisation_id == SWA and record.details == {"status": 403}


@pytest.mark.parametrize(
    ("who", "new", "reason", "subject"),
    [
        ("newera.admin", SWA_USER, "other_organisation", SWA),
        ("newera.admin", NEW_PARTNERSHIP_ADMIN, "partnership_admin", NEW_ERA),
        ("partnership.admin", SWA_USER, "not_first_admin", SWA),
        ("partnership.admin", SWAS_SECOND_ADMIN, "not_first_admin", SWA),
    ],
)
def test_a_refused_user_creation_records_why(who, new, reason, subject):
    with pytest.raises(Refused) as refused:
        policy.authorize(ACTORS[who], "user.create", new)
    record = refused.value.record
    assert (record.action, record.resource_type, record.resource_id) == (
        "user.create",
        "user",
        None,
    )
    assert record.details == {"reason": reason}
    assert (record.subject_organisation_id, record.related_organisation_id) == (subject, None)


@pytest.mark.parametrize(
    ("part", "fields", "action"),
    [
        ("project", {"rag"}, "project.progress"),
        ("project", {"rag", "rag_commentary"}, "project.progress"),
        ("project", {"rag", "title"}, "project.change"),
        ("project", {"status"}, "project.change"),
        ("milestone", {"completed_on"}, "project.progress"),
        ("milestone", {"completed_on", "due_on"}, "project.change"),
        ("milestone", (), "project.progress"),
        ("output", {"actual"}, "project.progress"),
        ("output", {"target"}, "project.change"),
        ("spend", (), "project.progress"),
    ],
)
def test_progress_is_told_from_change_by_the_fields_changed(part, fields, action):
    assert policy.project_action(part, fields) == action


@pytest.mark.parametrize("username", sorted(ACTORS))
def test_each_user_sees_a_services_address_only_in_its_own_organisation(username):
    actor = ACTORS[username]
    assert policy.sees_address(actor, SWA_REFUGE) is (actor.org_id == SWA)
    helpline = SimpleNamespace(kind="helpline", organisation_id=SWA)
    assert policy.sees_address(actor, helpline) is (actor.org_id == SWA)
    assert not policy.sees_address(None, SWA_REFUGE)


@pytest.mark.parametrize("username", sorted(ACTORS))
def test_each_user_sees_a_person_only_in_its_own_organisation(username):
    actor = ACTORS[username]
    assert policy.sees_person(actor, actor.org_id)
    assert policy.sees_person(actor, POLICE) is (actor.org_id == POLICE or actor.partnership_admin)
    assert policy.sees_person(actor, None)  # a sign-in attempt about their organisation's user


def _where(stmt: sa.Select) -> str:
    compiled = stmt.compile(compile_kwargs={"literal_binds": True})
    return str(compiled).partition("WHERE")[2]


@pytest.mark.parametrize("username", sorted(ACTORS))
def test_each_users_list_scopes_follow_the_single_reads(username):
    from partnership_api.models.audit import AuditEvent
    from partnership_api.models.partnership import User
    from partnership_api.models.referrals import Referral

    actor = ACTORS[username]
    org = actor.org_id
    sides = policy.referral_scope_sides(actor)
    if username in REFERRAL_WORKERS:
        assert _where(sa.select(Referral.id).where(sides["received"])).strip() == (
            f"referrals.to_organisation_id = {org}"
        )
        assert _where(sa.select(Referral.id).where(sides["sent"])).strip() == (
            f"referrals.from_organisation_id = {org}"
        )
    else:
        assert sides == {}

    users = _where(policy.scope_users(actor, sa.select(User.id)))
    events = _where(policy.scope_audit_events(actor, sa.select(AuditEvent.id)))
    if actor.partnership_admin:
        assert users == events == ""
    elif username in ORG_ADMINS:
        assert users.strip() == f"users.organisation_id = {org}"
        assert events.count(f"= {org}") == 3
    else:
        assert "false" in users.lower() or "0 = 1" in users
        assert "false" in events.lower() or "0 = 1" in events

    counted = _where(policy.scope_referral_statistics(actor, sa.select(Referral.id)))
    if actor.is_commissioner:
        assert counted == ""
    else:
        assert f"referrals.from_organisation_id = {org}" in counted
        assert f"referrals.to_organisation_id = {org}" in counted


def test_actors_with_one_referral_scope_key_have_one_scope():
    """Statements built from the scope are reused by key: equal keys must mean equal scopes."""
    from partnership_api.models.referrals import Referral

    def scope(actor: Actor) -> dict[str, str]:
        sides = policy.referral_scope_sides(actor)
        return {name: _where(sa.select(Referral.id).where(side)) for name, side in sides.items()}

    for a in ACTORS.values():
        for b in ACTORS.values():
            if policy.referral_scope_key(a) == policy.referral_scope_key(b):
                assert scope(a) == scope(b), (a.username, b.username)
    officer, admin = ACTORS["police.officer"], ACTORS["police.admin"]
    assert policy.referral_scope_key(officer) == policy.referral_scope_key(admin)
    assert policy.referral_scope_key(officer) != policy.referral_scope_key(ACTORS["glow.staff"])


def test_the_policy_only_decides():
    """No web framework, no database session, no audit trail: it answers and raises."""
    tree = ast.parse(inspect.getsource(policy))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
    for name in imported:
        assert not name.startswith(("flask", "werkzeug")), name
        assert name not in ("partnership_api.extensions", "partnership_api.audit"), name
        assert "transactions" not in name and "direct" not in name, name
