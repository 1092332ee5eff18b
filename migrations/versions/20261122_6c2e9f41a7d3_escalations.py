"""escalations: one row per escalation level a task reached, for reports

Revision ID: 6c2e9f41a7d3
Revises: d45b0a7e3c21
Create Date: 2026-11-22 10:45:00

Until now a level reached was only an audit event (``task.escalated``) whose
details name the rule, not the people it asked nor the due time it was late
against. The table keeps those; existing audit events are copied in (their
``asked`` stays empty: it was never recorded).
"""

from alembic import op
import sqlalchemy as sa
import andon.database


revision = '6c2e9f41a7d3'
down_revision = 'd45b0a7e3c21'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'escalation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('task_id', sa.Integer(), nullable=False),
        sa.Column('instance_id', sa.Integer(), nullable=False),
        sa.Column('level', sa.Integer(), nullable=False),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.Column('rule', sa.String(length=500), nullable=False),
        sa.Column('at', andon.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('due_at', andon.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column('asked_id', sa.Integer(), nullable=True),
        sa.Column('asked', sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(['asked_id'], ['user.id'], name=op.f('fk_escalation_asked_id_user')),
        sa.ForeignKeyConstraint(['instance_id'], ['flow_instance.id'],
                                name=op.f('fk_escalation_instance_id_flow_instance')),
        sa.ForeignKeyConstraint(['task_id'], ['task.id'], name=op.f('fk_escalation_task_id_task')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_escalation')),
    )
    with op.batch_alter_table('escalation', schema=None) as batch_op:
        batch_op.create_index('ix_escalation_task_level', ['task_id', 'level'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalation_instance_id'), ['instance_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_escalation_at'), ['at'], unique=False)
    _copy_audit_events()


def _copy_audit_events() -> None:
    """Copy the levels the audit log recorded, with each task's due time."""
    connection = op.get_bind()
    events = sa.table('audit_event', sa.column('at', andon.database.UTCDateTime(timezone=True)),
                      sa.column('kind', sa.String()), sa.column('subject_id', sa.Integer()),
                      sa.column('detail', sa.JSON()))
    tasks = sa.table('task', sa.column('id', sa.Integer()),
                     sa.column('due_at', andon.database.UTCDateTime(timezone=True)))
    escalations = sa.table('escalation', sa.column('task_id'), sa.column('instance_id'),
                           sa.column('level'), sa.column('action'), sa.column('rule'),
                           sa.column('at', andon.database.UTCDateTime(timezone=True)),
                           sa.column('due_at', andon.database.UTCDateTime(timezone=True)))
    due = dict(connection.execute(sa.select(tasks.c.id, tasks.c.due_at)).all())
    rows = []
    query = sa.select(events.c.at, events.c.subject_id, events.c.detail).where(
        events.c.kind == 'task.escalated')
    for at, instance_id, detail in connection.execute(query):
        task_id = (detail or {}).get('task')
        if task_id not in due:
            continue
        rows.append({'task_id': task_id, 'instance_id': instance_id,
                     'level': int(detail.get('level') or 1),
                     'action': str(detail.get('action') or 'notify')[:16],
                     'rule': str(detail.get('target') or '')[:500], 'at': at,
                     'due_at': due[task_id]})
    if rows:
        connection.execute(escalations.insert(), rows)


def downgrade() -> None:
    with op.batch_alter_table('escalation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_escalation_at'))
        batch_op.drop_index(batch_op.f('ix_escalation_instance_id'))
        batch_op.drop_index('ix_escalation_task_level')
    op.drop_table('escalation')
