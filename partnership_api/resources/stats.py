"""Statistics (being built)."""

from partnership_api.smorest import Blueprint

blp = Blueprint("Statistics", __name__, url_prefix="/api/v1/stats", description="Statistics")
