"""The funding summary and the 360Giving export."""

from __future__ import annotations

from flask import Response
from flask.views import MethodView

from partnership_api.api_auth import current_actor
from partnership_api.schemas.funding import ProjectQueryArgsSchema
from partnership_api.schemas.funding_reports import FundingSummarySchema, GrantPackageSchema
from partnership_api.services import funding_summary, giving_export, project_export
from partnership_api.smorest import Blueprint

blp = Blueprint(
    "Funding",
    __name__,
    url_prefix="/api/v1",
    description="Funding at a glance, and the projects published as 360Giving grants",
)


@blp.route("/funding/summary")
class FundingSummary(MethodView):
    @blp.response(200, FundingSummarySchema)
    @blp.alt_response(401, description="Not signed in")
    def get(self):
        """Awarded, spent, forecast and remaining per fund and overall; projects needing attention

        Money in whole pence. `forecast_pence` is the expected outturn (each ended quarter's
        actual where reported, else its forecast; a quarter not yet over, its forecast);
        `remaining_pence` is awarded minus spent. A project of planned or in_delivery status
        needs attention when it is red on any RAG, has overdue milestones, has an ended quarter
        with no actual reported (no actual is not zero), has spent a share of its award more
        than 25 percentage points away from the share of its time elapsed (in delivery; behind
        time is not said while actuals are missing), or has had no update for 91 days; any
        project not cancelled needs attention when it has spent more than its award.
        """
        return funding_summary.funding_summary(current_actor())


@blp.route("/exports/360giving")
class GivingExport(MethodView):
    @blp.rate_limited
    @blp.response(200, GrantPackageSchema)
    @blp.alt_response(401, description="Not signed in")
    def get(self):
        """The projects as a 360Giving data package (amounts in pounds, areas as GSS codes)

        Planned, in-delivery and completed projects (a cancelled award is withdrawn) as grants
        from the commissioner's office to each project's lead organisation and delivery
        partners, identified by charity number (`GB-CHC-`), else company number (`GB-COH-`),
        else the configured 360Giving prefix. A project without `awarded_on` is left out, not
        given an invented award date, and listed in `report.left_out` (not part of the
        standard). It carries no personal data and no RAG commentary.
        """
        return giving_export.giving_export(current_actor())


CSV_FILE = {"type": "string", "format": "binary"}


def csv_download(text: str, filename: str) -> Response:
    """CSV text as a file to save (the pages serve the same answer)."""
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@blp.route("/exports/projects.csv")
class ProjectsCsv(MethodView):
    @blp.rate_limited
    @blp.arguments(ProjectQueryArgsSchema, location="query")
    @blp.response(200, CSV_FILE, content_type="text/csv")
    @blp.alt_response(401, description="Not signed in")
    def get(self, args):
        """The projects as a CSV file: one row per project, filtered as the list is

        Fund, category, organisations and areas by name; status; award date; awarded, spent,
        forecast outturn and remaining in pounds with two decimals; ended quarters without an
        actual; the three ratings. No personal data and no RAG commentary. A cell a spreadsheet
        would run as a formula starts with an apostrophe.
        """
        return csv_download(project_export.projects_csv(current_actor(), args), "projects.csv")
