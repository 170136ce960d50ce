"""The hot path's shortcuts, told by an engineer who must trust them: each gives the answer
the library would have given, and keeps nothing that could grow without bound.

- Flask asks once per function whether a hook or view is a coroutine function
  (``PartnershipFlask.ensure_sync``);
- flask-jwt-extended's second reading of a token's header is kept per token
  (``extensions.header_of``), and a token that does not parse is refused as before;
- an API request, which carries no page cookie, opens an empty page session without building
  the cookie's signing serializer (``web.session.PageSessionInterface``).
"""

from __future__ import annotations

import asyncio

import jwt as pyjwt
import pytest
from flask.views import MethodView
from flask_jwt_extended import view_decorators

from partnership_api import PartnershipFlask, extensions
from tests.conftest import DEMO_PASSWORD

BED_SEARCH = "/api/v1/beds/search?space_type=family"


def test_the_app_is_the_partnership_flask(app):
    assert isinstance(app, PartnershipFlask)


def test_a_plain_function_is_returned_as_it_is_and_remembered_once(app):
    def hook():
        return "ran"

    assert app.ensure_sync(hook) is hook
    assert app.ensure_sync(hook) is hook
    assert hook in app._sync_functions


def test_methods_of_new_view_instances_are_remembered_by_their_function_alone(app):
    class View(MethodView):
        def get(self):
            return "ok"

    before = len(app.__dict__.get("_sync_functions", ()))
    for _ in range(50):  # a view is bound to a new instance on every request
        method = View().get
        assert app.ensure_sync(method) == method
    assert len(app._sync_functions) == before + 1


def test_a_coroutine_function_is_still_run_through_flask(app):
    async def hook():
        return "ran"

    try:
        import asgiref  # noqa: F401 - Flask's async support, not installed here
    except ImportError:
        with pytest.raises(RuntimeError, match="async"):  # Flask's own refusal, as before
            app.ensure_sync(hook)
    else:
        wrapped = app.ensure_sync(hook)
        assert wrapped is not hook and wrapped() == "ran"
    assert hook not in app.__dict__.get("_sync_functions", set())
    assert asyncio.iscoroutinefunction(hook)


def test_a_function_made_per_request_is_not_kept_after_it(app):
    import gc

    def made():
        def closure():
            return "ran"

        return closure

    app.ensure_sync(made())
    gc.collect()
    assert all(f.__name__ != "closure" for f in app._sync_functions)


def test_flask_jwt_extended_reads_headers_through_the_kept_reader():
    # Pinned flask-jwt-extended looks the reader up by this name at every request.
    assert view_decorators.get_unverified_jwt_headers is extensions.header_of


def test_the_kept_headers_hold_no_token():
    token = pyjwt.encode({"sub": "y"}, "k" * 32, algorithm="HS256")
    extensions.header_of(token)
    assert token not in extensions._headers
    assert token.partition(".")[0] in extensions._headers


def test_the_kept_header_equals_pyjwts_and_each_caller_gets_its_own_copy():
    token = pyjwt.encode({"sub": "x"}, "k" * 32, algorithm="HS256", headers={"kid": "one"})
    first = extensions.header_of(token)
    assert first == pyjwt.get_unverified_header(token)
    first["alg"] = "none"  # a caller changing its copy changes nobody else's
    assert extensions.header_of(token)["alg"] == "HS256"


@pytest.mark.parametrize("junk", ["junk", "a.b.c", "!!!!.e30.sig", ""])
def test_a_header_that_does_not_parse_is_refused_each_time_as_pyjwt_refuses_it(junk):
    for _ in range(2):
        with pytest.raises(pyjwt.PyJWTError):
            extensions.header_of(junk)


def test_the_officer_searches_twice_and_a_junk_token_is_still_a_401_after(client):
    token = client.post(
        "/api/v1/auth/login", json={"username": "police.officer", "password": DEMO_PASSWORD}
    ).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(BED_SEARCH, headers=headers).status_code == 200
    assert client.get(BED_SEARCH, headers=headers).status_code == 200
    head, payload, _signature = token.split(".")
    forged = f"{head}.{payload}.{'A' * 43}"
    assert client.get(BED_SEARCH, headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_an_api_request_without_the_page_cookie_has_an_empty_page_session(app):
    with app.test_request_context(BED_SEARCH):
        opened = app.session_interface.open_session(app, app.test_request_context().request)
        assert opened is not None and dict(opened) == {}


def test_without_a_secret_key_no_page_session_is_opened_as_flask_does(app):
    from flask import request

    with app.test_request_context(BED_SEARCH):
        kept, app.secret_key = app.secret_key, None
        try:
            assert app.session_interface.open_session(app, request) is None
        finally:
            app.secret_key = kept


def test_a_page_cookie_signed_with_another_key_opens_no_page_session(app, client):
    name = app.config["SESSION_COOKIE_NAME"]
    client.set_cookie(name, "eyJ1c2VyIjoiMSJ9.forged.signature")
    with app.test_request_context("/", headers={"Cookie": f"{name}=eyJ1c2VyIjoiMSJ9.x.y"}):
        from flask import request

        assert dict(app.session_interface.open_session(app, request)) == {}
