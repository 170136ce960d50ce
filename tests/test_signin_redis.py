"""Sign-in's limits kept in Redis by limits' fixed-window strategy, as the app servers of a
deployment with ``REDIS_URL`` share them: a police officer's address and name lock after the
wrong passwords, for the lock's window, whatever the password next; another address is not
locked; the attempts per address are limited too.

The counters are pointed at a Redis of the test's own (``throttle._redis``, which answers the
rate limiter's Redis storage in a deployment); the rest of the app is the tests' usual one."""

from __future__ import annotations

import pytest
import redis

from tests import faultlib
from tests.conftest import DEMO_PASSWORD

OFFICER = "police.officer"
HERE = {"REMOTE_ADDR": "198.51.100.7"}
THERE = {"REMOTE_ADDR": "198.51.100.8"}


@pytest.fixture
def shared_redis(monkeypatch):
    from limits.storage import RedisStorage

    from partnership_api.services import throttle

    server = faultlib.PrivateRedis()
    try:
        server.start()
        storage = RedisStorage(server.url)
        monkeypatch.setattr(throttle, "_redis", lambda: storage)
        yield server
    finally:
        server.destroy()


@pytest.fixture
def configure(app, client):
    """The app's settings for this test, put back after it."""
    kept = dict(app.config)

    def set_to(**settings):
        app.config.update(settings)
        return client

    yield set_to
    app.config.clear()
    app.config.update(kept)


def _sign_in(client, password: str, where: dict, username: str = OFFICER):
    return client.post(
        "/api/v1/auth/login",
        json={"username": username, "password": password},
        environ_base=where,
    )


def test_wrong_passwords_lock_the_address_and_name_in_redis(configure, shared_redis):
    client = configure(LOGIN_FAILURES_BEFORE_LOCK=3, LOGIN_LOCK_MINUTES=15)
    assert [_sign_in(client, "wrong", HERE).status_code for _ in range(3)] == [401] * 3
    locked = _sign_in(client, DEMO_PASSWORD, HERE)
    assert locked.status_code == 429
    assert 850 <= int(locked.headers["Retry-After"]) <= 901  # the lock's fifteen minutes
    assert _sign_in(client, DEMO_PASSWORD, THERE).status_code == 200  # elsewhere: not locked
    store = redis.Redis.from_url(shared_redis.url)
    try:
        keys = [key.decode() for key in store.keys("*")]
    finally:
        store.close()
    pair = f"pair:{HERE['REMOTE_ADDR']}|{OFFICER}"
    # limits' fixed window keeps it, under its own key for the item (3 per 15 minutes)
    assert any(key.startswith("LIMITS:LIMITER/") and pair in key for key in keys), keys


def test_a_right_password_forgets_the_wrong_ones_before_the_lock(configure, shared_redis):
    client = configure(LOGIN_FAILURES_BEFORE_LOCK=3)
    assert [_sign_in(client, "wrong", HERE).status_code for _ in range(2)] == [401] * 2
    assert _sign_in(client, DEMO_PASSWORD, HERE).status_code == 200
    assert [_sign_in(client, "wrong", HERE).status_code for _ in range(2)] == [401] * 2
    assert _sign_in(client, DEMO_PASSWORD, HERE).status_code == 200


def test_sign_in_attempts_per_address_are_limited_in_redis(configure, shared_redis):
    client = configure(LOGIN_RATE_LIMIT="4 per minute")
    answers = [_sign_in(client, "wrong", HERE, f"nobody.{i}").status_code for i in range(5)]
    assert answers == [401, 401, 401, 401, 429]
    assert _sign_in(client, DEMO_PASSWORD, THERE).status_code == 200
