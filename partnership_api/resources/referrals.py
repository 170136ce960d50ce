"""Referrals (being built)."""

from partnership_api.smorest import Blueprint

blp = Blueprint("Referrals", __name__, url_prefix="/api/v1/referrals", description="Referrals")
