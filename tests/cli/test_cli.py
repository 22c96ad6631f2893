"""Every command has --help; bad input ends with one line on stderr and a non-zero status."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from plugin.cli import cli

MICROCRED = Path(sys.executable).with_name("microcred")


def all_commands(group: click.Group = cli, path: tuple[str, ...] = ()):
    yield path
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from all_commands(command, path + (name,))
        else:
            yield path + (name,)


COMMANDS = sorted(all_commands())


def test_the_foundation_commands_are_there():
    assert {("db", "upgrade"), ("db", "downgrade"), ("db", "current"), ("serve",), ("demo",),
            ("keys", "rewrap")} <= set(COMMANDS)


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "microcred")
def test_every_command_has_help(path):
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Usage: {' '.join(('microcred',) + path) if path else 'microcred'}")
    command = cli
    for name in path:
        command = command.commands[name]
    assert (command.help or "").strip(), f"{path} has no description"


@pytest.mark.parametrize("args,fragment", [
    (["serve", "--port", "0"], "'--port': 0 is not in the range"),
    (["serve", "--port", "http"], "'--port'"),
    (["serve", "--base-url", "not a url"], "MICROCRED_BASE_URL must be an absolute http(s) URL"),
    (["serve", "--base-url", "ftp://tool.example"], "MICROCRED_BASE_URL must be an absolute http(s) URL"),
    (["serve", "--workers", "0"], "'--workers'"),
    (["no-such-command"], "No such command"),
    (["db", "upgrade", "--revision"], "requires an argument"),
    (["demo", "--port", "70000"], "'--port'"),
])
def test_bad_input_is_one_line_on_stderr(args, fragment, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MICROCRED_INSTANCE_DIR", str(tmp_path / "instance"))
    result = CliRunner().invoke(cli, args)
    assert result.exit_code not in (0, None)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert fragment in lines[0]
    assert result.stdout == ""


def test_unreachable_database_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("MICROCRED_INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/nowhere")
    for args in (["db", "upgrade"], ["db", "current"], ["keys", "rewrap"]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 1, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "database" in lines[0] and "Traceback" not in result.output, result.stderr


def test_the_console_script_keeps_errors_to_one_line(tmp_path):
    assert MICROCRED.exists(), "install the package (pip install -e .)"
    for args in (["serve", "--port", "0"], ["serve", "--base-url", "nope"]):
        result = subprocess.run([str(MICROCRED), *args], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                                env={"PATH": "/usr/bin:/bin", "MICROCRED_INSTANCE_DIR": str(tmp_path / "i")})
        assert result.returncode != 0
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    version = subprocess.run([str(MICROCRED), "--version"], capture_output=True, text=True, timeout=60)
    assert version.returncode == 0 and "0.1.0" in version.stdout
