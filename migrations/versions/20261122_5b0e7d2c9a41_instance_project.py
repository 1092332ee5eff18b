"""the project an instance belongs to, for filtering the inbox and reports

Revision ID: 5b0e7d2c9a41
Revises: 43cc719b43a9
Create Date: 2026-11-22 05:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = '5b0e7d2c9a41'
down_revision = '43cc719b43a9'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('flow_instance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('project', sa.String(length=200), nullable=True))
        batch_op.create_index(batch_op.f('ix_flow_instance_project'), ['project'], unique=False)
    flow_instance = sa.table('flow_instance', sa.column('project', sa.String),
                             sa.column('data', sa.JSON))
    connection = op.get_bind()
    for row in connection.execute(sa.select(sa.column('id'), flow_instance.c.data)
                                  .select_from(flow_instance)):
        project = (row.data or {}).get('project')
        if isinstance(project, (str, int)) and project != '':
            connection.execute(sa.text('UPDATE flow_instance SET project = :p WHERE id = :i'),
                               {'p': str(project)[:200], 'i': row.id})


def downgrade() -> None:
    with op.batch_alter_table('flow_instance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flow_instance_project'))
        batch_op.drop_column('project')
