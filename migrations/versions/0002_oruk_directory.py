"""the public directory (Open Referral UK): public ids, the listing choice, directory fields

Revision ID: 0002_oruk_directory
Revises: 0001
Create Date: 2026-11-27 23:55:00.000000

"""
import uuid

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002_oruk_directory'
down_revision = '0001'
branch_labels = None
depends_on = None


def _backfill_public_ids(table_name):
    """A fresh random UUID for every existing row (never derived from the integer id)."""
    table = sa.table(table_name, sa.column('id', sa.Integer()), sa.column('public_id', sa.Uuid()))
    bind = op.get_bind()
    for (row_id,) in bind.execute(sa.select(table.c.id)).all():
        bind.execute(
            table.update().where(table.c.id == row_id).values(public_id=uuid.uuid4())
        )


def upgrade():
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('description', sa.Text(), server_default='', nullable=False))
    _backfill_public_ids('organisations')
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.alter_column('public_id', existing_type=sa.Uuid(), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_organisations_public_id'), ['public_id'])

    with op.batch_alter_table('services', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('public', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('description', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('eligibility', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('minimum_age', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('maximum_age', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('languages', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('opening_hours', sa.JSON(), nullable=True))
    _backfill_public_ids('services')
    services = sa.table(
        'services', sa.column('languages', sa.JSON()), sa.column('opening_hours', sa.JSON())
    )
    op.get_bind().execute(services.update().values(languages=[], opening_hours=[]))
    with op.batch_alter_table('services', schema=None) as batch_op:
        batch_op.alter_column('public_id', existing_type=sa.Uuid(), nullable=False)
        batch_op.alter_column('languages', existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column('opening_hours', existing_type=sa.JSON(), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_services_public_id'), ['public_id'])

    op.create_table('service_taxonomy_terms',
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('term_code', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_service_taxonomy_terms_service_id_services'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('service_id', 'term_code', name=op.f('pk_service_taxonomy_terms'))
    )
    with op.batch_alter_table('service_taxonomy_terms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_taxonomy_terms_term_code'), ['term_code'], unique=False)


def downgrade():
    with op.batch_alter_table('service_taxonomy_terms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_taxonomy_terms_term_code'))

    op.drop_table('service_taxonomy_terms')
    with op.batch_alter_table('services', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_services_public_id'), type_='unique')
        batch_op.drop_column('opening_hours')
        batch_op.drop_column('languages')
        batch_op.drop_column('maximum_age')
        batch_op.drop_column('minimum_age')
        batch_op.drop_column('eligibility')
        batch_op.drop_column('description')
        batch_op.drop_column('public')
        batch_op.drop_column('public_id')

    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_organisations_public_id'), type_='unique')
        batch_op.drop_column('description')
        batch_op.drop_column('public_id')
