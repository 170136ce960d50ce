"""Refuge availability and bed search, told by the refuges' staff and the officers who search."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from partnership_api.models.audit import AuditEvent
from partnership_api.models.base import utcnow
from partnership_api.models.beds import (
    AvailabilityReport,
    BedSearchGeneration,
    BedSpace,
    RefugeAvailability,
)
from tests.conftest import is_postgres
from tests.factories import GLOW_REFUGE, PATHWAY_REFUGE, SWA_REFUGE, bed_search, refuge_names

ADDRESSES = {
    SWA_REFUGE: "14 Demo Secret Row",
    GLOW_REFUGE: "3 Hidden Demo Lane",
    PATHWAY_REFUGE: "27 Confidential Demo Close",
}
REFUGE_ORG = {
    SWA_REFUGE: "Staffordshire Women's Aid",
    GLOW_REFUGE: "Glow",
    PATHWAY_REFUGE: "Pathway",
}


def availability(client, headers, refuge_id):
    response = client.get(f"/api/v1/refuges/{refuge_id}/availability", headers=headers)
    assert response.status_code == 200
    return response


def space(body, space_type):
    return next(s for s in body["spaces"] if s["space_type"] == space_type)


# --- reading availability ------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["police.officer", "police.analyst", "opcc.analyst"])
def test_anyone_signed_in_sees_every_refuge_with_its_availability(client, login, username):
    response = client.get("/api/v1/refuges", headers=login(username))
    assert response.status_code == 200
    refuges = {r["name"]: r for r in response.get_json()}
    assert set(refuges) == {SWA_REFUGE, GLOW_REFUGE, PATHWAY_REFUGE}
    glow = refuges[GLOW_REFUGE]
    assert glow["facilities"]["max_children"] == 3
    assert space(glow["availability"], "family") == {
        "space_type": "family",
        "total": 2,
        "vacant": 1,
        "held": 0,
        "available": 1,
        "overcommitted": 0,
    }
    assert glow["availability"]["stale"] is False
    assert all("address" not in r for r in refuges.values())


def test_refuges_filter_by_area(client, login):
    response = client.get("/api/v1/refuges?area=E07000199", headers=login("police.officer"))
    assert [r["name"] for r in response.get_json()] == [PATHWAY_REFUGE]


def test_signed_out_callers_see_nothing(client, ids):
    assert client.get("/api/v1/refuges").status_code == 401
    assert client.get(f"/api/v1/refuges/{ids.service[GLOW_REFUGE]}/availability").status_code == 401
    assert client.get("/api/v1/beds/search").status_code == 401


def test_availability_of_something_that_is_not_a_refuge_is_not_found(client, login, ids):
    h = login("police.officer")
    helpline = ids.service["New Era helpline"]
    assert client.get(f"/api/v1/refuges/{helpline}/availability", headers=h).status_code == 404
    assert client.get("/api/v1/refuges/999999/availability", headers=h).status_code == 404
    assert client.get("/api/v1/refuges/999999/availability/history", headers=h).status_code == 404


# --- reporting availability ----------------------------------------------------------------------


def test_refuge_staff_report_with_the_etag_they_read(client, login, ids, db_session):
    h = login("swa.staff")
    refuge = ids.service[SWA_REFUGE]
    before = availability(client, h, refuge)
    etag = before.headers["ETag"]
    report = {
        "spaces": [
            {"space_type": "single", "total": 4, "vacant": 2},
            {"space_type": "family", "total": 3, "vacant": 0},
        ]
    }
    response = client.put(
        f"/api/v1/refuges/{refuge}/availability", json=report, headers={**h, "If-Match": etag}
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert response.headers["ETag"] != etag
    assert body["updated_by"] == "swa.staff" and body["stale"] is False
    # The report is the whole picture: the accessible space it left out is gone.
    assert [s["space_type"] for s in body["spaces"]] == ["single", "family"]
    assert space(body, "single")["available"] == 2
    assert (
        availability(client, login("police.officer"), refuge).headers["ETag"]
        == (response.headers["ETag"])
    )

    # Every report is kept, newest first.
    history = client.get(f"/api/v1/refuges/{refuge}/availability/history", headers=h)
    assert history.status_code == 200
    reports = history.get_json()
    assert [r["version"] for r in reports] == [2, 1]
    assert reports[0]["reported_by"] == "swa.staff"
    assert reports[0]["spaces"] == report["spaces"]
    paged = client.get(
        f"/api/v1/refuges/{refuge}/availability/history?page_size=1&page=2",
        headers=login("police.officer"),
    )
    assert [r["version"] for r in paged.get_json()] == [1]
    assert '"total": 2' in paged.headers["X-Pagination"]

    event = db_session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "availability.report")
    ).one()
    assert event.resource_id == str(refuge)
    assert event.subject_organisation_id == ids.org["Staffordshire Women's Aid"]
    assert event.details["version"] == 2


def test_an_org_admin_reports_too(client, login, ids):
    h = login("swa.admin")
    refuge = ids.service[SWA_REFUGE]
    etag = availability(client, h, refuge).headers["ETag"]
    response = client.put(
        f"/api/v1/refuges/{refuge}/availability",
        json={"spaces": [{"space_type": "family", "total": 3, "vacant": 3}]},
        headers={**h, "If-Match": etag},
    )
    assert response.status_code == 200


def test_a_report_without_if_match_is_refused_with_428(client, login, ids):
    h = login("swa.staff")
    refuge = ids.service[SWA_REFUGE]
    body = {"spaces": [{"space_type": "family", "total": 3, "vacant": 3}]}
    assert (
        client.put(f"/api/v1/refuges/{refuge}/availability", json=body, headers=h).status_code
        == 428
    )
    star = client.put(
        f"/api/v1/refuges/{refuge}/availability", json=body, headers={**h, "If-Match": "*"}
    )
    assert star.status_code == 428


def test_a_report_on_a_stale_etag_is_refused_with_412(client, login, ids):
    h = login("swa.staff")
    refuge = ids.service[SWA_REFUGE]
    etag = availability(client, h, refuge).headers["ETag"]
    body = {"spaces": [{"space_type": "family", "total": 3, "vacant": 2}]}
    url = f"/api/v1/refuges/{refuge}/availability"
    assert client.put(url, json=body, headers={**h, "If-Match": etag}).status_code == 200
    again = client.put(url, json=body, headers={**h, "If-Match": etag})
    assert again.status_code == 412
    # Another refuge's ETag of the same version does not fit either.
    glow_etag = availability(client, h, ids.service[GLOW_REFUGE]).headers["ETag"]
    assert client.put(url, json=body, headers={**h, "If-Match": glow_etag}).status_code == 412
    assert client.put(url, json=body, headers={**h, "If-Match": '"nonsense"'}).status_code == 412


def test_a_refused_report_writes_nothing_at_all(client, login, ids, db_session):
    h = login("swa.staff")
    refuge = ids.service[SWA_REFUGE]
    url = f"/api/v1/refuges/{refuge}/availability"
    etag = availability(client, h, refuge).headers["ETag"]
    body = {"spaces": [{"space_type": "single", "total": 5, "vacant": 5}]}
    assert client.put(url, json=body, headers={**h, "If-Match": etag}).status_code == 200
    shown = availability(client, h, refuge).get_json()
    reports = db_session.scalar(sa.select(sa.func.count()).select_from(AvailabilityReport))

    stale = {"spaces": [{"space_type": "family", "total": 9, "vacant": 9}]}
    assert client.put(url, json=stale, headers={**h, "If-Match": etag}).status_code == 412
    db_session.rollback()
    assert availability(client, h, refuge).get_json() == shown
    assert db_session.scalar(sa.select(sa.func.count()).select_from(AvailabilityReport)) == reports


def test_a_refuge_reports_having_no_spaces_at_all(client, login, ids):
    h = login("swa.staff")
    refuge = ids.service[SWA_REFUGE]
    etag = availability(client, h, refuge).headers["ETag"]
    response = client.put(
        f"/api/v1/refuges/{refuge}/availability",
        json={"spaces": []},
        headers={**h, "If-Match": etag},
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["spaces"] == []
    assert availability(client, h, refuge).get_json()["spaces"] == []


def test_a_refuges_first_report_uses_the_etag_of_no_report(client, login, ids, db_session):
    db_session.execute(sa.delete(AvailabilityReport))
    db_session.execute(sa.delete(RefugeAvailability))
    db_session.commit()
    h = login("glow.staff")
    refuge = ids.service[GLOW_REFUGE]
    etag = availability(client, h, refuge).headers["ETag"]
    assert etag.endswith('-v0"')
    body = {"spaces": [{"space_type": "family", "total": 2, "vacant": 1}]}
    url = f"/api/v1/refuges/{refuge}/availability"
    first = client.put(url, json=body, headers={**h, "If-Match": etag})
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["version"] == 1 and first.get_json()["updated_by"] == "glow.staff"
    assert client.put(url, json=body, headers={**h, "If-Match": etag}).status_code == 412


@pytest.mark.parametrize(
    ("username", "status"),
    [
        ("glow.staff", 403),  # another refuge's staff
        ("police.officer", 403),
        ("opcc.staff", 403),
        ("newera.admin", 403),
        ("partnership.admin", 403),
    ],
)
def test_only_the_refuges_own_staff_report_its_availability(client, login, ids, username, status):
    refuge = ids.service[SWA_REFUGE]
    h = login(username)
    etag = availability(client, h, refuge).headers["ETag"]
    response = client.put(
        f"/api/v1/refuges/{refuge}/availability",
        json={"spaces": [{"space_type": "family", "total": 30, "vacant": 30}]},
        headers={**h, "If-Match": etag},
    )
    assert response.status_code == status
    assert space(availability(client, h, refuge).get_json(), "family")["total"] == 3


@pytest.mark.parametrize(
    "spaces",
    [
        [{"space_type": "family", "total": 2, "vacant": 3}],  # more vacant than exist
        [{"space_type": "family", "total": 2, "vacant": -1}],
        [{"space_type": "family", "total": -1, "vacant": 0}],
        [{"space_type": "penthouse", "total": 1, "vacant": 1}],
        [{"space_type": "family", "total": 2}],
        [{"space_type": "family", "total": 2, "vacant": 1, "address": "x"}],
        [
            {"space_type": "family", "total": 2, "vacant": 1},
            {"space_type": "family", "total": 3, "vacant": 1},
        ],
    ],
)
def test_impossible_figures_are_refused_with_422(client, login, ids, spaces):
    h = login("glow.staff")
    refuge = ids.service[GLOW_REFUGE]
    etag = availability(client, h, refuge).headers["ETag"]
    response = client.put(
        f"/api/v1/refuges/{refuge}/availability",
        json={"spaces": spaces},
        headers={**h, "If-Match": etag},
    )
    assert response.status_code == 422
    assert availability(client, h, refuge).headers["ETag"] == etag


def test_a_report_older_than_the_limit_is_stale(client, login, ids, db_session, app):
    h = login("police.officer")
    glow = ids.service[GLOW_REFUGE]
    assert bed_search(client, h, "?nrpf=true")[0]["stale"] is False
    limit = app.config["AVAILABILITY_STALE_AFTER"]
    report = db_session.get(RefugeAvailability, glow)
    report.updated_at = utcnow() - limit - timedelta(minutes=1)
    db_session.commit()
    assert availability(client, h, glow).get_json()["stale"] is True
    refuges = {r["name"]: r for r in client.get("/api/v1/refuges", headers=h).get_json()}
    assert refuges[GLOW_REFUGE]["availability"]["stale"] is True
    assert refuges[SWA_REFUGE]["availability"]["stale"] is False
    # Search still shows it, flagged, after the fresher refuges.
    results = bed_search(client, h, "?space_type=family")
    assert refuge_names(results, ids) == [SWA_REFUGE, GLOW_REFUGE]
    assert [r["stale"] for r in results] == [False, True]


def test_search_notices_a_report_turning_stale_with_no_change_at_all(
    client, login, ids, app, monkeypatch
):
    h = login("police.officer")
    assert [r["stale"] for r in bed_search(client, h, "?space_type=family")] == [False, False]
    later = utcnow() + app.config["AVAILABILITY_STALE_AFTER"] + timedelta(minutes=1)
    monkeypatch.setattr("partnership_api.services.bed_search.utcnow", lambda: later)
    assert [r["stale"] for r in bed_search(client, h, "?space_type=family")] == [True, True]


def test_a_refuge_that_never_reported_is_stale(client, login, ids, db_session):
    for row in db_session.scalars(sa.select(RefugeAvailability)):
        db_session.delete(row)
    db_session.execute(sa.delete(AvailabilityReport))
    db_session.commit()
    body = availability(client, login("police.officer"), ids.service[GLOW_REFUGE]).get_json()
    assert body["stale"] is True and body["updated_at"] is None


@pytest.mark.skipif(not is_postgres(), reason="real concurrent writers need PostgreSQL")
def test_ten_reports_with_the_same_etag_make_exactly_one_change(app, client, login, ids):
    h = login("swa.staff")
    refuge = ids.service[SWA_REFUGE]
    etag = availability(client, h, refuge).headers["ETag"]
    barrier = threading.Barrier(10)
    statuses: list[int] = []

    def report(n: int) -> None:
        own = app.test_client()
        barrier.wait()
        response = own.put(
            f"/api/v1/refuges/{refuge}/availability",
            json={"spaces": [{"space_type": "single", "total": 10, "vacant": n}]},
            headers={**h, "If-Match": etag},
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=report, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] + [412] * 9
    history = client.get(f"/api/v1/refuges/{refuge}/availability/history", headers=h).get_json()
    assert [r["version"] for r in history] == [2, 1]
    assert availability(client, h, refuge).get_json()["version"] == 2


# --- bed search ----------------------------------------------------------------------------------
# The demo refuges: SWA single 4/1, family 3/1, accessible 1/0 (4 children, sons to 16,
# wheelchair); Glow single 2/0, family 2/1 (3 children, sons to 14, NRPF, pets); Pathway single
# 3/2, family 2/0, accessible 1/1 (2 children, sons to 12, wheelchair).


def test_search_without_filters_shows_every_refuge_with_a_space_free(client, login, ids):
    results = bed_search(client, login("opcc.analyst"))
    assert sorted(refuge_names(results, ids)) == sorted([SWA_REFUGE, GLOW_REFUGE, PATHWAY_REFUGE])
    pathway = next(r for r in results if r["refuge_id"] == ids.service[PATHWAY_REFUGE])
    assert pathway["spaces"] == [
        {"space_type": "single", "available": 2},
        {"space_type": "accessible", "available": 1},
    ]
    assert set(pathway) == {
        "refuge_id",
        "name",
        "organisation_id",
        "areas",
        "facilities",
        "spaces",
        "updated_at",
        "stale",
    }


def test_search_by_area_one_or_several(client, login, ids):
    h = login("police.officer")
    assert refuge_names(bed_search(client, h, "?area=E07000194"), ids) == [PATHWAY_REFUGE]
    both = bed_search(client, h, "?area=E07000194&area=E06000021")
    assert sorted(refuge_names(both, ids)) == sorted([PATHWAY_REFUGE, GLOW_REFUGE])
    assert bed_search(client, h, "?area=E07000193") == []  # East Staffordshire has no refuge


def test_search_keeps_out_the_perpetrators_area(client, login, ids):
    h = login("police.officer")
    results = refuge_names(bed_search(client, h, "?exclude_area=E07000197"), ids)
    assert SWA_REFUGE not in results and sorted(results) == sorted([GLOW_REFUGE, PATHWAY_REFUGE])
    results = refuge_names(
        bed_search(client, h, "?exclude_area=E07000197&exclude_area=E07000199"), ids
    )
    assert results == [GLOW_REFUGE]


def test_search_by_space_type(client, login, ids):
    h = login("police.officer")
    family = bed_search(client, h, "?space_type=family")
    assert sorted(refuge_names(family, ids)) == sorted([SWA_REFUGE, GLOW_REFUGE])
    assert all(r["spaces"] == [{"space_type": "family", "available": 1}] for r in family)
    assert refuge_names(bed_search(client, h, "?space_type=accessible"), ids) == [PATHWAY_REFUGE]


def test_a_family_with_three_children_and_a_son_of_fourteen(client, login, ids):
    h = login("police.officer")
    assert sorted(refuge_names(bed_search(client, h, "?children=3"), ids)) == sorted(
        [SWA_REFUGE, GLOW_REFUGE]
    )
    assert refuge_names(bed_search(client, h, "?children=4"), ids) == [SWA_REFUGE]
    assert sorted(
        refuge_names(bed_search(client, h, "?children=3&oldest_son_age=14"), ids)
    ) == sorted([SWA_REFUGE, GLOW_REFUGE])
    assert refuge_names(bed_search(client, h, "?children=3&oldest_son_age=15"), ids) == [SWA_REFUGE]
    assert bed_search(client, h, "?children=1&oldest_son_age=17") == []


def test_search_for_a_wheelchair_user(client, login, ids):
    h = login("police.officer")
    # SWA is accessible but its one accessible space is taken; Glow is not accessible.
    results = bed_search(client, h, "?wheelchair=true")
    assert refuge_names(results, ids) == [PATHWAY_REFUGE]
    assert results[0]["spaces"] == [{"space_type": "accessible", "available": 1}]
    assert refuge_names(bed_search(client, h, "?wheelchair=true&space_type=family"), ids) == [
        SWA_REFUGE
    ]


def test_search_for_nrpf_and_pets(client, login, ids):
    h = login("police.officer")
    assert refuge_names(bed_search(client, h, "?nrpf=true"), ids) == [GLOW_REFUGE]
    assert refuge_names(bed_search(client, h, "?pets=true"), ids) == [GLOW_REFUGE]
    assert len(bed_search(client, h, "?nrpf=false&pets=false")) == 3


def test_search_shows_the_freshest_reports_first(client, login, ids):
    h = login("pathway.staff")
    refuge = ids.service[PATHWAY_REFUGE]
    etag = availability(client, h, refuge).headers["ETag"]
    response = client.put(
        f"/api/v1/refuges/{refuge}/availability",
        json={"spaces": [{"space_type": "family", "total": 2, "vacant": 2}]},
        headers={**h, "If-Match": etag},
    )
    assert response.status_code == 200
    results = bed_search(client, login("police.officer"), "?space_type=family")
    assert refuge_names(results, ids)[0] == PATHWAY_REFUGE
    assert results[0]["spaces"] == [{"space_type": "family", "available": 2}]


def test_a_full_refuge_drops_out_of_search_at_once(client, login, ids):
    officer = login("police.officer")
    assert GLOW_REFUGE in refuge_names(bed_search(client, officer, "?space_type=family"), ids)
    h = login("glow.staff")
    refuge = ids.service[GLOW_REFUGE]
    etag = availability(client, h, refuge).headers["ETag"]
    client.put(
        f"/api/v1/refuges/{refuge}/availability",
        json={"spaces": [{"space_type": "family", "total": 2, "vacant": 0}]},
        headers={**h, "If-Match": etag},
    )
    assert refuge_names(bed_search(client, officer, "?space_type=family"), ids) == [SWA_REFUGE]


def test_a_changed_facility_shows_in_search_at_once(client, login, ids):
    officer = login("police.officer")
    assert refuge_names(bed_search(client, officer, "?pets=true"), ids) == [GLOW_REFUGE]
    admin = login("swa.admin")
    url = f"/api/v1/services/{ids.service[SWA_REFUGE]}"
    changed = client.patch(
        url,
        json={
            "facilities": {
                "max_children": 4,
                "max_son_age": 16,
                "wheelchair_accessible": True,
                "accepts_nrpf": False,
                "accepts_pets": True,
                "women_only": True,
                "languages": ["English"],
            }
        },
        headers={**admin, "If-Match": client.get(url, headers=admin).headers["ETag"]},
    )
    assert changed.status_code == 200
    assert sorted(refuge_names(bed_search(client, officer, "?pets=true"), ids)) == sorted(
        [GLOW_REFUGE, SWA_REFUGE]
    )


def test_a_change_committed_by_another_app_server_shows_at_once(client, login, ids, db_session):
    # Another server's transaction changes the spaces and bumps the generation number with
    # them; this process's cached answer must not survive it.
    officer = login("police.officer")
    assert GLOW_REFUGE in refuge_names(bed_search(client, officer, "?space_type=family"), ids)
    db_session.execute(
        sa.update(BedSpace)
        .where(BedSpace.service_id == ids.service[GLOW_REFUGE], BedSpace.space_type == "family")
        .values(vacant=0)
    )
    db_session.execute(
        sa.update(BedSearchGeneration).values(generation=BedSearchGeneration.generation + 1)
    )
    db_session.commit()
    assert refuge_names(bed_search(client, officer, "?space_type=family"), ids) == [SWA_REFUGE]


@pytest.mark.parametrize(
    "query",
    ["?area=E99999999", "?children=-1", "?space_type=palace", "?wheelchair=maybe", "?colour=red"],
)
def test_search_refuses_nonsense_with_422(client, login, query):
    response = client.get(f"/api/v1/beds/search{query}", headers=login("police.officer"))
    assert response.status_code == 422


# --- a refuge's address never leaves its own organisation ----------------------------------------


@pytest.mark.parametrize(
    "username",
    ["police.officer", "opcc.analyst", "newera.staff", "glow.staff", "pathway.staff", "swa.staff"],
)
def test_no_answer_carries_another_refuges_address(client, login, ids, username):
    h = login(username)
    org = client.get("/api/v1/me", headers=h).get_json()["organisation"]["name"]
    urls = ["/api/v1/refuges", "/api/v1/beds/search", "/api/v1/services?kind=refuge"]
    urls += ["/api/v1/services", "/api/v1/beds/search?children=1"]
    for refuge in (SWA_REFUGE, GLOW_REFUGE, PATHWAY_REFUGE):
        rid = ids.service[refuge]
        urls += [
            f"/api/v1/refuges/{rid}/availability",
            f"/api/v1/refuges/{rid}/availability/history",
            f"/api/v1/services/{rid}",
        ]
    for url in urls:
        response = client.get(url, headers=h)
        assert response.status_code == 200, url
        text = response.get_data(as_text=True)
        for refuge, address in ADDRESSES.items():
            if REFUGE_ORG[refuge] != org:
                assert address not in text, (url, refuge)
            elif "/services" not in url:
                # Not even its own staff get it from the bed pages.
                assert address not in text, (url, refuge)


def test_the_refuges_list_pages(client, login):
    h = login("police.officer")
    first = client.get("/api/v1/refuges?page=1&page_size=2", headers=h)
    assert first.status_code == 200 and len(first.get_json()) == 2
    second = client.get("/api/v1/refuges?page=2&page_size=2", headers=h)
    assert [r["name"] for r in second.get_json()] == [SWA_REFUGE]
