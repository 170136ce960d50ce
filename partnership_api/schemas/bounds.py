"""What answer fields hold, written on the fields themselves as OpenAPI metadata
(``metadata=COUNT``, ``metadata=one_of(SPACE_TYPES)``): the database column's length, the set
of values the code writes, the size of a count. Answers are never loaded, so these only tell
partners (``openapi/openapi.json``) what they will receive; ``openapi_doc.field_bounds`` adds
``null`` to an enum of a field that may be null."""

from __future__ import annotations

from partnership_api.models.partnership import AREAS

INT32_MAX = 2**31 - 1

INT64 = {"minimum": -(2**63), "maximum": 2**63 - 1, "format": "int64"}
COUNT = {"minimum": 0, "maximum": INT32_MAX}
VERSION = {"minimum": 0, "maximum": INT32_MAX, "description": "increases with each change"}
POSITION = {"minimum": 1, "maximum": 2**62, "format": "int64"}  # an event's place in the outbox
NAME_LENGTH = {"maxLength": 200}  # organisation, service, fund and project names: String(200)
USERNAME_LENGTH = {"maxLength": 80}  # users.username: String(80)
GSS_CODE = {"maxLength": 9, "pattern": "^E0[6-9][0-9]{6}$"}  # a local authority's code
SMALL = {"minimum": 1, "maximum": 100, "format": "int32"}
MONTH = {"maxLength": 7, "pattern": "^[0-9]{4}-[0-9]{2}$"}
ATTENTION_CODES = (
    "red_rag",
    "overdue_milestones",
    "spend_ahead_of_time",
    "spend_behind_time",
    "no_recent_update",
    "overspent",
)


def one_of(values) -> dict:
    """The values an answer field may hold."""
    return {"enum": list(values)}


AREA = one_of(sorted(AREAS))
