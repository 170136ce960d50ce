"""Issue 24's funding and users journeys, end to end in Chromium, without typing an address
after Home: every page checked as ``conftest.Tab.settled`` checks it (axe clean, no CSP
violation, no script error, no other host) and photographed at 1280 and 360 px (nothing
scrolling sideways at 360 px)."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from tests.browser.conftest import new_tab

EDUCATION = "Education campaign: healthy relationships"
QUARTER_WORDS = re.compile(r"Q[1-4] \d{4}-\d\d \(\w+ to \w+ \d{4}\)")


def _downloaded(page, link) -> str:
    with page.expect_download() as info:
        link.click()
    return Path(info.value.path()).read_text(encoding="utf-8")


def test_the_commissioners_staff_keep_a_project_up_to_date(browser, live_server):
    tab = new_tab(browser, live_server, "opcc.staff")  # signed in: Home
    page = tab.page
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Funding").click()
    tab.settled()
    page.get_by_role("link", name="See every project").click()
    visit = tab.settled()
    assert "projects" in visit.html
    tab.screenshot("funding-projects")

    # Filter: in delivery, red on any rating, biggest awards first; then every project again.
    page.get_by_label("Status").select_option(label="In delivery")
    page.get_by_label("Rating").select_option(label="Red on any")
    page.get_by_label("Sort by").select_option(label="Awarded, largest first")
    page.get_by_role("button", name="Show projects").click()
    visit = tab.settled()
    assert "CCTV for Stafford and Cannock town centres" in visit.html
    assert EDUCATION not in visit.html
    page.get_by_role("link", name="Show every project").first.click()
    tab.settled()

    page.get_by_role("link", name=EDUCATION).click()
    visit = tab.settled()
    assert "Education campaign" in visit.html and "Cctv" not in visit.html
    options = page.get_by_label("Quarter").locator("option").all_inner_texts()
    assert all(QUARTER_WORDS.fullmatch(o) for o in options[1:]), options
    tab.screenshot("funding-project")

    # A milestone done, on today's date (the form offers it).
    page.get_by_role("link", name=re.compile("Mark as done.*Half of sessions delivered")).click()
    tab.settled()
    tab.screenshot("funding-milestone")
    page.get_by_role("button", name="Mark as done").click()
    visit = tab.settled()
    assert "Milestone Half of sessions delivered marked as done." in visit.html
    row = page.locator("tr", has_text="Half of sessions delivered")
    assert "Done " in row.inner_text()

    # A reported quarter corrected; the figure it had is kept and shown.
    page.locator("#spend").locator("xpath=following::table[1]").get_by_role(
        "link", name=re.compile(r"^Correct")
    ).first.click()
    tab.settled()
    before = page.get_by_label("Spent in the quarter, in pounds").input_value()
    page.get_by_label("Spent in the quarter, in pounds").fill("12,345.67")
    page.get_by_role("button", name="Save correction").click()
    visit = tab.settled()
    assert "corrected; the earlier figures are kept" in visit.html
    assert "£12,345.67" in visit.html
    page.get_by_role("link", name=re.compile(r"^Correct")).first.click()
    visit = tab.settled()
    history = page.locator("table", has_text="Every figure this quarter has had").inner_text()
    assert "Corrected" in history and "First reported" in history
    assert "£12,345.67" in history
    assert f"£{int(float(before)):,}" in history  # the old figure, still there
    tab.screenshot("funding-spend-history")
    page.get_by_role("link", name=re.compile("^Back to")).click()
    tab.settled()

    # Outputs: what was delivered so far.
    page.get_by_role("link", name=re.compile("Record.*school sessions delivered")).click()
    tab.settled()
    page.get_by_label("Delivered so far").fill("ten")
    page.get_by_role("button", name="Save output").click()
    visit = tab.settled(expect=None)
    assert visit.title.startswith("Error: ")
    page.get_by_label("Delivered so far").fill("61")
    page.get_by_role("button", name="Save output").click()
    visit = tab.settled()
    assert "Output school sessions delivered saved." in visit.html
    assert (
        page.locator("tr", has_text="school sessions delivered")
        .locator("td")
        .nth(1)
        .inner_text()
        .strip()
        == "61"
    )

    # The exports, from the projects list.
    page.get_by_role("link", name="All projects").click()
    tab.settled()
    text = _downloaded(page, page.get_by_role("link", name=re.compile("spreadsheet")))
    rows = list(csv.DictReader(io.StringIO(text)))
    education = next(r for r in rows if r["Title"] == EDUCATION)
    assert education["Category"] == "Education campaign"
    giving = json.loads(_downloaded(page, page.get_by_role("link", name=re.compile("360Giving"))))
    assert any(g["title"] == EDUCATION for g in giving["grants"])
    page.context.close()


def test_an_admin_finds_a_user_deactivates_with_a_reason_and_reactivates(browser, live_server):
    tab = new_tab(browser, live_server, "swa.admin")  # signed in: Home
    page = tab.page
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Users").click()
    visit = tab.settled()
    assert "Last sign-in" in visit.html
    tab.screenshot("users-list")

    # A user of her own to work on (the demo users are shared by the other browser tests).
    page.get_by_label("Username", exact=True).fill("swa.nightshift")
    page.get_by_label("Full name (optional)").fill("Night Shift")
    page.get_by_label("First password (at least 12 characters)").fill("a-long-first-password")
    page.get_by_role("button", name="Create user").click()
    tab.settled()
    page.get_by_role("link", name="All users").click()
    tab.settled()

    page.get_by_label("Name or username").fill("night")
    page.get_by_role("button", name="Show users").click()
    visit = tab.settled()
    assert "swa.nightshift" in visit.html and "swa.staff" not in visit.html
    page.get_by_role("link", name="swa.nightshift").click()
    visit = tab.settled()
    assert "Never signed in" in visit.html
    tab.screenshot("user")

    page.get_by_role("button", name="Deactivate swa.nightshift").click()
    visit = tab.settled()
    assert "Are you sure you want to deactivate swa.nightshift?" in visit.html
    tab.screenshot("user-deactivate")
    page.get_by_role("button", name="Yes, deactivate swa.nightshift").click()
    visit = tab.settled(expect=None)
    assert visit.title.startswith("Error: ")
    assert "Enter why this user is being deactivated" in visit.html
    page.get_by_label("Why is this user being deactivated?").fill("Left the service")
    page.get_by_role("button", name="Yes, deactivate swa.nightshift").click()
    visit = tab.settled()
    assert "swa.nightshift: deactivated, signed out everywhere." in visit.html

    reactivate = page.get_by_role("button", name="Reactivate swa.nightshift")
    classes = reactivate.get_attribute("class")
    assert "govuk-button--secondary" in classes and "warning" not in classes
    tab.screenshot("user-deactivated")
    reactivate.click()
    visit = tab.settled()
    assert "swa.nightshift: reactivated." in visit.html
    assert page.get_by_role("button", name="Deactivate swa.nightshift").count() == 1
    page.context.close()
