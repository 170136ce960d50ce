"""audit events: a random public id, shown by the API in place of the chain's sequence

The chain's sequence (``audit_events.id``) counts every organisation's audited actions: an
organisation admin who saw two of its own events numbered 41 and 45 knew that three actions of
others came between (issue 25). Each event gets a random ``public_id`` (filled for the events
already kept), which the API shows as ``id``. The sequence stays the chain's: the hash covers
it, not the public id, so every chain verifies as before.

Revision ID: 0011_audit_public_ids
Revises: 0010_drop_reference_counters
Create Date: 2026-12-04 19:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0011_audit_public_ids"
down_revision = "0010_drop_reference_counters"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public_id", sa.Uuid(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE audit_events SET public_id = gen_random_uuid()")
    else:
        # SQLAlchemy keeps a UUID on SQLite as 32 hexadecimal digits.
        op.execute("UPDATE audit_events SET public_id = lower(hex(randomblob(16)))")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column("public_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.create_index("ix_audit_events_public_id", ["public_id"], unique=True)


def downgrade():
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_public_id")
        batch_op.drop_column("public_id")
