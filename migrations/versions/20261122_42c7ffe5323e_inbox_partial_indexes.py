"""inbox: partial indexes over open unclaimed tasks and over open tasks' due times

Revision ID: 42c7ffe5323e
Revises: eb580df3c101
Create Date: 2026-11-22 05:20:00

The inbox's "offered to me" part (state open, nobody assigned, one of my
groups, roles or org unit) used (state, candidate_*) indexes; for the
"to claim" view PostgreSQL preferred (state, assignee_id) and read every open
unclaimed task. Partial indexes over just the open unclaimed tasks are small
and are what both views use. Due times are only ever asked of open tasks
(overdue, due soon, a manager's team overdue), so their index holds open tasks
only; over all tasks it led SQLite through every completed task's past due
time. bench/scale.py prints the plans before and after.
"""

from alembic import op
import sqlalchemy as sa


revision = '42c7ffe5323e'
down_revision = 'eb580df3c101'
branch_labels = None
depends_on = None

OFFERED = sa.text("state = 'open' AND assignee_id IS NULL")
OPEN = sa.text("state = 'open'")
COLUMNS = {"group": "candidate_group_id", "role": "candidate_role",
           "org_unit": "candidate_org_unit_id"}


def upgrade() -> None:
    with op.batch_alter_table('task', schema=None) as batch_op:
        for name, column in COLUMNS.items():
            batch_op.drop_index(f'ix_task_state_{name}')
            batch_op.create_index(f'ix_task_offered_{name}', [column], unique=False,
                                  postgresql_where=OFFERED, sqlite_where=OFFERED)
        batch_op.drop_index('ix_task_due_at')
        batch_op.create_index('ix_task_open_due', ['due_at'], unique=False,
                              postgresql_where=OPEN, sqlite_where=OPEN)


def downgrade() -> None:
    with op.batch_alter_table('task', schema=None) as batch_op:
        for name, column in COLUMNS.items():
            batch_op.drop_index(f'ix_task_offered_{name}', postgresql_where=OFFERED,
                                sqlite_where=OFFERED)
            batch_op.create_index(f'ix_task_state_{name}', ['state', column], unique=False)
        batch_op.drop_index('ix_task_open_due', postgresql_where=OPEN, sqlite_where=OPEN)
        batch_op.create_index('ix_task_due_at', ['due_at'], unique=False)
