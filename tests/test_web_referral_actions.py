"""A referral's actions as its receiver and its sender meet them: nothing that ends a referral
is one click (decline and withdraw ask for a reason on a confirmation page), the reason reaches
the other side in words, and a redirect never offers a refuge in the area she fled."""

from __future__ import annotations

import re

from tests.factories import PAGE_REFERRAL
from tests.pagelib import HTML, csrf_token, post_form, signed_in

GLOW, SWA = "Glow refuge", "Staffordshire Women's Aid refuge"


def _referral_to(client, login, ids, service=GLOW) -> dict:
    # From Stafford, the risk coming from home (REFERRAL's needs): Stafford must be avoided.
    body = {**PAGE_REFERRAL, "to_service_id": ids.service[service]}
    made = client.post("/api/v1/referrals", json=body, headers=login("police.officer"))
    assert made.status_code == 201
    return made.get_json()


def _timeline(client, login, referral_id) -> list[str]:
    shown = client.get(f"/api/v1/referrals/{referral_id}/events", headers=login("glow.staff"))
    return [entry["kind"] for entry in shown.get_json()]


def _status(client, login, referral_id) -> str:
    shown = client.get(f"/api/v1/referrals/{referral_id}", headers=login("police.officer"))
    return shown.get_json()["status"]


def test_decline_is_never_one_click_and_the_sender_reads_the_reason(app, client, login, ids):
    referral = _referral_to(client, login, ids)
    path = f"/referrals/{referral['id']}"
    worker = signed_in(app, "glow.staff")
    page = worker.get(path, headers=HTML)
    assert page.status_code == 200
    # Accept is the one primary action; Decline is a secondary button to a confirmation.
    assert page.text.index("Accept referral") < page.text.index("Decline referral")
    assert f'href="{path}/decline"' in page.text
    assert "govuk-button--warning" not in page.text

    one_click = worker.post(
        f"{path}/actions",
        data={
            "action": "decline",
            "reason_code": "no_capacity",
            "csrf_token": csrf_token(page.text),
        },
        headers=HTML,
    )
    assert one_click.status_code == 303 and one_click.headers["Location"] == f"{path}/decline"
    assert _status(client, login, referral["id"]) == "submitted"

    no_reason = post_form(worker, f"{path}/decline", {"reason_code": ""})
    assert no_reason.status_code == 400 and 'href="#reason_code' in no_reason.text
    # "Other" without saying what it was: refused, nothing written.
    other_without_words = post_form(worker, f"{path}/decline", {"reason_code": "other"})
    assert other_without_words.status_code == 400
    assert _status(client, login, referral["id"]) == "submitted"

    done = post_form(
        worker, f"{path}/decline", {"reason_code": "no_capacity", "note": "Full tonight."}
    )
    assert done.status_code == 303 and done.headers["Location"] == path
    assert _status(client, login, referral["id"]) == "declined"
    seen = signed_in(app, "police.officer").get(path, headers=HTML).text
    assert "No capacity" in seen and "Full tonight." in seen
    assert "no_capacity" not in seen


def test_withdraw_asks_why_and_puts_it_on_the_timeline(app, client, login, ids):
    referral = _referral_to(client, login, ids)
    path = f"/referrals/{referral['id']}"
    officer = signed_in(app, "police.officer")
    page = officer.get(path, headers=HTML).text
    assert f'href="{path}/withdraw"' in page and "govuk-button--warning" not in page

    refused = post_form(officer, f"{path}/withdraw", {"note": "  "})
    assert refused.status_code == 400 and "Say why you are withdrawing" in refused.text
    assert _status(client, login, referral["id"]) == "submitted"

    done = post_form(officer, f"{path}/withdraw", {"note": "She is staying with her sister."})
    assert done.status_code == 303
    assert _status(client, login, referral["id"]) == "withdrawn"
    assert "She is staying with her sister." in officer.get(path, headers=HTML).text


def test_only_the_parties_reach_the_confirmations(app, client, login, ids):
    referral = _referral_to(client, login, ids)
    path = f"/referrals/{referral['id']}"
    assert signed_in(app, "swa.staff").get(f"{path}/decline", headers=HTML).status_code == 404
    assert signed_in(app, "pathway.staff").get(f"{path}/withdraw", headers=HTML).status_code == 404
    # The receiver cannot withdraw, the sender cannot decline.
    assert signed_in(app, "glow.staff").get(f"{path}/withdraw", headers=HTML).status_code == 403
    officer = signed_in(app, "police.officer")
    assert officer.get(f"{path}/decline", headers=HTML).status_code == 403
    assert _status(client, login, referral["id"]) == "submitted"


def test_a_redirect_never_offers_a_refuge_in_the_area_she_fled(app, client, login, ids):
    referral = _referral_to(client, login, ids)
    page = signed_in(app, "glow.staff").get(f"/referrals/{referral['id']}", headers=HTML).text
    select = page.split('id="redirect-to"', 1)[1].split("</select>", 1)[0]
    options = re.findall(r'<option value="(\d*)"( selected)?>([^<]*)</option>', select)
    assert options[0] == ("", " selected", "Choose a service")  # nothing chosen for her
    offered = [text for value, _selected, text in options if value]
    assert not any(SWA in text for text in offered)  # SWA's refuge serves Stafford
    assert any("Pathway refuge" in text for text in offered)
    assert "Staffordshire Women&#39;s Aid refuge: serves Stafford, an area she must avoid" in page


def test_the_police_list_opens_on_what_they_sent_and_phones_are_links(app, client, login, ids):
    referral = _referral_to(client, login, ids)
    officer = signed_in(app, "police.officer")
    listed = officer.get("/referrals", headers=HTML).text
    assert 'aria-current="page">Sent</a>' in listed
    assert referral["reference"] in listed
    assert ">Received</a>" not in listed  # the police receive no referrals
    assert 'data-label="Status"' in listed and 'data-label="Response due"' in listed
    worker = signed_in(app, "glow.staff").get("/referrals", headers=HTML).text
    assert 'aria-current="page">Received</a>' in worker
    page = officer.get(f"/referrals/{referral['id']}", headers=HTML).text
    assert 'href="tel:07700900999"' in page


def test_closing_a_refuge_stay_asks_why_it_ended_and_where_she_went(app, client, login, ids):
    referral = _referral_to(client, login, ids)
    path = f"/referrals/{referral['id']}"
    worker = signed_in(app, "glow.staff")
    accepted = client.post(
        f"/api/v1/referrals/{referral['id']}/transitions",
        json={"action": "accept"},
        headers=login("glow.staff"),
    )
    assert accepted.status_code == 200
    page = worker.get(path, headers=HTML).text
    assert f'href="{path}/close"' in page

    missing = post_form(worker, f"{path}/close", {"outcome": "Moved to her own flat."})
    assert missing.status_code == 400
    assert "Choose why her stay ended" in missing.text and "Choose where she went" in missing.text
    assert _status(client, login, referral["id"]) == "accepted"

    done = post_form(
        worker,
        f"{path}/close",
        {
            "outcome": "Moved to her own flat.",
            "end_reason": "moved_on",
            "destination": "own_tenancy",
        },
    )
    assert done.status_code == 303
    assert _status(client, login, referral["id"]) == "closed"


def test_declining_for_another_reason_says_what_it_was(app, client, login, ids):
    referral = _referral_to(client, login, ids)
    path = f"/referrals/{referral['id']}"
    worker = signed_in(app, "glow.staff")
    refused = post_form(worker, f"{path}/decline", {"reason_code": "other"})
    assert refused.status_code == 400 and "Say what the other reason was" in refused.text
    done = post_form(
        worker, f"{path}/decline", {"reason_code": "other", "reason_text": "Building works"}
    )
    assert done.status_code == 303 and _status(client, login, referral["id"]) == "declined"


def test_a_redirect_without_a_service_and_an_empty_note_are_errors_on_their_fields(
    app, client, login, ids
):
    referral = _referral_to(client, login, ids)
    path = f"/referrals/{referral['id']}"
    worker = signed_in(app, "glow.staff")
    answer = post_form(worker, f"{path}/actions", {"action": "redirect"}, form_page=path)
    assert answer.status_code == 400
    assert "govuk-error-summary" in answer.text and 'href="#redirect-to"' in answer.text
    assert "Choose the service to pass it on to" in answer.text
    assert "govuk-notification-banner" not in answer.text
    assert _status(client, login, referral["id"]) == "submitted"

    notes_before = _timeline(client, login, referral["id"]).count("note_added")
    empty = post_form(worker, f"{path}/notes", {"text": ""}, form_page=path)
    assert empty.status_code == 400 and 'href="#text"' in empty.text
    assert _timeline(client, login, referral["id"]).count("note_added") == notes_before
    assert "Enter the note" in empty.text


def test_the_menu_marks_funding_on_a_project_page(app, ids):
    page = signed_in(app, "opcc.staff").get("/projects", headers=HTML).text
    current = re.findall(r'item--active">\s*<a[^>]*href="([^"]+)"', page)
    assert current == ["/funding"], current
