"""Branding: each awarding body's badge design and certificate signatory; the learner's
choice to show their name on the public verification page

Revision ID: branding
Revises: leases
"""
from alembic import op
import sqlalchemy as sa
import plugin.storage.models


revision = "branding"
down_revision = "leases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('issuer_branding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issuer_id', sa.Integer(), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('signature', sa.LargeBinary(), nullable=True),
    sa.Column('updated_by', sa.String(length=255), nullable=False),
    sa.Column('created_at', plugin.storage.models.TZDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', plugin.storage.models.TZDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['issuer_id'], ['issuer.id'], name=op.f('fk_issuer_branding_issuer_id_issuer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issuer_branding')),
    sa.UniqueConstraint('issuer_id', name=op.f('uq_issuer_branding_issuer_id'))
    )
    # Existing credentials keep showing the learner's name, as they did before.
    op.add_column('issued_credential',
                  sa.Column('public_name', sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade() -> None:
    op.drop_column('issued_credential', 'public_name')
    op.drop_table('issuer_branding')
