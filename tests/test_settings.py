"""The settings, read from the environment through their one declaration: every default is
declared once, a value of the wrong type is refused by name, and production still refuses an
unsafe configuration that an admin writes into the environment."""

from __future__ import annotations

from datetime import timedelta

import pytest

from partnership_api.settings import (
    DURATIONS,
    SETTINGS,
    ConfigError,
    Settings,
    check_settings,
    load_settings,
)

GOOD_JWT = "b7Qe-2PzK9wX4mRt_1VnY6cLs8HdJ3fUa0gNo5iEkWq"
GOOD_SEAL = "Vq3r-8ZkP1mW0sYc_TnR5eLh2uJg7aXd4bFi9oKy6Nw"
PRODUCTION = {"APP_ENV": "production", "JWT_SECRET_KEY": GOOD_JWT, "WEBHOOK_SECRET_KEY": GOOD_SEAL}


@pytest.fixture
def environment(monkeypatch):
    """An environment holding none of the settings; the test sets what the admin wrote."""
    for setting in SETTINGS:
        monkeypatch.delenv(setting.name, raising=False)
        monkeypatch.delenv(f"{setting.name}_FILE", raising=False)
    return monkeypatch


def test_an_empty_environment_gives_every_declared_default(environment):
    config = load_settings()
    shown_only = {"DATABASE_URL", "JWT_SECRET_KEY", "WEBHOOK_SECRET_KEY"}  # made, not fixed
    for setting in SETTINGS:
        if setting.name in shown_only:
            continue
        if setting.name in DURATIONS:
            key, unit = DURATIONS[setting.name]
            assert config[key] == timedelta(**{unit: setting.default}), setting.name
        else:
            assert config[setting.name] == setting.default, setting.name
    assert config["JWT_SECRET_KEY"] is None and config["WEBHOOK_SECRET_KEY"] is None
    assert config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")


def test_the_readmes_table_is_the_declaration():
    assert [s.name for s in SETTINGS] == list(Settings.model_fields)
    assert all(s.doc for s in SETTINGS)


@pytest.mark.parametrize(
    "name, value",
    [
        ("TRUSTED_PROXIES", "two"),
        ("RATELIMIT_ENABLED", "maybe"),
        ("HOLD_TTL_MINUTES", "4h"),
        ("WORKER_POLL_SECONDS", "fast"),
    ],
)
def test_a_value_not_of_its_settings_type_is_refused_by_name(environment, name, value):
    environment.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        load_settings()


def test_production_starts_with_good_settings_from_the_environment(environment):
    for name, value in {**PRODUCTION, "TRUSTED_PROXIES": "1"}.items():
        environment.setenv(name, value)
    environment.setenv("METRICS_TOKEN", "Xk3-9qPz_LmW2vRt8NcY5bHd1fJs6gUa")
    config = load_settings()
    check_settings(config)
    assert config["TRUSTED_PROXIES"] == 1


@pytest.mark.parametrize(
    "written, refused_for",
    [
        ({"JWT_SECRET_KEY": ""}, "JWT_SECRET_KEY"),
        ({"JWT_SECRET_KEY": "short"}, "JWT_SECRET_KEY"),
        ({"JWT_SECRET_KEY": "k" * 40}, "JWT_SECRET_KEY"),
        ({"WEBHOOK_SECRET_KEY": ""}, "WEBHOOK_SECRET_KEY"),
        ({"WEBHOOK_SECRET_KEY": GOOD_JWT}, "must differ"),
        ({"WEBHOOKS_ALLOW_PRIVATE": "true"}, "WEBHOOKS_ALLOW_PRIVATE"),
        ({"METRICS_TOKEN": "short"}, "METRICS_TOKEN"),
        ({"TRUSTED_PROXIES": "9"}, "TRUSTED_PROXIES"),
        ({"APP_ENV": "staging"}, "APP_ENV"),
    ],
)
def test_production_refuses_unsafe_settings_written_in_the_environment(
    environment, written, refused_for
):
    for name, value in {**PRODUCTION, **written}.items():
        environment.setenv(name, value)
    with pytest.raises(ConfigError, match=refused_for):
        check_settings(load_settings())


def test_a_secret_from_a_file_meets_the_same_checks(environment, tmp_path):
    for name, value in PRODUCTION.items():
        environment.setenv(name, value)
    environment.delenv("JWT_SECRET_KEY")
    secret = tmp_path / "jwt"
    secret.write_text("p" * 48 + "\n")
    environment.setenv("JWT_SECRET_KEY_FILE", str(secret))
    with pytest.raises(ConfigError, match="JWT_SECRET_KEY"):
        check_settings(load_settings())
