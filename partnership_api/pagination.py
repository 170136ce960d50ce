"""Paging lists with flask-smorest's ``page``/``page_size`` and its ``X-Pagination`` header."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from flask_smorest import Page, abort

from partnership_api.extensions import db

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_PAGE = 100_000


def page_of(stmt: sa.Select, pagination_parameters, *, count: bool = True) -> list:
    """One page of ``stmt``'s objects; sets the total for the header when ``count`` is true."""
    check_page(pagination_parameters)
    size = pagination_parameters.page_size
    offset = (pagination_parameters.page - 1) * size
    paged = stmt.limit(size).offset(offset)
    found = db.session.scalars(paged).all()
    if count:
        if offset == 0 and len(found) < size:
            total = len(found)
        else:
            total = db.session.scalar(
                sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())
            )
        pagination_parameters.item_count = total
    return found


def check_page(pagination_parameters) -> None:
    """422 for a page size over ``MAX_PAGE_SIZE`` or a page past ``MAX_PAGE``."""
    cap = current_app.config.get("MAX_PAGE_SIZE", MAX_PAGE_SIZE)
    size = pagination_parameters.page_size
    if size > cap:
        abort(
            422,
            message=f"page_size may be at most {cap}.",
            errors={"query": {"page_size": [f"Must be at most {cap}."]}},
        )
    if pagination_parameters.page > MAX_PAGE:
        abort(
            422,
            message=f"page may be at most {MAX_PAGE}.",
            errors={"query": {"page": [f"Must be at most {MAX_PAGE}."]}},
        )


__all__ = ["DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE", "Page", "check_page", "page_of"]
