"""team overdue: indexes for each way a task belongs to a manager's team

Revision ID: d402ed680814
Revises: 42c7ffe5323e
Create Date: 2026-11-22 06:20:00

A manager's team overdue (inbox view and daily digest) is a union of three
queries: tasks on instances the team's people started, tasks they hold, tasks
offered to the team's org units. The people come from user.org_unit_id (no
index before); their instances from (started_by_id, id), read from the index
alone, replacing the index on started_by_id; those instances' open tasks and
the units' open tasks from partial indexes over open tasks. Before, PostgreSQL
scanned every instance. bench/scale.py prints the plans.
"""

from alembic import op
import sqlalchemy as sa


revision = 'd402ed680814'
down_revision = '42c7ffe5323e'
branch_labels = None
depends_on = None

OPEN = sa.text("state = 'open'")


def upgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.create_index('ix_user_org_unit_id', ['org_unit_id'], unique=False)
    with op.batch_alter_table('flow_instance', schema=None) as batch_op:
        batch_op.drop_index('ix_flow_instance_started_by_id')
        batch_op.create_index('ix_flow_instance_starter', ['started_by_id', 'id'], unique=False)
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.create_index('ix_task_open_org_unit', ['candidate_org_unit_id'], unique=False,
                              postgresql_where=OPEN, sqlite_where=OPEN)
        batch_op.create_index('ix_task_open_instance', ['instance_id'], unique=False,
                              postgresql_where=OPEN, sqlite_where=OPEN)


def downgrade() -> None:
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_index('ix_task_open_instance', postgresql_where=OPEN, sqlite_where=OPEN)
        batch_op.drop_index('ix_task_open_org_unit', postgresql_where=OPEN, sqlite_where=OPEN)
    with op.batch_alter_table('flow_instance', schema=None) as batch_op:
        batch_op.drop_index('ix_flow_instance_starter')
        batch_op.create_index('ix_flow_instance_started_by_id', ['started_by_id'], unique=False)
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_index('ix_user_org_unit_id')
