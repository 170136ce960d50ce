"""What answer fields hold, for the OpenAPI document (``openapi_doc.py``): the database column's
length, the set of values the code writes, the size of a count."""

from __future__ import annotations

INT32_MAX = 2**31 - 1

INT64 = {"minimum": -(2**63), "maximum": 2**63 - 1, "format": "int64"}
COUNT = {"minimum": 0, "maximum": INT32_MAX}
VERSION = {"minimum": 0, "maximum": INT32_MAX, "description": "increases with each change"}
POSITION = {"minimum": 1, "maximum": 2**62, "format": "int64"}  # an event's place in the outbox


def answer_facts() -> dict[tuple[str, str], dict]:
    """What answer fields hold, where neither their own schema nor a request field says it:
    the database column's length, the set of values the code writes, the size of a count.
    Keyed by (schema class, field); a list's items by (schema class, "field[]")."""
    from partnership_api.events.outbox import CHANGED_FIELDS, EVENT_TYPES
    from partnership_api.events.webhooks import MAX_REPLAY
    from partnership_api.models.beds import HOLD_STATES, SPACE_TYPES
    from partnership_api.models.funding import CATEGORIES, PROJECT_STATUSES, RAG_VALUES
    from partnership_api.models.partnership import AREAS, ORGANISATION_KINDS, ROLES, SERVICE_KINDS
    from partnership_api.models.referrals import (
        DECLINE_REASONS,
        LEGACY_DECLINE_REASONS,
        REFERRAL_KINDS,
        RISK_LEVELS,
        STATUSES,
    )
    from partnership_api.oruk.taxonomy import TERM_CODES
    from partnership_api.schemas.stats import GROUP_BY

    def one_of(values) -> dict:
        return {"enum": list(values)}

    areas = one_of(sorted(AREAS))
    name = {"maxLength": 200}  # organisation, service, fund and project names: String(200)
    username = {"maxLength": 80}  # users.username: String(80)
    attention_codes = (
        "red_rag",
        "overdue_milestones",
        "spend_ahead_of_time",
        "spend_behind_time",
        "no_recent_update",
        "overspent",
    )
    return {
        ("AttentionSchema", "status"): one_of(PROJECT_STATUSES),
        ("AttentionSchema", "reasons"): {"maxItems": len(attention_codes)},
        ("AttentionReasonSchema", "code"): one_of(attention_codes),
        ("AttentionReasonSchema", "message"): {"maxLength": 200},
        ("AuditEventSchema", "client_address"): {"maxLength": 64},
        ("AuditEventSchema", "hash"): {"maxLength": 64, "pattern": "^[0-9a-f]{64}$"},
        ("AuditEventSchema", "prev_hash"): {"maxLength": 64, "pattern": "^[0-9a-f]{64}$"},
        ("AuditEventSchema", "request_id"): {"maxLength": 64},
        ("AuditEventSchema", "username"): username,
        ("AvailabilitySchema", "updated_by"): username,
        ("AvailabilitySchema", "version"): VERSION,
        ("AvailabilitySchema", "warnings"): {"maxItems": len(SPACE_TYPES)},
        ("AvailabilitySchema", "warnings[]"): {"maxLength": 200},
        ("AvailabilityReportSchema", "reported_by"): username,
        ("AvailabilityReportSchema", "version"): VERSION,
        ("AvailableSpaceSchema", "space_type"): one_of(SPACE_TYPES),
        ("AvailableSpaceSchema", "available"): COUNT,
        ("BedSearchResultSchema", "name"): name,
        ("BedSearchResultSchema", "areas"): {"maxItems": 20},
        ("BedSearchResultSchema", "areas[]"): areas,
        ("FundSchema", "version"): VERSION,
        ("GrantPackageSchema", "identifier"): {"maxLength": 200},
        ("GrantPackageSchema", "issued"): {"maxLength": 32, "format": "date-time"},
        ("GrantPackageSchema", "modified"): {"maxLength": 32, "format": "date-time"},
        ("GrantPackageSchema", "version"): {"maxLength": 10},
        ("HoldSchema", "space_type"): one_of(SPACE_TYPES),
        ("HoldSchema", "state"): one_of(HOLD_STATES),
        ("MeSchema", "full_name"): name,
        ("MeSchema", "role"): one_of(ROLES),
        ("MilestoneSchema", "version"): VERSION,
        ("OrganisationSchema", "areas[]"): areas,
        ("OrganisationRefSchema", "kind"): one_of(ORGANISATION_KINDS),
        ("OrganisationRefSchema", "name"): name,
        ("OutputSchema", "version"): VERSION,
        ("ProjectSchema", "areas[]"): areas,
        ("ProjectSchema", "category"): one_of(CATEGORIES),
        ("ProjectSchema", "status"): one_of(PROJECT_STATUSES),
        ("ProjectSchema", "version"): VERSION,
        ("ProjectSchema", "spent_pence"): INT64,
        ("ProjectSchema", "remaining_pence"): INT64,
        ("PublisherSchema", "identifier"): {"maxLength": 200},
        ("RagAnswerSchema", "delivery"): one_of(RAG_VALUES),
        ("RagAnswerSchema", "risk"): one_of(RAG_VALUES),
        ("RagAnswerSchema", "spend"): one_of(RAG_VALUES),
        ("RagCountsSchema", "*"): COUNT,
        ("ReferralSchema", "decline_reason"): one_of(DECLINE_REASONS + LEGACY_DECLINE_REASONS),
        ("ReferralSchema", "reference"): {
            "maxLength": 20,
            "pattern": "^REF-[0-9]{4}-[0-9A-Z]{6,}$",
        },
        ("ReferralEventSchema", "from_status"): one_of(STATUSES),
        ("ReferralEventSchema", "to_status"): one_of(STATUSES),
        ("ReferralEventSchema", "kind"): {"maxLength": 30},
        ("ReferralEventSchema", "reason_code"): one_of(DECLINE_REASONS + LEGACY_DECLINE_REASONS),
        ("ReferralEventSchema", "username"): username,
        ("ReferralStatsSchema", "group_by[]"): one_of(GROUP_BY),
        ("ReferralStatsSchema", "suppression_threshold"): {"minimum": 1, "maximum": 1000},
        ("RefugeSchema", "areas"): {"maxItems": 20},
        ("RefugeSchema", "areas[]"): areas,
        ("RefugeSchema", "hours"): {"maxLength": 200},
        ("RefugeSchema", "name"): name,
        ("RefugeSchema", "phone"): {"maxLength": 40},
        ("ReportedSpaceSchema", "space_type"): one_of(SPACE_TYPES),
        ("ServiceSchema", "areas[]"): areas,
        ("ServiceSchema", "kind"): one_of(SERVICE_KINDS),
        ("SpaceSchema", "available"): COUNT,
        ("SpaceSchema", "held"): COUNT,
        ("SpaceSchema", "overcommitted"): COUNT,
        ("SpendLineSchema", "period"): {"maxLength": 7, "pattern": "^(20[0-9]{2})-Q([1-4])$"},
        ("SpendLineSchema", "version"): VERSION,
        ("StatsGroupSchema", "area"): areas,
        ("StatsGroupSchema", "count"): COUNT,
        ("StatsGroupSchema", "kind"): one_of(REFERRAL_KINDS),
        ("StatsGroupSchema", "month"): {"maxLength": 7, "pattern": "^[0-9]{4}-[0-9]{2}$"},
        ("StatsGroupSchema", "risk_level"): one_of(RISK_LEVELS),
        ("StatsGroupSchema", "status"): one_of(STATUSES),
        ("StatsGroupSchema", "to_organisation"): {"minimum": 1, "maximum": INT32_MAX},
        ("StatusCountsSchema", "*"): COUNT,
        ("StatusSchema", "status"): one_of(("ok", "ready")),
        ("SubjectOutSchema", "area"): areas,
        ("SuppressedCountSchema", "count"): COUNT,
        ("ThresholdsSchema", "no_update_days"): {"minimum": 1, "maximum": 3660},
        ("ThresholdsSchema", "spend_time_gap_points"): {"minimum": 0, "maximum": 100},
        ("TokenPairSchema", "access_token"): {"maxLength": 2048},
        ("TokenPairSchema", "refresh_token"): {"maxLength": 2048},
        ("TokenPairSchema", "token_type"): one_of(("Bearer",)),
        ("TokenPairSchema", "expires_in"): {"minimum": 1, "maximum": INT32_MAX},
        ("TotalsSchema", "project_count"): COUNT,
        ("TotalsSchema", "*_pence"): INT64,
        ("UserSchema", "role"): one_of(ROLES),
        ("UserSchema", "username"): username,
        ("OpeningHoursSchema", "opens_at"): {"maxLength": 5},
        # One per quarter of the project's life: at most 4 a year over a project's few years.
        ("ProjectSchema", "periods_without_actual"): {"maxItems": 400},
        ("RefugeHoldSchema", "referral_reference"): {"maxLength": 32},
        ("RefugeHoldSchema", "placed_by_organisation"): name,
        ("RefugeHoldSchema", "space_type"): one_of(SPACE_TYPES),
        ("RefugeHoldSchema", "state"): one_of(HOLD_STATES),
        ("RefugeHoldSchema", "end_reason"): {"maxLength": 200},
        ("ReferralStatsSchema", "rounding_base"): {"minimum": 1, "maximum": 100, "format": "int32"},
        ("OpeningHoursSchema", "closes_at"): {"maxLength": 5},
        ("ServiceSchema", "taxonomy_terms[]"): one_of(TERM_CODES),
        ("UserSchema", "email"): {"maxLength": 254, "format": "email"},
        # Events, webhooks and vacancy alerts (issue 15).
        ("EventSchema", "position"): POSITION,
        ("EventDataSchema", "changed"): {"maxItems": len(CHANGED_FIELDS)},
        ("WebhookSchema", "event_types"): {"maxItems": len(EVENT_TYPES)},
        ("WebhookSchema", "event_types[]"): one_of(sorted(EVENT_TYPES)),
        ("WebhookSchema", "url"): {"maxLength": 2048},
        ("WebhookSchema", "description"): {"maxLength": 500},
        ("WebhookSchema", "disabled_reason"): {"maxLength": 300},
        ("WebhookSchema", "last_error"): {"maxLength": 300},
        ("WebhookSchema", "delivered_position"): {**POSITION, "minimum": 0},
        ("WebhookWithSecretSchema", "secret"): {
            "maxLength": 64,
            "pattern": "^whsec_[A-Za-z0-9+/=]{44}$",
        },
        ("WebhookAttemptSchema", "id"): {**POSITION},
        ("WebhookAttemptSchema", "event_position"): POSITION,
        ("WebhookAttemptSchema", "event_type"): one_of(sorted(EVENT_TYPES)),
        ("WebhookAttemptSchema", "status_code"): {"minimum": 100, "maximum": 599},
        ("WebhookAttemptSchema", "error"): {"maxLength": 300},
        ("WebhookAttemptSchema", "duration_ms"): COUNT,
        ("WebhookReplayResultSchema", "queued"): {"minimum": 0, "maximum": MAX_REPLAY},
        ("VacancyAlertSchema", "area"): {"maxItems": 9},
        ("VacancyAlertSchema", "area[]"): areas,
        ("VacancyAlertSchema", "exclude_area"): {"maxItems": 9},
        ("VacancyAlertSchema", "exclude_area[]"): areas,
        ("VacancyAlertSchema", "space_type"): one_of(SPACE_TYPES),
        ("VacancyAlertSchema", "fired"): COUNT,
        ("VacancyAlertSchema", "end_reason"): {"maxLength": 30},
    }
