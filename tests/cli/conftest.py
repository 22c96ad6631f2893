"""Fixtures of the command-line tests."""
import pytest
from click.testing import CliRunner

from plugin.cli import cli


@pytest.fixture
def run(settings):
    """``run("verify", path, ...)``: the ``microcred`` command in-process, on the test's settings."""
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(cli, list(map(str, args)), catch_exceptions=False)
    return invoke
