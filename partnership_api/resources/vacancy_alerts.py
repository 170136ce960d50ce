"""Vacancy alerts: be told when a space that fits a waiting household opens."""

from __future__ import annotations

import uuid

from flask.views import MethodView

from partnership_api.api_auth import current_actor
from partnership_api.resources.common import page_asked, shown_page
from partnership_api.schemas.events import VacancyAlertCreateSchema, VacancyAlertSchema
from partnership_api.services import vacancy_alerts
from partnership_api.smorest import Blueprint, created, json_response

blp = Blueprint(
    "VacancyAlerts",
    __name__,
    url_prefix="/api/v1/vacancy-alerts",
    description=(
        "An alert on a waiting referral (or a household profile): `vacancy.matched` once per "
        "refuge each time a fitting space opens, by webhook and feed, to your organisation only"
    ),
)

NOT_SIGNED_IN = "Not signed in"
NO_ALERTS = "Your role cannot set vacancy alerts (police and provider staff only)"
NOT_VISIBLE = "No such alert in your organisation"


@blp.route("")
class VacancyAlerts(MethodView):
    @blp.response(200, VacancyAlertSchema(many=True))
    @blp.alt_response(401, description=NOT_SIGNED_IN)
    @blp.alt_response(403, description=NO_ALERTS)
    @blp.paginate()
    def get(self, pagination_parameters):
        """List your organisation's vacancy alerts, newest first"""
        page = vacancy_alerts.list_alerts(current_actor(), page_asked(pagination_parameters))
        return json_response(shown_page(page, pagination_parameters))

    @blp.arguments(VacancyAlertCreateSchema)
    @blp.response(201, VacancyAlertSchema)
    @blp.alt_response(401, description=NOT_SIGNED_IN)
    @blp.alt_response(403, description=NO_ALERTS)
    @blp.alt_response(404, description="No such referral, or your organisation is not party to it")
    @blp.alt_response(409, description="The referral is no longer waiting")
    def post(self, data):
        """Set a vacancy alert (bed search's filters; ends with its referral or its lifetime)

        Spaces already open are noted without firing; the alert fires when a fitting space
        opens: after a report, or a hold released or lapsed.
        """
        made = vacancy_alerts.create(current_actor(), data)
        return created(made, "VacancyAlerts.VacancyAlertById", alert_id=made["id"])


@blp.route("/<uuid:alert_id>")
class VacancyAlertById(MethodView):
    @blp.response(200, VacancyAlertSchema)
    @blp.alt_response(401, description=NOT_SIGNED_IN)
    @blp.alt_response(403, description=NO_ALERTS)
    @blp.alt_response(404, description=NOT_VISIBLE)
    def get(self, alert_id: uuid.UUID):
        """Read one vacancy alert"""
        return json_response(vacancy_alerts.read(current_actor(), alert_id))

    @blp.response(204)
    @blp.alt_response(401, description=NOT_SIGNED_IN)
    @blp.alt_response(403, description=NO_ALERTS)
    @blp.alt_response(404, description=NOT_VISIBLE)
    def delete(self, alert_id: uuid.UUID):
        """End a vacancy alert"""
        vacancy_alerts.end(current_actor(), alert_id)
