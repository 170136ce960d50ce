"""Home for every role: "Since you last looked" (from the events outbox, through the feed's own
policy), the officer's answers, the refuge's holds and decisions due; and the session's end:
the timeout warning's endpoints, and a form sent after an idle sign-out kept for its sender
alone and given back after signing in again."""

from __future__ import annotations

import html
import re
import time
import uuid

import sqlalchemy as sa

from tests.factories import consenting_victim_referral, referral_form_fields
from tests.pagelib import HTML, csrf_token, post_form, sign_in, signed_in

URL = "/api/v1/referrals"
SWA = "Staffordshire Women's Aid refuge"
GLOW = "Glow refuge"


def _refer(client, login, ids, service: str = SWA, username: str = "police.officer") -> dict:
    made = client.post(
        URL, json=consenting_victim_referral(ids.service[service]), headers=login(username)
    )
    assert made.status_code == 201, made.get_json()
    return made.get_json()


def _act(client, login, username: str, referral_id: str, **body):
    answer = client.post(f"{URL}/{referral_id}/transitions", json=body, headers=login(username))
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def _hold(client, login, referral_id: str, refuge_id: int, username="police.officer"):
    answer = client.post(
        f"{URL}/{referral_id}/hold",
        json={"refuge_id": refuge_id, "space_type": "family"},
        headers=login(username),
    )
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def _since_you_last_looked(page: str) -> str:
    """The text of Home's "Since you last looked" section (up to the next heading)."""
    found = re.search(r'id="since-you-last-looked">(.*?)(<h2|</main>)', page, re.S)
    assert found, "Home has no 'Since you last looked'"
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))))


def _home(page_client) -> str:
    home = page_client.get("/", headers=HTML)
    assert home.status_code == 200
    return html.unescape(home.text)


def test_the_officer_sees_the_decline_and_its_reason_in_words_since_she_last_looked(
    app, client, login, ids
):
    officer = signed_in(app, "police.officer")
    assert "Nothing has changed" in _since_you_last_looked(_home(officer))
    referral = _refer(client, login, ids)
    _act(client, login, "swa.staff", referral["id"], action="decline", reason_code="no_capacity")
    changes = _since_you_last_looked(_home(officer))
    assert f"{referral['reference']} was declined by Staffordshire Women's Aid: no capacity" in (
        changes
    )
    assert "no_capacity" not in changes
    assert f'href="/referrals/{referral["id"]}"' in _home(officer)
    # Her own table of referrals sent says it too.
    assert "Declined: no capacity" in _home(officer)
    # Looking again in the same session keeps the list; a new session starts from here.
    assert referral["reference"] in _since_you_last_looked(_home(officer))
    again = signed_in(app, "police.officer")
    assert referral["reference"] not in _since_you_last_looked(_home(again))


def test_the_officer_sees_an_acceptance_and_the_hold_placed_for_it(app, client, login, ids):
    officer = signed_in(app, "police.officer")
    _home(officer)
    referral = _refer(client, login, ids, GLOW)
    hold = _hold(client, login, referral["id"], ids.service[GLOW])
    _act(client, login, "glow.staff", referral["id"], action="accept")
    changes = _since_you_last_looked(_home(officer))
    assert f"{referral['reference']} was accepted by Glow" in changes
    assert f"A family space was held at Glow refuge for {referral['reference']} until" in changes
    assert "admitted at Glow refuge" in changes
    # Times are UK time with the date ("4 December 2026 at 3:30pm"), never ISO.
    assert re.search(r"\d{1,2} [A-Z][a-z]+ \d{4} at \d{1,2}(:\d\d)?(am|pm)", changes)
    assert hold["expires_at"][:16] not in changes


def test_the_refuges_home_lists_the_holds_on_its_beds_and_the_decisions_due(
    app, client, login, ids
):
    first = _refer(client, login, ids, SWA)
    second = _refer(client, login, ids, SWA)
    _hold(client, login, second["id"], ids.service[SWA])
    glows = _refer(client, login, ids, GLOW)
    swa = signed_in(app, "swa.staff")
    home = _home(swa)
    holds = re.search(r"Holds on Staffordshire Women's Aid refuge.s beds(.*?)</table>", home, re.S)
    assert holds, home
    assert second["reference"] in holds.group(1) and "Staffordshire Police" in holds.group(1)
    assert re.search(r"\d{1,2} [A-Z][a-z]+ \d{4} at", holds.group(1))
    assert 'data-label="Held until"' in holds.group(1)
    waiting = re.search(r"Referrals waiting for your decision(.*?)</table>", home, re.S).group(1)
    assert first["reference"] in waiting and 'data-label="Response due"' in waiting
    assert glows["reference"] not in home  # Glow's to decide, not SWA's
    assert "Staffordshire Police" in waiting


def test_a_refuge_never_sees_another_refuges_holds_or_referrals(app, client, login, ids):
    glow_referral = _refer(client, login, ids, GLOW)
    _hold(client, login, glow_referral["id"], ids.service[GLOW])
    _act(client, login, "glow.staff", glow_referral["id"], action="decline", reason_code="other")
    pathway = signed_in(app, "pathway.staff")
    swa = signed_in(app, "swa.staff")
    for other in (pathway, swa):
        home = _home(other)
        assert glow_referral["reference"] not in home
        assert "Glow refuge’s beds" not in home and "Glow refuge's beds" not in home
    assert glow_referral["reference"] in _home(signed_in(app, "glow.staff"))


def test_an_analyst_and_the_commissioners_staff_see_nothing_personal(app, client, login, ids):
    referral = _refer(client, login, ids, SWA)
    _hold(client, login, referral["id"], ids.service[SWA])
    _act(client, login, "swa.staff", referral["id"], action="accept")
    for username in ("police.analyst", "opcc.analyst", "opcc.staff"):
        home = _home(signed_in(app, username))
        assert referral["reference"] not in home, username
        assert "REF-" not in home, username
        assert "Jane Example" not in home and "07700" not in home, username
        assert "Referrals you sent" not in home and "Holds on" not in home, username


def test_a_project_gone_red_is_told_to_the_commissioners_staff_and_its_partners(app, client, login):
    staff = signed_in(app, "opcc.staff")
    _home(staff)
    projects = client.get("/api/v1/projects", headers=login("opcc.staff")).get_json()
    project = projects[0] if isinstance(projects, list) else projects["items"][0]
    read = client.get(f"/api/v1/projects/{project['id']}", headers=login("opcc.staff"))
    changed = client.patch(
        f"/api/v1/projects/{project['id']}",
        json={"rag": {**read.get_json()["rag"], "delivery": "red"}},
        headers={**login("opcc.staff"), "If-Match": read.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.get_json()
    changes = _since_you_last_looked(_home(staff))
    assert f"{project['title']} is now rated red (delivery)" in changes
    assert f'href="/projects/{project["id"]}"' in _home(staff)


def test_the_last_look_is_kept_on_the_server_for_each_user(app, client, login, ids):
    from partnership_api.extensions import db
    from partnership_api.models.pages import HomeMark

    officer = signed_in(app, "police.officer")
    _home(officer)
    with app.app_context():
        mark = db.session.get(HomeMark, ids.user["police.officer"])
        assert mark is not None and mark.seen_position >= 0
        assert db.session.get(HomeMark, ids.user["swa.staff"]) is None
        db.session.remove()


# --- the timeout warning ------------------------------------------------------------------------


def test_a_signed_in_page_carries_the_timeout_warning_and_no_inline_script(app):
    officer = signed_in(app, "police.officer")
    home = officer.get("/", headers=HTML)
    found = re.search(
        r'<script type="module" src="/assets/timeout.js" nonce="([^"]+)" '
        r'data-ends-in="(\d+)" data-warn-before="(\d+)"></script>',
        home.text,
    )
    assert found, "no timeout warning script"
    idle = app.config["PAGE_IDLE"].total_seconds()
    assert idle - 61 <= int(found.group(2)) <= idle
    assert 0 < int(found.group(3)) <= idle / 2
    assert found.group(1) in home.headers["Content-Security-Policy"]
    assert officer.get("/assets/timeout.js").status_code == 200
    # The sign-in page (nobody signed in) has no warning.
    assert "timeout.js" not in app.test_client().get("/sign-in", headers=HTML).text


def test_stay_signed_in_is_a_post_with_its_csrf_token_and_moves_the_last_use_to_now(app):
    officer = signed_in(app, "police.officer")
    idle = app.config["PAGE_IDLE"].total_seconds()
    with officer.session_transaction() as cookie:
        cookie["seen"] = int(time.time() - idle + 60)  # a minute left
    left = officer.get("/session/time-left", headers={"Accept": "application/json"})
    assert left.status_code == 200 and left.get_json()["ends_in"] <= 60
    with officer.session_transaction() as cookie:
        assert cookie["seen"] <= int(time.time() - idle + 61)  # asking is not a use
    assert officer.post("/session/stay-signed-in").status_code == 400  # no CSRF token
    token = csrf_token(officer.get("/", headers=HTML).text)
    with officer.session_transaction() as cookie:
        cookie["seen"] = int(time.time() - idle + 60)
    kept = officer.post("/session/stay-signed-in", headers={"X-CSRFToken": token})
    assert kept.status_code == 200 and kept.get_json()["ends_in"] >= idle - 2
    assert kept.headers["Cache-Control"] == "no-store"
    with officer.session_transaction() as cookie:
        assert cookie["seen"] >= int(time.time()) - 2
    assert officer.get("/session/stay-signed-in").status_code == 405


def test_after_the_idle_time_staying_signed_in_is_too_late(app):
    officer = signed_in(app, "police.officer")
    idle = app.config["PAGE_IDLE"].total_seconds()
    token = csrf_token(officer.get("/", headers=HTML).text)
    with officer.session_transaction() as cookie:
        cookie["seen"] = int(time.time() - idle - 5)
    late = officer.post("/session/stay-signed-in", headers={"X-CSRFToken": token})
    assert late.status_code == 303 and late.headers["Location"].startswith("/sign-in")
    assert officer.get("/", headers=HTML).status_code == 303


# --- a form sent after an idle sign-out ---------------------------------------------------------


def _go_idle(app, page_client) -> None:
    idle = app.config["PAGE_IDLE"].total_seconds()
    with page_client.session_transaction() as cookie:
        cookie["seen"] = int(time.time() - idle - 5)


def _half_written_referral(app, ids) -> dict:

    return referral_form_fields(
        app,
        ids,
        subject_name="Kept Draft Person",
        summary="Half written before the phone rang",
        idempotency_key=str(uuid.uuid4()),
    )


def referral_total(app) -> int:
    from partnership_api.extensions import db
    from partnership_api.models.referrals import Referral

    with app.app_context():
        count = db.session.scalar(sa.select(sa.func.count()).select_from(Referral))
        db.session.remove()
    return count


def test_a_referral_sent_after_an_idle_sign_out_is_kept_and_given_back_to_her(app, ids):
    from partnership_api.extensions import db
    from partnership_api.models.pages import KeptForm

    officer = signed_in(app, "police.officer")
    page = officer.get("/referrals/new", headers=HTML)
    fields = _half_written_referral(app, ids)
    _go_idle(app, officer)
    sent = officer.post(
        "/referrals/new", data={**fields, "csrf_token": csrf_token(page.text)}, headers=HTML
    )
    assert sent.status_code == 303
    assert sent.headers["Location"].startswith("/sign-in?next=/referrals/new")
    assert referral_total(app) == 0  # nothing was done with it
    with app.app_context():
        kept = db.session.scalars(sa.select(KeptForm)).all()
        assert len(kept) == 1 and kept[0].user_id == ids.user["police.officer"]
        assert "Kept Draft Person" not in kept[0].sealed  # sealed, not readable in the database
        db.session.remove()
    notice = officer.get(sent.headers["Location"], headers=HTML)
    assert "signed out because you did nothing" in notice.text
    back = sign_in(officer, "police.officer", next_page="/referrals/new")
    assert back.status_code == 303 and back.headers["Location"] == "/referrals/new"
    form = officer.get("/referrals/new", headers=HTML)
    assert form.status_code == 200
    assert "We kept what you typed" in form.text
    assert 'value="Kept Draft Person"' in form.text
    assert "Half written before the phone rang" in form.text
    assert csrf_token(form.text) != csrf_token(page.text)  # a fresh token
    assert "There is a problem" not in form.text  # shown as typed, not checked yet
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(KeptForm)) == 0
        db.session.remove()
    # Given back once: the next visit is an empty form.
    assert "Kept Draft Person" not in officer.get("/referrals/new", headers=HTML).text
    # She sends it herself now, and it is made.
    made = post_form(officer, "/referrals/new", {**fields, "step": "send"})
    assert made.status_code == 303 and referral_total(app) == 1


def test_someone_else_signing_in_on_that_browser_never_gets_the_kept_form(app, ids):
    from partnership_api.extensions import db
    from partnership_api.models.pages import KeptForm

    officer = signed_in(app, "police.officer")
    page = officer.get("/referrals/new", headers=HTML)
    _go_idle(app, officer)
    officer.post(
        "/referrals/new",
        data={**_half_written_referral(app, ids), "csrf_token": csrf_token(page.text)},
        headers=HTML,
    )
    # A colleague with the same rights signs in on the same browser, and goes to the form.
    other = sign_in(officer, "police.admin", next_page="/referrals/new")
    assert other.status_code == 303
    form = officer.get("/referrals/new", headers=HTML)
    assert "Kept Draft Person" not in form.text and "We kept what you typed" not in form.text
    with app.app_context():  # and it is gone for good
        assert db.session.scalar(sa.select(sa.func.count()).select_from(KeptForm)) == 0
        db.session.remove()


def test_a_kept_form_needs_the_ended_sessions_csrf_token(app, ids):
    from partnership_api.extensions import db
    from partnership_api.models.pages import KeptForm

    officer = signed_in(app, "police.officer")
    _go_idle(app, officer)
    forged = officer.post(
        "/referrals/new", data={**_half_written_referral(app, ids), "csrf_token": "x"}, headers=HTML
    )
    assert forged.status_code == 303
    # A browser that was never signed in keeps nothing either.
    stranger = app.test_client()
    stranger.post("/referrals/new", data=_half_written_referral(app, ids), headers=HTML)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(KeptForm)) == 0
        db.session.remove()


def test_a_kept_form_expires_after_an_hour(app, ids):
    from datetime import timedelta

    from partnership_api.extensions import db
    from partnership_api.models.pages import KeptForm

    officer = signed_in(app, "police.officer")
    page = officer.get("/referrals/new", headers=HTML)
    _go_idle(app, officer)
    officer.post(
        "/referrals/new",
        data={**_half_written_referral(app, ids), "csrf_token": csrf_token(page.text)},
        headers=HTML,
    )
    with app.app_context():
        kept = db.session.scalars(sa.select(KeptForm)).one()
        assert timedelta(minutes=59) < kept.expires_at - kept.created_at <= timedelta(hours=1)
        kept.expires_at = kept.created_at - timedelta(seconds=1)
        db.session.commit()
        db.session.remove()
    sign_in(officer, "police.officer", next_page="/referrals/new")
    form = officer.get("/referrals/new", headers=HTML)
    assert "Kept Draft Person" not in form.text and "We kept what you typed" not in form.text


def test_a_form_of_another_page_sent_after_the_sign_out_leads_back_to_that_page(
    app, client, login, ids
):
    from partnership_api.extensions import db
    from partnership_api.models.pages import KeptForm

    referral = _refer(client, login, ids)
    officer = signed_in(app, "police.officer")
    page = officer.get(f"/referrals/{referral['id']}", headers=HTML)
    _go_idle(app, officer)
    # A note is sent to its own address (no page of its own there): not kept, but after
    # signing in she is back on the referral she was reading.
    sent = officer.post(
        f"/referrals/{referral['id']}/notes",
        data={"text": "A note", "csrf_token": csrf_token(page.text)},
        headers={**HTML, "Referer": f"http://localhost/referrals/{referral['id']}"},
    )
    assert sent.status_code == 303
    assert sent.headers["Location"] == f"/sign-in?next=/referrals/{referral['id']}"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(KeptForm)) == 0
        db.session.remove()
    # A Referer from another site is never followed.
    elsewhere = officer.post(
        f"/referrals/{referral['id']}/notes",
        data={"text": "A note"},
        headers={**HTML, "Referer": "https://evil.example/referrals/x"},
    )
    assert elsewhere.headers["Location"] == "/sign-in"
    timeline = client.get(
        f"/api/v1/referrals/{referral['id']}/events", headers=login("police.officer")
    ).get_json()
    assert "note_added" not in [entry["kind"] for entry in timeline]  # neither note was written
