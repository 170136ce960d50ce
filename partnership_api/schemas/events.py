"""Events, webhooks and vacancy alerts as the API reads and shows them."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from partnership_api.events.backlog import CAP as BACKLOG_CAP
from partnership_api.events.cursors import SHOWN as CURSOR_LENGTH
from partnership_api.events.outbox import CHANGED_FIELDS, EVENT_TYPES
from partnership_api.models.beds import SPACE_TYPES
from partnership_api.schemas.bounds import AREA, COUNT, one_of
from partnership_api.schemas.common import AreaCode, ResponseSchema, StrictSchema, Text
from partnership_api.services.webhooks import MAX_REPLAY

EVENT_TYPE = validate.OneOf(sorted(EVENT_TYPES), error="Not an event type: {input}.")
CURSOR = validate.Length(min=1, max=100)
SPACE_TYPE = validate.OneOf(SPACE_TYPES)
TYPES_DESCRIPTION = "; ".join(
    f"`{name}`: {kind.description} (carries {', '.join(kind.fields)})"
    for name, kind in EVENT_TYPES.items()
)


class EventDataSchema(ResponseSchema):
    """The ids an event carries (which, by its type); never personal data."""

    referral_id = ma.fields.UUID()
    redirected_to = ma.fields.UUID(metadata={"description": "the onward referral"})
    hold_id = ma.fields.UUID()
    alert_id = ma.fields.UUID()
    refuge_id = ma.fields.Integer()
    to_service_id = ma.fields.Integer()
    from_organisation_id = ma.fields.Integer()
    to_organisation_id = ma.fields.Integer()
    organisation_id = ma.fields.Integer()
    project_id = ma.fields.Integer()
    milestone_id = ma.fields.Integer()
    space_type = ma.fields.String(validate=SPACE_TYPE)
    changed = ma.fields.List(
        ma.fields.String(validate=validate.OneOf(CHANGED_FIELDS)),
        metadata={"maxItems": len(CHANGED_FIELDS)},
    )


class EventSchema(ResponseSchema):
    id = ma.fields.UUID(
        required=True, metadata={"description": "the same as a webhook's `webhook-id`"}
    )
    type = ma.fields.String(
        required=True, validate=EVENT_TYPE, metadata={"description": TYPES_DESCRIPTION}
    )
    cursor = ma.fields.String(
        required=True,
        metadata={
            "minLength": CURSOR_LENGTH,
            "maxLength": CURSOR_LENGTH,
            "description": (
                "where this event is, for your organisation only: give it to `after=` to read "
                "the events that follow (opaque; different each time it is shown)"
            ),
        },
    )
    occurred_at = ma.fields.AwareDateTime(required=True)
    data = ma.fields.Nested(EventDataSchema, required=True)


class EventQueryArgsSchema(StrictSchema):
    after = ma.fields.String(
        validate=CURSOR,
        metadata={
            "description": (
                "only events after this cursor (the `cursor` of the last event you read, from "
                "this feed or a webhook of your organisation); absent: from the oldest kept"
            )
        },
    )
    types = ma.fields.List(
        ma.fields.String(validate=EVENT_TYPE),
        validate=validate.Length(max=len(EVENT_TYPES)),
        metadata={"description": "only these types (repeatable)"},
    )


# --- webhooks ---------------------------------------------------------------------------------

URL = validate.Length(min=1, max=2048)
EVENT_TYPES_FIELD = {
    "validate": validate.Length(min=1, max=len(EVENT_TYPES)),
    "metadata": {"description": "event types to receive", "example": ["referral.created"]},
}


class WebhookCreateSchema(StrictSchema):
    url = ma.fields.String(
        required=True, validate=URL, metadata={"example": "https://partner.example/hooks"}
    )
    event_types = ma.fields.List(
        ma.fields.String(validate=EVENT_TYPE), required=True, **EVENT_TYPES_FIELD
    )
    description = Text(500, allow_none=True)


class WebhookUpdateSchema(StrictSchema):
    url = ma.fields.String(validate=URL)
    event_types = ma.fields.List(ma.fields.String(validate=EVENT_TYPE), **EVENT_TYPES_FIELD)
    description = Text(500, allow_none=True)
    enabled = ma.fields.Boolean(
        metadata={"description": "true sends the events kept while it was disabled"}
    )


class WebhookSchema(ResponseSchema):
    id = ma.fields.UUID(required=True)
    url = ma.fields.String(required=True, metadata={"maxLength": 2048})
    event_types = ma.fields.List(
        ma.fields.String(metadata=one_of(sorted(EVENT_TYPES))),
        required=True,
        metadata={"maxItems": len(EVENT_TYPES)},
    )
    description = ma.fields.String(allow_none=True, metadata={"maxLength": 500})
    enabled = ma.fields.Boolean(required=True)
    disabled_reason = ma.fields.String(
        allow_none=True,
        metadata={
            "maxLength": 300,
            "description": "why it was disabled (410, failing for days…)",
        },
    )
    disabled_at = ma.fields.AwareDateTime(allow_none=True)
    failing_since = ma.fields.AwareDateTime(allow_none=True)
    last_error = ma.fields.String(allow_none=True, metadata={"maxLength": 300})
    pending = ma.fields.Integer(
        required=True,
        metadata={
            "minimum": 0,
            "maximum": BACKLOG_CAP,
            "description": "events it may hear still to send (counted up to 10,000)",
        },
    )
    created_at = ma.fields.AwareDateTime(required=True)
    previous_secret_until = ma.fields.AwareDateTime(
        allow_none=True, metadata={"description": "the old secret signs beside the new until"}
    )


class WebhookWithSecretSchema(WebhookSchema):
    secret = ma.fields.String(
        required=True,
        metadata={
            "maxLength": 64,
            "pattern": "^whsec_[A-Za-z0-9+/=]{44}$",
            "description": "the signing secret (`whsec_…`): shown this once only",
        },
    )


class WebhookAttemptSchema(ResponseSchema):
    id = ma.fields.UUID(required=True)
    event_id = ma.fields.UUID(required=True)
    event_type = ma.fields.String(required=True, metadata=one_of(sorted(EVENT_TYPES)))
    attempted_at = ma.fields.AwareDateTime(required=True)
    replay = ma.fields.Boolean(required=True)
    status_code = ma.fields.Integer(allow_none=True, metadata={"minimum": 100, "maximum": 599})
    outcome = ma.fields.String(
        required=True, validate=validate.OneOf(("delivered", "failed", "refused"))
    )
    error = ma.fields.String(allow_none=True, metadata={"maxLength": 300})
    duration_ms = ma.fields.Integer(required=True, metadata=COUNT)


class WebhookReplaySchema(StrictSchema):
    event_id = ma.fields.UUID(metadata={"description": "one event"})
    from_cursor = ma.fields.String(
        validate=CURSOR,
        metadata={"description": "a range, from this event's `cursor` (feed or webhook body)"},
    )
    to_cursor = ma.fields.String(
        validate=CURSOR, metadata={"description": "to this event's `cursor` (absent: the newest)"}
    )

    @ma.validates_schema
    def _one_or_a_range(self, data, **_kwargs):
        if ("event_id" in data) == ("from_cursor" in data):
            raise ma.ValidationError("Give event_id, or from_cursor (and to_cursor).")
        if "to_cursor" in data and "from_cursor" not in data:
            raise ma.ValidationError("to_cursor needs from_cursor.", "to_cursor")


class WebhookReplayResultSchema(ResponseSchema):
    queued = ma.fields.Integer(required=True, metadata={"minimum": 0, "maximum": MAX_REPLAY})


# --- vacancy alerts ---------------------------------------------------------------------------


class _AlertCriteria:
    area = ma.fields.List(
        AreaCode(),
        validate=validate.Length(max=9),
        metadata={"description": "refuges serving any of these districts"},
    )
    exclude_area = ma.fields.List(
        AreaCode(),
        validate=validate.Length(max=9),
        metadata={"description": "not refuges serving these"},
    )
    space_type = ma.fields.String(validate=SPACE_TYPE)
    children = ma.fields.Integer(validate=validate.Range(min=0, max=20))
    oldest_son_age = ma.fields.Integer(validate=validate.Range(min=0, max=25))
    wheelchair = ma.fields.Boolean()
    nrpf = ma.fields.Boolean()
    pets = ma.fields.Boolean()


class VacancyAlertCreateSchema(StrictSchema):
    referral_id = ma.fields.UUID(
        allow_none=True,
        metadata={"description": "the waiting referral (absent: a household profile of your own)"},
    )
    area = _AlertCriteria.area
    exclude_area = _AlertCriteria.exclude_area
    space_type = _AlertCriteria.space_type
    children = _AlertCriteria.children
    oldest_son_age = _AlertCriteria.oldest_son_age
    wheelchair = _AlertCriteria.wheelchair
    nrpf = _AlertCriteria.nrpf
    pets = _AlertCriteria.pets
    lifetime_hours = ma.fields.Integer(
        validate=validate.Range(min=1, max=24 * 14),
        metadata={"description": "how long it lasts (default 72)"},
    )


class VacancyAlertSchema(ResponseSchema):
    id = ma.fields.UUID(required=True)
    organisation_id = ma.fields.Integer(required=True)
    referral_id = ma.fields.UUID(allow_none=True)
    area = ma.fields.List(ma.fields.String(metadata=AREA), metadata={"maxItems": 9})
    exclude_area = ma.fields.List(ma.fields.String(metadata=AREA), metadata={"maxItems": 9})
    space_type = ma.fields.String(metadata=one_of(SPACE_TYPES))
    children = ma.fields.Integer()
    oldest_son_age = ma.fields.Integer()
    wheelchair = ma.fields.Boolean()
    nrpf = ma.fields.Boolean()
    pets = ma.fields.Boolean()
    created_at = ma.fields.AwareDateTime(required=True)
    expires_at = ma.fields.AwareDateTime(required=True)
    ended_at = ma.fields.AwareDateTime(allow_none=True)
    end_reason = ma.fields.String(
        allow_none=True,
        validate=validate.OneOf(("referral_finished", "expired", "ended_by_user")),
        metadata={"maxLength": 30},
    )
    fired = ma.fields.Integer(
        required=True, metadata={**COUNT, "description": "vacancy.matched sent"}
    )
