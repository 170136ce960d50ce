"""daily use: registered charity and company numbers on organisations

Revision ID: 0004_daily_use
Revises: 0001
Create Date: 2026-11-28 01:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_daily_use'
down_revision = '0003_hardening'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('charity_number', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('company_number', sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('company_number')
        batch_op.drop_column('charity_number')
