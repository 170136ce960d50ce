"""The funding and users pages through Flask's test client, each test told by one role.

Funding: the projects list (filters, sort, downloads), a milestone marked done, a quarter
corrected with If-Match (a conflict shown, never overwritten; the old figure kept in history),
outputs added and recorded, quarters named as the funders' financial year, enums in words.
Users: one row per user with its last sign-in, search and organisation filter, a user's page,
deactivation only through an "are you sure" page with a reason kept in the audit trail,
reactivation, and a reset error naming the user.
"""

from __future__ import annotations

import csv
import io
import re

import sqlalchemy as sa

from tests.pagelib import HTML, csrf_token, post_form, signed_in

EDUCATION = "Education campaign: healthy relationships"  # New Era and Glow deliver it
CCTV = "CCTV for Stafford and Cannock town centres"  # the commissioner's own, nobody delivers


def _query(app, stmt):
    from partnership_api.extensions import db

    with app.app_context():
        found = db.session.execute(stmt).all()
        db.session.remove()
    return found


def _project(client, login, title: str) -> dict:
    projects = client.get("/api/v1/projects", headers=login("opcc.staff")).get_json()
    return next(p for p in projects if p["title"] == title)


def _api(client, login, path: str, username: str = "opcc.staff"):
    return client.get(f"/api/v1/projects/{path}", headers=login(username)).get_json()


def _open_milestone(client, login, project_id: int) -> dict:
    milestones = _api(client, login, f"{project_id}/milestones")
    return next(m for m in milestones if m["completed_on"] is None)


# --- the projects list -------------------------------------------------------------------------


def test_the_commissioners_staff_find_every_project_filtered_and_sorted(app, client, login):
    opcc = signed_in(app, "opcc.staff")
    funding = opcc.get("/funding", headers=HTML)
    assert 'href="/projects"' in funding.text  # the list is linked from the dashboard
    every = opcc.get("/projects", headers=HTML)
    assert every.status_code == 200
    titles = [p["title"] for p in client.get("/api/v1/projects", headers=login("opcc.staff")).json]
    assert all(title in every.text for title in titles)
    assert f"{len(titles)} projects" in every.text
    assert "app-table--cards" in every.text
    assert 'data-label="Remaining"' in every.text

    red = opcc.get("/projects?rag=red", headers=HTML)
    assert CCTV in red.text and EDUCATION not in red.text
    delivering = opcc.get("/projects?status=in_delivery&sort=awarded", headers=HTML)
    shown = re.findall(r'href="/projects/\d+">([^<]+)</a>', delivering.text)
    awarded = {
        p["title"]: p["amount_awarded_pence"]
        for p in client.get("/api/v1/projects?status=in_delivery", headers=login("opcc.staff")).json
    }
    assert [t.replace("&#39;", "'") for t in shown] == sorted(
        awarded, key=awarded.get, reverse=True
    )
    # A link edited by hand (not a choice on the list) shows every project, never a 500.
    assert opcc.get("/projects?rag=purple&fund=x", headers=HTML).status_code == 200


def test_the_downloads_are_served_with_the_page_session_and_need_one(app, client, login):
    opcc = signed_in(app, "opcc.staff")
    spreadsheet = opcc.get("/projects.csv?status=in_delivery")
    assert spreadsheet.status_code == 200 and spreadsheet.mimetype == "text/csv"
    assert "attachment" in spreadsheet.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(spreadsheet.get_data(as_text=True))))
    in_delivery = client.get("/api/v1/projects?status=in_delivery", headers=login("opcc.staff"))
    assert len(rows) == len(in_delivery.json)
    cctv = next(r for r in rows if r["Title"] == CCTV)
    assert cctv["Category"] == "CCTV" and cctv["Status"] == "In delivery"
    # The same file as the API's export.
    api = client.get("/api/v1/exports/projects.csv?status=in_delivery", headers=login("opcc.staff"))
    assert api.get_data(as_text=True) == spreadsheet.get_data(as_text=True)

    giving = opcc.get("/funding/360giving.json")
    assert giving.status_code == 200 and giving.mimetype == "application/json"
    assert giving.get_json()["grants"]

    stranger = app.test_client()
    assert stranger.get("/projects.csv").status_code == 303  # to the sign-in page
    assert stranger.get("/funding/360giving.json").status_code == 303


def test_a_title_a_spreadsheet_would_run_is_written_as_text(app, client, login):
    made = _project(client, login, CCTV)
    changed = client.patch(
        f"/api/v1/projects/{made['id']}",
        json={"title": '=HYPERLINK("http://evil.example")'},
        headers={**login("opcc.staff"), "If-Match": f'"{made["version"]}"'},
    )
    assert changed.status_code == 200
    rows = list(csv.reader(io.StringIO(signed_in(app, "opcc.staff").get("/projects.csv").text)))
    assert '\'=HYPERLINK("http://evil.example")' in [row[1] for row in rows]


# --- a project: words, quarters ------------------------------------------------------------------


def test_a_project_shows_words_and_financial_year_quarters(app, client, login):
    from partnership_api.web.presenters import quarter_words

    assert quarter_words("2026-Q2") == "Q1 2026-27 (April to June 2026)"
    assert quarter_words("2027-Q1") == "Q4 2026-27 (January to March 2027)"
    cctv = _project(client, login, CCTV)
    page = signed_in(app, "opcc.staff").get(f"/projects/{cctv['id']}", headers=HTML)
    assert page.status_code == 200
    assert "CCTV" in page.text and "Cctv" not in page.text
    assert ">None<" not in page.text and "Not given" in page.text  # no delivery partners
    assert "Financial-year quarters, April to March" in page.text
    assert re.search(
        r'<option value="\d{4}-Q[1-4]">Q[1-4] \d{4}-\d\d \(\w+ to \w+ \d{4}\)', page.text
    )


# --- milestones ----------------------------------------------------------------------------------


def test_a_delivery_partner_marks_a_milestone_done(app, client, login):
    project = _project(client, login, EDUCATION)
    milestone = _open_milestone(client, login, project["id"])
    path = f"/projects/{project['id']}/milestones/{milestone['id']}"
    partner = signed_in(app, "newera.staff")
    assert f'href="{path}"' in partner.get(f"/projects/{project['id']}", headers=HTML).text

    future = post_form(partner, path, {"done_on": ["1", "1", "2099"], "version": "1"})
    assert future.status_code == 400 and "today or in the past" in future.text
    assert (
        _api(client, login, f"{project['id']}/milestones/{milestone['id']}")["completed_on"] is None
    )

    page = partner.get(path, headers=HTML)
    version = re.search(r'name="version"[^>]*value="(\d+)"', page.text).group(1)
    done = partner.post(
        path,
        data={
            "done_on": ["3", "11", "2026"],
            "version": version,
            "csrf_token": csrf_token(page.text),
        },
        headers=HTML,
    )
    assert done.status_code == 303
    after = _api(client, login, f"{project['id']}/milestones/{milestone['id']}")
    assert after["completed_on"] == "2026-11-03"
    assert "Done 3 November 2026" in partner.get(f"/projects/{project['id']}", headers=HTML).text


def test_a_partner_not_delivering_the_project_cannot_mark_its_milestone(app, client, login, ids):
    project = _project(client, login, EDUCATION)
    milestone = _open_milestone(client, login, project["id"])
    path = f"/projects/{project['id']}/milestones/{milestone['id']}"
    hostile = signed_in(app, "swa.staff")  # SWA does not deliver it
    page = hostile.get(path, headers=HTML)
    assert page.status_code == 200 and "Mark as done</button>" not in page.text
    forged = hostile.post(
        path,
        data={
            "done_on": ["3", "11", "2026"],
            "version": str(milestone["version"]),
            "csrf_token": csrf_token(page.text),
        },
        headers=HTML,
    )
    assert forged.status_code == 403
    # Another project's milestone under this project's address is hidden.
    cctv = _project(client, login, CCTV)
    elsewhere = hostile.get(f"/projects/{cctv['id']}/milestones/{milestone['id']}", headers=HTML)
    assert elsewhere.status_code == 404
    assert (
        _api(client, login, f"{project['id']}/milestones/{milestone['id']}")["completed_on"] is None
    )


# --- correcting a quarter ------------------------------------------------------------------------


def _reported_line(client, login, project_id: int) -> dict:
    lines = _api(client, login, f"{project_id}/spend")
    return next(line for line in lines if line["actual_pence"] is not None)


def test_a_quarter_corrected_keeps_the_old_figure_in_its_history(app, client, login):
    project = _project(client, login, EDUCATION)
    line = _reported_line(client, login, project["id"])
    path = f"/projects/{project['id']}/spend/{line['period']}"
    partner = signed_in(app, "newera.staff")
    page = partner.get(path, headers=HTML)
    assert page.status_code == 200
    answer = partner.post(
        path,
        data={
            "actual": "99,000.01",
            "forecast": "",
            "version": str(line["version"]),
            "csrf_token": csrf_token(page.text),
        },
        headers=HTML,
    )
    assert answer.status_code == 303
    after = _api(client, login, f"{project['id']}/spend/{line['period']}")
    assert after["actual_pence"] == 9_900_001 and after["version"] == line["version"] + 1
    history = _api(client, login, f"{project['id']}/spend/{line['period']}/history")
    assert [h["change"] for h in history][-1] == "corrected"
    assert history[-1]["actual_pence"] == 9_900_001
    shown = partner.get(path, headers=HTML).text
    assert "£99,000.01" in shown and "Corrected" in shown and "New Era" in shown


def test_a_correction_from_a_page_read_before_a_colleagues_is_refused_not_saved(app, client, login):
    project = _project(client, login, EDUCATION)
    line = _reported_line(client, login, project["id"])
    path = f"/projects/{project['id']}/spend/{line['period']}"
    partner = signed_in(app, "newera.staff")
    page = partner.get(path, headers=HTML)
    colleague = client.patch(
        f"/api/v1/projects/{project['id']}/spend/{line['period']}",
        json={"actual_pence": 5_000_000},
        headers={**login("glow.staff"), "If-Match": f'"{line["version"]}"'},
    )
    assert colleague.status_code == 200
    stale = partner.post(
        path,
        data={
            "actual": "1.00",
            "version": str(line["version"]),
            "csrf_token": csrf_token(page.text),
        },
        headers=HTML,
    )
    assert stale.status_code == 409
    assert "Someone else changed this" in stale.text and 'value="50000.00"' in stale.text
    after = _api(client, login, f"{project['id']}/spend/{line['period']}")
    assert after["actual_pence"] == 5_000_000  # the colleague's figure stands


def test_bad_figures_write_nothing_and_police_cannot_correct(app, client, login):
    project = _project(client, login, EDUCATION)
    line = _reported_line(client, login, project["id"])
    path = f"/projects/{project['id']}/spend/{line['period']}"
    partner = signed_in(app, "newera.staff")
    bad = post_form(partner, path, {"actual": "lots", "version": str(line["version"])})
    assert bad.status_code == 400 and "govuk-error-summary" in bad.text
    assert 'href="#actual"' in bad.text  # the summary links to the field
    police = signed_in(app, "police.officer")
    forged = post_form(police, path, {"actual": "1", "version": str(line["version"])})
    assert forged.status_code == 403
    assert _api(client, login, f"{project['id']}/spend/{line['period']}") == line


# --- outputs -------------------------------------------------------------------------------------


def test_a_delivery_partner_adds_and_records_outputs_but_not_their_targets(app, client, login):
    project = _project(client, login, EDUCATION)
    base = f"/projects/{project['id']}"
    partner = signed_in(app, "newera.staff")
    bad = post_form(
        partner, f"{base}/outputs", {"metric": "leaflets", "unit": "x", "target": "ten"}, base
    )
    assert bad.status_code == 400 and "as a whole number" in bad.text
    assert len(_api(client, login, f"{project['id']}/outputs")) == 1
    added = post_form(
        partner,
        f"{base}/outputs",
        {"metric": "parents reached", "unit": "parents", "target": "200", "delivered": "12"},
        base,
    )
    assert added.status_code == 303
    made = next(
        o for o in _api(client, login, f"{project['id']}/outputs") if o["unit"] == "parents"
    )
    assert (made["target"], made["actual"]) == (200, 12)

    path = f"{base}/outputs/{made['id']}"
    page = partner.get(path, headers=HTML)
    assert 'name="target"' not in page.text  # the commissioner's to change
    recorded = partner.post(
        path,
        data={
            "actual": "1,250",
            "target": "1",
            "version": str(made["version"]),
            "csrf_token": csrf_token(page.text),
        },
        headers=HTML,
    )
    assert recorded.status_code == 303
    after = _api(client, login, f"{project['id']}/outputs/{made['id']}")
    assert (after["target"], after["actual"]) == (200, 1250)  # the target stayed

    opcc = signed_in(app, "opcc.staff")
    target = post_form(
        opcc, path, {"actual": "1250", "target": "300", "version": str(after["version"])}
    )
    assert target.status_code == 303
    assert _api(client, login, f"{project['id']}/outputs/{made['id']}")["target"] == 300


# --- users ---------------------------------------------------------------------------------------


def test_users_are_one_row_each_with_last_sign_in_searchable(app, client, login, ids):
    admin = signed_in(app, "swa.admin")  # signing in sets swa.admin's last sign-in
    page = admin.get("/users", headers=HTML)
    assert page.status_code == 200
    assert page.text.count('<tr class="govuk-table__row">') == 3  # header + swa.staff, swa.admin
    assert f'href="/users/{ids.user["swa.staff"]}"' in page.text
    assert "Never signed in" in page.text and re.search(r"\d{4} at \d", page.text)
    assert "<form" not in page.text.split("<table")[1].split("</table>")[0]  # no forms per row
    found = admin.get("/users?search=STAFF", headers=HTML)
    assert "swa.staff" in found.text and f'/users/{ids.user["swa.admin"]}"' not in found.text

    partnership = signed_in(app, "partnership.admin")
    glow = partnership.get(f"/users?organisation={ids.org['Glow']}", headers=HTML)
    assert "glow.staff" in glow.text and "swa.staff" not in glow.text
    assert admin.get(f"/users/{ids.user['glow.staff']}", headers=HTML).status_code == 404


def test_deactivating_a_user_asks_first_and_keeps_the_reason(app, client, login, ids):
    from partnership_api.models.audit import AuditEvent
    from partnership_api.models.partnership import User

    staff = ids.user["swa.staff"]
    admin = signed_in(app, "swa.admin")
    page = admin.get(f"/users/{staff}", headers=HTML)
    assert f'href="/users/{staff}/deactivate"' in page.text
    confirm = admin.get(f"/users/{staff}/deactivate", headers=HTML)
    assert "Are you sure you want to deactivate swa.staff?" in confirm.text

    no_reason = post_form(admin, f"/users/{staff}/deactivate", {"reason": " "})
    assert no_reason.status_code == 400 and "Enter why" in no_reason.text
    assert _query(app, sa.select(User.active).where(User.id == staff)) == [(True,)]

    done = post_form(admin, f"/users/{staff}/deactivate", {"reason": "Left the service"})
    assert done.status_code == 303
    assert _query(app, sa.select(User.active).where(User.id == staff)) == [(False,)]
    details = _query(
        app,
        sa.select(AuditEvent.details)
        .where(AuditEvent.action == "user.update", AuditEvent.resource_id == str(staff))
        .order_by(AuditEvent.id.desc()),
    )[0][0]
    assert details["reason"] == "Left the service"

    page = admin.get(f"/users/{staff}", headers=HTML)
    button = re.search(r"<button[^>]*>\s*Reactivate swa.staff\s*</button>", page.text).group(0)
    assert "govuk-button--secondary" in button and "warning" not in button
    back = post_form(admin, f"/users/{staff}/reactivate", {}, form_page=f"/users/{staff}")
    assert back.status_code == 303
    assert _query(app, sa.select(User.active).where(User.id == staff)) == [(True,)]


def test_the_last_admin_is_not_deactivated_and_the_page_says_why(app, ids):
    from partnership_api.models.partnership import User

    me = ids.user["swa.admin"]  # SWA's only admin, forging the form for themselves
    admin = signed_in(app, "swa.admin")
    answer = post_form(admin, f"/users/{me}/deactivate", {"reason": "testing"})
    assert answer.status_code == 400
    assert "last active admin" in answer.text and "govuk-error-summary" in answer.text
    assert _query(app, sa.select(User.active).where(User.id == me)) == [(True,)]


def test_a_password_reset_error_names_the_user(app, ids):
    staff = ids.user["swa.staff"]
    admin = signed_in(app, "swa.admin")
    short = post_form(
        admin, f"/users/{staff}/password", {"password": "short"}, form_page=f"/users/{staff}"
    )
    assert short.status_code == 400
    assert "The password of swa.staff was not reset" in short.text
    assert 'href="#password"' in short.text
    assert signed_in(app, "swa.staff")  # the old password still works


def test_staff_and_other_organisations_admins_cannot_use_the_user_pages(app, ids):
    staff = ids.user["swa.staff"]
    assert signed_in(app, "glow.staff").get(f"/users/{staff}", headers=HTML).status_code == 403
    other = signed_in(app, "newera.admin")
    assert other.get(f"/users/{staff}/deactivate", headers=HTML).status_code == 404


def test_the_commissioner_cancels_a_project_only_with_a_reason(app, client, login):
    project = _project(client, login, CCTV)
    path = f"/projects/{project['id']}"
    opcc = signed_in(app, "opcc.staff")
    form = {"version": str(project["version"]), "status": "cancelled", "rag_delivery": "amber"}
    form |= {"rag_spend": "red", "rag_risk": "amber"}
    silent = post_form(opcc, f"{path}/status", form, form_page=path)
    assert silent.status_code == 400
    assert "Say why the project is cancelled." in silent.text
    assert 'href="#cancellation_reason"' in silent.text
    assert _project(client, login, CCTV)["status"] == "in_delivery"
    reason = {**form, "cancellation_reason": "The council withdrew the sites."}
    assert post_form(opcc, f"{path}/status", reason, form_page=path).status_code == 303
    cancelled = _project(client, login, CCTV)
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancellation_reason"] == "The council withdrew the sites."
    # Back to planned is refused, in words.
    again = {**form, "version": str(cancelled["version"]), "status": "planned"}
    refused = post_form(opcc, f"{path}/status", again, form_page=path)
    assert refused.status_code == 400
    summary = re.findall(r'<a href="#status">([^<]+)</a>', refused.text)
    assert summary == ["Current status: cancelled."], summary
    assert _project(client, login, CCTV)["status"] == "cancelled"  # still
