"""OpenID4VCI: wallet offers (pre-authorized codes) and the holder-bound copies handed to wallets

Revision ID: oid4vci
Revises: branding
"""
from alembic import op
import sqlalchemy as sa
import plugin.storage.models


revision = "oid4vci"
down_revision = "branding"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('wallet_offer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=36), nullable=False),
    sa.Column('credential_id', sa.Integer(), nullable=False),
    sa.Column('configuration_id', sa.String(length=128), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('tx_code_hash', sa.String(length=64), nullable=True),
    sa.Column('tx_code_tries', sa.Integer(), server_default='0', nullable=False),
    sa.Column('expires_at', plugin.storage.models.TZDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=255), nullable=False),
    sa.Column('created_at', plugin.storage.models.TZDateTime(timezone=True), nullable=False),
    sa.Column('redeemed_at', plugin.storage.models.TZDateTime(timezone=True), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('token_expires_at', plugin.storage.models.TZDateTime(timezone=True), nullable=True),
    sa.Column('received_at', plugin.storage.models.TZDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['credential_id'], ['issued_credential.id'], name=op.f('fk_wallet_offer_credential_id_issued_credential'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wallet_offer')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_wallet_offer_code_hash')),
    sa.UniqueConstraint('public_id', name=op.f('uq_wallet_offer_public_id')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_wallet_offer_token_hash'))
    )
    op.create_index(op.f('ix_wallet_offer_credential_id'), 'wallet_offer', ['credential_id'], unique=False)
    op.create_index(op.f('ix_wallet_offer_expires_at'), 'wallet_offer', ['expires_at'], unique=False)
    op.create_table('wallet_credential',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=36), nullable=False),
    sa.Column('credential_id', sa.Integer(), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('format', sa.String(length=16), nullable=False),
    sa.Column('holder', sa.Text(), nullable=False),
    sa.Column('issued_id', sa.String(length=512), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('issued_at', plugin.storage.models.TZDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['credential_id'], ['issued_credential.id'], name=op.f('fk_wallet_credential_credential_id_issued_credential'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['offer_id'], ['wallet_offer.id'], name=op.f('fk_wallet_credential_offer_id_wallet_offer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wallet_credential')),
    sa.UniqueConstraint('offer_id', name=op.f('uq_wallet_credential_offer_id')),
    sa.UniqueConstraint('public_id', name=op.f('uq_wallet_credential_public_id'))
    )
    op.create_index(op.f('ix_wallet_credential_credential_id'), 'wallet_credential', ['credential_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_wallet_credential_credential_id'), table_name='wallet_credential')
    op.drop_table('wallet_credential')
    op.drop_index(op.f('ix_wallet_offer_expires_at'), table_name='wallet_offer')
    op.drop_index(op.f('ix_wallet_offer_credential_id'), table_name='wallet_offer')
    op.drop_table('wallet_offer')
