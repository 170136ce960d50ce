"""What answer fields hold, for the OpenAPI document (``openapi_doc.py``): the database column's
length, the set of values the code writes, the size of a count."""

from __future__ import annotations

INT32_MAX = 2**31 - 1

INT64 = {"minimum": -(2**63), "maximum": 2**63 - 1, "format": "int64"}
COUNT = {"minimum": 0, "maximum": INT32_MAX}
VERSION = {"minimum": 0, "maximum": INT32_MAX, "description": "increases with each change"}


def answer_facts() -> dict[tuple[str, str], dict]:
    """What answer fields hold, where neither their own schema nor a request field says it:
    the database column's length, the set of values the code writes, the size of a count.
    Keyed by (schema class, field); a list's items by (schema class, "field[]")."""
    from partnership_api.events.backlog import CAP as BACKLOG_CAP
    from partnership_api.events.cursors import SHOWN as CURSOR_LENGTH
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
    from partnership_api.models.safe_accommodation import (
        ACCOMMODATION_TYPES,
        ADULT_SEXES,
        CHARACTERISTICS,
        DESTINATIONS,
        NOT_SUPPORTED_REASONS,
        STAY_END_REASONS,
        TRANS_STATUSES,
        UNMET_NEEDS,
    )
    from partnership_api.oruk.taxonomy import TERM_CODES
    from partnership_api.schemas.safe_accommodation import UNMET_GROUP_BY
    from partnership_api.schemas.stats import GROUP_BY
    from partnership_api.services.safe_accommodation_return import LENGTH_BANDS
    from partnership_api.services.stats import MAX_CELLS
    from partnership_api.services.unmet_need import HOUSEHOLD_SIZES

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
        ("EventSchema", "cursor"): {"minLength": CURSOR_LENGTH, "maxLength": CURSOR_LENGTH},
        ("EventDataSchema", "changed"): {"maxItems": len(CHANGED_FIELDS)},
        ("WebhookSchema", "event_types"): {"maxItems": len(EVENT_TYPES)},
        ("WebhookSchema", "event_types[]"): one_of(sorted(EVENT_TYPES)),
        ("WebhookSchema", "url"): {"maxLength": 2048},
        ("WebhookSchema", "description"): {"maxLength": 500},
        ("WebhookSchema", "disabled_reason"): {"maxLength": 300},
        ("WebhookSchema", "last_error"): {"maxLength": 300},
        ("WebhookSchema", "pending"): {"minimum": 0, "maximum": BACKLOG_CAP},
        ("WebhookWithSecretSchema", "secret"): {
            "maxLength": 64,
            "pattern": "^whsec_[A-Za-z0-9+/=]{44}$",
        },
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
        # Safe accommodation (issue 26): stays, commissioned spaces, the return, unmet need.
        **_safe_accommodation_facts(
            one_of,
            ACCOMMODATION_TYPES,
            ADULT_SEXES,
            CHARACTERISTICS,
            DESTINATIONS,
            NOT_SUPPORTED_REASONS,
            STAY_END_REASONS,
            TRANS_STATUSES,
            UNMET_NEEDS,
            UNMET_GROUP_BY,
            [band for band, _low, _high in LENGTH_BANDS],
            HOUSEHOLD_SIZES,
            MAX_CELLS,
        ),
    }


def _safe_accommodation_facts(
    one_of,
    accommodation_types,
    sexes,
    characteristics,
    destinations,
    reasons,
    end_reasons,
    trans,
    needs,
    group_by,
    bands,
    sizes,
    max_cells,
) -> dict[tuple[str, str], dict]:
    gss = {"maxLength": 9, "pattern": "^E0[6-9][0-9]{6}$"}
    small = {"minimum": 1, "maximum": 100, "format": "int32"}
    return {
        ("AdultCountSchema", "sex"): one_of(sexes),
        ("AdultCountSchema", "trans"): one_of(trans),
        ("AdultOutSchema", "sex"): one_of(sexes),
        ("AdultOutSchema", "trans"): one_of(trans),
        ("BedSpacesLineSchema", "accommodation_type"): one_of(accommodation_types),
        ("BedSpacesLineSchema", "spaces"): COUNT,
        ("CommissionedLineOutSchema", "accommodation_type"): one_of(accommodation_types),
        ("CommissionedLineOutSchema", "spaces"): COUNT,
        ("CommissionedSpacesSchema", "spaces"): {"maxItems": len(accommodation_types)},
        ("CommissionedSpacesSchema", "total"): COUNT,
        ("CharacteristicCountSchema", "characteristic"): one_of(characteristics),
        ("DestinationCountSchema", "destination"): one_of(destinations),
        ("DisclosureSchema", "rule"): {"maxLength": 1000},
        ("DisclosureSchema", "suppression_threshold"): small,
        ("DisclosureSchema", "rounding_base"): small,
        ("LengthCountSchema", "length_of_stay"): one_of(bands),
        ("MonthSchema", "month"): {"maxLength": 7, "pattern": "^[0-9]{4}-[0-9]{2}$"},
        ("MonthSchema", "not_supported_by_reason"): {"maxItems": len(reasons)},
        ("NeedCountSchema", "need"): one_of(needs),
        ("ReasonCountSchema", "reason"): one_of(dict.fromkeys((*reasons, *end_reasons))),
        ("ReturnBedSpacesSchema", "by_accommodation_type"): {"maxItems": len(accommodation_types)},
        ("ReturnBedSpacesSchema", "total"): COUNT,
        ("ReturnEndingsSchema", "by_reason"): {"maxItems": len(end_reasons)},
        ("ReturnEndingsSchema", "by_destination"): {"maxItems": len(destinations)},
        ("ReturnEndingsSchema", "by_length_of_stay"): {"maxItems": len(bands)},
        ("ReturnReferralsSchema", "by_month"): {"maxItems": 12},
        ("ReturnReferralsSchema", "not_supported_by_reason"): {"maxItems": len(reasons)},
        ("ReturnReferralsSchema", "needs_not_met_by_need"): {"maxItems": len(needs)},
        ("ReturnSupportedSchema", "adults_by_sex_and_trans_status"): {
            "maxItems": len(sexes) * len(trans)
        },
        ("ReturnSupportedSchema", "specialist_characteristics"): {"maxItems": len(characteristics)},
        ("SafeAccommodationReturnSchema", "financial_year"): {
            "maxLength": 7,
            "pattern": "^[0-9]{4}-[0-9]{2}$",
        },
        ("SafeAccommodationReturnSchema", "year"): {"minimum": 2021, "maximum": 2999},
        ("StaySchema", "fleeing_from"): gss,
        ("StaySchema", "placement_area"): gss,
        ("StaySchema", "end_reason_text"): {"maxLength": 200},
        ("StaySchema", "length_of_stay_days"): COUNT,
        ("StaySchema", "adults"): {"maxItems": 10},
        ("StaySchema", "characteristics"): {"maxItems": len(characteristics)},
        ("StaySchema", "characteristics[]"): one_of(characteristics),
        ("StaySchema", "children"): {"minimum": 0, "maximum": 20},
        ("UnmetNeedSchema", "group_by[]"): one_of(group_by),
        ("UnmetNeedSchema", "group_by"): {"maxItems": len(group_by)},
        ("UnmetNeedSchema", "groups"): {"maxItems": max_cells},
        ("UnmetNeedSchema", "suppression_threshold"): small,
        ("UnmetNeedSchema", "rounding_base"): small,
        ("UnmetNeedGroupSchema", "household_size"): one_of(sizes),
        ("UnmetNeedGroupSchema", "need"): one_of(needs),
        ("UnmetNeedGroupSchema", "origin_area"): {"maxLength": 30},
        ("ReferralSchema", "fleeing_from"): gss,
        ("ReferralSchema", "placement_area"): gss,
        ("NotSupportedSchema", "text"): {"maxLength": 200},
    }
