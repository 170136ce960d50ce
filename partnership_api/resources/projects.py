"""Projects (being built)."""

from partnership_api.smorest import Blueprint

blp = Blueprint("Projects", __name__, url_prefix="/api/v1/projects", description="Projects")
