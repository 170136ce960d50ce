"""Holds (being built)."""

from partnership_api.smorest import Blueprint

blp = Blueprint("Holds", __name__, url_prefix="/api/v1/referrals", description="Holds")
