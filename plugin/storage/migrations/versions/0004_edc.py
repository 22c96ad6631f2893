"""European Digital Credentials: how each awarding body seals them, the sealed EDCs, trust anchors

Revision ID: edc
Revises: pendingissue
"""
from alembic import op
import sqlalchemy as sa
import plugin.storage.models


revision = 'edc'
down_revision = "pendingissue"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('issuer_seal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issuer_id', sa.Integer(), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('certificate_chain', sa.Text(), nullable=True),
    sa.Column('certificate_sha256', sa.String(length=64), nullable=True),
    sa.Column('private_sealed', sa.Text(), nullable=True),
    sa.Column('edc_issuer_url', sa.String(length=1024), nullable=True),
    sa.Column('edc_issuer_password_sealed', sa.Text(), nullable=True),
    sa.Column('edc_issuer_token_sealed', sa.Text(), nullable=True),
    sa.Column('updated_by', sa.String(length=255), nullable=False),
    sa.Column('created_at', plugin.storage.models.TZDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', plugin.storage.models.TZDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['issuer_id'], ['issuer.id'], name=op.f('fk_issuer_seal_issuer_id_issuer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issuer_seal')),
    sa.UniqueConstraint('issuer_id', name=op.f('uq_issuer_seal_issuer_id'))
    )
    op.create_table('edc_seal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('credential_id', sa.Integer(), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('sealed', sa.Text(), nullable=True),
    sa.Column('sealed_at', plugin.storage.models.TZDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_http_status', sa.Integer(), nullable=True),
    sa.Column('europass_status', sa.String(length=16), nullable=False),
    sa.Column('europass_address', sa.String(length=320), nullable=True),
    sa.Column('europass_consent_at', plugin.storage.models.TZDateTime(timezone=True), nullable=True),
    sa.Column('europass_sent_at', plugin.storage.models.TZDateTime(timezone=True), nullable=True),
    sa.Column('europass_error', sa.Text(), nullable=True),
    sa.Column('created_at', plugin.storage.models.TZDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', plugin.storage.models.TZDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['credential_id'], ['issued_credential.id'], name=op.f('fk_edc_seal_credential_id_issued_credential'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_edc_seal')),
    sa.UniqueConstraint('credential_id', name=op.f('uq_edc_seal_credential_id'))
    )
    with op.batch_alter_table('edc_seal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_edc_seal_status'), ['status'], unique=False)
    op.create_table('edc_trust_anchor',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('certificate_pem', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.String(length=255), nullable=False),
    sa.Column('created_at', plugin.storage.models.TZDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_edc_trust_anchor')),
    sa.UniqueConstraint('sha256', name=op.f('uq_edc_trust_anchor_sha256'))
    )


def downgrade() -> None:
    op.drop_table('edc_trust_anchor')
    with op.batch_alter_table('edc_seal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_edc_seal_status'))
    op.drop_table('edc_seal')
    op.drop_table('issuer_seal')
