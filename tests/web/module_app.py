"""One app shared by a test module (the route walk, the property-based tests): thousands of
requests through a single app on SQLite, built from an explicit environment (no monkeypatch)."""
from __future__ import annotations

from pathlib import Path


def module_app(folder: Path, **env):
    """(app, services) for a module, on a SQLite file in ``folder``; ``env`` adds/overrides settings."""
    from plugin.app import create_app
    from plugin.services import build_services
    from plugin.settings import Settings
    from plugin.storage.secrets import generate_kek
    environ = {
        "MICROCRED_ENV": "test", "MICROCRED_INSTANCE_DIR": str(folder / "instance"),
        "DATABASE_URL": f"sqlite:///{folder / 'module.sqlite3'}", "MICROCRED_BASE_URL": "http://tool.test",
        "MICROCRED_SECRET_KEY": "x" * 40, "MICROCRED_KEK": generate_kek(), "MICROCRED_CONTEXTS_FETCH": "false",
        "MICROCRED_MAIL_BACKEND": "file", "MICROCRED_OUTBOUND_ALLOW": "127.0.0.0/8,::1",
        "MICROCRED_RATELIMIT_REGISTRATION": "1000000 per minute", "MICROCRED_RATELIMIT_VERIFY": "1000000 per minute",
        "MICROCRED_RATELIMIT_WEBHOOK": "1000000 per minute", "MICROCRED_RATELIMIT_LOGIN": "1000000 per minute",
        **env,
    }
    services = build_services(Settings.from_env(environ))
    app = create_app(services=services)
    app.config.update(TESTING=True)
    return app, services
