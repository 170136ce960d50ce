"""drop reference_counters: references are random now

A referral's reference is ``REF-YYYY-`` plus eight random characters
(``services.referral_rules.next_reference``), so the table that numbered each year's references
in sequence is read and written by nothing. The downgrade puts the empty table back as 0001
made it.

Revision ID: 0010_drop_reference_counters
Revises: 0007_pages_home
Create Date: 2026-12-04 19:00:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0010_drop_reference_counters"
down_revision = "0007_pages_home"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_table("reference_counters")


def downgrade():
    op.create_table(
        "reference_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_reference_counters")),
    )
