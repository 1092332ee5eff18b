"""a flow instance records the instance that started it (start_flow connector)

Revision ID: 5e7c1a9d2b40
Revises: a963c7963f44
Create Date: 2026-11-22 05:20:00
"""

from alembic import op
import sqlalchemy as sa


revision = '5e7c1a9d2b40'
down_revision = 'a963c7963f44'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('flow_instance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_flow_instance_parent_id_flow_instance'),
                                    'flow_instance', ['parent_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_flow_instance_parent_id'), ['parent_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('flow_instance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flow_instance_parent_id'))
        batch_op.drop_constraint(batch_op.f('fk_flow_instance_parent_id_flow_instance'),
                                 type_='foreignkey')
        batch_op.drop_column('parent_id')
