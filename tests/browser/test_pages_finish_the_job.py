"""Issue 24's points, each played in Chromium by the person it happened to (axe clean on every
page, no sideways scroll at 360 px in each screenshot): a wrong figure is an error on its field,
a refuge releases a hold with a reason, nothing ends a referral in one click, a redirect never
offers the area she fled, and when nothing fits the officer sets an alert and sees who to call."""

from __future__ import annotations

import re

from tests.browser.conftest import new_tab


def _refer_via_api(live_server, service_name: str, hold: str | None = None) -> dict:
    """A referral from Stafford (the risk from her home) made by the officer through the API."""
    import requests

    from tests.faultlib import DEMO_PASSWORD

    base = live_server.base_url
    token = requests.post(
        f"{base}/api/v1/auth/login",
        json={"username": "police.officer", "password": DEMO_PASSWORD},
        timeout=30,
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    services = requests.get(f"{base}/api/v1/services?page_size=100", headers=headers, timeout=30)
    listed = services.json()
    listed = listed["items"] if isinstance(listed, dict) else listed
    service = next(s for s in listed if s["name"] == service_name)
    body = {
        "kind": "victim",
        "to_service_id": service["id"],
        "risk_level": "high",
        "marac": False,
        "subject": {"name": "Points Person", "area": "E07000197"},
        "safe_contact": {"phone": "07700 900123", "safe_to_call": True},
        "household": {"children": 0},
        "needs": {"risk_from_home": True},
        "consent": {"given": True},
        "summary": "Made for the pages' points.",
    }
    if hold:
        body["hold"] = {"space_type": hold}
    made = requests.post(f"{base}/api/v1/referrals", json=body, headers=headers, timeout=30)
    assert made.status_code == 201, made.text
    return made.json()


def test_five_vacant_of_four_is_an_error_summary_linked_to_the_field(browser, live_server):
    worker = new_tab(browser, live_server, "pathway.staff")
    page = worker.page
    worker.open("/")
    page.get_by_role("link", name=re.compile("Pathway refuge: bed spaces")).click()
    worker.settled()
    page.get_by_label("Single spaces in total").fill("4")
    page.get_by_label("Single spaces vacant").fill("5")
    page.get_by_role("button", name="Save spaces").click()
    visit = worker.settled(expect=None)  # was a 500 "Sorry, there is a problem"
    assert visit.title.startswith("Error: ")
    summary = page.locator(".govuk-error-summary")
    assert "cannot be more than the single spaces in total (4)" in summary.inner_text()
    summary.get_by_role("link").first.click()
    assert page.evaluate("document.activeElement.id") == "single_vacant"
    worker.screenshot("refuge-error")
    page.context.close()


def test_a_refuge_releases_a_hold_with_a_reason(browser, live_server):
    referral = _refer_via_api(live_server, "Pathway refuge", hold="single")
    worker = new_tab(browser, live_server, "pathway.staff")
    page = worker.page
    worker.open("/")
    page.get_by_role("link", name=re.compile("Pathway refuge: bed spaces")).click()
    worker.settled()
    row = page.locator("#holds + table tr", has_text=referral["reference"])
    assert "Staffordshire Police" in row.inner_text()
    # Held until: UK time with its date ("4 December 2026 at 9:30pm"), not the stored UTC.
    from partnership_api.web.presenters.common import on_day

    assert on_day(referral["hold"]["expires_at"]) in row.inner_text()
    row.get_by_role("link", name=re.compile("Release")).click()
    worker.settled()
    worker.screenshot("hold-release")
    page.get_by_role("button", name="Release the space").click()
    visit = worker.settled(expect=None)
    assert "Choose why you are releasing the space" in visit.html
    page.get_by_label("The space is not suitable for this household").check()
    page.get_by_role("button", name="Release the space").click()
    visit = worker.settled()
    assert "is released: it is available again" in visit.html
    holds = page.locator("#holds").locator("xpath=following-sibling::*[1]").inner_text()
    assert referral["reference"] not in holds
    page.context.close()


def test_decline_and_withdraw_ask_for_a_reason_first(browser, live_server):
    declined = _refer_via_api(live_server, "Glow refuge")
    worker = new_tab(browser, live_server, "glow.staff")
    page = worker.page
    worker.open("/")
    page.get_by_role("link", name="Referrals").first.click()
    worker.settled()
    page.get_by_role("link", name=declined["reference"]).click()
    worker.settled()
    assert page.locator(".govuk-button--warning").count() == 0
    page.get_by_role("button", name="Decline referral").click()
    worker.settled()
    worker.screenshot("referral-decline")
    page.get_by_label("No capacity").check()
    page.get_by_label("Note for the referrer").fill("Full tonight; try Pathway.")
    page.get_by_role("button", name="Decline referral").click()
    visit = worker.settled()
    assert "declined." in visit.html and "No capacity" in visit.html
    page.context.close()

    withdrawn = _refer_via_api(live_server, "Glow refuge")
    officer = new_tab(browser, live_server, "police.officer")
    opage = officer.page
    officer.open("/")
    opage.get_by_role("link", name="Referrals").first.click()
    officer.settled()
    opage.get_by_role("link", name=withdrawn["reference"]).click()
    officer.settled()
    opage.get_by_role("button", name="Withdraw referral").click()
    officer.settled()
    opage.get_by_role("button", name="Withdraw referral").click()
    visit = officer.settled(expect=None)
    assert "Say why you are withdrawing the referral" in visit.html
    opage.get_by_label("Why are you withdrawing this referral?").fill("She has moved to family.")
    opage.get_by_role("button", name="Withdraw referral").click()
    visit = officer.settled()
    assert "withdrawn." in visit.html and "She has moved to family." in visit.html
    opage.context.close()


def test_a_redirect_never_offers_the_area_she_fled(browser, live_server):
    referral = _refer_via_api(live_server, "Glow refuge")
    worker = new_tab(browser, live_server, "glow.staff")
    page = worker.page
    worker.open("/")
    page.get_by_role("link", name="Referrals").first.click()
    worker.settled()
    page.get_by_role("link", name=referral["reference"]).click()
    worker.settled()
    chooser = page.get_by_label("Pass it on to")
    assert chooser.input_value() == ""  # nothing chosen for her
    options = chooser.locator("option").all_inner_texts()
    assert not any("Staffordshire Women's Aid refuge" in text for text in options)
    page.get_by_text(re.compile(r"^Not offered \(")).click()
    assert "an area she must avoid" in page.locator("details").inner_text()
    worker.screenshot("referral-redirect")
    page.context.close()


def test_when_nothing_fits_the_officer_sets_an_alert_and_sees_who_to_call(browser, live_server):
    officer = new_tab(browser, live_server, "police.officer")
    page = officer.page
    officer.open("/")
    page.get_by_role("link", name="Find a bed space").first.click()
    officer.settled()
    page.get_by_label("Number of children coming with her").fill("9")
    page.get_by_label("Age of her oldest son").fill("17")
    page.get_by_role("button", name="Search").click()
    visit = officer.settled()
    assert "0 refuges with a space now" in visit.html
    helpline = page.get_by_role("link", name="0808 2000 247")
    assert helpline.get_attribute("href") == "tel:08082000247"
    officer.screenshot("beds-nothing-fits")
    page.get_by_role("button", name="Tell me when a space opens").click()
    visit = officer.settled()
    assert "Alert set" in visit.html
    page.context.close()
