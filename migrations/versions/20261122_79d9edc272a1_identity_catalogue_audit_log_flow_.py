"""identity, catalogue, audit log, flow instances and tasks

Revision ID: 79d9edc272a1
Revises: 
Create Date: 2026-11-22 02:33:42.807553
"""

from alembic import op
import sqlalchemy as sa
import andon.database


revision = '79d9edc272a1'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('definition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('created_at', andon.database.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_definition')),
    sa.UniqueConstraint('kind', 'key', name=op.f('uq_definition_kind'))
    )
    op.create_table('group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group')),
    sa.UniqueConstraint('key', name=op.f('uq_group_key'))
    )
    op.create_table('org_unit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('manager_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['parent_id'], ['org_unit.id'], name=op.f('fk_org_unit_parent_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_unit')),
    sa.UniqueConstraint('key', name=op.f('uq_org_unit_key'))
    )
    op.create_table('user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('locale', sa.String(length=16), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=True),
    sa.Column('created_at', andon.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_unit.id'], name=op.f('fk_user_org_unit_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user')),
    sa.UniqueConstraint('username', name=op.f('uq_user_username'))
    )
    # org_unit and user refer to each other: the manager key comes once both exist.
    with op.batch_alter_table('org_unit', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_org_unit_manager_id_user'), 'user',
                                    ['manager_id'], ['id'], ondelete='SET NULL')
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', andon.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('subject_type', sa.String(length=32), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_audit_event_actor_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_at'), ['at'], unique=False)
        batch_op.create_index('ix_audit_event_subject', ['subject_type', 'subject_id', 'id'], unique=False)

    op.create_table('definition_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('definition_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('title', sa.JSON(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('compiled', sa.Text(), nullable=False),
    sa.Column('checksum', sa.String(length=64), nullable=False),
    sa.Column('created_at', andon.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_definition_version_created_by_id_user')),
    sa.ForeignKeyConstraint(['definition_id'], ['definition.id'], name=op.f('fk_definition_version_definition_id_definition')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_definition_version')),
    sa.UniqueConstraint('definition_id', 'number', name=op.f('uq_definition_version_definition_id'))
    )
    with op.batch_alter_table('definition_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_definition_version_definition_id'), ['definition_id'], unique=False)

    op.create_table('group_member',
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['group.id'], name=op.f('fk_group_member_group_id_group'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_group_member_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_id', 'user_id', name=op.f('pk_group_member'))
    )
    op.create_table('user_role',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_user_role_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_role')),
    sa.UniqueConstraint('user_id', 'role', name=op.f('uq_user_role_user_id'))
    )
    op.create_table('flow_instance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('state', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('started_by_id', sa.Integer(), nullable=False),
    sa.Column('started_at', andon.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', andon.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('wake_at', andon.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.JSON(), nullable=True),
    sa.Column('updated_at', andon.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['started_by_id'], ['user.id'], name=op.f('fk_flow_instance_started_by_id_user')),
    sa.ForeignKeyConstraint(['version_id'], ['definition_version.id'], name=op.f('fk_flow_instance_version_id_definition_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flow_instance'))
    )
    with op.batch_alter_table('flow_instance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flow_instance_started_by_id'), ['started_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_flow_instance_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_flow_instance_version_id'), ['version_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_flow_instance_wake_at'), ['wake_at'], unique=False)

    op.create_table('task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('spiff_id', sa.String(length=36), nullable=False),
    sa.Column('step_id', sa.String(length=128), nullable=False),
    sa.Column('step_name', sa.String(length=300), nullable=False),
    sa.Column('step_title', sa.JSON(), nullable=False),
    sa.Column('form_key', sa.String(length=128), nullable=True),
    sa.Column('form_version_id', sa.Integer(), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('candidate_group_id', sa.Integer(), nullable=True),
    sa.Column('candidate_role', sa.String(length=32), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', andon.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', andon.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('completed_by_id', sa.Integer(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['assignee_id'], ['user.id'], name=op.f('fk_task_assignee_id_user')),
    sa.ForeignKeyConstraint(['candidate_group_id'], ['group.id'], name=op.f('fk_task_candidate_group_id_group')),
    sa.ForeignKeyConstraint(['completed_by_id'], ['user.id'], name=op.f('fk_task_completed_by_id_user')),
    sa.ForeignKeyConstraint(['form_version_id'], ['definition_version.id'], name=op.f('fk_task_form_version_id_definition_version')),
    sa.ForeignKeyConstraint(['instance_id'], ['flow_instance.id'], name=op.f('fk_task_instance_id_flow_instance')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task'))
    )
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index('ix_task_state_assignee', ['state', 'assignee_id'], unique=False)
        batch_op.create_index('ix_task_state_group', ['state', 'candidate_group_id'], unique=False)
        batch_op.create_index('ix_task_state_role', ['state', 'candidate_role'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_index('ix_task_state_role')
        batch_op.drop_index('ix_task_state_group')
        batch_op.drop_index('ix_task_state_assignee')
        batch_op.drop_index(batch_op.f('ix_task_instance_id'))

    op.drop_table('task')
    with op.batch_alter_table('flow_instance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flow_instance_wake_at'))
        batch_op.drop_index(batch_op.f('ix_flow_instance_version_id'))
        batch_op.drop_index(batch_op.f('ix_flow_instance_status'))
        batch_op.drop_index(batch_op.f('ix_flow_instance_started_by_id'))

    op.drop_table('flow_instance')
    op.drop_table('user_role')
    op.drop_table('group_member')
    with op.batch_alter_table('definition_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_definition_version_definition_id'))

    op.drop_table('definition_version')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_subject')
        batch_op.drop_index(batch_op.f('ix_audit_event_at'))

    op.drop_table('audit_event')
    with op.batch_alter_table('org_unit', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_org_unit_manager_id_user'), type_='foreignkey')
    op.drop_table('user')
    op.drop_table('org_unit')
    op.drop_table('group')
    op.drop_table('definition')
