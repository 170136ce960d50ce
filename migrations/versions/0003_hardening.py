"""hardening against a partner who misuses the system

Sign-in failures are counted per client address and per address-name pair in one table the
workers share (``auth_counters``) instead of locking a name from anywhere
(``login_throttles``); services get a version for If-Match.

Revision ID: 0003_hardening
Revises: 0001
Create Date: 2026-11-28 00:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003_hardening'
down_revision = '0002_oruk_directory'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('auth_counters',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_auth_counters'))
    )
    op.drop_table('login_throttles')
    with op.batch_alter_table('services', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False))


def downgrade():
    with op.batch_alter_table('services', schema=None) as batch_op:
        batch_op.drop_column('version')
    op.create_table('login_throttles',
    sa.Column('username_key', sa.String(length=80), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('username_key', name=op.f('pk_login_throttles'))
    )
    op.drop_table('auth_counters')
