"""pending issuances: credentials owed to learners whose issuance failed, retried by a job

A new table only; existing rows are untouched (upgrading a database that has data is safe).

Revision ID: pendingissue
Revises: status_lists
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa
import plugin.storage.models


revision = 'pendingissue'
down_revision = "status_lists"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pending_issuance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('definition_id', sa.Integer(), nullable=False),
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.Column('evidence_id', sa.Integer(), nullable=True),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('origin', sa.String(length=64), nullable=False),
    sa.Column('reason_code', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.JSON(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('claim', sa.JSON(), nullable=True),
    sa.Column('first_failed_at', plugin.storage.models.TZDateTime(timezone=True), nullable=False),
    sa.Column('last_failed_at', plugin.storage.models.TZDateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', plugin.storage.models.TZDateTime(timezone=True), nullable=True),
    sa.Column('resolution', sa.String(length=32), nullable=True),
    sa.Column('credential_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['credential_id'], ['issued_credential.id'], name=op.f('fk_pending_issuance_credential_id_issued_credential'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['definition_id'], ['credential_definition.id'], name=op.f('fk_pending_issuance_definition_id_credential_definition'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['evidence_id'], ['pass_evidence.id'], name=op.f('fk_pending_issuance_evidence_id_pass_evidence'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['job_id'], ['job.id'], name=op.f('fk_pending_issuance_job_id_job'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['learner_id'], ['learner.id'], name=op.f('fk_pending_issuance_learner_id_learner'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_issuance'))
    )
    with op.batch_alter_table('pending_issuance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_issuance_definition_id'), ['definition_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pending_issuance_last_failed_at'), ['last_failed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_pending_issuance_learner_id'), ['learner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pending_issuance_state'), ['state'], unique=False)
        batch_op.create_index('uq_pending_issuance_open', ['definition_id', 'learner_id'], unique=True, sqlite_where=sa.text("state IN ('pending', 'failed')"), postgresql_where=sa.text("state IN ('pending', 'failed')"))



def downgrade() -> None:
    with op.batch_alter_table('pending_issuance', schema=None) as batch_op:
        batch_op.drop_index('uq_pending_issuance_open', sqlite_where=sa.text("state IN ('pending', 'failed')"), postgresql_where=sa.text("state IN ('pending', 'failed')"))
        batch_op.drop_index(batch_op.f('ix_pending_issuance_state'))
        batch_op.drop_index(batch_op.f('ix_pending_issuance_learner_id'))
        batch_op.drop_index(batch_op.f('ix_pending_issuance_last_failed_at'))
        batch_op.drop_index(batch_op.f('ix_pending_issuance_definition_id'))

    op.drop_table('pending_issuance')
