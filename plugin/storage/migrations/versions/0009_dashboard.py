"""Dashboard: how often each credential's public page was opened and how often it was verified

Revision ID: dashboard
Revises: batches
"""
from alembic import op
import sqlalchemy as sa


revision = "dashboard"
down_revision = "batches"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing credentials start from zero: nothing was counted before.
    op.add_column('issued_credential',
                  sa.Column('page_views', sa.Integer(), server_default=sa.text('0'), nullable=False))
    op.add_column('issued_credential',
                  sa.Column('verifications', sa.Integer(), server_default=sa.text('0'), nullable=False))


def downgrade() -> None:
    op.drop_column('issued_credential', 'verifications')
    op.drop_column('issued_credential', 'page_views')
