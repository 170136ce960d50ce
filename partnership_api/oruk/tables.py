"""The only columns the public directory can read: an allow-list, by construction.

These are lightweight table clauses over the partnership's tables, naming just the columns the
directory publishes (plus the integer keys it joins on, which it never shows). A column that is
not listed here, such as a service's ``address``, cannot appear in any directory query, so no
filter has to remember to remove it. The referral, bed, hold, availability and user tables are
not named at all (``tests/test_oruk.py`` checks both).
"""

from __future__ import annotations

import sqlalchemy as sa

from partnership_api.models.base import UTCDateTime

organisations = sa.table(
    "organisations",
    sa.column("id", sa.Integer()),
    sa.column("public_id", sa.Uuid()),
    sa.column("name", sa.String()),
    sa.column("description", sa.Text()),
)

services = sa.table(
    "services",
    sa.column("id", sa.Integer()),
    sa.column("organisation_id", sa.Integer()),
    sa.column("public_id", sa.Uuid()),
    sa.column("public", sa.Boolean()),
    sa.column("active", sa.Boolean()),
    sa.column("kind", sa.String()),
    sa.column("name", sa.String()),
    sa.column("description", sa.Text()),
    sa.column("phone", sa.String()),
    sa.column("hours", sa.String()),
    sa.column("opening_hours", sa.JSON()),
    sa.column("languages", sa.JSON()),
    sa.column("eligibility", sa.Text()),
    sa.column("minimum_age", sa.Integer()),
    sa.column("maximum_age", sa.Integer()),
    sa.column("updated_at", UTCDateTime()),
)

service_areas = sa.table(
    "service_areas",
    sa.column("service_id", sa.Integer()),
    sa.column("gss_code", sa.String()),
)

service_taxonomy_terms = sa.table(
    "service_taxonomy_terms",
    sa.column("service_id", sa.Integer()),
    sa.column("term_code", sa.String()),
)

ALL = (organisations, services, service_areas, service_taxonomy_terms)
