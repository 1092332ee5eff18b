"""dashboards: each person's home page and their email digest subscriptions

Revision ID: d45b0a7e3c21
Revises: c4a5e1d07b21
Create Date: 2026-11-22 10:45:00
"""

from alembic import op
import sqlalchemy as sa
import andon.database


revision = 'd45b0a7e3c21'
down_revision = 'c4a5e1d07b21'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('home_choice',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('dashboard_key', sa.String(length=64), nullable=True),
    sa.Column('chosen_at', andon.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_home_choice_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_home_choice'))
    )
    op.create_table('digest_subscription',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('dashboard_key', sa.String(length=64), nullable=False),
    sa.Column('frequency', sa.String(length=16), nullable=False),
    sa.Column('day', sa.Integer(), nullable=False),
    sa.Column('locale', sa.String(length=16), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('created_at', andon.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_sent_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_digest_subscription_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digest_subscription')),
    sa.UniqueConstraint('token', name=op.f('uq_digest_subscription_token'))
    )
    with op.batch_alter_table('digest_subscription', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_digest_subscription_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('digest_subscription', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_digest_subscription_user_id'))
    op.drop_table('digest_subscription')
    op.drop_table('home_choice')
