"""Funds (being built)."""

from partnership_api.smorest import Blueprint

blp = Blueprint("Funds", __name__, url_prefix="/api/v1/funds", description="Funds")
