"""records: a row per filled-in form, and its history of changes

Revision ID: a963c7963f44
Revises: 5b0e7d2c9a41
Create Date: 2026-11-22 05:03:13.299710
"""

from alembic import op
import sqlalchemy as sa
import andon.database
from sqlalchemy.dialects import postgresql

revision = 'a963c7963f44'
down_revision = '5b0e7d2c9a41'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('form_key', sa.String(length=128), nullable=False),
    sa.Column('form_version_id', sa.Integer(), nullable=False),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('created_at', andon.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('updated_at', andon.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=False),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_record_created_by_id_user')),
    sa.ForeignKeyConstraint(['form_version_id'], ['definition_version.id'], name=op.f('fk_record_form_version_id_definition_version')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], name=op.f('fk_record_updated_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record'))
    )
    with op.batch_alter_table('record', schema=None) as batch_op:
        batch_op.create_index('ix_record_form_created', ['form_key', 'created_at'], unique=False)
        batch_op.create_index('ix_record_form_updated', ['form_key', 'updated_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_record_form_version_id'), ['form_version_id'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        # Serves equality and "in" filters on any field as containment (data @> ...).
        op.create_index('ix_record_data', 'record', ['data'], unique=False,
                        postgresql_using='gin', postgresql_ops={'data': 'jsonb_path_ops'})

    op.create_table('record_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('at', andon.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['by_id'], ['user.id'], name=op.f('fk_record_change_by_id_user')),
    sa.ForeignKeyConstraint(['record_id'], ['record.id'], name=op.f('fk_record_change_record_id_record'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record_change'))
    )
    with op.batch_alter_table('record_change', schema=None) as batch_op:
        batch_op.create_index('ix_record_change_record', ['record_id', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('record_change', schema=None) as batch_op:
        batch_op.drop_index('ix_record_change_record')

    op.drop_table('record_change')
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index('ix_record_data', table_name='record')
    with op.batch_alter_table('record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_record_form_version_id'))
        batch_op.drop_index('ix_record_form_updated')
        batch_op.drop_index('ix_record_form_created')

    op.drop_table('record')
