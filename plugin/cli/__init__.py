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
    ("plugin.cli.admin", "admin"),
    ("plugin.cli.engine", "issuer"),
    ("plugin.cli.engine", "keys"),
    ("plugin.cli.engine", "issue"),
    ("plugin.cli.engine", "revoke"),
    ("plugin.cli.engine", "suspend"),
    ("plugin.cli.engine", "reinstate"),
    ("plugin.cli.engine", "verify"),
    ("plugin.cli.lti", "lti"),
    ("plugin.cli.lti", "platform"),
    ("plugin.cli.worker", "worker"),
    ("plugin.cli.sync", "sync"),
    ("plugin.cli.bridges", "bridge"),
]

USER_ERRORS = (SettingsError, KeyEncryptionError)


class MicrocredGroup(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except click.exceptions.Exit:
            raise
        except USER_ERRORS as exc:
            raise click.ClickException(str(exc)) from None


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


@click.group(cls=MicrocredGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
