"""Pages of a list: which page and how big (``PageRequest``), and one page with its total.

Services take a ``PageRequest`` (plain numbers) and answer a ``Page``; the API's views make the
request from flask-smorest's ``page``/``page_size`` and put the total in ``X-Pagination``
(``smorest.paged``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from partnership_api import context
from partnership_api.database import db
from partnership_api.domain_errors import Invalid
from partnership_api.settings import MAX_PAGE

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class PageRequest:
    """Page ``page`` (from 1) of ``size`` items."""

    page: int = 1
    size: int = DEFAULT_PAGE_SIZE

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size


@dataclass
class Page:
    """The items of one page, and how many there are in all (``total``)."""

    items: list = field(default_factory=list)
    total: int = 0


def page_of(stmt: sa.Select, page: PageRequest) -> Page:
    """One page of ``stmt``'s objects, with the total count."""
    check_page(page)
    found = db.session.scalars(stmt.limit(page.size).offset(page.offset)).all()
    if page.offset == 0 and len(found) < page.size:
        total = len(found)
    else:
        total = db.session.scalar(
            sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())
        )
    return Page(list(found), total)


def check_page(page: PageRequest) -> None:
    """``Invalid`` for a page size over ``MAX_PAGE_SIZE`` or a page past ``MAX_PAGE``."""
    cap = context.setting_or("MAX_PAGE_SIZE", MAX_PAGE_SIZE)
    if page.size > cap:
        raise Invalid.on(
            "page_size",
            f"page_size may be at most {cap}.",
            f"Must be at most {cap}.",
            location="query",
        )
    if page.page > MAX_PAGE:
        raise Invalid.on(
            "page",
            f"page may be at most {MAX_PAGE}.",
            f"Must be at most {MAX_PAGE}.",
            location="query",
        )
