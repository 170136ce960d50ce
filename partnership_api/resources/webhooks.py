"""Webhook endpoints of an organisation: its admins register, change, rotate and replay them."""

from __future__ import annotations

import uuid

from flask.views import MethodView

from partnership_api.api_auth import current_actor
from partnership_api.resources.common import page_asked, shown_page
from partnership_api.schemas.events import (
    WebhookAttemptSchema,
    WebhookCreateSchema,
    WebhookReplayResultSchema,
    WebhookReplaySchema,
    WebhookSchema,
    WebhookUpdateSchema,
    WebhookWithSecretSchema,
)
from partnership_api.services import webhooks
from partnership_api.smorest import Blueprint, created, json_response

blp = Blueprint(
    "Webhooks",
    __name__,
    url_prefix="/api/v1/webhooks",
    description=(
        "Signed deliveries of events to an organisation's own systems (Standard Webhooks: "
        "`webhook-id`, `webhook-timestamp`, `webhook-signature`), at least once and in order; "
        "managed by the organisation's admins."
    ),
)

NOT_SIGNED_IN = "Not signed in"
NOT_ADMIN = "Only an organisation's admins manage its webhooks"
NOT_VISIBLE = "No such webhook in your organisation"


@blp.route("")
class Webhooks(MethodView):
    @blp.response(200, WebhookSchema(many=True))
    @blp.alt_response(401, description=NOT_SIGNED_IN)
    @blp.alt_response(403, description=NOT_ADMIN)
    def get(self):
        """List your organisation's webhooks"""
        return json_response(webhooks.list_endpoints(current_actor()))

    @blp.arguments(WebhookCreateSchema)
    @blp.response(201, WebhookWithSecretSchema)
    @blp.alt_response(401, description=NOT_SIGNED_IN)
    @blp.alt_response(403, description=NOT_ADMIN)
    def post(self, data):
        """Register a webhook (its signing secret is in this answer only)

        The URL must be https (http is allowed in development only) and resolve to public
        addresses only: private, loopback, link-local and metadata addresses are refused (422),
        here and again at every send. It hears events from now on; read the feed for earlier
        ones, or ask for a replay.
        """
        made = webhooks.create(current_actor(), data)
        return created(made, "Webhooks.WebhookById", webhook_id=made["id"])


@blp.route("/<uuid:webhook_id>")
class WebhookById(MethodView):
    @blp.response(200, WebhookSchema)
    @blp.alt_response(401, description=NOT_SIGNED_IN)
    @blp.alt_response(403, description=NOT_ADMIN)
    @blp.alt_response(404, description=NOT_VISIBLE)
    def get(self, webhook_id: uuid.UUID):
        """Read one webhook, with why it was disabled if it was"""
        return json_response(webhooks.read(current_actor(), webhook_id))

    @blp.arguments(WebhookUpdateSchema)
    @blp.response(200, WebhookSchema)
    @blp.alt_response(401, description=NOT_SIGNED_IN)
    @blp.alt_response(403, description=NOT_ADMIN)
    @blp.alt_response(404, description=NOT_VISIBLE)
    def patch(self, data, webhook_id: uuid.UUID):
        """Change a webhook; `enabled: true` sends what was kept while it was disabled"""
        return json_response(webhooks.update(current_actor(), webhook_id, data))

    @blp.response(204)
    @blp.alt_response(401, description=NOT_SIGNED_IN)
    @blp.alt_response(403, description=NOT_ADMIN)
    @blp.alt_response(404, description=NOT_VISIBLE)
    def delete(self, webhook_id: uuid.UUID):
        """Remove a webhook and its attempt log"""
        webhooks.delete(current_actor(), webhook_id)


@blp.route("/<uuid:webhook_id>/rotate-secret")
class WebhookSecret(MethodView):
    @blp.response(200, WebhookWithSecretSchema)
    @blp.alt_response(401, description=NOT_SIGNED_IN)
    @blp.alt_response(403, description=NOT_ADMIN)
    @blp.alt_response(404, description=NOT_VISIBLE)
    def post(self, webhook_id: uuid.UUID):
        """Make a new signing secret (shown once); the old one also signs for 24 hours"""
        return json_response(webhooks.rotate_secret(current_actor(), webhook_id))


@blp.route("/<uuid:webhook_id>/attempts")
class WebhookAttempts(MethodView):
    @blp.response(200, WebhookAttemptSchema(many=True))
    @blp.alt_response(401, description=NOT_SIGNED_IN)
    @blp.alt_response(403, description=NOT_ADMIN)
    @blp.alt_response(404, description=NOT_VISIBLE)
    @blp.paginate()
    def get(self, pagination_parameters, webhook_id: uuid.UUID):
        """List a webhook's delivery attempts, newest first"""
        page = webhooks.attempts(current_actor(), webhook_id, page_asked(pagination_parameters))
        return shown_page(page, pagination_parameters)


@blp.route("/<uuid:webhook_id>/replays")
class WebhookReplays(MethodView):
    @blp.rate_limited
    @blp.arguments(WebhookReplaySchema)
    @blp.response(202, WebhookReplayResultSchema)
    @blp.alt_response(401, description=NOT_SIGNED_IN)
    @blp.alt_response(403, description=NOT_ADMIN)
    @blp.alt_response(404, description=NOT_VISIBLE)
    def post(self, data, webhook_id: uuid.UUID):
        """Send one event, or a range between two cursors, again (those it may hear, of its types)

        The cursors are your organisation's, from the feed or a webhook body; another's is
        refused (422).
        """
        return json_response(webhooks.replay(current_actor(), webhook_id, data), 202)
