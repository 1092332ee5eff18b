"""record links: one row per record-reference field value, read both ways

Revision ID: b26275a7a29f
Revises: 8af8d6b31e9c
Create Date: 2026-11-22 07:56:00

A record field stores the referenced record's id in the JSON; record_link
repeats it as (source, field path, target) so a record's page lists the
records it points at (by the primary key) and the ones pointing at it (by the
index on target_id). Existing records hold no record fields yet: nothing to fill.
"""

from alembic import op
import sqlalchemy as sa


revision = 'b26275a7a29f'
down_revision = '8af8d6b31e9c'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('record_link',
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('field_path', sa.String(length=512), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['record.id'], name=op.f('fk_record_link_source_id_record'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['target_id'], ['record.id'], name=op.f('fk_record_link_target_id_record'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('source_id', 'field_path', name=op.f('pk_record_link'))
    )
    with op.batch_alter_table('record_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_record_link_target_id'), ['target_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('record_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_record_link_target_id'))

    op.drop_table('record_link')
