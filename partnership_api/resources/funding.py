"""Funding (being built)."""

from partnership_api.smorest import Blueprint

blp = Blueprint("Funding", __name__, url_prefix="/api/v1", description="Funding")
