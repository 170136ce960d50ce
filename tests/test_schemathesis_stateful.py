"""Schemathesis stateful testing: sequences of calls that feed each answer into the next.

Schemathesis 4 infers the links between operations from the document itself (a referral's
`id` from POST /referrals into GET /referrals/{referral_id}, a project's into its milestones,
and so on), so no OpenAPI links are written by hand. The state machine runs in process against
the WSGI app, signed in as a police officer and as a refuge worker, with a fixed seed and a
small budget; every answer must be documented, of the documented content type and shape, and
never a server error. Signing out and rotating tokens are left to test_tokens.py: here they
would only end the machine's own session.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.factories import schemathesis_checks, schemathesis_headers

ROLES = ["police.officer", "swa.staff"]


@pytest.fixture(scope="module")
def stateful_schema(app):
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    return schema.exclude(path_regex="^/api/v1/auth/(logout|refresh)$")


@pytest.mark.parametrize("username", ROLES)
def test_call_sequences_conform_to_the_document(app, stateful_schema, username):
    schemathesis_headers(app, username, fresh=True)  # this test's own session
    machine = stateful_schema.as_state_machine()
    assert stateful_schema.statistic.transitions.total > 100  # links were inferred

    class SignedIn(machine):
        def get_call_kwargs(self, case):
            return {"headers": schemathesis_headers(app, username)}

        def call(self, case, **kwargs):
            response = case.call(**kwargs)
            if response.status_code == 401 and case.operation.path != "/api/v1/auth/login":
                # A password reset or deactivation by the machine ended the session.
                kwargs["headers"] = schemathesis_headers(app, username, fresh=True)
                response = case.call(**kwargs)
            return response

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=schemathesis_checks())

    SignedIn.run(
        settings=settings(
            max_examples=12,
            stateful_step_count=6,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
