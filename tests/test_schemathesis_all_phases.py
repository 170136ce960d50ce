"""Schemathesis's own runner, every phase (examples, coverage, fuzzing, stateful), against the
API served by gunicorn on loopback, signed in as two roles; fixed seed, small budget.

The in-process tests (test_schemathesis*.py) give fast, per-operation failures; this one runs
the phases the pytest integration does not: the coverage phase's boundary and negative cases.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests import faultlib
from tests.conftest import is_postgres

pytestmark = pytest.mark.skipif(
    is_postgres(), reason="one run is enough: it serves its own SQLite database"
)

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,"
CHECKS += "response_schema_conformance"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    path = tmp_path_factory.mktemp("st") / "api.db"
    env = faultlib.app_environment(
        f"sqlite:///{path}", API_RATE_LIMIT="100000 per minute", LOGIN_RATE_LIMIT="1000 per minute"
    )
    faultlib.prepare_database(env)
    app = faultlib.AppServer(env, workers=2, threads=1).start()
    try:
        yield app
    finally:
        app.destroy()


@pytest.mark.parametrize("username", ["police.officer", "swa.staff"])
def test_every_phase_finds_no_server_error_and_no_answer_off_the_document(
    server, username, tmp_path
):
    token = faultlib.sign_in(server, username)["access_token"]
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        server.url("/openapi.json"),
        "--url",
        server.base_url,
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--checks",
        CHECKS,
        "--max-examples",
        "3",
        "--seed",
        "20261121",
        "--generation-deterministic",
        "--exclude-path",
        "/api/v1/auth/logout",
        "--exclude-path",
        "/api/v1/auth/refresh",
        "--header",
        f"Authorization: Bearer {token}",
        "--workers",
        "1",
        "--no-color",
    ]
    # Run from a scratch folder: the runner leaves its own files where it runs.
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
