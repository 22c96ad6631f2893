"""Production WSGI entry point: ``gunicorn 'plugin.wsgi:app'`` (or ``microcred serve``)."""
from plugin.app import create_app

app = create_app()
