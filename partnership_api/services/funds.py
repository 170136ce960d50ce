"""Funds: the pots of money projects are paid from (Safer Streets, Safety of Women at Night).
Everyone signed in reads them; the commissioner's office creates and changes them (If-Match)."""

from __future__ import annotations

import sqlalchemy as sa

from partnership_api import audit, policy
from partnership_api.database import db
from partnership_api.domain_errors import Conflict, Invalid, NotFound
from partnership_api.models.funding import Fund
from partnership_api.pagination import Page, PageRequest, page_of
from partnership_api.policy import Actor
from partnership_api.services.versions import IfMatch, claim


def list_funds(actor: Actor, args: dict, page: PageRequest) -> Page:
    policy.require(actor, "fund.read")
    stmt = sa.select(Fund).order_by(Fund.id)
    if "funder" in args:
        stmt = stmt.where(Fund.funder == args["funder"])
    return page_of(stmt, page)


def get_fund(actor: Actor, fund_id: int) -> Fund:
    policy.require(actor, "fund.read")
    return _load(fund_id)


def _load(fund_id: int) -> Fund:
    fund = db.session.get(Fund, fund_id)
    if fund is None:
        raise NotFound()
    return fund


def check_fund(fund_id: int) -> None:
    """``Invalid`` (on ``fund_id``) unless the fund exists."""
    if db.session.get(Fund, fund_id) is None:
        raise Invalid.on("fund_id", "No such fund.")


def _fund_name_free(name: str, fund_id: int | None = None) -> None:
    stmt = sa.select(Fund.id).where(Fund.name == name)
    if fund_id is not None:
        stmt = stmt.where(Fund.id != fund_id)
    if db.session.scalar(stmt) is not None:
        raise Conflict.on("name", "A fund with that name exists.", "Taken.")


def create_fund(actor: Actor, data: dict) -> Fund:
    policy.require(actor, "fund.change")
    _fund_name_free(data["name"])
    fund = Fund(**data)
    db.session.add(fund)
    db.session.flush()
    audit.record("fund.create", "fund", fund.id, details={"name": fund.name})
    db.session.commit()
    return fund


def update_fund(actor: Actor, fund_id: int, data: dict, if_match: IfMatch | None) -> Fund:
    policy.require(actor, "fund.change")
    fund = _load(fund_id)
    claim(Fund, fund, if_match)
    if "name" in data:
        _fund_name_free(data["name"], fund.id)
    starts = data.get("starts_on", fund.starts_on)
    ends = data.get("ends_on", fund.ends_on)
    if starts and ends and ends < starts:
        raise Invalid.on("ends_on", "Ends before it starts.")
    for key, value in data.items():
        setattr(fund, key, value)
    audit.record("fund.update", "fund", fund.id, details={"fields": sorted(data)})
    db.session.commit()
    return fund
