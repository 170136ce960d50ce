"""Schemathesis over the whole OpenAPI document, in process, signed in as several roles.

Each operation of the document is a test of its own: generated requests (positive and
negative data) are sent as every role in turn, and each answer is checked: no server error,
the status code and content type documented, the body matching its schema. New operations are
picked up from the document by themselves.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

from tests.factories import schemathesis_checks, schemathesis_headers

ROLES = ["police.officer", "swa.staff", "opcc.staff", "partnership.admin"]
SPEC = json.loads((Path(__file__).resolve().parent.parent / "openapi" / "openapi.json").read_text())
OPERATIONS = [
    (path, method)
    for path, operations in SPEC["paths"].items()
    for method in operations
    if method in ("get", "post", "put", "patch", "delete")
]


@pytest.fixture(scope="module")
def live_schema(app):
    return schemathesis.openapi.from_wsgi("/openapi.json", app)


@pytest.mark.parametrize(
    ("path", "method"), OPERATIONS, ids=[f"{m.upper()} {p}" for p, m in OPERATIONS]
)
def test_operation_conforms_to_the_document(app, live_schema, path, method):
    operation = live_schema[path][method]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=8,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        for username in ROLES:
            response = case.call(headers=schemathesis_headers(app, username))
            if response.status_code == 401 and path != "/api/v1/auth/login":
                # Logout or a data reset ended the session: sign in again once.
                response = case.call(headers=schemathesis_headers(app, username, fresh=True))
            case.validate_response(response, checks=schemathesis_checks())

    run()
