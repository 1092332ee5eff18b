"""definition drafts: what an administrator is editing in the browser, one per definition

The revision column is the optimistic lock: a save names the revision it read.

Revision ID: 8af8d6b31e9c
Revises: d402ed680814
Create Date: 2026-11-22 07:53:23.785362
"""

from alembic import op
import sqlalchemy as sa
import andon.database


revision = '8af8d6b31e9c'
down_revision = 'd402ed680814'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('definition_draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('definition_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('based_on', sa.Integer(), nullable=True),
    sa.Column('updated_at', andon.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['definition_id'], ['definition.id'], name=op.f('fk_definition_draft_definition_id_definition')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], name=op.f('fk_definition_draft_updated_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_definition_draft')),
    sa.UniqueConstraint('definition_id', name=op.f('uq_definition_draft_definition_id'))
    )


def downgrade() -> None:
    op.drop_table('definition_draft')
