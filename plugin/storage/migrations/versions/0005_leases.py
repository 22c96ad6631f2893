"""job leases and the scheduled course catch-up

Jobs get a lease (``lease_owner``, ``lease_expires_at``) renewed by their worker's
heartbeat, so a job whose worker died is taken over within a minute instead of staying
"running". ``course_sync`` holds each course's scheduled catch-up: next run, the run that
holds the course, and the last run's result. Existing rows are kept: jobs get no lease
(a running one without a lease is taken over once its last update is older than a lease).

Revision ID: leases
Revises: edc
"""
from alembic import op
import sqlalchemy as sa
import plugin.storage.models


revision = "leases"
down_revision = "edc"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_owner", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("lease_expires_at", plugin.storage.models.TZDateTime(timezone=True),
                                      nullable=True))
    op.create_table(
        "course_sync",
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("next_run_at", plugin.storage.models.TZDateTime(timezone=True), nullable=False),
        sa.Column("running_job_id", sa.Integer(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_job_id", sa.Integer(), nullable=True),
        sa.Column("last_trigger", sa.String(length=16), nullable=True),
        sa.Column("last_started_at", plugin.storage.models.TZDateTime(timezone=True), nullable=True),
        sa.Column("last_finished_at", plugin.storage.models.TZDateTime(timezone=True), nullable=True),
        sa.Column("last_outcome", sa.String(length=16), nullable=True),
        sa.Column("last_result", sa.JSON(), nullable=True),
        sa.Column("last_error_code", sa.String(length=64), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["course_id"], ["course.id"], name=op.f("fk_course_sync_course_id_course"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("course_id", name=op.f("pk_course_sync")),
    )
    with op.batch_alter_table("course_sync", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_course_sync_next_run_at"), ["next_run_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("course_sync", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_course_sync_next_run_at"))
    op.drop_table("course_sync")
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.drop_column("lease_expires_at")
        batch_op.drop_column("lease_owner")
