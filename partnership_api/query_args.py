"""Query strings read once per worker: webargs' parser, keeping what a query string loaded to
for the schemas that say their answer depends on nothing else (``PURE_QUERY = True``).

A bed search or an inbox page is asked for with the same few query strings over and over;
marshmallow's load (the control-character check, each field's type and validators) cost a
sixth of a cached bed search. A refused query string is never kept: it is checked, and
refused, every time. What is handed to the view is a copy (a dict and its lists, or a new
``PaginationParameters``, whose count the view sets), so a view that changes its arguments
cannot change the next request's.
"""

from __future__ import annotations

import threading
from typing import Any

from cachetools import LRUCache
from flask import request
from flask_smorest.pagination import PaginationParameters
from webargs.flaskparser import FlaskParser

# Different query strings kept per parser and worker, the least recently used first out.
KEPT = 1024


class QueryCachingParser(FlaskParser):
    """flask-smorest's parser (webargs' FlaskParser), keeping the query strings of pure
    schemas."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._kept: LRUCache = LRUCache(maxsize=KEPT)
        self._lock = threading.Lock()

    def parse(self, argmap, req=None, *, location=None, validate=None, **kwargs) -> Any:
        if location != "query" or validate is not None or not getattr(argmap, "PURE_QUERY", False):
            return super().parse(argmap, req, location=location, validate=validate, **kwargs)
        key = (argmap, (req or request).query_string)  # a schema instance: hashed by identity
        with self._lock:
            loaded = self._kept.get(key)
        if loaded is None:
            loaded = super().parse(argmap, req, location=location, **kwargs)  # refusal: raised
            with self._lock:
                self._kept[key] = loaded
        return copy_of(loaded)


def copy_of(loaded: Any) -> Any:
    """A copy the view may change. A query's values are strings, numbers, booleans, UUIDs and
    times, none of which can be changed, or lists of them."""
    if isinstance(loaded, PaginationParameters):
        return PaginationParameters(loaded.page, loaded.page_size)
    if isinstance(loaded, dict):
        return {k: list(v) if isinstance(v, list) else v for k, v in loaded.items()}
    raise TypeError(f"A PURE_QUERY schema loads a dict, not {type(loaded).__name__}.")
