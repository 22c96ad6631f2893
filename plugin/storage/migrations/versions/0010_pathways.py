"""Pathways (stackable credentials), the pathway credentials awarded with their parts, and the
identities a learner linked

Revision ID: pathways
Revises: dashboard
"""
from alembic import op
import sqlalchemy as sa
import plugin.storage.models


revision = "pathways"
down_revision = "dashboard"
branch_labels = None
depends_on = None


def upgrade() -> None:
    tz = plugin.storage.models.TZDateTime(timezone=True)
    op.create_table(
        "pathway",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=36), nullable=False),
        sa.Column("issuer_id", sa.Integer(), nullable=False),
        sa.Column("target_definition_id", sa.Integer(), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", tz, nullable=False),
        sa.Column("updated_at", tz, nullable=False),
        sa.ForeignKeyConstraint(["issuer_id"], ["issuer.id"], name=op.f("fk_pathway_issuer_id_issuer"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["target_definition_id"], ["credential_definition.id"],
                                name=op.f("fk_pathway_target_definition_id_credential_definition"), ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pathway")),
        sa.UniqueConstraint("public_id", name=op.f("uq_pathway_public_id")),
        sa.UniqueConstraint("target_definition_id", name=op.f("uq_pathway_target_definition_id")),
    )
    op.create_index(op.f("ix_pathway_issuer_id"), "pathway", ["issuer_id"], unique=False)
    op.create_table(
        "pathway_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pathway_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", tz, nullable=False),
        sa.ForeignKeyConstraint(["pathway_id"], ["pathway.id"], name=op.f("fk_pathway_version_pathway_id_pathway"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pathway_version")),
        sa.UniqueConstraint("pathway_id", "version", name=op.f("uq_pathway_version_pathway_id_version")),
    )
    op.create_table(
        "pathway_part",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pathway_id", sa.Integer(), nullable=False),
        sa.Column("definition_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["definition_id"], ["credential_definition.id"],
                                name=op.f("fk_pathway_part_definition_id_credential_definition"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["pathway_id"], ["pathway.id"], name=op.f("fk_pathway_part_pathway_id_pathway"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pathway_part")),
        sa.UniqueConstraint("pathway_id", "definition_id", name=op.f("uq_pathway_part_pathway_id_definition_id")),
    )
    op.create_index(op.f("ix_pathway_part_definition_id"), "pathway_part", ["definition_id"], unique=False)
    op.create_table(
        "pathway_award",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pathway_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.Integer(), nullable=False),
        sa.Column("parts", sa.JSON(), nullable=False),
        sa.Column("review", sa.String(length=16), nullable=False),
        sa.Column("review_reason", sa.Text(), nullable=True),
        sa.Column("review_part", sa.String(length=36), nullable=True),
        sa.Column("reviewed_by", sa.String(length=255), nullable=True),
        sa.Column("reviewed_at", tz, nullable=True),
        sa.Column("created_at", tz, nullable=False),
        sa.ForeignKeyConstraint(["credential_id"], ["issued_credential.id"],
                                name=op.f("fk_pathway_award_credential_id_issued_credential"), ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["learner_id"], ["learner.id"], name=op.f("fk_pathway_award_learner_id_learner"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["pathway_id"], ["pathway.id"], name=op.f("fk_pathway_award_pathway_id_pathway"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pathway_award")),
        sa.UniqueConstraint("credential_id", name=op.f("uq_pathway_award_credential_id")),
    )
    op.create_index(op.f("ix_pathway_award_learner_id"), "pathway_award", ["learner_id"], unique=False)
    op.create_index(op.f("ix_pathway_award_pathway_id"), "pathway_award", ["pathway_id"], unique=False)
    op.create_index(op.f("ix_pathway_award_review"), "pathway_award", ["review"], unique=False)
    op.create_table(
        "learner_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("primary_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("linked_at", tz, nullable=False),
        sa.ForeignKeyConstraint(["learner_id"], ["learner.id"], name=op.f("fk_learner_link_learner_id_learner"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["primary_id"], ["learner.id"], name=op.f("fk_learner_link_primary_id_learner"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learner_link")),
        sa.UniqueConstraint("learner_id", name=op.f("uq_learner_link_learner_id")),
    )
    op.create_index(op.f("ix_learner_link_primary_id"), "learner_link", ["primary_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_learner_link_primary_id"), table_name="learner_link")
    op.drop_table("learner_link")
    for ix in ("ix_pathway_award_review", "ix_pathway_award_pathway_id", "ix_pathway_award_learner_id"):
        op.drop_index(op.f(ix), table_name="pathway_award")
    op.drop_table("pathway_award")
    op.drop_index(op.f("ix_pathway_part_definition_id"), table_name="pathway_part")
    op.drop_table("pathway_part")
    op.drop_table("pathway_version")
    op.drop_index(op.f("ix_pathway_issuer_id"), table_name="pathway")
    op.drop_table("pathway")
