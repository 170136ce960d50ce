"""safe accommodation: where she flees from and is placed, households, coded reasons, stays,
commissioned bed spaces

Referrals gain ``fleeing_from`` and ``placement_area`` (ONS GSS codes of any English
district), ``household_id`` (the first referral of a chain of redirects) and the return's coded
reason why a household was not supported. Every existing referral stays valid: its
``decline_reason`` is kept as it was and mapped onto the return's list (the same mapping as
``services.safe_accommodation.REASONS``); a withdrawn one lapsed for a reason nobody gave;
an accepted or closed refuge referral becomes a stay (a closed one ended for a reason and to a
destination nobody recorded).

Revision ID: 0009_safe_accommodation
Revises: 0006_event_organisations_no_fk
Create Date: 2026-12-04 15:40:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0009_safe_accommodation"
down_revision = "0006_event_organisations_no_fk"
branch_labels = None
depends_on = None

# Legacy and current decline codes → (reason, need, text): services.safe_accommodation.REASONS.
REASONS = {
    "no_capacity": ("no_capacity", None, None),
    "not_eligible": ("other", None, "not eligible"),
    "outside_area": ("other", None, "outside the service's area"),
    "declined_by_person": ("declined_offer", None, None),
    "unable_to_contact": ("other", None, "unable to contact"),
    "other": ("other", None, "not given"),
}


def upgrade():
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fleeing_from", sa.String(length=9), nullable=True))
        batch_op.add_column(sa.Column("placement_area", sa.String(length=9), nullable=True))
        batch_op.add_column(sa.Column("household_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("not_supported_reason", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("not_supported_need", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("not_supported_text", sa.String(length=200), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_referrals_household_id"), ["household_id"], unique=False
        )

    op.create_table(
        "stays",
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("household_id", sa.Uuid(), nullable=False),
        sa.Column("refuge_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("fleeing_from", sa.String(length=9), nullable=True),
        sa.Column("placement_area", sa.String(length=9), nullable=True),
        sa.Column("admitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=30), nullable=True),
        sa.Column("end_reason_text", sa.String(length=200), nullable=True),
        sa.Column("destination", sa.String(length=30), nullable=True),
        sa.Column("adults", sa.JSON(), nullable=False),
        sa.Column("children", sa.Integer(), nullable=False),
        sa.Column("characteristics_consent", sa.Boolean(), nullable=False),
        sa.Column("characteristics", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_stays_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_stays_referral_id_referrals")
        ),
        sa.ForeignKeyConstraint(
            ["refuge_id"], ["services.id"], name=op.f("fk_stays_refuge_id_services")
        ),
        sa.PrimaryKeyConstraint("referral_id", name=op.f("pk_stays")),
    )
    with op.batch_alter_table("stays", schema=None) as batch_op:
        batch_op.create_index("ix_stays_admitted", ["admitted_at"], unique=False)
        batch_op.create_index("ix_stays_ended", ["ended_at"], unique=False)
        batch_op.create_index("ix_stays_household", ["household_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_stays_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "commissioned_spaces_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("refuge_id", sa.Integer(), nullable=False),
        sa.Column("accommodation_type", sa.String(length=20), nullable=False),
        sa.Column("spaces", sa.Integer(), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reported_by_user_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            "spaces >= 0", name=op.f("ck_commissioned_spaces_reports_spaces_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["refuge_id"],
            ["services.id"],
            name=op.f("fk_commissioned_spaces_reports_refuge_id_services"),
        ),
        sa.ForeignKeyConstraint(
            ["reported_by_user_id"],
            ["users.id"],
            name=op.f("fk_commissioned_spaces_reports_reported_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commissioned_spaces_reports")),
    )
    with op.batch_alter_table("commissioned_spaces_reports", schema=None) as batch_op:
        batch_op.create_index(
            "ix_commissioned_spaces_refuge_at", ["refuge_id", "reported_at"], unique=False
        )

    _keep_existing_referrals_valid()


def _keep_existing_referrals_valid():
    conn = op.get_bind()
    # Fleeing from the subject's area; each referral its own household, then a redirect's
    # onward referral joins the household of the one it came from (chains are short).
    conn.execute(sa.text("UPDATE referrals SET fleeing_from = subject_area, household_id = id"))
    for _ in range(100):
        changed = conn.execute(
            sa.text(
                "UPDATE referrals SET household_id = (SELECT p.household_id FROM referrals p"
                " WHERE p.id = referrals.redirected_from_id)"
                " WHERE redirected_from_id IS NOT NULL AND household_id <>"
                " (SELECT p.household_id FROM referrals p WHERE p.id = referrals.redirected_from_id)"
            )
        ).rowcount
        if not changed:
            break
    # Every decline carries a coded reason from the return's list.
    for code, (reason, need, text) in REASONS.items():
        conn.execute(
            sa.text(
                "UPDATE referrals SET not_supported_reason = :reason, not_supported_need = :need,"
                " not_supported_text = :text WHERE status = 'declined' AND decline_reason = :code"
            ),
            {"reason": reason, "need": need, "text": text, "code": code},
        )
    conn.execute(
        sa.text(
            "UPDATE referrals SET not_supported_reason = 'other', not_supported_text = 'not given'"
            " WHERE status = 'declined' AND not_supported_reason IS NULL"
        )
    )
    conn.execute(
        sa.text(
            "UPDATE referrals SET not_supported_reason = 'other',"
            " not_supported_text = 'withdrawn by the referrer' WHERE status = 'withdrawn'"
        )
    )
    # The placement authority of an admitted referral: its refuge's area, when it has one.
    single_area = (
        "(SELECT MIN(a.gss_code) FROM service_areas a WHERE a.service_id = referrals.to_service_id"
        " HAVING COUNT(*) = 1)"
    )
    refuge = (
        "status IN ('accepted', 'closed') AND to_service_id IN"
        " (SELECT id FROM services WHERE kind = 'refuge')"
    )
    conn.execute(sa.text(f"UPDATE referrals SET placement_area = {single_area} WHERE {refuge}"))
    if conn.dialect.name == "postgresql":
        children = "COALESCE(CAST(r.household->>'children' AS INTEGER), 0)"
        empty, no = "CAST('[]' AS JSON)", "false"
    else:
        children = "COALESCE(CAST(json_extract(r.household, '$.children') AS INTEGER), 0)"
        empty, no = "'[]'", "0"
    admitted = (
        "COALESCE((SELECT MIN(e.at) FROM referral_events e WHERE e.referral_id = r.id"
        " AND e.kind = 'accepted'), r.status_changed_at)"
    )
    closed = "r.status = 'closed'"
    conn.execute(
        sa.text(
            "INSERT INTO stays (referral_id, household_id, refuge_id, organisation_id,"
            " fleeing_from, placement_area, admitted_at, ended_at, end_reason, end_reason_text,"
            " destination, adults, children, characteristics_consent, characteristics,"
            " updated_at)"
            f" SELECT r.id, r.household_id, r.to_service_id, r.to_organisation_id,"
            f" r.fleeing_from, r.placement_area, {admitted},"
            f" CASE WHEN {closed} THEN r.status_changed_at END,"
            f" CASE WHEN {closed} THEN 'other' END,"
            f" CASE WHEN {closed} THEN 'ended before stays were recorded' END,"
            f" CASE WHEN {closed} THEN 'unknown' END,"
            f" {empty}, {children}, {no}, {empty}, r.status_changed_at"
            " FROM referrals r WHERE r.status IN ('accepted', 'closed') AND r.to_service_id IN"
            " (SELECT id FROM services WHERE kind = 'refuge')"
        )
    )


def downgrade():
    with op.batch_alter_table("commissioned_spaces_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_commissioned_spaces_refuge_at")
    op.drop_table("commissioned_spaces_reports")
    with op.batch_alter_table("stays", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stays_organisation_id"))
        batch_op.drop_index("ix_stays_household")
        batch_op.drop_index("ix_stays_ended")
        batch_op.drop_index("ix_stays_admitted")
    op.drop_table("stays")
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referrals_household_id"))
        batch_op.drop_column("not_supported_text")
        batch_op.drop_column("not_supported_need")
        batch_op.drop_column("not_supported_reason")
        batch_op.drop_column("household_id")
        batch_op.drop_column("placement_area")
        batch_op.drop_column("fleeing_from")
