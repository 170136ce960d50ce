"""The pages on what main's services now ask and allow, told by the people who use them: the
night worker's "Still accurate", an officer's bed search filled from a referral (her sons'
ages, not her daughters'), the inbox in the order a worker needs, the commissioner's award
date, and a delivery partner's early actual."""

from __future__ import annotations

import re

import sqlalchemy as sa

from partnership_api.web.presenters import quarter_words
from tests.factories import (
    PAGE_REFERRAL,
    quarter_from_now,
    query_db,
    referral_form_fields,
    referral_total,
)
from tests.pagelib import HTML, post_form, signed_in

GLOW = "Glow refuge"


def _etag(client, headers, refuge: int) -> str:
    response = client.get(f"/api/v1/refuges/{refuge}/availability", headers=headers)
    assert response.status_code == 200
    return response.headers["ETag"]


def _shown_version(html: str) -> str:
    found = re.search(r'name="confirm-version" type="hidden" value="(\d+)"', html)
    assert found, "no Still accurate form on the page"
    return found.group(1)


# --- "Still accurate" -------------------------------------------------------------------------


def test_a_night_worker_confirms_her_refuges_spaces_in_one_tap(app, client, login, ids):
    glow = ids.service[GLOW]
    worker = signed_in(app, "glow.staff")
    page = worker.get(f"/refuges/{glow}", headers=HTML)
    assert page.status_code == 200
    assert re.search(r"<button[^>]*>\s*Still accurate\s*</button>", page.text)
    before = _etag(client, login("glow.staff"), glow)

    done = post_form(
        worker,
        f"/refuges/{glow}/confirm",
        {"confirm-version": _shown_version(page.text)},
        form_page=f"/refuges/{glow}",
    )

    assert done.status_code == 303 and done.headers["Location"] == f"/refuges/{glow}"
    assert "Bed spaces confirmed as still accurate." in worker.get(done.headers["Location"]).text
    after = client.get(f"/api/v1/refuges/{glow}/availability", headers=login("police.officer"))
    assert after.headers["ETag"] != before and after.get_json()["stale"] is False
    assert after.get_json()["updated_by"] == "Glow"  # her name stays in her organisation


def test_a_confirmation_from_a_page_drawn_before_a_colleagues_change_is_not_saved(
    app, client, login, ids
):
    glow = ids.service[GLOW]
    worker = signed_in(app, "glow.staff")
    version = _shown_version(worker.get(f"/refuges/{glow}", headers=HTML).text)
    # Her colleague saves new figures meanwhile.
    colleague = login("glow.staff")
    changed = client.put(
        f"/api/v1/refuges/{glow}/availability",
        json={"spaces": [{"space_type": "family", "total": 2, "vacant": 0}]},
        headers={**colleague, "If-Match": _etag(client, colleague, glow)},
    )
    assert changed.status_code == 200

    answer = post_form(
        worker,
        f"/refuges/{glow}/confirm",
        {"confirm-version": version},
        form_page=f"/refuges/{glow}",
    )

    assert answer.status_code == 409
    assert "Your confirmation was not saved" in answer.text
    assert "glow.staff saved family 0 of 2 vacant" in answer.text
    assert "<title>Error: " in answer.text
    assert _etag(client, colleague, glow) == changed.headers["ETag"]  # nothing vouched for


def test_another_refuge_has_no_still_accurate_button_and_cannot_forge_one(app, client, login, ids):
    glow = ids.service[GLOW]
    before = _etag(client, login("police.officer"), glow)
    for username in ("swa.staff", "police.officer"):
        other = signed_in(app, username)
        page = other.get(f"/refuges/{glow}", headers=HTML)
        assert page.status_code == 200 and "Still accurate" not in page.text
        forged = post_form(
            other,
            f"/refuges/{glow}/confirm",
            {"confirm-version": "1"},
            form_page=f"/refuges/{glow}",
        )
        assert forged.status_code == 403 and forged.mimetype == "text/html", username
    assert _etag(client, login("police.officer"), glow) == before


# --- a bed search filled from a referral ------------------------------------------------------


def _referral_from_stafford(client, login, ids) -> str:
    """A woman from Stafford (the risk is at home) with a daughter of 4 and a son of 13."""
    body = {**PAGE_REFERRAL, "to_service_id": ids.service["Staffordshire Women's Aid refuge"]}
    made = client.post("/api/v1/referrals", json=body, headers=login("police.officer"))
    assert made.status_code == 201, made.get_json()
    return made.get_json()["id"]


def test_the_bed_search_from_a_referral_uses_her_sons_age_and_keeps_her_area_out(
    app, client, login, ids
):
    from partnership_api.models.audit import AuditEvent

    referral = _referral_from_stafford(client, login, ids)
    officer = signed_in(app, "police.officer")
    page = officer.get(f"/referrals/{referral}", headers=HTML)
    assert "2: a girl of 4, a boy of 13" in page.text
    link = re.search(r'href="(/beds\?for_referral=[^"#]+)', page.text)
    assert link and link.group(1) == f"/beds?for_referral={referral}"

    board = officer.get(link.group(1), headers=HTML)

    assert board.status_code == 200
    assert re.search(r'name="children"[^>]*value="2"', board.text)
    assert re.search(r'name="oldest_son_age"[^>]*value="13"', board.text)  # not the 4-year-old
    assert re.search(r'value="E07000197"[^>]*checked|checked[^>]*value="E07000197"', board.text)
    assert "Glow refuge" in board.text.split("Refuges that do not fit")[0]
    not_fitting = board.text.split("Refuges that do not fit")[1]
    assert "an area she must avoid" in not_fitting  # SWA's refuge serves Stafford
    assert "takes sons up to 12" in not_fitting  # Pathway
    assert f'name="referral" type="hidden" value="{referral}"' in board.text  # kept for her
    reads = query_db(
        app,
        sa.select(AuditEvent.details).where(
            AuditEvent.action == "referral.read",
            AuditEvent.resource_id == referral,
            AuditEvent.username == "police.officer",
        ),
    )
    assert {"view": "bed_search"} in reads  # her household was read: audited


def test_nobody_outside_the_referral_fills_a_bed_search_from_it(app, client, login, ids):
    referral = _referral_from_stafford(client, login, ids)
    for username, status in (("glow.staff", 404), ("police.analyst", 403)):
        board = signed_in(app, username).get(f"/beds?for_referral={referral}", headers=HTML)
        assert board.status_code == status, username
        assert "Page Test Person" not in board.text and 'value="13"' not in board.text
    assert (
        signed_in(app, "police.officer").get("/beds?for_referral=x", headers=HTML).status_code
        == 404
    )


def test_a_referral_made_on_the_page_keeps_each_childs_age_and_sex(app, client, login, ids):

    officer = signed_in(app, "police.officer")
    fields = {
        **referral_form_fields(app, ids),
        "idempotency_key": "0f2a6c1e-4f7d-4a55-9a0b-2b1d3c4e5f60",
        "step": "send",
    }
    made = post_form(officer, "/referrals/new", fields)
    assert made.status_code == 303
    referral = made.headers["Location"].split("/")[2]  # /referrals/<id>/sent
    api = client.get(f"/api/v1/referrals/{referral}", headers=login("police.officer")).get_json()
    assert api["household"]["children_detail"] == [
        {"age": 4, "sex": "female"},
        {"age": 13, "sex": "male"},
    ]
    # A number of children that the ages do not add up to is the API's error, on the form.
    wrong = {**fields, "children": "3", "idempotency_key": "1f2a6c1e-4f7d-4a55-9a0b-2b1d3c4e5f60"}
    answer = post_form(officer, "/referrals/new", wrong)
    assert answer.status_code == 400
    assert "3 children, but the ages given are for 2." in answer.text
    assert "children_detail" not in answer.text  # no internal name reaches a person
    bad_ages = {**fields, "son_ages": "13, x", "idempotency_key": fields["idempotency_key"][::-1]}
    answer = post_form(officer, "/referrals/new", bad_ages)
    assert answer.status_code == 400 and "Enter ages from 0 to 25" in answer.text
    assert referral_total(app) == 1  # neither refused form made a referral


# --- the inbox in the order a worker needs ---------------------------------------------------


def _references_in(html: str, wanted: list[str]) -> list[str]:
    return [ref for ref in re.findall(r"REF-\d{4}-[0-9A-Z]+", html) if ref in wanted]


def test_a_refuge_worker_sorts_her_inbox_by_response_due_and_received(app, client, login, ids):
    officer = login("police.officer")
    made = []
    for risk in ("high", "standard", "high"):  # due in 24 hours, 2 working days, 24 hours
        body = {key: value for key, value in PAGE_REFERRAL.items() if key != "dash_score"}
        body.update(
            risk_level=risk,
            marac=risk == "high",
            to_service_id=ids.service["Staffordshire Women's Aid refuge"],
        )
        answer = client.post("/api/v1/referrals", json=body, headers=officer)
        assert answer.status_code == 201, answer.get_json()
        made.append(answer.get_json()["reference"])
    first, second, third = made
    worker = signed_in(app, "swa.staff")

    newest = worker.get("/referrals?tab=received", headers=HTML)
    assert _references_in(newest.text, made) == [third, second, first]
    assert re.search(
        r'aria-sort="descending"><a[^>]*href="/referrals\?tab=received&amp;sort=received&amp;order=asc"',
        newest.text,
    )

    due = worker.get("/referrals?tab=received&sort=due&order=asc", headers=HTML)
    assert due.status_code == 200
    assert _references_in(due.text, made) == [first, third, second]
    assert 'aria-sort="ascending"' in due.text and 'aria-sort="none"' in due.text
    # The order is kept when she moves to another tab.
    assert 'href="/referrals?tab=overdue&amp;sort=due&amp;order=asc"' in due.text

    latest_due = worker.get("/referrals?tab=received&sort=due&order=desc", headers=HTML)
    assert _references_in(latest_due.text, made) == [second, third, first]
    oldest = worker.get("/referrals?tab=received&sort=received&order=asc", headers=HTML)
    assert _references_in(oldest.text, made) == [first, second, third]

    for hostile in ("sort=name", "sort=due&order=sideways", "sort=due%3B--"):
        assert worker.get(f"/referrals?{hostile}", headers=HTML).status_code == 400


def test_the_inbox_order_is_kept_across_pages(app, client, login, ids):
    officer = login("police.officer")
    body = {**PAGE_REFERRAL, "to_service_id": ids.service["Glow refuge"]}
    for _ in range(21):
        assert client.post("/api/v1/referrals", json=body, headers=officer).status_code == 201
    worker = signed_in(app, "glow.staff")
    first = worker.get("/referrals?tab=received&sort=due&order=desc", headers=HTML)
    assert 'href="/referrals?tab=received&amp;sort=due&amp;order=desc&amp;page=2"' in first.text
    second = worker.get("/referrals?tab=received&sort=due&order=desc&page=2", headers=HTML)
    assert second.status_code == 200
    shown = re.findall(r"REF-\d{4}-[0-9A-Z]+", first.text + second.text)
    assert len(shown) == len(set(shown)) >= 21  # every referral once, none twice


# --- funding: the award date, and no actual before a quarter ends ---------------------------


def test_the_commissioner_gives_the_award_date_of_a_new_project(app, client, login, ids):
    opcc = signed_in(app, "opcc.staff")
    fund = client.get("/api/v1/funds", headers=login("opcc.staff")).get_json()[0]["id"]
    fields = {
        "fund_id": str(fund),
        "title": "Award date lighting",
        "category": "street_lighting",
        "lead_organisation_id": str(ids.org["Staffordshire Commissioner's Office"]),
        "amount_awarded": "5,000",
    }
    missing = post_form(opcc, "/projects/new", fields)
    assert missing.status_code == 400 and "Enter the day the award was made" in missing.text
    dated = {**fields, "awarded_on": ["2", "4", "2026"]}
    made = post_form(opcc, "/projects/new", dated)
    assert made.status_code == 303, made.text[:2000]
    project = made.headers["Location"].rsplit("/", 1)[1]
    api = client.get(f"/api/v1/projects/{project}", headers=login("opcc.staff")).get_json()
    assert api["awarded_on"] == "2026-04-02" and api["status"] == "planned"


def test_a_delivery_partner_cannot_report_an_actual_for_a_quarter_not_over(app, client, login):
    projects = client.get("/api/v1/projects", headers=login("opcc.staff")).get_json()
    orgs = client.get("/api/v1/organisations", headers=login("opcc.staff")).get_json()
    newera = next(o["id"] for o in orgs if o["name"] == "New Era")
    delivered = next(p for p in projects if newera in p["delivery_organisation_ids"])
    path = f"/projects/{delivered['id']}"
    partner = signed_in(app, "newera.staff")
    early = quarter_from_now(+1)
    answer = post_form(partner, f"{path}/spend", {"period": early, "actual": "10"}, form_page=path)
    assert answer.status_code == 400
    assert "There is a problem" in answer.text
    words = quarter_words(early)  # "Q4 2026-27 (January to March 2027)": the funders' year
    assert f"{words} has not ended: an actual is reported once the quarter is over." in answer.text
    assert f'value="{early}" selected' in answer.text  # what she chose is kept

    def line_for(period: str) -> dict | None:
        lines = client.get(f"/api/v1{path}/spend", headers=login("opcc.staff")).get_json()
        return next((line for line in lines if line["period"] == period), None)

    assert line_for(early) is None  # the refused actual wrote nothing
    # Its forecast is welcome now.
    forecast = post_form(
        partner, f"{path}/spend", {"period": early, "forecast": "10"}, form_page=path
    )
    assert forecast.status_code == 303
    saved = line_for(early)
    assert (saved["forecast_pence"], saved["actual_pence"]) == (1000, None)


def test_a_refuge_that_cannot_take_her_redirects_from_the_filled_bed_search(
    app, client, login, ids
):
    referral = _referral_from_stafford(client, login, ids)  # to SWA's refuge, in Stafford
    glow = ids.service[GLOW]
    worker = signed_in(app, "swa.staff")
    board = worker.get(f"/beds?for_referral={referral}", headers=HTML)
    assert board.status_code == 200
    reference = client.get(f"/api/v1/referrals/{referral}", headers=login("swa.staff")).get_json()[
        "reference"
    ]
    assert f"Redirect {reference} to Glow refuge" in board.text

    done = post_form(
        worker,
        f"/referrals/{referral}/actions",
        {"action": "redirect", "to_service_id": str(glow)},
        form_page=f"/beds?for_referral={referral}",
    )

    assert done.status_code == 303
    api = client.get(f"/api/v1/referrals/{referral}", headers=login("police.officer")).get_json()
    assert api["status"] == "redirected"
    onward = client.get(
        f"/api/v1/referrals/{api['redirected_to']}", headers=login("police.officer")
    ).get_json()
    assert onward["to_service_id"] == glow
    # Now the officer can hold a space at Glow for the onward referral.
    officer = signed_in(app, "police.officer")
    board = officer.get(f"/beds?for_referral={onward['id']}", headers=HTML)
    assert re.search(r"Hold a family space<span[^>]*> at Glow refuge</span> for REF-", board.text)


# --- the bed board, as quick as it is (issue 14) ------------------------------------------------

SWA_REFUGE = "Staffordshire Women's Aid refuge"


def test_a_refuges_new_phone_number_is_on_the_board_at_once(app, client, login, ids):
    """The board's cards and "why not" come from the bed search's cached snapshot: a change to
    the refuge is on the next board, never an old number for a woman in danger to ring."""
    swa = ids.service[SWA_REFUGE]
    officer = signed_in(app, "police.officer")
    search = "/beds?area=E07000197"
    before = officer.get(search, headers=HTML)
    assert before.status_code == 200
    assert "0300 330 5959" in before.text
    admin = login("swa.admin")
    url = f"/api/v1/services/{swa}"
    etag = client.get(url, headers=admin).headers["ETag"]
    changed = client.patch(url, json={"phone": "01785 000111"}, headers={**admin, "If-Match": etag})
    assert changed.status_code == 200

    after = officer.get(search, headers=HTML)

    assert after.status_code == 200
    assert "01785 000111" in after.text and "0300 330 5959" not in after.text
    assert "Demo Secret Row" not in after.text  # the snapshot never holds an address


def test_an_officer_who_ticks_an_area_that_does_not_exist_is_told_where(app, ids):
    """The board's ticked areas and needs are plain govuk checkboxes: a hostile or mistyped
    choice is a 400 whose error summary links to the first checkbox of the field, described
    by the field's error; what was ticked stays ticked, and nothing is searched."""
    officer = signed_in(app, "police.officer")

    board = officer.get(
        "/beds?area=E07000197&area=NOWHERE&needs=pets&exclude_area=E07000192", headers=HTML
    )

    assert board.status_code == 400
    assert '<a href="#area">' in board.text
    assert re.search(r'<fieldset[^>]*aria-describedby="area-hint area-error"', board.text)
    assert re.search(
        r'id="area-error"[^>]*>\s*<span[^>]*>Error:</span> &#39;NOWHERE&#39;', board.text
    )
    assert re.search(r'id="area"[^>]*value="E07000192"', board.text)  # the first item
    assert re.search(r'id="area-6"[^>]*value="E07000197"[^>]*checked', board.text)
    assert re.search(r'id="exclude_area"[^>]*value="E07000192"[^>]*checked', board.text)
    assert re.search(r'name="needs"[^>]*value="pets"[^>]*checked', board.text)
    assert re.search(r'id="space_type"[^>]*value=""[^>]*checked', board.text)  # "any" as before
    assert "with a space now" not in board.text  # nothing searched
