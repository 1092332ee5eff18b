"""task cause

Revision ID: c4a5e1d07b21
Revises: bf14305145ce
Create Date: 2026-11-22 10:40:00

A task completed after its due time carries why: a code of the installation's
cause taxonomy and an optional note (andon.flows.causes).
"""

from alembic import op
import sqlalchemy as sa


revision = 'c4a5e1d07b21'
down_revision = 'bf14305145ce'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cause', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('cause_note', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_column('cause_note')
        batch_op.drop_column('cause')
