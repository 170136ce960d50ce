"""Refuges (being built)."""

from partnership_api.smorest import Blueprint

blp = Blueprint("Refuges", __name__, url_prefix="/api/v1/refuges", description="Refuges")
