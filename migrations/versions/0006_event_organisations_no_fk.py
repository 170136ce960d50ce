"""event_organisations: no foreign key to events

An event's organisations are written by the same statement as the event and pruned with it,
so the key checked nothing the outbox does not already ensure. It cost every event written:
PostgreSQL checks a foreign key with a plan each connection makes once, and a connection
that started while the outbox was small kept scanning the whole table for every row it wrote
at commit, under the events' lock (make bench: the availability update lost a fifth of its
throughput to it).

Revision ID: 0006_event_organisations_no_fk
Revises: 0005_events
Create Date: 2026-11-28 07:20:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0006_event_organisations_no_fk'
down_revision = '0005_events'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('event_organisations', schema=None) as batch_op:
        batch_op.drop_constraint('fk_event_organisations_position_events', type_='foreignkey')


def downgrade():
    # Organisations of events already pruned would break the key: drop them first.
    op.execute(
        "DELETE FROM event_organisations WHERE position NOT IN (SELECT position FROM events)"
    )
    with op.batch_alter_table('event_organisations', schema=None) as batch_op:
        batch_op.create_foreign_key(
            'fk_event_organisations_position_events', 'events', ['position'], ['position'],
            ondelete='CASCADE',
        )
