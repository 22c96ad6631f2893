"""An Open edX-like environment for the plugin: a new virtual environment holding only the
``microcred-openedx`` wheel built from ``integrations/openedx`` and what edx-platform has
(Django, openedx-events, PyJWT, requests; edx-django-utils for the plugin discovery), installed
from the package index like an operator does. Built once per test session (about a minute the
first time, seconds with pip's cache)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent.parent
SOURCE = REPO / "integrations" / "openedx"
LMS_TESTS = SOURCE / "tests"


@pytest.fixture(scope="session")
def lms_python(tmp_path_factory) -> Path:
    """The Python of the new environment (the LMS's)."""
    where = tmp_path_factory.mktemp("openedx-lms")
    source = where / "src"
    # Build from a copy: setuptools leaves build/ and *.egg-info beside the sources it builds.
    shutil.copytree(SOURCE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(where / "wheels"), str(source)],
                   check=True, capture_output=True, timeout=600)
    [wheel] = (where / "wheels").glob("microcred_openedx-*.whl")
    venv = where / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300)
    python = venv / "bin" / "python"
    done = subprocess.run([str(python), "-m", "pip", "install", "-q", f"{wheel}[test]"], capture_output=True,
                          text=True, timeout=900)
    if done.returncode != 0:
        message = f"could not install microcred-openedx[test] from the package index: {done.stderr[-800:]}"
        if os.environ.get("MICROCRED_REQUIRE_INDEX") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return python
