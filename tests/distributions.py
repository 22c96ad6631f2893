"""The separate distributions built from integrations/ (microcred-openedx, tutor-contrib-microcred),
installed like an operator installs them: into a new virtual environment, from the package index."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def source_only(root: Path):
    """copytree's ignore: what setuptools left from an earlier build (build/ at the top only:
    the Tutor plugin's templates have a build/ folder of their own), egg-info, bytecode."""
    def ignore(folder, names):
        return {n for n in names if n == "__pycache__" or n.endswith(".egg-info")
                or (n == "build" and Path(folder) == root)}
    return ignore


def new_venv_with(where: Path, source: Path, requirement: str = "{source}") -> Path:
    """A new venv in ``where`` with ``requirement`` (``{source}``: a copy of ``source``, built there
    so that setuptools leaves nothing in the checkout) installed from the package index.
    Returns the venv's bin folder; skips (fails under MICROCRED_REQUIRE_INDEX=1) without the index."""
    copy = where / "src"
    shutil.copytree(source, copy, ignore=source_only(source))
    venv = where / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300)
    done = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
                           requirement.format(source=copy)], capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        message = f"could not install {source.name} from the package index: {done.stderr[-800:]}"
        if os.environ.get("MICROCRED_REQUIRE_INDEX") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return venv / "bin"
