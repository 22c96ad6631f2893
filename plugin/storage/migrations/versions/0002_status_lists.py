"""revocation status lists: a shuffle key and a position counter per list

New credentials carry a one-bit ``revocation`` entry in lists that hand out indexes from a
keyed permutation (``plugin/status/permutation.py``) instead of counting used slots.
Existing ``message`` lists keep their rows and slots untouched (they are still served and
read); they get no key, so nothing new is put on them.

Revision ID: status_lists
Revises: 0001_initial
"""
from alembic import op
import sqlalchemy as sa


revision = "status_lists"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("status_list", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shuffle_key", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("next_position", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # The per-list position sequences (plugin/status/service.py). Lists that lose their
        # key take no new credential after a later upgrade, so the sequences are not needed.
        names = bind.execute(sa.text(
            "SELECT sequence_name FROM information_schema.sequences "
            "WHERE sequence_schema = current_schema() AND sequence_name LIKE 'status\\_list\\_pos\\_%'")).scalars().all()
        for name in names:
            op.execute(sa.text(f'DROP SEQUENCE IF EXISTS "{name}"'))
    # A plain DROP COLUMN (SQLite >= 3.35 has it): batch mode would copy and drop the table,
    # which SQLite refuses while status_list_slot rows point at it.
    op.drop_column("status_list", "next_position")
    op.drop_column("status_list", "shuffle_key")
