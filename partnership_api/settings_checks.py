"""The production checks of the settings, and development's own JWT signing key.

``settings.py`` declares and reads the settings; ``check_settings`` refuses a configuration
that would be unsafe (it runs on the final config, after ``create_app``'s overrides).
"""

from __future__ import annotations

import os
from pathlib import Path

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"
JWT_SECRET_FILE = "jwt-secret"  # noqa: S105 - a file name, not a secret


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message says why."""


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
