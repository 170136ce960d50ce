"""The rules issue 18 added to the policy, on their own: no HTTP, no database.

Each rule is asked directly, as the actors of the demo partnership, about objects written out
here: a referral from the police to SWA's refuge, SWA's refuge, a hold attempt.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from partnership_api import policy
from partnership_api.policy import Actor, HoldAttempt

POLICE, OPCC, NEW_ERA, SWA, GLOW, PATHWAY = 1, 2, 3, 4, 5, 6
KINDS = {
    POLICE: "police",
    OPCC: "commissioner",
    NEW_ERA: "provider",
    SWA: "provider",
    GLOW: "provider",
    PATHWAY: "provider",
}
SWA_REFUGE, GLOW_REFUGE, NEW_ERA_SUPPORT = 40, 50, 30


def actor(org: int, role: str = "staff", partnership_admin: bool = False) -> Actor:
    return Actor(
        user_id=uuid.uuid4(),
        username=f"{org}.{role}",
        org_id=org,
        org_kind=KINDS[org],
        org_name=str(org),
        role=role,
        partnership_admin=partnership_admin,
        session_id=uuid.uuid4(),
    )


def decision(action: str, who: Actor, item) -> int:
    """200 when the rule allows, else the status of its refusal (403, or 404: hidden)."""
    try:
        policy.OBJECT_RULES[action](who, item)
    except policy.Refused as refused:
        return refused.status
    return 200


REFERRAL = SimpleNamespace(
    id=uuid.uuid4(),
    from_organisation_id=POLICE,
    to_organisation_id=SWA,
    to_service_id=SWA_REFUGE,
)
SWA_REFUGE_SERVICE = SimpleNamespace(id=SWA_REFUGE, organisation_id=SWA, kind="refuge")
GLOW_REFUGE_SERVICE = SimpleNamespace(id=GLOW_REFUGE, organisation_id=GLOW, kind="refuge")
LATER = datetime(2099, 1, 1, tzinfo=UTC)


def attempt(refuge_id=SWA_REFUGE, refuge_org=SWA, earlier=None) -> HoldAttempt:
    return HoldAttempt(
        referral=REFERRAL,
        refuge_id=refuge_id,
        refuge_organisation_id=refuge_org,
        earlier_hold_lasts_until=earlier,
    )


@pytest.mark.parametrize(
    ("who", "service", "expected"),
    [
        (actor(GLOW), GLOW_REFUGE_SERVICE, 403),  # a provider to its own refuge
        (actor(GLOW, "admin"), GLOW_REFUGE_SERVICE, 403),
        (actor(GLOW), SWA_REFUGE_SERVICE, 200),  # onward, to a partner
        (actor(POLICE), GLOW_REFUGE_SERVICE, 200),
        (actor(NEW_ERA), SimpleNamespace(organisation_id=NEW_ERA, kind="victim_support"), 403),
    ],
)
def test_nobody_refers_to_their_own_organisations_services(who, service, expected):
    assert decision("referral.create", who, service) == expected


@pytest.mark.parametrize(
    ("who", "hold", "expected"),
    [
        (actor(POLICE), attempt(), 200),  # the sender, at the refuge it referred to
        (actor(SWA), attempt(), 200),  # the refuge's own staff, for a referral it received
        (actor(POLICE), attempt(GLOW_REFUGE, GLOW), 403),  # another refuge
        (actor(SWA), attempt(GLOW_REFUGE, GLOW), 403),
        (actor(GLOW), attempt(GLOW_REFUGE, GLOW), 404),  # not a party: the referral is hidden
        (actor(GLOW), attempt(), 404),
        (actor(POLICE, "analyst"), attempt(), 404),
        (actor(POLICE), attempt(earlier=LATER), 403),  # renewing by release and hold again
        (actor(SWA), attempt(earlier=LATER), 200),  # ... only with the refuge
    ],
)
def test_a_hold_is_placed_only_where_the_referral_goes(who, hold, expected):
    assert decision("bed_hold.place", who, hold) == expected


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        (actor(SWA), 200),
        (actor(SWA, "admin"), 200),
        (actor(SWA, "analyst"), 403),
        (actor(GLOW), 403),
        (actor(POLICE), 403),
        (actor(OPCC, "admin", partnership_admin=True), 403),
    ],
)
def test_only_the_refuges_own_staff_see_and_release_its_holds(who, expected):
    assert decision("refuge.holds", who, SWA_REFUGE_SERVICE) == expected


def test_a_person_is_shown_only_within_their_own_organisation():
    assert policy.sees_person(actor(SWA, "admin"), SWA)
    assert not policy.sees_person(actor(SWA, "admin"), POLICE)
    assert policy.sees_person(actor(SWA, "admin"), None)  # a sign-in attempt about SWA's user
    assert policy.sees_person(actor(OPCC, "admin", partnership_admin=True), POLICE)


def test_an_address_is_shown_only_to_the_services_own_organisation():
    helpline = SimpleNamespace(organisation_id=NEW_ERA, kind="helpline")
    assert policy.sees_address(actor(NEW_ERA), helpline)
    assert not policy.sees_address(actor(POLICE), helpline)
    assert not policy.sees_address(actor(POLICE), SWA_REFUGE_SERVICE)
    assert not policy.sees_address(None, helpline)
