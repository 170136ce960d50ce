"""Projects a fund pays for, and their progress: milestones, quarterly spend and outputs."""

from __future__ import annotations

from flask.views import MethodView

from partnership_api.api_auth import current_actor
from partnership_api.resources.common import (
    ETAG_HEADER,
    IF_MATCH_PARAMETER,
    if_match,
    page_asked,
    shown_page,
)
from partnership_api.schemas.funding import (
    MilestoneCreateSchema,
    MilestoneSchema,
    MilestoneUpdateSchema,
    OutputCreateSchema,
    OutputSchema,
    OutputUpdateSchema,
    ProjectCreateSchema,
    ProjectQueryArgsSchema,
    ProjectSchema,
    ProjectUpdateSchema,
    SpendHistorySchema,
    SpendLineCreateSchema,
    SpendLineSchema,
    SpendLineUpdateSchema,
)
from partnership_api.services import project_progress, projects, versions
from partnership_api.smorest import Blueprint, created

blp = Blueprint(
    "Projects",
    __name__,
    url_prefix="/api/v1/projects",
    description=(
        "Projects bought with the funds: the commissioner's office changes them; their delivery "
        "partners report progress (milestones, spend, outputs, RAG); everyone signed in reads"
    ),
)

WRITE_REFUSED = (
    "Not the commissioner's office, nor staff of a delivery partner reporting progress on "
    "a project it delivers"
)


def _tagged(item, present):
    return present(item), {"ETag": versions.etag_of(item)}


@blp.route("")
class Projects(MethodView):
    @blp.arguments(ProjectQueryArgsSchema, location="query")
    @blp.response(200, ProjectSchema(many=True))
    @blp.alt_response(401, description="Not signed in")
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """List projects, by fund, status, category, area or RAG"""
        page = projects.list_projects(current_actor(), args, page_asked(pagination_parameters))
        return shown_page(page, pagination_parameters)

    @blp.arguments(ProjectCreateSchema)
    @blp.response(201, ProjectSchema, headers=ETAG_HEADER)
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(403, description="Only the commissioner's office adds projects")
    def post(self, data):
        """Add a project (commissioner's office)"""
        project = projects.create_project(current_actor(), data)
        body, headers = _tagged(project, projects.present_project)
        return created(body, "Projects.ProjectById", headers, project_id=project.id)


@blp.route("/<int:project_id>")
class ProjectById(MethodView):
    @blp.response(200, ProjectSchema, headers=ETAG_HEADER)
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(404, description="No such project")
    def get(self, project_id):
        """Read one project, with its spend and its ETag"""
        return _tagged(projects.get_project(current_actor(), project_id), projects.present_project)

    @blp.arguments(ProjectUpdateSchema)
    @blp.response(200, ProjectSchema, headers=ETAG_HEADER)
    @blp.doc(parameters=[IF_MATCH_PARAMETER])
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(403, description=WRITE_REFUSED)
    @blp.alt_response(404, description="No such project")
    @blp.alt_response(409, description="The status change does not fit the current status")
    @blp.alt_response(412, description="The project changed since the ETag sent in If-Match")
    @blp.alt_response(428, description="If-Match is missing")
    def patch(self, data, project_id):
        """Change a project, or move its status (If-Match)

        The commissioner's office changes any field and moves the status: planned →
        in_delivery → completed, or cancelled (with a cancellation_reason) from planned or
        in_delivery. A delivery partner's staff change only `rag` and `rag_commentary`.
        """
        project = projects.update_project(current_actor(), project_id, data, if_match())
        return _tagged(project, projects.present_project)


# --- milestones ----------------------------------------------------------------------------------


@blp.route("/<int:project_id>/milestones")
class Milestones(MethodView):
    @blp.response(200, MilestoneSchema(many=True))
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(404, description="No such project")
    @blp.paginate()
    def get(self, project_id, pagination_parameters):
        """List a project's milestones, soonest due first"""
        page = project_progress.list_milestones(
            current_actor(), project_id, page_asked(pagination_parameters)
        )
        return shown_page(page, pagination_parameters)

    @blp.arguments(MilestoneCreateSchema)
    @blp.response(201, MilestoneSchema, headers=ETAG_HEADER)
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(403, description=WRITE_REFUSED)
    @blp.alt_response(404, description="No such project")
    def post(self, data, project_id):
        """Add a milestone (commissioner's office or a delivery partner)"""
        milestone = project_progress.create_milestone(current_actor(), project_id, data)
        body, headers = _tagged(milestone, project_progress.present_milestone)
        return created(
            body,
            "Projects.MilestoneById",
            headers,
            project_id=project_id,
            milestone_id=milestone.id,
        )


@blp.route("/<int:project_id>/milestones/<int:milestone_id>")
class MilestoneById(MethodView):
    @blp.response(200, MilestoneSchema, headers=ETAG_HEADER)
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(404, description="No such project or milestone")
    def get(self, project_id, milestone_id):
        """Read one milestone, with its ETag"""
        return _tagged(
            project_progress.get_milestone(current_actor(), project_id, milestone_id),
            project_progress.present_milestone,
        )

    @blp.arguments(MilestoneUpdateSchema)
    @blp.response(200, MilestoneSchema, headers=ETAG_HEADER)
    @blp.doc(parameters=[IF_MATCH_PARAMETER])
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(403, description=WRITE_REFUSED + "; a partner only sets completed_on")
    @blp.alt_response(404, description="No such project or milestone")
    @blp.alt_response(412, description="The milestone changed since the ETag sent in If-Match")
    @blp.alt_response(428, description="If-Match is missing")
    def patch(self, data, project_id, milestone_id):
        """Change a milestone or mark it completed (If-Match)"""
        milestone = project_progress.update_milestone(
            current_actor(), project_id, milestone_id, data, if_match()
        )
        return _tagged(milestone, project_progress.present_milestone)


# --- spend ---------------------------------------------------------------------------------------


@blp.route("/<int:project_id>/spend")
class Spend(MethodView):
    @blp.response(200, SpendLineSchema(many=True))
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(404, description="No such project")
    @blp.paginate()
    def get(self, project_id, pagination_parameters):
        """List a project's quarterly spend lines, oldest quarter first"""
        page = project_progress.list_spend_lines(
            current_actor(), project_id, page_asked(pagination_parameters)
        )
        return shown_page(page, pagination_parameters)

    @blp.arguments(SpendLineCreateSchema)
    @blp.response(201, SpendLineSchema, headers=ETAG_HEADER)
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(403, description=WRITE_REFUSED)
    @blp.alt_response(404, description="No such project")
    @blp.alt_response(409, description="That quarter is already reported: PATCH it instead")
    def post(self, data, project_id):
        """Report a quarter's actual and forecast spend, in pence (one line per quarter)"""
        line = project_progress.create_spend_line(current_actor(), project_id, data)
        body, headers = _tagged(line, project_progress.present_spend_line)
        return created(
            body, "Projects.SpendByPeriod", headers, project_id=project_id, period=line.period
        )


@blp.route("/<int:project_id>/spend/<string:period>")
class SpendByPeriod(MethodView):
    @blp.response(200, SpendLineSchema, headers=ETAG_HEADER)
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(404, description="No such project or no line for that quarter")
    def get(self, project_id, period):
        """Read one quarter's spend line, with its ETag"""
        return _tagged(
            project_progress.get_spend_line(current_actor(), project_id, period),
            project_progress.present_spend_line,
        )

    @blp.arguments(SpendLineUpdateSchema)
    @blp.response(200, SpendLineSchema, headers=ETAG_HEADER)
    @blp.doc(parameters=[IF_MATCH_PARAMETER])
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(403, description=WRITE_REFUSED)
    @blp.alt_response(404, description="No such project or no line for that quarter")
    @blp.alt_response(412, description="The line changed since the ETag sent in If-Match")
    @blp.alt_response(428, description="If-Match is missing")
    def patch(self, data, project_id, period):
        """Correct a quarter's spend, e.g. record the actual against a forecast (If-Match)"""
        line = project_progress.update_spend_line(
            current_actor(), project_id, period, data, if_match()
        )
        return _tagged(line, project_progress.present_spend_line)


@blp.route("/<int:project_id>/spend/<string:period>/history")
class SpendHistory(MethodView):
    @blp.rate_limited  # it reads the audit trail
    @blp.response(200, SpendHistorySchema(many=True))
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(404, description="No such project or no line for that quarter")
    def get(self, project_id, period):
        """A quarter's spend as first reported and after each correction, oldest first

        From the audit trail: when, by which organisation, and the figures then (no username).
        """
        return project_progress.spend_history(current_actor(), project_id, period)


# --- outputs -------------------------------------------------------------------------------------


@blp.route("/<int:project_id>/outputs")
class Outputs(MethodView):
    @blp.response(200, OutputSchema(many=True))
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(404, description="No such project")
    @blp.paginate()
    def get(self, project_id, pagination_parameters):
        """List a project's outputs: what it has delivered against its targets"""
        page = project_progress.list_outputs(
            current_actor(), project_id, page_asked(pagination_parameters)
        )
        return shown_page(page, pagination_parameters)

    @blp.arguments(OutputCreateSchema)
    @blp.response(201, OutputSchema, headers=ETAG_HEADER)
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(403, description=WRITE_REFUSED)
    @blp.alt_response(404, description="No such project")
    def post(self, data, project_id):
        """Add an output, e.g. "cameras installed" (commissioner's office or a delivery partner)"""
        output = project_progress.create_output(current_actor(), project_id, data)
        body, headers = _tagged(output, project_progress.present_output)
        return created(
            body, "Projects.OutputById", headers, project_id=project_id, output_id=output.id
        )


@blp.route("/<int:project_id>/outputs/<int:output_id>")
class OutputById(MethodView):
    @blp.response(200, OutputSchema, headers=ETAG_HEADER)
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(404, description="No such project or output")
    def get(self, project_id, output_id):
        """Read one output, with its ETag"""
        return _tagged(
            project_progress.get_output(current_actor(), project_id, output_id),
            project_progress.present_output,
        )

    @blp.arguments(OutputUpdateSchema)
    @blp.response(200, OutputSchema, headers=ETAG_HEADER)
    @blp.doc(parameters=[IF_MATCH_PARAMETER])
    @blp.alt_response(401, description="Not signed in")
    @blp.alt_response(403, description=WRITE_REFUSED + "; a partner only sets actual")
    @blp.alt_response(404, description="No such project or output")
    @blp.alt_response(412, description="The output changed since the ETag sent in If-Match")
    @blp.alt_response(428, description="If-Match is missing")
    def patch(self, data, project_id, output_id):
        """Report what an output has reached so far (If-Match)"""
        output = project_progress.update_output(
            current_actor(), project_id, output_id, data, if_match()
        )
        return _tagged(output, project_progress.present_output)
