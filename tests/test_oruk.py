"""The public directory (/oruk), told by a member of the public with no token, a national
directory crawling it, a careless admin, and a hostile caller.

Every answer is checked against the Open Referral UK schemas in tests/data/oruk (copied from
the project's shared data), with formats checked, and for fields the profile does not declare.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = Path(__file__).resolve().parent / "data" / "oruk"
PROFILE = "https://raw.githubusercontent.com/openreferral/uk-profile/main/schema"
OPENAPI_URI = "urn:oruk:openapi.json"
ANONYMOUS = {"REMOTE_ADDR": "198.51.100.20"}

# --- the schemas, their $refs resolved locally ---------------------------------------------


def _load(name: str) -> dict:
    return json.loads((SCHEMAS / name).read_text())


def _resource(contents: dict) -> Resource:
    return Resource.from_contents(contents, default_specification=DRAFT202012)


# The folder has no taxonomy.json: these are the HSDS 3.0 taxonomy's fields and requirements.
TAXONOMY = {
    "type": "object",
    "required": ["id", "name", "description"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "name": {"type": "string"},
        "description": {"type": "string"},
        "uri": {"type": "string", "format": "uri"},
        "version": {"type": "string"},
    },
}
TERM_POINTER = "#/properties/attributes/items/properties/taxonomy_term"

COMPILED = (
    "service.json",
    "service_list.json",
    "service_at_location.json",
    "service_at_location_list.json",
    "organization.json",
    "organization_list.json",
)
REGISTRY = Registry().with_resources(
    [(f"{PROFILE}/compiled/{name}", _resource(_load(name))) for name in COMPILED]
    + [
        (OPENAPI_URI, _resource(_load("openapi.json"))),
        (f"{PROFILE}/taxonomy.json", _resource(TAXONOMY)),
        # the taxonomy term schema nested in service.json, by reference (not a copy)
        (
            f"{PROFILE}/taxonomy_term.json",
            _resource({"$ref": f"{PROFILE}/compiled/service.json{TERM_POINTER}"}),
        ),
    ]
)


def _validator(ref: str) -> Draft202012Validator:
    return Draft202012Validator(
        {"$ref": ref}, registry=REGISTRY, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def _profile_response(path: str) -> Draft202012Validator:
    """The 200 answer's schema in the profile's own openapi.json (the paged wrapper too)."""
    pointer = path.replace("~", "~0").replace("/", "~1")
    return _validator(
        f"{OPENAPI_URI}#/paths/{pointer}/get/responses/200/content/application~1json/schema"
    )


VALIDATORS = {
    "service": _validator(f"{PROFILE}/compiled/service.json"),
    "service_list": _validator(f"{PROFILE}/compiled/service_list.json"),
    "service_at_location": _validator(f"{PROFILE}/compiled/service_at_location.json"),
    "service_at_location_list": _validator(f"{PROFILE}/compiled/service_at_location_list.json"),
    "taxonomy": _validator(f"{PROFILE}/taxonomy.json"),
    "taxonomy_term": _validator(f"{PROFILE}/taxonomy_term.json"),
    "about": _profile_response("/"),
    "services_page": _profile_response("/services"),
    "service_at_locations_page": _profile_response("/service_at_locations"),
    "taxonomies_page": _profile_response("/taxonomies"),
    "taxonomy_terms_page": _profile_response("/taxonomy_terms"),
}
SCHEMA_OF = {
    "service": _load("service.json"),
    "service_list": _load("service_list.json"),
    "service_at_location": _load("service_at_location.json"),
    "service_at_location_list": _load("service_at_location_list.json"),
    "taxonomy": TAXONOMY,
    "taxonomy_term": REGISTRY.resolver()
    .lookup(f"{PROFILE}/compiled/service.json{TERM_POINTER}")
    .contents,
}
# HSDS 3.0 fields that the profile's compiled schemas leave out, written on purpose.
HSDS_EXTRAS = {
    "phones",
    "eligibility_description",
    "languages[].name",
    "attributes[].taxonomy_term.code",
    "taxonomy_term.code",
}
PAGE_KEYS = {
    "total_items": int,
    "total_pages": int,
    "page_number": int,
    "size": int,
    "first_page": bool,
    "last_page": bool,
    "empty": bool,
    "contents": list,
}


def undeclared(instance, schema: dict, where: str = "") -> set[str]:
    """Keys written that the schema does not declare (the schemas allow any; we do not)."""
    found: set[str] = set()
    if isinstance(instance, dict) and "properties" in schema:
        for key, value in instance.items():
            path = f"{where}.{key}" if where else key
            if key not in schema["properties"]:
                found.add(path)
            else:
                found |= undeclared(value, schema["properties"][key], path)
    elif isinstance(instance, list) and "items" in schema:
        for item in instance:
            found |= undeclared(item, schema["items"], f"{where}[]")
    return found


def check(kind: str, instance) -> None:
    errors = sorted(VALIDATORS[kind].iter_errors(instance), key=str)
    assert not errors, f"{kind}: {errors[0].message} at {list(errors[0].absolute_path)}"
    if kind in SCHEMA_OF:
        where = "taxonomy_term" if kind == "taxonomy_term" else ""
        extra = {
            path.removeprefix("service.") for path in undeclared(instance, SCHEMA_OF[kind], where)
        }
        assert extra <= HSDS_EXTRAS, f"{kind} writes undeclared fields: {sorted(extra)}"


def check_page(kind: str, item_kind: str, body: dict) -> None:
    check(kind, body)
    assert {key: type(body[key]) for key in PAGE_KEYS} == PAGE_KEYS, body.keys()
    for item in body["contents"]:
        check(item_kind, item)


# --- a crawl of every /oruk path ----------------------------------------------------------


def get(client, path: str, **kwargs):
    response = client.get(path, environ_base=ANONYMOUS, **kwargs)
    assert response.is_json or response.status_code == 304, (path, response.status_code)
    return response


def crawl(client, per_page: int | None = None) -> list:
    """Every answer of every /oruk path, each validated; returns the responses."""
    seen = []

    def fetch(path: str, kind: str | None = None, page: tuple[str, str] | None = None):
        response = get(client, path)
        assert response.status_code == 200, (path, response.get_json())
        body = response.get_json()
        if page:
            check_page(page[0], page[1], body)
        elif kind:
            check(kind, body)
        seen.append(response)
        return body

    about = fetch("/oruk/", "about")
    assert about["openapi_url"].endswith("/oruk/openapi.json")
    fetch("/oruk/openapi.json")

    def pages(path: str, page: tuple[str, str]) -> list:
        items, number = [], 1
        while True:
            size = f"&per_page={per_page}" if per_page else ""
            body = fetch(f"{path}?page={number}{size}", page=page)
            items += body["contents"]
            if body["last_page"]:
                assert len(items) == body["total_items"]
                return items
            number += 1

    for item in pages("/oruk/services", ("services_page", "service_list")):
        fetch(f"/oruk/services/{item['id']}", "service")
    for item in pages(
        "/oruk/service_at_locations", ("service_at_locations_page", "service_at_location_list")
    ):
        fetch(f"/oruk/service_at_locations/{item['id']}", "service_at_location")
    for item in pages("/oruk/taxonomies", ("taxonomies_page", "taxonomy")):
        fetch(f"/oruk/taxonomies/{item['id']}", "taxonomy")
    for item in pages("/oruk/taxonomy_terms", ("taxonomy_terms_page", "taxonomy_term")):
        fetch(f"/oruk/taxonomy_terms/{item['id']}", "taxonomy_term")
    return seen


def all_services(client) -> list[dict]:
    body = get(client, "/oruk/services?per_page=100").get_json()
    assert body["last_page"]
    return body["contents"]


def by_name(client) -> dict[str, dict]:
    return {s["name"]: s for s in all_services(client)}


# --- many services, made fast ---------------------------------------------------------------

POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b")


def add_services(app, count: int, marker: str = "") -> None:
    """``count`` listed services of every kind across 30 providers, inserted in bulk."""
    from partnership_api.areas import AREAS
    from partnership_api.extensions import db
    from partnership_api.models.partnership import (
        SERVICE_KINDS,
        Organisation,
        Service,
        ServiceArea,
        ServiceTaxonomyTerm,
    )
    from partnership_api.oruk.taxonomy import TERM_CODES

    districts = sorted(AREAS)
    with app.app_context():
        orgs = [
            Organisation(
                name=f"Provider {n:02d}",
                kind="provider",
                areas=districts[:2],
                description=f"Provider number {n}.",
            )
            for n in range(30)
        ]
        db.session.add_all(orgs)
        db.session.flush()
        rows = []
        for n in range(count):
            kind = SERVICE_KINDS[n % len(SERVICE_KINDS)]
            rows.append(
                dict(
                    organisation_id=orgs[n % 30].id,
                    name=f"Service {n:03d} {kind.replace('_', ' ')}",
                    kind=kind,
                    phone=f"0300 {n:03d} 0000",
                    hours="Mon-Fri 09:00-17:00" if n % 2 else None,
                    facilities={},
                    address=f"{marker}{n} Hidden Row, Stafford ST16 {n % 10}QQ" if marker else None,
                    description=f"Service number {n}.",
                    eligibility="Adults." if n % 3 else None,
                    minimum_age=(n % 5) * 4 or None,
                    maximum_age=None if n % 7 else 25,
                    languages=["English", "Polish"][: 1 + n % 2],
                    opening_hours=[
                        {"days": ["MO", "FR"], "opens_at": "09:30", "closes_at": "16:00"}
                    ]
                    if n % 4
                    else [],
                    public=True,
                    active=True,
                )
            )
        db.session.execute(sa.insert(Service), rows)
        made = (
            db.session.execute(
                sa.select(Service.id).where(Service.name.like("Service %")).order_by(Service.id)
            )
            .scalars()
            .all()
        )
        db.session.execute(
            sa.insert(ServiceArea),
            [{"service_id": sid, "gss_code": districts[i % 9]} for i, sid in enumerate(made)],
        )
        db.session.execute(
            sa.insert(ServiceTaxonomyTerm),
            [{"service_id": sid, "term_code": TERM_CODES[i % 7]} for i, sid in enumerate(made)],
        )
        db.session.commit()


# --- the scenarios --------------------------------------------------------------------------


def change_service(client, service_id, body, headers):
    """An admin's change to a service, naming the version read (PATCH needs If-Match)."""
    etag = client.get(f"/api/v1/services/{service_id}", headers=headers).headers["ETag"]
    return client.patch(
        f"/api/v1/services/{service_id}", json=body, headers={**headers, "If-Match": etag}
    )


def test_every_answer_for_the_demo_partnership_validates_against_the_profile(client):
    answers = crawl(client)
    names = by_name(client)
    assert len(names) == 7
    assert len(answers) == 2 + 1 + 7 + 1 + 4 + 1 + 1 + 1 + 7
    swa = get(
        client, f"/oruk/services/{names['Staffordshire Women' + chr(39) + 's Aid refuge']['id']}"
    )
    refuge = swa.get_json()
    assert refuge["phones"][0]["number"] == "0300 330 5959"
    assert {a["name"] for a in refuge["service_areas"]} == {"Staffordshire", "Stoke-on-Trent"}
    assert refuge["service_at_locations"] == []
    helpline = get(client, f"/oruk/services/{names['New Era helpline']['id']}").get_json()
    assert helpline["schedules"][0]["byday"] == "MO,TU,WE,TH,FR,SA,SU"
    assert {lang["name"] for lang in helpline["languages"]} == {"English", "Polish", "Urdu"}
    assert helpline["attributes"][0]["taxonomy_term"]["name"] == "Helpline"
    assert len(helpline["service_areas"]) == 9
    assert {a["uri"].rsplit("/", 1)[1] for a in helpline["service_areas"]} >= {
        "E07000197",
        "E06000021",
    }


def test_a_partnership_with_300_services_validates_everywhere(app, client):
    add_services(app, 300)
    listed = get(client, "/oruk/services").get_json()
    assert listed["total_items"] == 307
    assert listed["size"] == 50 and listed["total_pages"] == 7
    answers = crawl(client, per_page=100)
    services = [a for a in answers if re.search(r"/oruk/services/[0-9a-f-]{36}$", a.request.path)]
    assert len(services) == 307
    # the default page size crawls the same services
    assert len(crawl(client)) > len(answers)


def test_no_refuge_address_postcode_or_coordinate_appears_anywhere(app, client, login, ids):
    """A careless admin fills every refuge's address, lists everything, ticks every term, and
    copies the refuge's address onto a helpline too: nothing of it leaves through /oruk."""
    from partnership_api.extensions import db
    from partnership_api.models.partnership import Service
    from partnership_api.oruk.taxonomy import TERM_CODES

    marker = f"ORUKMARK{uuid.uuid4().hex[:8]}"
    add_services(app, 40, marker=marker)
    with app.app_context():
        refuges = db.session.scalars(sa.select(Service).where(Service.kind == "refuge")).all()
        markers = []
        for n, refuge in enumerate(refuges):
            refuge.address = f"{marker}-{n} 1 Secret Street, Burton upon Trent DE14 {n % 10}XY"
            refuge.public = True
            refuge.active = True
            refuge.taxonomy_terms = list(TERM_CODES)
            refuge.facilities = {**(refuge.facilities or {}), "wheelchair_accessible": True}
            markers.append(f"{marker}-{n}")
            # the same address pasted onto another service of the same organisation
            db.session.add(
                Service(
                    organisation_id=refuge.organisation_id,
                    kind="helpline",
                    name=f"Helpline {n}",
                    phone="0300 000 0000",
                    areas=["E07000197"],
                    address=refuge.address,
                    public=True,
                    taxonomy_terms=["helpline"],
                )
            )
        db.session.commit()
        refuge_ids = {str(r.public_id) for r in refuges}
        refuge_districts = {code for r in refuges for code in r.areas}
    assert len(refuge_ids) == 3 + 10

    # the admin's own view still has the address (it is the directory that withholds it)
    own = client.get(f"/api/v1/services/{ids.service['Glow refuge']}", headers=login("glow.staff"))
    assert own.get_json()["address"].startswith(marker)

    answers = crawl(client)
    for response in answers:
        text = response.get_data(as_text=True) + json.dumps(dict(response.headers))
        assert marker not in text, response.request.path
        assert "Secret Street" not in text and "Hidden Row" not in text
        assert not POSTCODE.search(text), (response.request.path, POSTCODE.search(text))
        for key in ("latitude", "longitude", "addresses", "postal_code", "address_1"):
            assert f'"{key}"' not in text, (key, response.request.path)
    for refuge_id in refuge_ids:
        shown = get(client, f"/oruk/services/{refuge_id}").get_json()
        assert shown["service_at_locations"] == []
        assert {a["name"] for a in shown["service_areas"]} == {"Staffordshire", "Stoke-on-Trent"}
        assert not {a["uri"].rsplit("/", 1)[1] for a in shown["service_areas"]} & (
            refuge_districts - {"E06000021"}
        )
    at_locations = get(client, "/oruk/service_at_locations?per_page=100").get_json()["contents"]
    assert not {sal["service_id"] for sal in at_locations} & refuge_ids
    assert all(sal["location"]["location_type"] == "virtual" for sal in at_locations)


def test_the_directory_code_cannot_reach_referrals_beds_or_users():
    forbidden = (
        "partnership_api.models.referrals",
        "partnership_api.models.beds",
        "partnership_api.models.partnership",  # it holds the users
        "partnership_api.models.audit",
        "partnership_api.services",
        "partnership_api.resources",
        "partnership_api.policy",
        "partnership_api.auth",
        "partnership_api.direct",
        "partnership_api.audit",
        "partnership_api.schemas",
    )
    package = ROOT / "partnership_api" / "oruk"
    imported = set()
    for source in package.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                imported.add(node.module or "")
                imported |= {f"{node.module}.{alias.name}" for alias in node.names}
    assert "partnership_api.oruk.tables" in imported
    assert not [m for m in imported if m.startswith(forbidden)], imported

    # and at run time: importing the directory loads none of them
    probe = (
        "import sys, partnership_api.oruk.views, partnership_api.oruk.serializer;"
        "print('\\n'.join(sorted(m for m in sys.modules if m.startswith('partnership_api'))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert "partnership_api.oruk.queries" in loaded
    assert not [m for m in loaded if m.startswith(forbidden)], loaded


def test_the_directory_reads_only_allow_listed_columns(app):
    from partnership_api.extensions import db
    from partnership_api.oruk import tables

    assert {t.name for t in tables.ALL} == {
        "organisations",
        "services",
        "service_areas",
        "service_taxonomy_terms",
    }
    declared = {t.name: set(t.c.keys()) for t in tables.ALL}
    assert "address" not in declared["services"] and "facilities" not in declared["services"]
    assert "areas" not in declared["organisations"]
    for name, columns in declared.items():  # every column named exists (no typo hides one)
        assert columns <= set(db.metadata.tables[name].c.keys()), name


def test_paging_through_the_services(client):
    everyone = {s["id"] for s in all_services(client)}
    seen, flags = [], []
    for number in (1, 2, 3, 4):
        body = get(client, f"/oruk/services?page={number}&per_page=2").get_json()
        check_page("services_page", "service_list", body)
        seen += [s["id"] for s in body["contents"]]
        flags.append((body["first_page"], body["last_page"], body["size"], body["total_pages"]))
    assert flags == [
        (True, False, 2, 4),
        (False, False, 2, 4),
        (False, False, 2, 4),
        (False, True, 1, 4),
    ]
    assert len(seen) == len(set(seen)) == 7 and set(seen) == everyone
    beyond = get(client, "/oruk/services?page=9&per_page=2").get_json()
    check_page("services_page", "service_list", beyond)
    assert beyond["empty"] and beyond["contents"] == [] and beyond["total_items"] == 7
    assert beyond["size"] == 0 and beyond["last_page"]


def test_search_finds_words_in_names_and_descriptions_only(client):
    def names(query: str) -> set[str]:
        body = get(client, "/oruk/services", query_string={"search": query}).get_json()
        check_page("services_page", "service_list", body)
        return {s["name"] for s in body["contents"]}

    assert names("perpetrator") == {"New Era perpetrator service", "Glow perpetrator service"}
    assert names("GLOW") == {"Glow refuge", "Glow perpetrator service"}
    assert names("stalking") == {"New Era victim support"}  # in its description
    assert names("%") == set() and names("_") == set()  # wildcards are literal
    assert names("no such words anywhere") == set()
    # a refuge cannot be found by where it is: areas are not searched
    assert "Pathway refuge" not in names("Lichfield")


def test_filters_by_taxonomy_term_and_age(client):
    from partnership_api.oruk.taxonomy import BY_CODE, TAXONOMY_ID

    def names(**query) -> set[str]:
        body = get(client, "/oruk/services", query_string=query).get_json()
        check_page("services_page", "service_list", body)
        return {s["name"] for s in body["contents"]}

    refuges = {"Staffordshire Women's Aid refuge", "Glow refuge", "Pathway refuge"}
    assert names(taxonomy_term_id=str(BY_CODE["refuge"].id)) == refuges
    assert names(taxonomy_term_id=str(uuid.uuid4())) == set()
    assert len(names(taxonomy_id=str(TAXONOMY_ID))) == 7
    assert names(taxonomy_id=str(uuid.uuid4())) == set()
    assert names(minimum_age=18) == {"New Era perpetrator service", "Glow perpetrator service"}
    assert names(maximum_age=30) == set()


def test_modified_after_gives_what_changed_since(app, client, login, ids):
    from partnership_api.extensions import db
    from partnership_api.models.partnership import Service

    with app.app_context():
        db.session.execute(sa.update(Service).values(updated_at=datetime(2026, 1, 1, tzinfo=UTC)))
        db.session.commit()
    since = "2026-06-01T00:00:00+00:00"
    assert (
        get(client, "/oruk/services", query_string={"modified_after": since}).get_json()[
            "total_items"
        ]
        == 0
    )
    changed = change_service(
        client,
        ids.service["Pathway refuge"],
        {"languages": ["English", "Urdu"]},
        login("partnership.admin"),
    )
    assert changed.status_code == 200, changed.get_json()
    body = get(client, "/oruk/services", query_string={"modified_after": since}).get_json()
    check_page("services_page", "service_list", body)
    assert [s["name"] for s in body["contents"]] == ["Pathway refuge"]
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert get(client, "/oruk/services", query_string={"modified_after": later}).get_json()["empty"]
    # another offset is the same instant
    assert (
        get(
            client, "/oruk/services", query_string={"modified_after": "2026-06-01T01:00:00+01:00"}
        ).get_json()["total_items"]
        == 1
    )


@pytest.mark.parametrize(
    "path",
    [
        "/oruk/services/{random}",
        "/oruk/service_at_locations/{random}",
        "/oruk/taxonomies/{random}",
        "/oruk/taxonomy_terms/{random}",
        "/oruk/services/42",
        "/oruk/services/not-a-uuid",
        "/oruk/locations",
        "/oruk/organizations",
    ],
)
def test_unknown_ids_and_paths_are_a_json_404(client, path):
    response = get(client, path.format(random=uuid.uuid4()))
    assert response.status_code == 404
    assert response.get_json()["code"] == 404
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cache-Control"] == "no-store"


def test_ids_of_other_things_are_not_found_under_the_wrong_path(client):
    """A service's id is not a service-at-location's, a refuge's service has none, and the
    API's integer ids mean nothing here."""
    names = by_name(client)
    helpline = names["New Era helpline"]["id"]
    refuge = names["Glow refuge"]["id"]
    assert get(client, f"/oruk/service_at_locations/{helpline}").status_code == 404
    import partnership_api.oruk.serializer as serializer

    refuge_at = serializer.service_at_location_id(uuid.UUID(refuge))
    assert get(client, f"/oruk/service_at_locations/{refuge_at}").status_code == 404
    helpline_at = serializer.service_at_location_id(uuid.UUID(helpline))
    assert get(client, f"/oruk/service_at_locations/{helpline_at}").status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "page=0",
        "page=-1",
        "page=abc",
        "per_page=0",
        "per_page=101",
        "per_page=1.5",
        "minimum_age=-1",
        "minimum_age=NaN",
        "maximum_age=old",
        "taxonomy_term_id=refuge",
        "taxonomy_id=1",
        "modified_after=yesterday",
        "modified_after=2026-06-01T00:00:00",  # no offset: which time zone?
        "search=" + "x" * 201,
        "search=a%00b",
        "search=a%1bb",
        "page=1&page=2",
        "postcode=ST16%202AA",
        "unknown=1",
    ],
)
def test_bad_parameters_are_a_json_422_naming_the_parameter(client, query):
    for path in ("/oruk/services", "/oruk/service_at_locations"):
        response = get(client, f"{path}?{query}")
        assert response.status_code == 422, (path, query)
        body = response.get_json()
        assert body["code"] == 422 and body["message"]
        assert query.split("=")[0] in body["errors"]["query"], body


def test_item_paths_and_short_lists_refuse_parameters_they_do_not_take(client):
    helpline = by_name(client)["New Era helpline"]["id"]
    for path in (
        f"/oruk/services/{helpline}?full=true",
        "/oruk/?x=1",
        "/oruk/taxonomies?search=refuge",
        "/oruk/taxonomy_terms?per_page=500",
    ):
        response = get(client, path)
        assert response.status_code == 422, path
        assert response.get_json()["errors"]["query"]


def test_cors_is_open_on_oruk_paths_only(client, login):
    answer = get(client, "/oruk/services", headers={"Origin": "https://directory.example"})
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    preflight = client.options(
        "/oruk/services",
        headers={
            "Origin": "https://directory.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "If-None-Match",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "If-None-Match" in preflight.headers["Access-Control-Allow-Headers"]
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
    for path, headers in (
        ("/api/v1/services", login("police.officer")),
        ("/healthz", {}),
        ("/openapi.json", {}),
    ):
        response = client.get(path, headers={**headers, "Origin": "https://directory.example"})
        assert response.status_code == 200
        assert "Access-Control-Allow-Origin" not in response.headers, path


def test_answers_are_cacheable_and_revalidate_with_etags(client):
    first = get(client, "/oruk/services")
    assert first.headers["Cache-Control"] == "public, max-age=300"
    etag = first.headers["ETag"]
    again = get(client, "/oruk/services", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    assert again.headers["Cache-Control"] == "public, max-age=300"
    assert again.headers["Access-Control-Allow-Origin"] == "*"
    other = get(client, "/oruk/services?per_page=3", headers={"If-None-Match": etag})
    assert other.status_code == 200 and other.headers["ETag"] != etag
    stale = get(client, "/oruk/services", headers={"If-None-Match": '"not-the-etag"'})
    assert stale.status_code == 200


def test_the_rate_limit_is_per_address(app, client):
    from partnership_api.extensions import limiter

    app.config["ORUK_RATE_LIMIT"] = "3 per minute"
    try:
        here = {"REMOTE_ADDR": "203.0.113.7"}
        there = {"REMOTE_ADDR": "203.0.113.8"}
        paths = ["/oruk/", "/oruk/services", "/oruk/taxonomies"]
        assert [client.get(p, environ_base=here).status_code for p in paths] == [200] * 3
        refused = client.get("/oruk/taxonomy_terms", environ_base=here)
        assert refused.status_code == 429
        assert refused.is_json and refused.get_json()["code"] == 429
        assert refused.headers["Retry-After"]
        assert refused.headers["Access-Control-Allow-Origin"] == "*"
        assert refused.headers["Cache-Control"] == "no-store"
        assert client.get("/oruk/services", environ_base=there).status_code == 200
        # the partnership's own API is not charged for it
        assert client.get("/healthz", environ_base=here).status_code == 200
    finally:
        app.config["ORUK_RATE_LIMIT"] = "100000 per minute"
        limiter.reset()


def test_a_service_made_unlisted_disappears_at_once(client, login, ids):
    admin = login("swa.admin")
    refuge = ids.service["Staffordshire Women's Aid refuge"]
    public_id = by_name(client)["Staffordshire Women's Aid refuge"]["id"]
    before = get(client, "/oruk/services")
    assert get(client, f"/oruk/services/{public_id}").status_code == 200

    unlisted = change_service(client, refuge, {"public": False}, admin)
    assert unlisted.status_code == 200 and unlisted.get_json()["public"] is False

    after = get(client, "/oruk/services", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200  # the old ETag no longer matches
    assert public_id not in {s["id"] for s in after.get_json()["contents"]}
    assert after.get_json()["total_items"] == 6
    assert get(client, f"/oruk/services/{public_id}").status_code == 404
    term = "4d5bf25e-d062-4809-9321-bf81a2769267"  # refuge
    assert get(client, f"/oruk/services?taxonomy_term_id={term}").get_json()["total_items"] == 2

    relisted = change_service(client, refuge, {"public": True}, admin)
    assert relisted.status_code == 200
    assert get(client, f"/oruk/services/{public_id}").status_code == 200


def test_another_organisations_admin_cannot_change_the_listing(client, login, ids):
    refuge = ids.service["Staffordshire Women's Aid refuge"]
    response = client.patch(
        f"/api/v1/services/{refuge}", json={"public": False}, headers=login("newera.admin")
    )
    assert response.status_code in (403, 404)
    assert "Staffordshire Women's Aid refuge" in by_name(client)


def test_an_inactive_service_is_not_listed(client, login, ids):
    glow = ids.service["Glow perpetrator service"]
    response = change_service(client, glow, {"active": False}, login("partnership.admin"))
    assert response.status_code == 200
    assert "Glow perpetrator service" not in by_name(client)


def test_a_new_service_is_listed_by_default_with_what_its_admin_wrote(client, login, ids):
    created = client.post(
        "/api/v1/services",
        json={
            "organisation_id": ids.org["New Era"],
            "name": "New Era stalking advocacy",
            "kind": "victim_support",
            "areas": ["E07000193", "E07000199"],
            "phone": "0300 303 3778",
            "description": "Advocates for people being stalked.",
            "eligibility": "Anyone being stalked.",
            "minimum_age": 16,
            "languages": ["English"],
            "opening_hours": [{"days": ["MO", "WE"], "opens_at": "10:00", "closes_at": "14:30"}],
            "taxonomy_terms": ["stalking"],
        },
        headers=login("newera.admin"),
    )
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["public"] is True
    shown = get(client, f"/oruk/services/{created.get_json()['public_id']}").get_json()
    check("service", shown)
    assert shown["schedules"][0]["byday"] == "MO,WE"
    assert shown["schedules"][0]["opens_at"] == "10:00"
    assert [a["name"] for a in shown["service_areas"]] == ["East Staffordshire", "Tamworth"]
    assert shown["attributes"][0]["taxonomy_term"]["name"] == "Stalking"
    assert shown["eligibility_description"] == "Anyone being stalked."
    assert shown["id"] == created.get_json()["public_id"]  # never the API's integer id


@pytest.mark.parametrize(
    "change",
    [
        {"taxonomy_terms": ["shelter"]},
        {"opening_hours": [{"days": ["XX"], "opens_at": "09:00", "closes_at": "17:00"}]},
        {"opening_hours": [{"days": ["MO"], "opens_at": "25:00", "closes_at": "17:00"}]},
        {"minimum_age": 30, "maximum_age": 18},
        {"minimum_age": -1},
        {"public": "yes please"},
    ],
)
def test_bad_directory_fields_are_refused_and_change_nothing(client, login, ids, change):
    before = by_name(client)["New Era helpline"]
    response = client.patch(
        f"/api/v1/services/{ids.service['New Era helpline']}",
        json=change,
        headers=login("newera.admin"),
    )
    assert response.status_code == 422
    assert by_name(client)["New Era helpline"] == before


def test_the_directory_has_its_own_document_and_stays_out_of_the_main_one(client):
    about = get(client, "/oruk/").get_json()
    assert about["version"] == "3.0"
    document = get(client, "/oruk/openapi.json").get_json()
    assert set(document["paths"]) == {
        "/",
        "/services",
        "/services/{id}",
        "/service_at_locations",
        "/service_at_locations/{id}",
        "/taxonomies",
        "/taxonomies/{id}",
        "/taxonomy_terms",
        "/taxonomy_terms/{id}",
    }
    assert document["servers"][0]["url"].endswith("/oruk")
    for item in document["paths"].values():
        assert item["get"]["security"] == []
    parameters = {
        p["$ref"].rsplit("/", 1)[1] for p in document["paths"]["/services"]["get"]["parameters"]
    }
    assert {
        "search",
        "page",
        "per_page",
        "taxonomy_term_id",
        "minimum_age",
        "maximum_age",
        "modified_after",
    } <= parameters
    main = client.get("/openapi.json").get_json()
    assert not [path for path in main["paths"] if path.startswith("/oruk")]


@pytest.mark.no_demo
def test_the_migration_gives_existing_services_public_ids_and_lists_them(tmp_path):
    """Services made before the directory existed get random public ids of their own, are
    listed, and show in /oruk; the migration also goes down and up again."""
    from flask_migrate import downgrade, upgrade

    from partnership_api.extensions import db
    from tests.dblib import app_on_empty_database

    with app_on_empty_database(tmp_path, "oruk") as app:
        with app.app_context():
            upgrade(revision="0001")
            now = datetime.now(UTC)
            with db.engine.begin() as conn:
                conn.execute(
                    sa.text(
                        "INSERT INTO organisations (id, name, kind, areas, created_at, updated_at)"
                        " VALUES (1, 'Old provider', 'provider', '[]', :now, :now)"
                    ),
                    {"now": now},
                )
                for n, kind in enumerate(("helpline", "refuge", "victim_support"), start=1):
                    conn.execute(
                        sa.text(
                            "INSERT INTO services (id, organisation_id, name, kind, phone, "
                            "facilities, address, active, created_at, updated_at) VALUES "
                            "(:id, 1, :name, :kind, '0300 000 0000', '{}', :address, :yes, "
                            ":now, :now)"
                        ),
                        {
                            "id": n,
                            "name": f"Old {kind}",
                            "kind": kind,
                            "yes": True,
                            "now": now,
                            "address": "9 Old Secret Way, Leek ST13 9ZZ",
                        },
                    )
                conn.execute(
                    sa.text(
                        "INSERT INTO service_areas (service_id, gss_code) VALUES "
                        "(1, 'E07000197'), (2, 'E07000198'), (3, 'E07000199')"
                    )
                )
            upgrade()
            with db.engine.connect() as conn:
                # recreating tables on SQLite must not cascade-delete what refers to them
                areas = conn.execute(sa.text("SELECT count(*) FROM service_areas")).scalar()
                assert areas == 3
                rows = conn.execute(
                    sa.text("SELECT public_id, public, languages, opening_hours FROM services")
                ).all()
                org_ids = conn.execute(sa.text("SELECT public_id FROM organisations")).all()
            assert len({row[0] for row in rows}) == 3 and all(row[0] for row in rows)
            assert org_ids[0][0]
            db.session.remove()
        client = app.test_client()
        listed = client.get("/oruk/services").get_json()
        check_page("services_page", "service_list", listed)
        assert listed["total_items"] == 3
        for item in listed["contents"]:
            shown = client.get(f"/oruk/services/{item['id']}")
            check("service", shown.get_json())
            assert "Secret" not in shown.get_data(as_text=True)
            assert "Staffordshire Moorlands" not in shown.get_data(as_text=True)  # the refuge's
        with app.app_context():
            downgrade(revision="0001")
            upgrade()
            db.session.remove()


def test_the_directory_is_read_only(client):
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        response = client.open(
            "/oruk/services", method=method, json={"name": "x"}, environ_base=ANONYMOUS
        )
        assert response.status_code == 405, method
        assert response.is_json and response.get_json()["code"] == 405
        assert "GET" in response.headers["Allow"]
    head = client.head("/oruk/services", environ_base=ANONYMOUS)
    assert head.status_code == 200 and head.headers["ETag"]
