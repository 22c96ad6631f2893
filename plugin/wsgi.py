"""Production WSGI entry point: ``gunicorn 'plugin.wsgi:app'`` (or ``microcred serve``)."""
from plugin.app import create_app
from plugin.logging import configure_logging
from plugin.settings import Settings

_settings = Settings.from_env()
# Without a handler the per-request log lines would go nowhere under a bare gunicorn.
configure_logging(_settings.log_level)
app = create_app(_settings)
