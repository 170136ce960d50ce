"""The refuge's page as its night worker uses it: a wrong figure comes back as an error on its
field (never a 500), the holds on her beds are listed with who placed them, for what household
and until when, and she releases one with a reason; nobody else sees or releases them."""

from __future__ import annotations

import re
import uuid

import sqlalchemy as sa

from tests.factories import PAGE_REFERRAL, query_db
from tests.pagelib import HTML, post_form, signed_in

GLOW = "Glow refuge"


def _version(html: str) -> str:
    return re.search(r'name="version" type="hidden" value="(\d+)"', html).group(1)


def _held_referral(client, login, ids, space_type="family") -> dict:
    body = {
        **PAGE_REFERRAL,
        "to_service_id": ids.service[GLOW],
        "hold": {"space_type": space_type},
    }
    made = client.post("/api/v1/referrals", json=body, headers=login("police.officer"))
    assert made.status_code == 201, made.get_json()
    return made.get_json()


def test_five_vacant_of_four_is_an_error_on_the_vacant_field_and_saves_nothing(
    app, client, login, ids
):
    glow = ids.service[GLOW]
    worker = signed_in(app, "glow.staff")
    page = worker.get(f"/refuges/{glow}", headers=HTML)
    before = client.get(f"/api/v1/refuges/{glow}/availability", headers=login("glow.staff"))

    answer = post_form(
        worker,
        f"/refuges/{glow}",
        {"version": _version(page.text), "single_total": "4", "single_vacant": "5"},
    )

    assert answer.status_code == 400  # was a 500 ("Sorry, there is a problem")
    assert "govuk-error-summary" in answer.text
    assert 'href="#single_vacant"' in answer.text
    assert "Single spaces vacant cannot be more than the single spaces in total (4)" in answer.text
    assert "govuk-notification-banner" not in answer.text
    after = client.get(f"/api/v1/refuges/{glow}/availability", headers=login("glow.staff"))
    assert after.headers["ETag"] == before.headers["ETag"]


def test_the_apis_field_errors_land_on_the_fields_they_name(app):
    """Should the API refuse a figure the form let through, its error (spaces[1].vacant) is
    put on that type's field: the list position never reaches a label (the TypeError)."""
    from partnership_api.web.forms_beds import AvailabilityForm
    from partnership_api.web.presenters import api_errors_onto, refusal_words
    from partnership_api.web.views_beds import _availability_field

    with app.test_request_context(
        "/", method="POST", data={"single_total": "2", "family_total": "3", "family_vacant": "1"}
    ):
        form = AvailabilityForm(meta={"csrf": False})
        errors = {"json": {"spaces": {1: {"vacant": ["Cannot exceed total."]}}}}
        assert api_errors_onto(form, errors, _availability_field(form))
        assert form.family_vacant.errors == ["Cannot exceed total."]

        class Refused:
            message = "Check the values entered."

        Refused.errors = errors
        assert refusal_words(Refused) == (
            "Check the values entered. Spaces (item 2) vacant: Cannot exceed total."
        )


def test_the_refuge_sees_each_hold_on_its_beds_and_releases_one_with_a_reason(
    app, client, login, ids
):
    glow = ids.service[GLOW]
    referral = _held_referral(client, login, ids)
    worker = signed_in(app, "glow.staff")

    page = worker.get(f"/refuges/{glow}", headers=HTML)
    assert page.status_code == 200
    assert "Spaces held for referrals" in page.text
    assert referral["reference"] in page.text
    assert "Staffordshire Police" in page.text  # placed by
    assert "2 children (son aged 13)" in page.text
    release = f"/refuges/{glow}/holds/{referral['hold']['id']}/release"
    assert f'href="{release}"' in page.text

    # No reason: an error on the reason, nothing released.
    refused = post_form(worker, release, {"reason_code": ""})
    assert refused.status_code == 400 and 'href="#reason_code' in refused.text
    live = client.get(f"/api/v1/referrals/{referral['id']}", headers=login("police.officer"))
    assert live.get_json()["hold"] is not None

    done = post_form(worker, release, {"reason_code": "not_suitable", "note": "Stairs only."})
    assert done.status_code == 303 and done.headers["Location"] == f"/refuges/{glow}"
    assert "is released: it is available again" in worker.get(f"/refuges/{glow}").text
    officer = login("police.officer")
    shown = client.get(f"/api/v1/referrals/{referral['id']}", headers=officer).get_json()
    assert shown["hold"] is None
    timeline = client.get(f"/api/v1/referrals/{referral['id']}/events", headers=officer)
    released = [e for e in timeline.get_json() if e["kind"] == "hold_released"]
    assert released and released[-1]["reason_code"] == "not_suitable"


def test_another_refuge_neither_sees_nor_releases_glows_holds(app, client, login, ids):
    glow = ids.service[GLOW]
    referral = _held_referral(client, login, ids)
    rival = signed_in(app, "swa.staff")

    page = rival.get(f"/refuges/{glow}", headers=HTML)
    assert page.status_code == 200
    assert referral["reference"] not in page.text and "Spaces held for referrals" not in page.text
    release = f"/refuges/{glow}/holds/{referral['hold']['id']}/release"
    assert rival.get(release, headers=HTML).status_code in (403, 404)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    answer = rival.post(
        release, data={"reason_code": "other", "note": "x", "csrf_token": token}, headers=HTML
    )
    assert answer.status_code in (403, 404)
    shown = client.get(f"/api/v1/referrals/{referral['id']}", headers=login("police.officer"))
    assert shown.get_json()["hold"] is not None


def test_vacant_below_what_is_held_saves_with_a_warning_saying_so(app, client, login, ids):
    glow = ids.service[GLOW]
    _held_referral(client, login, ids, "family")
    worker = signed_in(app, "glow.staff")
    page = worker.get(f"/refuges/{glow}", headers=HTML)
    current = client.get(f"/api/v1/refuges/{glow}/availability", headers=login("glow.staff"))
    data = {"version": _version(page.text)}
    for space in current.get_json()["spaces"]:
        data[f"{space['space_type']}_total"] = str(space["total"])
        data[f"{space['space_type']}_vacant"] = str(space["vacant"])
    data["family_vacant"] = "0"

    done = post_form(worker, f"/refuges/{glow}", data)

    assert done.status_code == 303
    shown = worker.get(f"/refuges/{glow}").text
    assert "Bed spaces saved, but more family spaces are held (1) than are vacant (0)" in shown
    assert "Overcommitted" in shown


def test_times_on_the_refuge_page_are_uk_time(app, client, login, ids):
    glow = ids.service[GLOW]
    referral = _held_referral(client, login, ids)
    from partnership_api.models.beds import BedHold
    from partnership_api.web.presenters import on_day

    expires = query_db(
        app, sa.select(BedHold.expires_at).where(BedHold.referral_id == uuid.UUID(referral["id"]))
    )
    page = signed_in(app, "glow.staff").get(f"/refuges/{glow}", headers=HTML)
    assert on_day(expires[0]) in page.text
