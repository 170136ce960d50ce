"""The settings: one typed declaration, read from environment variables (pydantic-settings).

``Settings`` names every setting once, with its type, its default and what it does; the README's
settings table lists the same (``SETTINGS`` is made from it, and a test checks the README).
``load_settings`` reads the environment once, a variable ``NAME`` or the file ``NAME_FILE`` names
(Docker and Kubernetes secrets), into the Flask config; ``create_app(overrides)`` may replace
any of them (tests do), and ``check_settings`` (``settings_checks.py``) then refuses an unsafe
configuration. A value that is not of its setting's type is refused with the setting's name.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from partnership_api.settings_checks import (
    INSTANCE_DIR,
    JWT_SECRET_FILE,
    MIN_KEY_DISTINCT_CHARACTERS,
    MIN_KEY_ENTROPY_BITS,
    ConfigError,
    check_settings,
    guessable,
    instance_jwt_secret,
)

__all__ = [
    "INSTANCE_DIR",
    "JWT_SECRET_FILE",
    "MAX_PAGE",
    "MIN_KEY_DISTINCT_CHARACTERS",
    "MIN_KEY_ENTROPY_BITS",
    "SETTINGS",
    "ConfigError",
    "Setting",
    "Settings",
    "check_settings",
    "guessable",
    "instance_jwt_secret",
    "load_settings",
]

# The last page number a list answers (pagination.check_page; documented in OpenAPI).
MAX_PAGE = 100_000


def _env(name: str) -> str | None:
    """The variable, or the contents of the file ``NAME_FILE`` names (Docker and Kubernetes
    secrets), without its final newline; both set is refused."""
    raw, path = os.environ.get(name), os.environ.get(f"{name}_FILE")
    if path in (None, ""):
        return raw
    if raw not in (None, ""):
        raise ConfigError(f"{name} and {name}_FILE are both set: set one of them")
    try:
        return Path(path).read_text().rstrip("\r\n")
    except OSError as error:
        raise ConfigError(f"{name}_FILE names {path}, which cannot be read: {error}") from None


class _EnvironmentOrFile(PydanticBaseSettingsSource):
    """Each setting from ``NAME`` or ``NAME_FILE``; unset or empty: its default."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return _env(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        given = {name: _env(name) for name in self.settings_cls.model_fields}
        return {name: value for name, value in given.items() if value not in (None, "")}


class Settings(BaseSettings):
    """Every setting, in the order of the README's table."""

    model_config = SettingsConfigDict(case_sensitive=True, frozen=True, extra="ignore")

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, **_others):
        return (init_settings, _EnvironmentOrFile(settings_cls))

    APP_ENV: str = Field(
        "development",
        description=(
            "`development` or `production`; production refuses demo data and a missing or "
            "weak `JWT_SECRET_KEY`"
        ),
    )
    DATABASE_URL: str | None = Field(
        None,
        description="SQLAlchemy URL; PostgreSQL in production (`postgresql+psycopg://…`)",
        json_schema_extra={"shown": "sqlite:///instance/partnership.db"},
    )
    JWT_SECRET_KEY: str | None = Field(
        None,
        description=(
            "HS256 signing key, at least 32 characters; required in production, where a key"
            " that looks typed (too few distinct characters or too little entropy) or "
            "equals a `WEBHOOK_SECRET_KEY` is refused. Unset in development: a random one "
            "is made once and kept in `instance/jwt-secret`"
        ),
        json_schema_extra={"shown": "(generated per instance in development)"},
    )
    ACCESS_TOKEN_MINUTES: int = Field(15, description="lifetime of an access token")
    REFRESH_TOKEN_HOURS: int = Field(
        12,
        description="lifetime of a refresh token (one working shift)",
    )
    REDIS_URL: str | None = Field(
        None,
        description=(
            "optional; shared rate-limit storage and bed-search cache invalidation across "
            "app servers"
        ),
    )
    LOG_LEVEL: str = Field("INFO", description="level of the JSON request log")
    LOGIN_FAILURES_BEFORE_LOCK: int = Field(
        5,
        description=(
            "wrong passwords for one name from one client address before that address–name "
            "pair is locked (the name stays open from everywhere else)"
        ),
    )
    LOGIN_LOCK_MINUTES: int = Field(15, description="how long an address–name pair stays locked")
    LOGIN_RATE_LIMIT: str = Field(
        "20 per minute",
        description="sign-in attempts per client address (counted in Redis, else in the database)",
    )
    AUTH_FAILURE_LIMIT: int = Field(
        30,
        description=(
            "failed authentications (bad tokens, junk refresh tokens, wrong passwords) per "
            "client address per window before further failed tokens from the address get "
            "429 (a password sign-in is never refused by this count); one audit event per "
            "address and window"
        ),
    )
    AUTH_FAILURE_WINDOW_MINUTES: int = Field(10, description="the window of `AUTH_FAILURE_LIMIT`")
    TRUSTED_PROXIES: int = Field(
        0,
        description=(
            "how many reverse proxies (TLS terminators, load balancers) stand in front of "
            "the app; their `X-Forwarded-For` and `X-Forwarded-Proto` are trusted that many"
            " hops deep (Werkzeug's `ProxyFix`), so throttles, locks and the audit trail "
            "see the real client address. 0: no forwarded header is trusted"
        ),
    )
    REFUSAL_LIMIT: int = Field(
        60,
        description=(
            "refused requests (another organisation's referral, a function the role may not"
            " use) per user per window before anything refused or not found answers that "
            "user 429 until the window ends"
        ),
    )
    REFUSAL_WINDOW_MINUTES: int = Field(
        10,
        description=(
            "the window of `REFUSAL_LIMIT`; a user's refusals of one object are written to "
            "the audit trail once per window"
        ),
    )
    API_RATE_LIMIT: str = Field(
        "600 per minute",
        description="requests per user on heavier endpoints",
    )
    ORUK_RATE_LIMIT: str = Field(
        "300 per minute",
        description="requests per client address to the public directory (`/oruk`)",
    )
    HOLD_TTL_MINUTES: int = Field(240, description="how long a bed hold lasts (4 hours)")
    MAX_ACTIVE_HOLDS_PER_ORGANISATION: int = Field(
        10,
        description="live bed holds one organisation's users may have placed at once (409 beyond)",
    )
    MAX_ACTIVE_HOLDS_PER_USER: int = Field(
        3,
        description="live bed holds one user may have placed at once (409 beyond)",
    )
    HOLD_SHARE_PER_REFUGE_PERCENT: int = Field(
        50,
        description=(
            "at one refuge, an organisation's live holds are at most this share of the "
            "refuge's vacant spaces (all types), and at least one (409 beyond)"
        ),
    )
    HOLD_COOLDOWN_MINUTES: int = Field(
        120,
        description=(
            "after a refuge released one of an organisation's holds with a reason, that "
            "organisation holds nothing at that refuge for this long (409)"
        ),
    )
    AVAILABILITY_STALE_AFTER_HOURS: int = Field(
        24,
        description="a refuge's report older than this is `stale`",
    )
    REFERRAL_RETENTION_DAYS: int = Field(
        2190,
        description="closed referrals are pseudonymised after this",
    )
    MAX_PAGE_SIZE: int = Field(100, description="largest `page_size` a list accepts")
    DB_STATEMENT_TIMEOUT_MS: int = Field(10000, description="PostgreSQL statement timeout")
    DB_CONNECT_TIMEOUT_S: int = Field(3, description="PostgreSQL connect timeout")
    DATABASE_SCHEMA: str | None = Field(
        None,
        description="PostgreSQL schema to use (search_path); tests use their own",
    )
    GRANT_ID_PREFIX: str = Field(
        "360G-staffscommissioner",
        description="360Giving identifier prefix",
    )
    CORS_ORIGINS: str | None = Field(
        None,
        description="comma-separated origins allowed by CORS; off when unset",
    )
    DEMO_PASSWORD: str | None = Field(
        None,
        description="password of the demo users; generated and printed when unset",
    )
    ARGON2_TIME_COST: int = Field(3, description="Argon2 iterations for password hashes")
    ARGON2_MEMORY_COST: int = Field(65536, description="Argon2 memory in KiB for password hashes")
    RATELIMIT_ENABLED: bool = Field(
        True,
        description="turn flask-limiter off (only for benchmarks)",
    )
    PAGE_IDLE_MINUTES: int = Field(
        30,
        description=(
            "a signed-in page session ends after this long without a request (its session "
            "is revoked)"
        ),
    )
    WEBHOOKS_ALLOW_PRIVATE: bool = Field(
        False,
        description=(
            "let webhooks call loopback and private addresses (development and tests only; "
            "production refuses to start with it)"
        ),
    )
    WEBHOOK_TIMEOUT_SECONDS: int = Field(
        15,
        description="how long a webhook receiver has to answer",
    )
    VACANCY_ALERT_HOURS: int = Field(
        72,
        description="how long a vacancy alert lasts unless its referral ends",
    )
    MAX_LIVE_VACANCY_ALERTS_PER_USER: int = Field(
        20,
        description="live vacancy alerts one user may have set at once (409 beyond)",
    )
    MAX_LIVE_VACANCY_ALERTS_PER_ORGANISATION: int = Field(
        200,
        description=(
            "live vacancy alerts one organisation's users may have set at once (409 beyond)"
        ),
    )
    WORKER_POLL_SECONDS: float = Field(
        0.25,
        description="how often an idle delivery worker looks for events",
    )
    WEBHOOK_SECRET_KEY: str | None = Field(
        None,
        description=(
            "key sealing webhook signing secrets at rest: a random string of at least 32 "
            "characters, or several comma-separated (the first seals, all open); required "
            "in production"
        ),
        json_schema_extra={"shown": "(derived from `JWT_SECRET_KEY` in development)"},
    )
    EVENT_RETENTION_DAYS: int = Field(
        30,
        description=(
            "events every webhook has had, and attempt logs, are pruned after this many days"
        ),
    )
    SMTP_URL: str | None = Field(
        None,
        description=(
            "optional; `smtp://host:port` (or `smtps://`, `smtp+starttls://`, with "
            "`user:password@`): content-free emails for new referrals and vacancy alerts"
        ),
    )
    SMTP_FROM: str = Field("partnership@localhost", description="the sender of those emails")
    DATABASE_REPLICA_URL: str | None = Field(
        None,
        description="optional read replica for the read-only lists",
    )
    REPLICA_STICKY_SECONDS: int = Field(
        30,
        description="a writer's reads stay on the primary this long",
    )
    METRICS_TOKEN: str | None = Field(None, description="bearer token for `/metrics` (unset: 404)")
    WORKER_METRICS_ADDRESS: str | None = Field(
        None,
        description="`host:port` of each delivery worker's `/metrics`",
    )


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    doc: str


def _table() -> tuple[Setting, ...]:
    """The declaration as the README's table: name, default as shown, what it does."""
    return tuple(
        Setting(name, (extra or {}).get("shown", field.default), field.description)
        for name, field in Settings.model_fields.items()
        for extra in [field.json_schema_extra]
    )


SETTINGS: tuple[Setting, ...] = _table()


def _psycopg(url: str | None) -> str | None:
    """``postgresql://`` as SQLAlchemy's psycopg 3 driver."""
    if url and url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _database_url(url: str | None) -> str:
    if url is None:
        INSTANCE_DIR.mkdir(exist_ok=True)
        return f"sqlite:///{INSTANCE_DIR / 'partnership.db'}"
    return _psycopg(url)


# Settings given to Flask and the extensions as a duration, under the name they read.
DURATIONS = {
    "ACCESS_TOKEN_MINUTES": ("JWT_ACCESS_TOKEN_EXPIRES", "minutes"),
    "REFRESH_TOKEN_HOURS": ("JWT_REFRESH_TOKEN_EXPIRES", "hours"),
    "HOLD_TTL_MINUTES": ("HOLD_TTL", "minutes"),
    "AVAILABILITY_STALE_AFTER_HOURS": ("AVAILABILITY_STALE_AFTER", "hours"),
    "PAGE_IDLE_MINUTES": ("PAGE_IDLE", "minutes"),
}


def load_settings() -> dict[str, object]:
    """Read the environment into a Flask config mapping."""
    try:
        settings = Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']} (given {e.get('input')!r})"
            for e in error.errors()
        )
        raise ConfigError(f"Settings refused: {problems}") from None
    config: dict[str, object] = {}
    for name, value in settings.model_dump().items():
        if name in DURATIONS:
            key, unit = DURATIONS[name]
            config[key] = timedelta(**{unit: value})
        elif name == "DATABASE_URL":
            config["SQLALCHEMY_DATABASE_URI"] = _database_url(value)
        elif name == "DATABASE_REPLICA_URL":
            config[name] = _psycopg(value)
        else:
            config[name] = value
    return config
