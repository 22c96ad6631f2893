"""An Open edX-like environment for the plugin: a new virtual environment holding only the
``microcred-openedx`` wheel built from ``integrations/openedx`` and what edx-platform has
(Django, openedx-events, PyJWT, requests; edx-django-utils for the plugin discovery), installed
from the package index like an operator does. Built once per test session (about a minute the
first time, seconds with pip's cache)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.distributions import new_venv_with

REPO = Path(__file__).resolve().parent.parent.parent
SOURCE = REPO / "integrations" / "openedx"
LMS_TESTS = SOURCE / "tests"


@pytest.fixture(scope="session")
def lms_python(tmp_path_factory) -> Path:
    """The Python of the new environment (the LMS's): the wheel built from a copy of the
    sources, with its test extra (edx-django-utils, pytest)."""
    where = tmp_path_factory.mktemp("openedx-lms")
    bin_dir = new_venv_with(where, SOURCE, "{source}[test]")
    return bin_dir / "python"
