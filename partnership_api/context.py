"""What a service may know of where it runs, in one seam: the settings, a cache kept for the
life of the process, and values the request's sign-in already read.

Services never import Flask; they ask here. Whoever calls them (a view, the event worker, a
CLI command) runs inside the application's context, as the database session needs anyway.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, g, has_request_context

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


def read_with_sign_in(name: str, default: Any = None) -> Any:
    """A value the request's sign-in read in its own round trip (``auth.load_actor``), or
    ``default`` outside a request or when it was not read."""
    if has_request_context():
        found = g.get(name, _MISSING)
        if found is not _MISSING:
            return found
    return default
