"""What the core and the ground may know of where they run, in one seam: the settings, a
cache kept for the life of the process, values the request's sign-in already read, and the
request's facts (who is calling, from where, its request id, whether it may write, whether
its reads go to the replica).

This is the one module of the core and the ground that touches Flask (``g``, ``request``,
``current_app``): services, ``audit.py``, ``transactions.py`` and the database session ask
here (``tests/test_architecture.py`` checks). Whoever calls them (a view, the event worker, a
CLI command) runs inside the application's context, as the database session needs anyway;
outside a request each fact has its plain answer (no actor, no address, may write).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, g, has_request_context, request

T = TypeVar("T")
_MISSING = object()


def setting(name: str) -> Any:
    """A setting of the running application (``settings.py``)."""
    return current_app.config[name]


def setting_or(name: str, default: Any) -> Any:
    return current_app.config.get(name, default)


def process_cache(name: str, make: Callable[[], T]) -> T:
    """A value kept for the life of this process's application, made once by ``make``."""
    extensions = current_app.extensions
    found = extensions.get(name)
    if found is None:
        found = extensions.setdefault(name, make())
    return found


def rate_limit_storage() -> Any:
    """The rate limiter's storage (flask-limiter's: Redis when ``REDIS_URL`` is set), which
    failed authentications are counted in too; None before the limiter is bound."""
    for limiter in current_app.extensions.get("limiter", ()):
        return limiter.storage
    return None


def keep_for_request(name: str, value: Any) -> None:
    """Keep a value the sign-in read for the rest of this request (``read_with_sign_in``)."""
    if has_request_context():
        setattr(g, name, value)


def read_with_sign_in(name: str, default: Any = None) -> Any:
    """A value the request's sign-in read in its own round trip (``auth.load_actor``), or
    ``default`` outside a request or when it was not read."""
    if has_request_context():
        found = g.get(name, _MISSING)
        if found is not _MISSING:
            return found
    return default


# --- the request's facts ------------------------------------------------------------------------


def request_actor() -> Any:
    """The signed-in caller of this request (an ``Actor``, set by the door that signed it in),
    or None outside a request or before sign-in."""
    return g.get("actor") if has_request_context() else None


def request_id() -> str | None:
    """This request's id (``observability.py``), or None outside a request."""
    return g.get("request_id") if has_request_context() else None


def request_address() -> str | None:
    """The caller's address as this server saw it (after ``TRUSTED_PROXIES``), or None."""
    return request.remote_addr if has_request_context() else None


def request_is_read_only() -> bool:
    """Whether this request only reads (the write guard, ``transactions.py``)."""
    return has_request_context() and bool(g.get("read_only"))


def request_writes() -> None:
    """From here on this request writes (``transactions.write_now``)."""
    if has_request_context():
        g.read_only = False


def note_read_without_transaction() -> None:
    """This request's reads took a connection without a transaction (``begin_read``)."""
    g.without_transaction = True


def ended_read_without_transaction() -> bool:
    """Whether this request read without a transaction, forgetting it (once)."""
    return has_request_context() and bool(g.pop("without_transaction", False))


def request_uses_replica() -> bool:
    """Whether this request's reads go to the replica (``replica.py`` decides)."""
    return has_request_context() and bool(g.get("use_replica"))
