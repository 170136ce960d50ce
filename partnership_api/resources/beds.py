"""Beds (being built)."""

from partnership_api.smorest import Blueprint

blp = Blueprint("Beds", __name__, url_prefix="/api/v1/beds", description="Beds")
