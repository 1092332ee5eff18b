"""message waits: what running instances wait for, by message name and correlation

Revision ID: 5e1a7c93d2b4
Revises: 5e7c1a9d2b40
Create Date: 2026-11-22 05:40:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '5e1a7c93d2b4'
down_revision = '5e7c1a9d2b40'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('message_wait',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('step_id', sa.String(length=128), nullable=False),
    sa.Column('correlation', sa.JSON(), nullable=False),
    sa.Column('match_key', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['flow_instance.id'], name=op.f('fk_message_wait_instance_id_flow_instance')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_wait'))
    )
    with op.batch_alter_table('message_wait', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_wait_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index('ix_message_wait_match', ['name', 'match_key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('message_wait', schema=None) as batch_op:
        batch_op.drop_index('ix_message_wait_match')
        batch_op.drop_index(batch_op.f('ix_message_wait_instance_id'))
    op.drop_table('message_wait')
