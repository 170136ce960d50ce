"""The three journeys of issue 14, played end to end in Chromium as the people who do them.

Every page on the way is checked as in ``conftest.Tab.settled``: axe clean, no CSP
violation, no script error, no other host.
"""

from __future__ import annotations

import re
from datetime import date

from partnership_api.web.presenters import quarter_words
from tests.browser.conftest import DESKTOP, PHONE, new_tab
from tests.faultlib import DEMO_PASSWORD


def _keyboard_sign_in(tab, username: str) -> None:
    """Sign in with the keyboard alone: Tab to each field, Enter to send."""
    tab.open("/sign-in")
    page = tab.page
    page.keyboard.press("Tab")  # the skip link
    page.get_by_label("Username").focus()
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/sign-in" not in url)
    tab.settled()


def _officer_refers_from_the_bed_board(officer, *, width: str) -> str:
    """The officer's task, from her Home page, without typing an address: search for a space
    for a woman with two children (a son of 13) away from Stafford, refer and hold from the
    result, check her answers, send. Answers the referral's reference."""
    page = officer.page
    desktop = width == "1280"
    if not desktop:
        page.set_viewport_size(PHONE)
    officer.open("/")
    if width == "360":
        page.get_by_role("button", name="Menu").click()
    page.get_by_role("link", name="Find a bed space").first.click()
    officer.settled()
    # At 1280 px: two children, a son of 13, away from Stafford; at 360 px (another night,
    # the same session's spaces partly taken): one daughter, anywhere.
    page.get_by_label("Number of children coming with her").fill("2" if desktop else "1")
    if desktop:
        page.get_by_label("Age of her oldest son").fill("13")
        page.get_by_role("group", name=re.compile("Areas she must not go to")).get_by_label(
            "Stafford", exact=True
        ).check()
    page.get_by_role("button", name="Search").click()
    visit = officer.settled()
    assert "Refer and hold a family space" in visit.html
    # At 360 px the results come first: the first result's button is on the first screen.
    refer = page.get_by_role("button", name=re.compile("Refer and hold a family space at"))
    if width == "360":
        assert refer.first.bounding_box()["y"] < 2000
        assert not page.locator("details.govuk-details").first.evaluate("d => d.open")
    officer.screenshot(f"journey-officer-results-{width}")
    refer.first.click()
    visit = officer.settled()
    # Her household came with her from the search.
    assert page.get_by_label("Number of children").input_value() == ("2" if desktop else "1")
    assert page.get_by_label("Ages of her sons").input_value() == ("13" if desktop else "")
    assert "will be held for her when you send this referral" in visit.html
    page.get_by_label("Ages of her daughters").fill("4")
    page.get_by_label("Full name").fill("Journey Victim Example")
    page.get_by_label("Area they live in").select_option(label="Stafford")
    page.get_by_role("radio", name="High").check()
    page.get_by_label("DASH score").fill("16")
    page.get_by_label("Referred to MARAC").check()
    page.get_by_label("Safe phone number").fill("07700 900777")
    page.get_by_label("Safe times to call").fill("weekdays 10:00-12:00")
    page.get_by_role("radio", name="Yes").check()
    page.get_by_label("What happened and what is needed").fill(
        "Left home tonight with her two children; needs a family space away from Stafford."
    )
    page.get_by_role("button", name="Continue").click()
    visit = officer.settled()
    assert visit.title == "Check your answers before sending the referral – Partnership"
    assert "Journey Victim Example" in visit.html and "Space to hold" in visit.html
    officer.screenshot(f"journey-officer-check-answers-{width}")
    page.get_by_role("button", name="Send referral").click()
    page.wait_for_url(re.compile(r"/referrals/[0-9a-f-]{36}/sent$"))
    visit = officer.settled()
    assert "Referral sent" in visit.html and "What happens next" in visit.html
    assert re.search(r"A family space is held for her at .+ until", visit.html)
    officer.screenshot(f"journey-officer-sent-{width}")
    page.set_viewport_size(DESKTOP)
    return re.search(r"REF-\d{4}-[0-9A-Z]{8}", visit.html).group(0)


def test_an_officer_refers_and_holds_from_the_bed_board_and_the_refuge_admits_her(
    browser, live_server
):
    officer = new_tab(browser, live_server, "police.officer", sign_in=False)
    _keyboard_sign_in(officer, "police.officer")
    reference = _officer_refers_from_the_bed_board(officer, width="1280")

    # The refuge worker: her Home, her refuge's spaces (the hold on them listed), the
    # referral from the hold, accepted: the held space becomes the family's.
    worker = new_tab(browser, live_server, "glow.staff")
    wpage = worker.page
    worker.open("/")
    wpage.get_by_role("link", name=re.compile("Glow refuge: bed spaces")).click()
    visit = worker.settled()
    holds = wpage.locator("#holds + table")
    assert reference in holds.inner_text()
    assert "Staffordshire Police" in holds.inner_text()
    assert "2 children (son aged 13)" in holds.inner_text()
    wpage.get_by_label("Single spaces vacant").fill("1")
    wpage.get_by_role("button", name="Save spaces").click()
    visit = worker.settled()
    assert "Bed spaces saved" in visit.html and reference in visit.html
    worker.screenshot("journey-refuge-holds")
    wpage.locator("#holds + table").get_by_role("link", name=reference, exact=True).click()
    visit = worker.settled()
    assert "Journey Victim Example" in visit.html
    wpage.get_by_role("button", name="Accept referral").click()
    visit = worker.settled()
    assert "Referral accepted." in visit.html
    assert "Admitted to the held space" in visit.html
    worker.screenshot("journey-referral-accepted")
    wpage.context.close()

    # Back on the officer's Home: the refuge's answer, without her looking for it.
    opage = officer.page
    opage.get_by_role("link", name="Go to your Home page").click()
    visit = officer.settled()
    main = opage.locator("main").inner_text()
    assert reference in main and "Accepted" in main
    officer.screenshot("journey-officer-home-accepted")
    opage.context.close()


def test_an_officer_refers_and_holds_at_360_px(browser, live_server):
    officer = new_tab(browser, live_server, "police.officer")
    _officer_refers_from_the_bed_board(officer, width="360")
    officer.page.context.close()


def test_a_refuge_workers_conflicting_edit_is_shown_not_saved(browser, live_server):
    first = new_tab(browser, live_server, "glow.staff")
    second = new_tab(browser, live_server, "glow.staff")
    for tab in (first, second):
        tab.open("/")
        tab.page.get_by_role("link", name=re.compile("Glow refuge: bed spaces")).click()
        tab.settled()
    first.page.get_by_label("Family spaces vacant").fill("0")
    first.page.get_by_role("button", name="Save spaces").click()
    first.settled()
    second.page.get_by_label("Family spaces vacant").fill("2")
    second.page.get_by_role("button", name="Save spaces").click()
    visit = second.settled(expect=None)
    assert "Someone else changed these spaces" in visit.html
    assert "glow.staff saved" in visit.html and "was not saved" in visit.html
    assert visit.title.startswith("Error: ")
    second.screenshot("refuge-conflict")
    assert second.page.get_by_label("Family spaces vacant").input_value() == "0"
    first.page.context.close()
    second.page.context.close()


def _quarter(step: int) -> str:
    """The quarter ``step`` quarters from this one, like 2026-Q3."""
    today = date.today()
    index = today.year * 4 + (today.month - 1) // 3 + step
    return f"{index // 4}-Q{index % 4 + 1}"


def _total_spent(tab) -> str:
    tab.open("/funding")
    row = tab.page.locator("tr", has_text="All funds")
    return row.locator("td").nth(2).inner_text().strip()


def test_the_commissioner_adds_a_project_a_partner_reports_spend_the_dashboard_shows_it(
    browser, live_server
):
    opcc = new_tab(browser, live_server, "opcc.staff")
    before = _total_spent(opcc)
    opcc.page.get_by_role("link", name="Add a project").click()
    opcc.settled()
    page = opcc.page
    page.get_by_label("Fund").select_option(index=1)
    page.get_by_label("Title").fill("Journey lighting in Cannock")
    page.get_by_label("Category").select_option(label="Street lighting")
    page.get_by_label("Lead organisation").select_option(
        label="Staffordshire Commissioner's Office"
    )
    page.get_by_label("New Era").check()
    page.get_by_label("Cannock Chase").check()
    page.get_by_label("Amount awarded, in pounds").fill("80,000")
    awarded = page.get_by_role("group", name="Awarded on")
    awarded.get_by_label("Day").fill("2")
    awarded.get_by_label("Month").fill("4")
    awarded.get_by_label("Year").fill("2026")
    page.get_by_role("button", name="Add project").click()
    page.wait_for_url(re.compile(r"/projects/\d+$"))
    visit = opcc.settled()
    assert "Journey lighting in Cannock" in visit.html and "£80,000" in visit.html
    project_path = page.url.removeprefix(live_server.base_url)

    partner = new_tab(browser, live_server, "newera.staff")
    partner.open(project_path)
    ppage = partner.page
    # An actual for a quarter not over yet is refused, and the form says why.
    ppage.get_by_label("Quarter", exact=True).select_option(_quarter(+1))
    ppage.get_by_label("Spent in the quarter, in pounds").fill("12,345.67")
    ppage.get_by_role("button", name="Report spend").click()
    visit = partner.settled(expect=None)
    assert visit.title.startswith("Error: ")
    assert "has not ended" in ppage.locator(".govuk-error-summary").inner_text()
    ended = _quarter(-1)
    ppage.get_by_label("Quarter", exact=True).select_option(ended)
    ppage.get_by_label("Spent in the quarter, in pounds").fill("12,345.67")
    ppage.get_by_role("button", name="Report spend").click()
    visit = partner.settled()
    assert f"Spend for {quarter_words(ended)} reported." in visit.html
    assert "£12,345.67" in visit.html
    partner.screenshot("journey-spend-reported")
    ppage.context.close()

    after = _total_spent(opcc)

    def pence(text: str) -> int:
        pounds, _, pennies = text.replace("£", "").replace(",", "").partition(".")
        return int(pounds) * 100 + int(pennies or 0)

    assert pence(after) - pence(before) == 1234567
    opcc.screenshot("journey-dashboard")
    page.context.close()
