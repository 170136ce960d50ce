"""Every page as every demo role, in Chromium: the status the policy gives, no secret in the
HTML that the API would not show this user (a refuge's address outside its organisation, a
referral's personal data outside its sender and receiver), axe clean, no CSP violation, no
other host contacted. Each page is opened once per role."""

from __future__ import annotations

import pytest

from tests import faultlib
from tests.browser.conftest import new_tab

ROLES = (
    "partnership.admin",
    "police.officer",
    "police.admin",
    "police.analyst",
    "opcc.staff",
    "opcc.analyst",
    "newera.staff",
    "newera.admin",
    "swa.staff",
    "swa.admin",
    "glow.staff",
    "pathway.staff",
)
ORGANISATION = {
    "partnership.admin": "Staffordshire Commissioner's Office",
    "police.officer": "Staffordshire Police",
    "police.admin": "Staffordshire Police",
    "police.analyst": "Staffordshire Police",
    "opcc.staff": "Staffordshire Commissioner's Office",
    "opcc.analyst": "Staffordshire Commissioner's Office",
    "newera.staff": "New Era",
    "newera.admin": "New Era",
    "swa.staff": "Staffordshire Women's Aid",
    "swa.admin": "Staffordshire Women's Aid",
    "glow.staff": "Glow",
    "pathway.staff": "Pathway",
}
# The demo refuges' secret addresses, by the organisation that runs each.
ADDRESSES = {
    "Staffordshire Women's Aid": "14 Demo Secret Row",
    "Glow": "3 Hidden Demo Lane",
    "Pathway": "27 Confidential Demo Close",
}
# Who works referrals (police and provider staff and admins), who manages users, who changes
# projects: the policy's table (shared/domain.md), written out so the pages are checked
# against it rather than against themselves.
REFERRAL_WORKERS = {
    "police.officer", "police.admin", "newera.staff", "newera.admin",
    "swa.staff", "swa.admin", "glow.staff", "pathway.staff",
}  # fmt: skip
USER_MANAGERS = {"partnership.admin", "police.admin", "newera.admin", "swa.admin"}
PROJECT_CHANGERS = {"partnership.admin", "opcc.staff"}
# The referral made below: police to Staffordshire Women's Aid's refuge.
PARTIES = {"police.officer", "police.admin", "swa.staff", "swa.admin"}
SWA_REFUGE = "Staffordshire Women's Aid refuge"
SECRET_NAME = "Imogen Zephyrine Test"
SECRET_PHONE = "07700 900461"
SECRET_TIMES = "Tuesdays 10:15-10:45 only"


@pytest.fixture(scope="module")
def world(live_server):
    """Ids of what the pages show, and one referral with personal data to look for."""
    token = faultlib.sign_in(live_server, "police.officer")["access_token"]
    status, refuges = faultlib.request("GET", live_server.url("/api/v1/refuges"), token=token)
    assert status == 200
    refuge_ids = {r["name"]: r["id"] for r in refuges.json}
    body = {
        "kind": "victim",
        "to_service_id": refuge_ids["Staffordshire Women's Aid refuge"],
        "risk_level": "high",
        "dash_score": 18,
        "marac": True,
        "subject": {"name": SECRET_NAME, "date_of_birth": "1991-05-06", "area": "E07000197"},
        "safe_contact": {"phone": SECRET_PHONE, "safe_to_call": True, "safe_times": SECRET_TIMES},
        "household": {"children": 1, "child_ages": [6]},
        "consent": {"given": True},
        "summary": "Needs a space away from Stafford tonight.",
    }
    status, made = faultlib.request(
        "POST", live_server.url("/api/v1/referrals"), json_body=body, token=token
    )
    assert status == 201, made
    status, projects = faultlib.request("GET", live_server.url("/api/v1/projects"), token=token)
    return {
        "refuges": refuge_ids,
        "referral": made.json["id"],
        "project": projects.json[0]["id"],
    }


def _pages(world) -> list[tuple[str, str, object]]:
    """(name, path, expected status for a user) for every page."""
    refuges = world["refuges"]
    referral = world["referral"]

    def everyone(_user):
        return 200

    def workers(user):
        return 200 if user in REFERRAL_WORKERS else 403

    def party(user):
        if user not in REFERRAL_WORKERS:
            return 403
        return 200 if user in PARTIES else 404

    return [
        ("home", "/", everyone),
        (
            "beds",
            "/beds?children=2&oldest_son_age=13&needs=wheelchair&exclude_area=E07000199",
            everyone,
        ),
        ("refuge-swa", f"/refuges/{refuges[SWA_REFUGE]}", everyone),
        ("refuge-glow", f"/refuges/{refuges['Glow refuge']}", everyone),
        ("refuge-pathway", f"/refuges/{refuges['Pathway refuge']}", everyone),
        ("referrals", "/referrals?tab=received", workers),
        ("referrals-sent", "/referrals?tab=sent", workers),
        ("referrals-overdue", "/referrals?tab=overdue", workers),
        ("referrals-closed", "/referrals?tab=closed", workers),
        ("referrals-by-due", "/referrals?tab=received&sort=due&order=asc", workers),
        ("beds-for-referral", f"/beds?for_referral={referral}", party),
        ("referral-new", "/referrals/new", workers),
        ("referral", f"/referrals/{referral}", party),
        ("funding", "/funding", everyone),
        ("projects", "/projects?status=in_delivery&sort=remaining", everyone),
        ("project", f"/projects/{world['project']}", everyone),
        ("project-new", "/projects/new", lambda u: 200 if u in PROJECT_CHANGERS else 403),
        ("users", "/users", lambda u: 200 if u in USER_MANAGERS else 403),
        ("not-found", "/no-such-page", lambda _u: 404),
    ]


# One screenshot of each page, as the role that uses it most.
SCREENSHOT_AS = {
    "beds": "police.officer",
    "beds-for-referral": "swa.staff",
    "refuge-swa": "swa.staff",
    "refuge-glow": "police.officer",
    "referrals": "swa.staff",
    "referral-new": "police.officer",
    "referral": "swa.staff",
    "funding": "opcc.staff",
    "projects": "opcc.analyst",
    "project": "newera.staff",
    "project-new": "opcc.staff",
    "users": "swa.admin",
    "not-found": "police.officer",
}


@pytest.mark.parametrize("username", ROLES)
def test_every_page_as_this_role(tabs, world, username):
    tab = tabs(username)
    own = ORGANISATION[username]
    for name, path, expected in _pages(world):
        want = expected(username)
        visit = tab.open(path, expect=want)
        if want == 200:
            assert visit.title.endswith(" – Partnership"), (name, visit.title)
            assert username in visit.html
        # A refuge's address only ever inside its own organisation.
        for organisation, address in ADDRESSES.items():
            if organisation != own:
                assert address not in visit.html, (username, name, address)
        # A referral's personal data only for its sender's and receiver's workers.
        if username not in PARTIES:
            for secret in (SECRET_NAME, SECRET_PHONE, SECRET_TIMES):
                assert secret not in visit.html, (username, name, secret)
        if SCREENSHOT_AS.get(name) == username:
            tab.screenshot(name)
    if username in PARTIES:
        assert SECRET_NAME in tab.open(f"/referrals/{world['referral']}").html
    if own in ADDRESSES:
        refuge = (
            f"{own} refuge"
            if own != "Staffordshire Women's Aid"
            else ("Staffordshire Women's Aid refuge")
        )
        assert ADDRESSES[own] in tab.open(f"/refuges/{world['refuges'][refuge]}").html


def test_the_sign_in_page_is_accessible_and_has_its_screenshots(browser, live_server):
    tab = new_tab(browser, live_server, "nobody", sign_in=False)
    visit = tab.open("/sign-in")
    assert visit.title == "Sign in – Partnership"
    tab.screenshot("sign-in")
    # A wrong password: the GOV.UK error summary, focused, and the name kept.
    tab.page.get_by_label("Username").fill("police.officer")
    tab.page.get_by_label("Password", exact=True).fill("not-the-password")
    tab.page.get_by_role("button", name="Sign in").click()
    visit = tab.settled(expect=None)
    assert visit.title == "Error: Sign in – Partnership"
    assert tab.page.get_by_label("Username").input_value() == "police.officer"
    focused = tab.page.evaluate("document.activeElement.className")
    assert focused.startswith("govuk-error-summary"), focused
    tab.screenshot("sign-in-error")
    tab.page.context.close()


def test_the_start_page_of_three_roles_in_screenshots(tabs):
    for username in ("police.officer", "swa.staff", "opcc.staff"):
        tab = tabs(username)
        assert tab.open("/").title == "Home – Partnership"
        tab.screenshot(f"home-{username}")
