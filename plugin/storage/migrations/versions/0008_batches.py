"""Batched bulk issuance: the uploaded CSV is stored once and read by its job in batches

Revision ID: batches
Revises: oid4vci
"""
from alembic import op
import sqlalchemy as sa
import plugin.storage.models


revision = "batches"
down_revision = "oid4vci"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bulk_upload',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('definition_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', plugin.storage.models.TZDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['definition_id'], ['credential_definition.id'], name=op.f('fk_bulk_upload_definition_id_credential_definition'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bulk_upload'))
    )


def downgrade() -> None:
    op.drop_table('bulk_upload')
