"""deadlines, work items and notifications

Revision ID: 43cc719b43a9
Revises: 79d9edc272a1
Create Date: 2026-11-22 03:13:48.140110
"""

from alembic import op
import sqlalchemy as sa
import andon.database


revision = '43cc719b43a9'
down_revision = '79d9edc272a1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('message', sa.String(length=500), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('created_at', andon.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('read_at', andon.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('email_state', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['flow_instance.id'], name=op.f('fk_notification_instance_id_flow_instance')),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], name=op.f('fk_notification_task_id_task')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_notification_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification')),
    sa.UniqueConstraint('key', name=op.f('uq_notification_key'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index('ix_notification_user_unread', ['user_id', 'read_at'], unique=False)

    op.create_table('work_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('due_at', andon.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('lease_until', andon.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lease_owner', sa.String(length=36), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', andon.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('done_at', andon.database.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['flow_instance.id'], name=op.f('fk_work_item_instance_id_flow_instance')),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], name=op.f('fk_work_item_task_id_task')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_item')),
    sa.UniqueConstraint('key', name=op.f('uq_work_item_key'))
    )
    with op.batch_alter_table('work_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_item_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index('ix_work_item_state_due', ['state', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_work_item_task_id'), ['task_id'], unique=False)

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_notifications', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_at', andon.database.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('escalation_level', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('draft', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('candidate_org_unit_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_task_candidate_org_unit_id_org_unit'),
                                    'org_unit', ['candidate_org_unit_id'], ['id'])
        batch_op.create_index('ix_task_state_org_unit', ['state', 'candidate_org_unit_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_task_due_at'), ['due_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('email_notifications')
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_due_at'))
        batch_op.drop_index('ix_task_state_org_unit')
        batch_op.drop_constraint(batch_op.f('fk_task_candidate_org_unit_id_org_unit'),
                                 type_='foreignkey')
        batch_op.drop_column('candidate_org_unit_id')
        batch_op.drop_column('draft')
        batch_op.drop_column('escalation_level')
        batch_op.drop_column('due_at')

    with op.batch_alter_table('work_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_work_item_task_id'))
        batch_op.drop_index('ix_work_item_state_due')
        batch_op.drop_index(batch_op.f('ix_work_item_instance_id'))

    op.drop_table('work_item')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_user_unread')

    op.drop_table('notification')
