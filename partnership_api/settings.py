"""Configuration read from environment variables, with typed defaults.

Every setting is listed in the README's settings table. ``load_settings`` reads them once,
``create_app(overrides)`` may replace any of them (tests do).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"
# The last page number a list answers (pagination.check_page; documented in OpenAPI).
MAX_PAGE = 100_000
JWT_SECRET_FILE = "jwt-secret"  # noqa: S105 - a file name, not a secret


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


def _int(name: str, default: int) -> int:
    raw = _env(name)
    return int(raw) if raw not in (None, "") else default


def _str(name: str, default: str | None) -> str | None:
    raw = _env(name)
    return raw if raw not in (None, "") else default


def _bool(name: str, default: bool) -> bool:
    raw = _env(name)
    if raw in (None, ""):
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    doc: str


# The one table of settings: name, default, what it does (rendered in the README).
SETTINGS: tuple[Setting, ...] = (
    Setting(
        "APP_ENV",
        "development",
        "`development` or `production`; production refuses demo "
        "data and a missing or weak `JWT_SECRET_KEY`",
    ),
    Setting(
        "DATABASE_URL",
        "sqlite:///instance/partnership.db",
        "SQLAlchemy URL; PostgreSQL in production (`postgresql+psycopg://…`)",
    ),
    Setting(
        "JWT_SECRET_KEY",
        "(generated per instance in development)",
        "HS256 signing key, at least 32 characters; required in production, where a key that "
        "looks typed (too few distinct characters or too little entropy) or equals a "
        "`WEBHOOK_SECRET_KEY` is refused. Unset in development: a random one is made once and "
        "kept in `instance/jwt-secret`",
    ),
    Setting("ACCESS_TOKEN_MINUTES", 15, "lifetime of an access token"),
    Setting("REFRESH_TOKEN_HOURS", 12, "lifetime of a refresh token (one working shift)"),
    Setting(
        "REDIS_URL",
        None,
        "optional; shared rate-limit storage and bed-search cache invalidation across app servers",
    ),
    Setting("LOG_LEVEL", "INFO", "level of the JSON request log"),
    Setting(
        "LOGIN_FAILURES_BEFORE_LOCK",
        5,
        "wrong passwords for one name from one client address before that address–name pair is "
        "locked (the name stays open from everywhere else)",
    ),
    Setting("LOGIN_LOCK_MINUTES", 15, "how long an address–name pair stays locked"),
    Setting(
        "LOGIN_RATE_LIMIT",
        "20 per minute",
        "sign-in attempts per client address (counted in Redis, else in the database)",
    ),
    Setting(
        "AUTH_FAILURE_LIMIT",
        30,
        "failed authentications (bad tokens, junk refresh tokens, wrong passwords) per client "
        "address per window before further failed tokens from the address get 429 (a password "
        "sign-in is never refused by this count); one audit event per address and window",
    ),
    Setting("AUTH_FAILURE_WINDOW_MINUTES", 10, "the window of `AUTH_FAILURE_LIMIT`"),
    Setting(
        "TRUSTED_PROXIES",
        0,
        "how many reverse proxies (TLS terminators, load balancers) stand in front of the app; "
        "their `X-Forwarded-For` and `X-Forwarded-Proto` are trusted that many hops deep "
        "(Werkzeug's `ProxyFix`), so throttles, locks and the audit trail see the real client "
        "address. 0: no forwarded header is trusted",
    ),
    Setting(
        "REFUSAL_LIMIT",
        60,
        "refused requests (another organisation's referral, a function the role may not use) "
        "per user per window before anything refused or not found answers that user 429 "
        "until the window ends",
    ),
    Setting(
        "REFUSAL_WINDOW_MINUTES",
        10,
        "the window of `REFUSAL_LIMIT`; a user's refusals of one object are written to the "
        "audit trail once per window",
    ),
    Setting("API_RATE_LIMIT", "600 per minute", "requests per user on heavier endpoints"),
    Setting(
        "ORUK_RATE_LIMIT",
        "300 per minute",
        "requests per client address to the public directory (`/oruk`)",
    ),
    Setting("HOLD_TTL_MINUTES", 240, "how long a bed hold lasts (4 hours)"),
    Setting(
        "MAX_ACTIVE_HOLDS_PER_ORGANISATION",
        10,
        "live bed holds one organisation's users may have placed at once (409 beyond)",
    ),
    Setting(
        "MAX_ACTIVE_HOLDS_PER_USER",
        3,
        "live bed holds one user may have placed at once (409 beyond)",
    ),
    Setting(
        "HOLD_SHARE_PER_REFUGE_PERCENT",
        50,
        "at one refuge, an organisation's live holds are at most this share of the refuge's "
        "vacant spaces (all types), and at least one (409 beyond)",
    ),
    Setting(
        "HOLD_COOLDOWN_MINUTES",
        120,
        "after a refuge released one of an organisation's holds with a reason, that "
        "organisation holds nothing at that refuge for this long (409)",
    ),
    Setting("AVAILABILITY_STALE_AFTER_HOURS", 24, "a refuge's report older than this is `stale`"),
    Setting("REFERRAL_RETENTION_DAYS", 2190, "closed referrals are pseudonymised after this"),
    Setting("MAX_PAGE_SIZE", 100, "largest `page_size` a list accepts"),
    Setting("DB_STATEMENT_TIMEOUT_MS", 10000, "PostgreSQL statement timeout"),
    Setting("DB_CONNECT_TIMEOUT_S", 3, "PostgreSQL connect timeout"),
    Setting("DATABASE_SCHEMA", None, "PostgreSQL schema to use (search_path); tests use their own"),
    Setting("GRANT_ID_PREFIX", "360G-staffscommissioner", "360Giving identifier prefix"),
    Setting("CORS_ORIGINS", None, "comma-separated origins allowed by CORS; off when unset"),
    Setting("DEMO_PASSWORD", None, "password of the demo users; generated and printed when unset"),
    Setting("ARGON2_TIME_COST", 3, "Argon2 iterations for password hashes"),
    Setting("ARGON2_MEMORY_COST", 65536, "Argon2 memory in KiB for password hashes"),
    Setting("RATELIMIT_ENABLED", True, "turn flask-limiter off (only for benchmarks)"),
    Setting(
        "PAGE_IDLE_MINUTES",
        30,
        "a signed-in page session ends after this long without a request (its session is revoked)",
    ),
    Setting(
        "WEBHOOKS_ALLOW_PRIVATE",
        False,
        "let webhooks call loopback and private addresses (development and tests only; "
        "production refuses to start with it)",
    ),
    Setting("WEBHOOK_TIMEOUT_SECONDS", 15, "how long a webhook receiver has to answer"),
    Setting("VACANCY_ALERT_HOURS", 72, "how long a vacancy alert lasts unless its referral ends"),
    Setting(
        "MAX_LIVE_VACANCY_ALERTS_PER_USER",
        20,
        "live vacancy alerts one user may have set at once (409 beyond)",
    ),
    Setting(
        "MAX_LIVE_VACANCY_ALERTS_PER_ORGANISATION",
        200,
        "live vacancy alerts one organisation's users may have set at once (409 beyond)",
    ),
    Setting("WORKER_POLL_SECONDS", 0.25, "how often an idle delivery worker looks for events"),
    Setting(
        "WEBHOOK_SECRET_KEY",
        "(derived from `JWT_SECRET_KEY` in development)",
        "key sealing webhook signing secrets at rest: a random string of at least 32 "
        "characters, or several comma-separated (the first seals, all open); required in "
        "production",
    ),
    Setting(
        "EVENT_RETENTION_DAYS",
        30,
        "events every webhook has had, and attempt logs, are pruned after this many days",
    ),
    Setting(
        "SMTP_URL",
        None,
        "optional; `smtp://host:port` (or `smtps://`, `smtp+starttls://`, with `user:password@`): "
        "content-free emails for new referrals and vacancy alerts",
    ),
    Setting("SMTP_FROM", "partnership@localhost", "the sender of those emails"),
    # Documented in full in README (Read replica, Metrics).
    Setting("DATABASE_REPLICA_URL", None, "optional read replica for the read-only lists"),
    Setting("REPLICA_STICKY_SECONDS", 30, "a writer's reads stay on the primary this long"),
    Setting("METRICS_TOKEN", None, "bearer token for `/metrics` (unset: 404)"),
    Setting("WORKER_METRICS_ADDRESS", None, "`host:port` of each delivery worker's `/metrics`"),
)


def _database_url() -> str:
    url = _str("DATABASE_URL", None)
    if url is None:
        INSTANCE_DIR.mkdir(exist_ok=True)
        return f"sqlite:///{INSTANCE_DIR / 'partnership.db'}"
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _replica_url() -> str | None:
    url = _str("DATABASE_REPLICA_URL", None)
    if url and url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def load_settings() -> dict[str, object]:
    """Read the environment into a Flask config mapping."""
    app_env = _str("APP_ENV", "development")
    return {
        "APP_ENV": app_env,
        "SQLALCHEMY_DATABASE_URI": _database_url(),
        "JWT_SECRET_KEY": _str("JWT_SECRET_KEY", None),
        "JWT_ACCESS_TOKEN_EXPIRES": timedelta(minutes=_int("ACCESS_TOKEN_MINUTES", 15)),
        "JWT_REFRESH_TOKEN_EXPIRES": timedelta(hours=_int("REFRESH_TOKEN_HOURS", 12)),
        "REDIS_URL": _str("REDIS_URL", None),
        "LOG_LEVEL": _str("LOG_LEVEL", "INFO"),
        "LOGIN_FAILURES_BEFORE_LOCK": _int("LOGIN_FAILURES_BEFORE_LOCK", 5),
        "LOGIN_LOCK_MINUTES": _int("LOGIN_LOCK_MINUTES", 15),
        "LOGIN_RATE_LIMIT": _str("LOGIN_RATE_LIMIT", "20 per minute"),
        "AUTH_FAILURE_LIMIT": _int("AUTH_FAILURE_LIMIT", 30),
        "AUTH_FAILURE_WINDOW_MINUTES": _int("AUTH_FAILURE_WINDOW_MINUTES", 10),
        "TRUSTED_PROXIES": _int("TRUSTED_PROXIES", 0),
        "REFUSAL_LIMIT": _int("REFUSAL_LIMIT", 60),
        "REFUSAL_WINDOW_MINUTES": _int("REFUSAL_WINDOW_MINUTES", 10),
        "API_RATE_LIMIT": _str("API_RATE_LIMIT", "600 per minute"),
        "ORUK_RATE_LIMIT": _str("ORUK_RATE_LIMIT", "300 per minute"),
        "HOLD_TTL": timedelta(minutes=_int("HOLD_TTL_MINUTES", 240)),
        "MAX_ACTIVE_HOLDS_PER_ORGANISATION": _int("MAX_ACTIVE_HOLDS_PER_ORGANISATION", 10),
        "MAX_ACTIVE_HOLDS_PER_USER": _int("MAX_ACTIVE_HOLDS_PER_USER", 3),
        "HOLD_SHARE_PER_REFUGE_PERCENT": _int("HOLD_SHARE_PER_REFUGE_PERCENT", 50),
        "HOLD_COOLDOWN_MINUTES": _int("HOLD_COOLDOWN_MINUTES", 120),
        "AVAILABILITY_STALE_AFTER": timedelta(hours=_int("AVAILABILITY_STALE_AFTER_HOURS", 24)),
        "REFERRAL_RETENTION_DAYS": _int("REFERRAL_RETENTION_DAYS", 2190),
        "MAX_PAGE_SIZE": _int("MAX_PAGE_SIZE", 100),
        "DB_STATEMENT_TIMEOUT_MS": _int("DB_STATEMENT_TIMEOUT_MS", 10000),
        "DB_CONNECT_TIMEOUT_S": _int("DB_CONNECT_TIMEOUT_S", 3),
        "DATABASE_SCHEMA": _str("DATABASE_SCHEMA", None),
        "GRANT_ID_PREFIX": _str("GRANT_ID_PREFIX", "360G-staffscommissioner"),
        "CORS_ORIGINS": _str("CORS_ORIGINS", None),
        "DEMO_PASSWORD": _str("DEMO_PASSWORD", None),
        "ARGON2_TIME_COST": _int("ARGON2_TIME_COST", 3),
        "ARGON2_MEMORY_COST": _int("ARGON2_MEMORY_COST", 65536),
        "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", True),
        "PAGE_IDLE": timedelta(minutes=_int("PAGE_IDLE_MINUTES", 30)),
        "WEBHOOKS_ALLOW_PRIVATE": _bool("WEBHOOKS_ALLOW_PRIVATE", False),
        "WEBHOOK_TIMEOUT_SECONDS": _int("WEBHOOK_TIMEOUT_SECONDS", 15),
        "VACANCY_ALERT_HOURS": _int("VACANCY_ALERT_HOURS", 72),
        "MAX_LIVE_VACANCY_ALERTS_PER_USER": _int("MAX_LIVE_VACANCY_ALERTS_PER_USER", 20),
        "MAX_LIVE_VACANCY_ALERTS_PER_ORGANISATION": _int(
            "MAX_LIVE_VACANCY_ALERTS_PER_ORGANISATION", 200
        ),
        "WORKER_POLL_SECONDS": float(_str("WORKER_POLL_SECONDS", "0.25") or 0.25),
        "WEBHOOK_SECRET_KEY": _str("WEBHOOK_SECRET_KEY", None),
        "EVENT_RETENTION_DAYS": _int("EVENT_RETENTION_DAYS", 30),
        "SMTP_URL": _str("SMTP_URL", None),
        "SMTP_FROM": _str("SMTP_FROM", "partnership@localhost"),
        "DATABASE_REPLICA_URL": _replica_url(),
        "REPLICA_STICKY_SECONDS": _int("REPLICA_STICKY_SECONDS", 30),
        "METRICS_TOKEN": _str("METRICS_TOKEN", None),
        "WORKER_METRICS_ADDRESS": _str("WORKER_METRICS_ADDRESS", None),
    }


# A key shorter in estimated entropy than this, or with fewer distinct characters, was typed
# rather than generated ('k' * 32, 'password' * 4); secrets.token_hex(16) passes.
MIN_KEY_ENTROPY_BITS = 96
MIN_KEY_DISTINCT_CHARACTERS = 8


def guessable(key: str) -> bool:
    """Whether a secret key looks typed rather than random: too few distinct characters, or
    too little entropy by its own character frequencies (Shannon, bits per character times
    its length)."""
    import math
    from collections import Counter

    counts = Counter(key)
    if len(counts) < MIN_KEY_DISTINCT_CHARACTERS:
        return True
    per_character = -sum(n / len(key) * math.log2(n / len(key)) for n in counts.values())
    return per_character * len(key) < MIN_KEY_ENTROPY_BITS


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message says why."""


def check_settings(config: dict) -> None:
    """Refuse configurations that would be unsafe, with a clear message."""
    secret = config.get("JWT_SECRET_KEY")
    if config.get("APP_ENV") == "production":
        if not secret or len(secret) < 32:
            raise ConfigError(
                "APP_ENV=production needs JWT_SECRET_KEY set to a random secret of at least "
                "32 characters (python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        if config.get("WEBHOOKS_ALLOW_PRIVATE"):
            raise ConfigError(
                "WEBHOOKS_ALLOW_PRIVATE=true lets webhooks reach inside the network: it is for "
                "development and tests only, never with APP_ENV=production"
            )
        keys = [k.strip() for k in (config.get("WEBHOOK_SECRET_KEY") or "").split(",")]
        if not all(len(key) >= 32 for key in keys):
            raise ConfigError(
                "APP_ENV=production needs WEBHOOK_SECRET_KEY (it seals webhook signing secrets "
                "in the database) set to a random secret of at least 32 characters, different "
                "from JWT_SECRET_KEY"
            )
        metrics_token = config.get("METRICS_TOKEN")
        if metrics_token and len(metrics_token) < 32:
            raise ConfigError(
                "APP_ENV=production needs METRICS_TOKEN, when set, to be a random secret of at "
                "least 32 characters"
            )
        if secret in keys:
            raise ConfigError(
                "JWT_SECRET_KEY and WEBHOOK_SECRET_KEY must differ: one signs every token, the "
                "other seals webhook secrets, and a leak of one must not give away the other"
            )
        for name, values in (("JWT_SECRET_KEY", [secret]), ("WEBHOOK_SECRET_KEY", keys)):
            if any(guessable(value) for value in values):
                raise ConfigError(
                    f"APP_ENV=production refuses this {name}: it repeats too few characters to "
                    "be random. Make one with python -c 'import secrets; "
                    "print(secrets.token_urlsafe(48))'"
                )
    proxies = config.get("TRUSTED_PROXIES", 0)
    if not isinstance(proxies, int) or not 0 <= proxies <= 5:
        raise ConfigError("TRUSTED_PROXIES must be a whole number from 0 to 5")
    if config.get("APP_ENV") not in ("development", "production"):
        raise ConfigError("APP_ENV must be 'development' or 'production'")


def instance_jwt_secret(instance_dir: Path = INSTANCE_DIR) -> str:
    """Development only: this instance's own signing key, made at random the first time and
    kept in ``instance/jwt-secret`` (readable by its owner only), so no key in the repository
    ever signs a token and restarts keep everyone signed in."""
    import secrets
    import tempfile

    path = instance_dir / JWT_SECRET_FILE
    try:
        existing = path.read_text().strip()
    except FileNotFoundError:
        existing = ""
    if len(existing) >= 32:
        return existing
    instance_dir.mkdir(exist_ok=True)
    # Written whole to a file of its own, then linked into place: two workers starting at
    # once agree on whichever key was linked first, and nobody reads a half-written one.
    fd, temporary = tempfile.mkstemp(dir=instance_dir, prefix=".jwt-secret-")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
    finally:
        os.unlink(temporary)
    return path.read_text().strip()
