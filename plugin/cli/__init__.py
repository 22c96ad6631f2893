"""The ``microcred`` command.

Each command group lives in its own module and is added in :data:`COMMAND_MODULES`.
Errors that a person can fix (bad settings, bad input) end with one line on
stderr and a non-zero exit status, never a traceback.
"""
from __future__ import annotations

import importlib
import sys

import click

from plugin.settings import Settings, SettingsError
from plugin.storage.secrets import KeyEncryptionError

# module name -> attribute holding a click command or group
COMMAND_MODULES = [
    ("plugin.cli.db", "db"),
    ("plugin.cli.serve", "serve"),
    ("plugin.cli.demo", "demo"),
    ("plugin.cli.keys", "keys"),
    ("plugin.cli.admin", "admin"),
    ("plugin.cli.engine", "issuer"),
    ("plugin.cli.engine", "issue"),
    ("plugin.cli.engine", "revoke"),
    ("plugin.cli.engine", "suspend"),
    ("plugin.cli.engine", "reinstate"),
    ("plugin.cli.engine", "verify"),
    ("plugin.cli.status", "status"),
    ("plugin.cli.export", "export"),
    ("plugin.cli.lti", "lti"),
    ("plugin.cli.lti", "platform"),
    ("plugin.cli.worker", "worker"),
    ("plugin.cli.sync", "sync"),
    ("plugin.cli.bulk", "bulk_issue"),
    ("plugin.cli.bridges", "bridge"),
    ("plugin.cli.offer", "offer"),
    ("plugin.cli.backup", "backup"),
    ("plugin.cli.backup", "restore"),
]

USER_ERRORS = (SettingsError, KeyEncryptionError)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class MicrocredGroup(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except click.exceptions.Exit:
            raise
        except USER_ERRORS as exc:
            raise click.ClickException(str(exc)) from None
        except Exception as exc:
            from sqlalchemy.exc import OperationalError
            if isinstance(exc, OperationalError):  # cannot connect, database locked, ...
                raise click.ClickException(
                    f"cannot use the database: {_one_line(str(exc.orig) or type(exc.orig).__name__)}") from None
            raise

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """Like click's, but every error a person can fix is ONE line on stderr.

        Click prints usage errors as three lines (usage, hint, error); a script that
        captures stderr or a person scanning a log wants the error only.
        """
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.Abort:
            click.echo("microcred: aborted", err=True)
            sys.exit(1)
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx else "microcred"
            click.echo(f"{where}: error: {_one_line(exc.format_message())} (see {where} --help)", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            click.echo(f"microcred: error: {_one_line(exc.format_message())}", err=True)
            sys.exit(exc.exit_code)
        sys.exit(rv if type(rv) is int else 0)  # a command returning True must not exit 1


class AppContext:
    """Lazily built services (and Flask app) for the commands that need them."""

    def __init__(self):
        self._services = None
        self._app = None

    def settings(self, **overrides) -> Settings:
        return Settings.from_env(**overrides)

    def services(self, **build_kwargs):
        if self._services is None:
            from plugin.services import build_services
            self._services = build_services(self.settings(), **build_kwargs)
        return self._services

    def app(self):
        if self._app is None:
            from plugin.app import create_app
            self._app = create_app(services=self.services())
        return self._app


pass_ctx = click.make_pass_decorator(AppContext, ensure=True)


@click.group(name="microcred", cls=MicrocredGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="microcred", prog_name="microcred")
@click.pass_context
def cli(ctx):
    """microcred: issue EU micro-credentials (Open Badges 3.0) from LTI 1.3 platforms.

    Settings come from the environment (see docs/settings.md); with none set,
    the embedded default keeps everything in ./instance.
    """
    ctx.ensure_object(AppContext)


def _load_commands() -> None:
    for module_name, attr in COMMAND_MODULES:
        command = getattr(importlib.import_module(module_name), attr)
        cli.add_command(command)


_load_commands()


def main(argv: list[str] | None = None) -> int:
    from plugin.logging import configure_logging
    configure_logging("WARNING")
    try:
        return cli.main(args=argv, prog_name="microcred", standalone_mode=True) or 0
    except SystemExit as exc:  # click's standalone mode exits; keep its status
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
