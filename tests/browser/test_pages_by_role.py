"""Every page as every demo role: the status the policy gives, no secret in the HTML, axe
clean, no CSP violation, no other host contacted."""

from __future__ import annotations

import pytest

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
    assert tab.page.evaluate("document.activeElement.className").startswith("govuk-error-summary")
    tab.screenshot("sign-in-error")
    tab.page.context.close()


@pytest.mark.parametrize("username", ROLES)
def test_the_start_page_for_each_role(tabs, username):
    tab = tabs(username)
    visit = tab.open("/")
    assert visit.title == "Home – Partnership"
    assert username in visit.html
    if username in ("police.officer", "swa.staff", "opcc.staff"):
        tab.screenshot(f"home-{username}")
