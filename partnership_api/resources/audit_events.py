"""Audit (being built)."""

from partnership_api.smorest import Blueprint

blp = Blueprint("Audit", __name__, url_prefix="/api/v1/audit-events", description="Audit")
