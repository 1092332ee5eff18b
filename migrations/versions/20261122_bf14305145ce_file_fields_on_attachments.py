"""file fields on attachments

Revision ID: bf14305145ce
Revises: b26275a7a29f
Create Date: 2026-11-22 07:53:52

A file chosen in a form's file field is an attachment row that names the field
it was chosen in and, once the record is saved, the record that holds it
(andon.forms.file_fields); the bytes stay outside the database as before.
"""

from alembic import op
import sqlalchemy as sa


revision = 'bf14305145ce'
down_revision = 'b26275a7a29f'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('record_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('field', sa.String(length=128), nullable=True))
        batch_op.create_index(batch_op.f('ix_attachment_record_id'), ['record_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_attachment_record_id_record'), 'record', ['record_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_attachment_record_id_record'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_attachment_record_id'))
        batch_op.drop_column('field')
        batch_op.drop_column('record_id')
