"""What every resource module turns from HTTP into the plain values services take, and back:
pages (flask-smorest's ``page``/``page_size`` and ``X-Pagination``) and If-Match."""

from __future__ import annotations

from flask import request

from partnership_api.pagination import Page, PageRequest
from partnership_api.services.versions import IfMatch


def page_asked(pagination_parameters) -> PageRequest:
    """The page flask-smorest parsed from the query."""
    return PageRequest(pagination_parameters.page, pagination_parameters.page_size)


def shown_page(page: Page, pagination_parameters) -> list:
    """The page's items; its total goes in ``X-Pagination``."""
    pagination_parameters.item_count = page.total
    return page.items


def if_match() -> IfMatch | None:
    """The request's If-Match: None when it names nothing at all."""
    etags = request.if_match
    if not etags:
        return None
    weak = len(etags.as_set(include_weak=True)) > len(etags)
    return IfMatch(frozenset(etags), bool(etags.star_tag), weak)


# The ETag handshake of funds and projects, as documented.
IF_MATCH_PARAMETER = {
    "name": "If-Match",
    "in": "header",
    "required": True,
    "description": "The ETag of the version you read (a GET answers it in the ETag header); "
    "missing → 428, no longer current → 412",
    "schema": {"type": "string"},
}
ETAG_HEADER = {
    "ETag": {"description": "the version of what was answered", "schema": {"type": "string"}}
}
