"""A page that needs a whole list gets all of it: the pages read the services' lists page by
page (the API's largest page is 100) until the total, so the 101st service is offered."""

from __future__ import annotations

import json

from tests.pagelib import HTML, signed_in

MORE_THAN_A_PAGE = 105


def test_the_referral_form_offers_every_service_past_the_first_hundred(app, client, login, ids):
    # The partnership admin sets up New Era's outreach in 105 places: more than one page.
    admin = login("partnership.admin")
    for number in range(1, MORE_THAN_A_PAGE + 1):
        made = client.post(
            "/api/v1/services",
            json={
                "organisation_id": ids.org["New Era"],
                "name": f"New Era outreach {number:03d}",
                "kind": "victim_support",
                "areas": ["E07000197"],
            },
            headers=admin,
        )
        assert made.status_code == 201, made.get_json()
    # The API's largest page holds 100 of them: the rest are on its next page.
    listed = client.get("/api/v1/services", query_string={"page_size": 100}, headers=admin)
    assert listed.status_code == 200 and len(listed.get_json()) == 100
    assert json.loads(listed.headers["X-Pagination"])["total"] > 100

    # The police officer making a referral can choose any of them, the last one too.
    form = signed_in(app, "police.officer").get("/referrals/new", headers=HTML)
    assert form.status_code == 200
    offered = [
        n for n in range(1, MORE_THAN_A_PAGE + 1) if f"New Era outreach {n:03d}" in form.text
    ]
    assert offered == list(range(1, MORE_THAN_A_PAGE + 1))
