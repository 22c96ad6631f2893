"""Developer helper: regenerate the initial migration from the models (pre-1.0 only).

Until the first release every schema change is folded into ``0001_initial``;
after it, changes get migrations of their own (``alembic revision --autogenerate``).
Usage: ``python -m plugin.storage.regen_initial``
"""
import tempfile
from pathlib import Path

from alembic import command

from plugin.storage.migrate import MIGRATIONS, alembic_config

if __name__ == "__main__":
    versions = MIGRATIONS / "versions"
    for old in versions.glob("0001_initial*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'empty.db'}"
        command.revision(alembic_config(url), message="initial schema", autogenerate=True, rev_id="0001_initial")
    print("wrote", *versions.glob("0001_initial*.py"))
