"""report indexes: escalated tasks, periods, audit events by kind and time

Revision ID: 9d41c2b7e5f0
Revises: 6c2e9f41a7d3
Create Date: 2026-11-22 11:00:00

The shipped reports that filter read few rows of big tables: the tasks that
were escalated (a partial index over escalation_level > 0), audit events of a
few kinds in a period (kind, at), and the reader's period on the tasks'
created_at or completed_at and the instances' ended_at. bench/reports.py
prints the plans and the times before and after.
"""

from alembic import op
import sqlalchemy as sa


revision = '9d41c2b7e5f0'
down_revision = '6c2e9f41a7d3'
branch_labels = None
depends_on = None

ESCALATED = sa.text("escalation_level > 0")


def upgrade() -> None:
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.create_index('ix_task_escalated', ['escalation_level'], unique=False,
                              postgresql_where=ESCALATED, sqlite_where=ESCALATED)
        batch_op.create_index('ix_task_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_task_completed_at', ['completed_at'], unique=False)
    with op.batch_alter_table('flow_instance', schema=None) as batch_op:
        batch_op.create_index('ix_flow_instance_ended_at', ['ended_at'], unique=False)
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_kind_at', ['kind', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_kind_at')
    with op.batch_alter_table('flow_instance', schema=None) as batch_op:
        batch_op.drop_index('ix_flow_instance_ended_at')
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_index('ix_task_completed_at')
        batch_op.drop_index('ix_task_created_at')
        batch_op.drop_index('ix_task_escalated', postgresql_where=ESCALATED,
                            sqlite_where=ESCALATED)
