"""The end of a page session, in Chromium: GOV.UK's timeout warning before the idle sign-out
("Stay signed in" keeps the session), and a half-written referral that survives the sign-out
and comes back after signing in again, to the same person only.

The live server's idle time is the default (``PAGE_IDLE_MINUTES``, 30); instead of waiting,
the tests move the session's signed last-use time back (the cookie is signed with the test
server's own key) and, for the script's timers, Playwright's clock.
"""

from __future__ import annotations

import time

from flask import Flask
from playwright.sync_api import expect

from tests.browser.conftest import new_tab, sign_in_as
from tests.faultlib import JWT_SECRET

IDLE = 30 * 60
SWA_REFUGE = "Staffordshire Women's Aid refuge"


def _cookies():
    from partnership_api.web.session import PageSessionInterface
    from partnership_api.web.setup import page_secret

    signer = Flask("cookies")
    signer.secret_key = page_secret(JWT_SECRET)
    return PageSessionInterface().get_signing_serializer(signer)


def _session(tab) -> tuple[dict, dict]:
    cookie = next(c for c in tab.page.context.cookies() if c["name"] == "partnership")
    return cookie, _cookies().loads(cookie["value"])


def _last_used(tab, seconds_ago: int) -> None:
    """As if nothing had been done in this browser for ``seconds_ago``."""
    cookie, data = _session(tab)
    data["seen"] = int(time.time()) - seconds_ago
    tab.page.context.add_cookies([{**cookie, "value": _cookies().dumps(data)}])


def test_the_warning_comes_before_the_idle_sign_out_and_stay_signed_in_keeps_her_in(
    browser, live_server
):
    worker = new_tab(browser, live_server, "swa.staff")
    page = worker.page
    page.clock.install()
    worker.open("/")
    expect(page.get_by_role("dialog")).to_have_count(0)  # half an hour left: no warning
    # Nothing done for 28 minutes: the warning comes, with the time the server says is left.
    _last_used(worker, IDLE - 100)
    page.clock.fast_forward("28:20")
    dialog = page.get_by_role("dialog", name="You’re about to be signed out")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("For your security, we will sign you out in 2 minutes.")
    expect(dialog.get_by_role("button", name="Stay signed in")).to_be_focused()
    worker.settled()  # axe, with the dialog open
    worker.screenshot("session-timeout-warning")
    dialog.get_by_role("button", name="Stay signed in").click()
    expect(dialog).to_be_hidden()
    assert _session(worker)[1]["seen"] >= int(time.time()) - 5  # the session's last use is now
    visit = worker.open("/")
    assert "Since you last looked" in visit.html
    expect(page.get_by_role("dialog")).to_have_count(0)
    # "Sign out" in the warning signs out at once.
    _last_used(worker, IDLE - 100)
    page.clock.fast_forward("28:20")
    page.get_by_role("dialog").get_by_role("button", name="Sign out").click()
    page.wait_for_url(lambda url: "/sign-in" in url)
    assert "You have signed out." in worker.settled().html
    page.context.close()


def test_a_half_written_referral_survives_the_idle_sign_out_for_her_alone(browser, live_server):
    officer = new_tab(browser, live_server, "police.officer")
    page = officer.page
    page.clock.install()
    officer.open("/referrals/new")
    refer_to = page.get_by_label("Refer to")
    refer_to.select_option(refer_to.locator("option", has_text=SWA_REFUGE).get_attribute("value"))
    page.get_by_label("Full name").fill("Browser Kept Person")
    page.get_by_label("What happened and what is needed").fill("Typed before a long call.")
    # She is called away; half an hour later the page tells her she was signed out.
    _last_used(officer, IDLE + 5)
    page.clock.fast_forward("30:05")
    dialog = page.get_by_role("dialog", name="You have been signed out")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("What you typed on this page will be kept for an hour")
    officer.settled()
    officer.screenshot("session-signed-out-form-kept")
    dialog.get_by_role("button", name="Sign in again").click()
    page.wait_for_url(lambda url: "/sign-in" in url)
    visit = officer.settled()
    assert "signed out because you did nothing" in visit.html
    page.get_by_label("Username").fill("police.officer")
    from tests.faultlib import DEMO_PASSWORD

    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/sign-in" not in url)
    assert page.url.endswith("/referrals/new"), page.url
    visit = officer.settled()
    assert "We kept what you typed" in visit.html
    assert page.get_by_label("Full name").input_value() == "Browser Kept Person"
    assert page.get_by_label("What happened and what is needed").input_value() == (
        "Typed before a long call."
    )
    assert page.get_by_label("Refer to").input_value() != ""
    officer.screenshot("referral-restored-after-sign-in")
    page.context.close()


def test_a_form_sent_after_the_sign_out_without_the_script_is_not_given_to_someone_else(
    browser, live_server
):
    officer = new_tab(browser, live_server, "police.officer")
    page = officer.page
    officer.open("/referrals/new")
    page.get_by_label("Full name").fill("Not For Anyone Else")
    _last_used(officer, IDLE + 5)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(lambda url: "/sign-in" in url)
    officer.settled()
    # Someone else signs in on this browser: the form is not theirs, and is gone.
    sign_in_as(officer, "swa.staff")
    visit = officer.open("/referrals/new")
    assert "Not For Anyone Else" not in visit.html and "We kept what you typed" not in visit.html
    assert page.get_by_label("Full name").input_value() == ""
    page.context.close()
