"""The Flask application factory: explicit steps, each one a function below."""
from __future__ import annotations

from flask import Flask

from plugin.paths import STATIC_DIR, templates_dir
from plugin.services import Services, build_services
from plugin.settings import Settings


def create_app(settings: Settings | None = None, services: Services | None = None, **overrides) -> Flask:
    """Build the tool. ``settings`` default to the environment; ``overrides`` patch them."""
    if services is None:
        settings = settings or Settings.from_env(**overrides)
        services = build_services(settings)
    settings = services.settings
    app = Flask("plugin", template_folder=str(templates_dir()), static_folder=str(STATIC_DIR),
                instance_path=str(settings.instance_dir), instance_relative_config=False)
    configure(app, settings)
    app.extensions["microcred"] = services
    # Request logging first: its before_request hook must run before CSRF and the other
    # extensions' hooks, so a request they reject (400, 413) still gets a request id.
    register_request_logging(app)
    # Then the input checks every request passes (NUL characters, JSON that no view can use), so
    # hostile input is a 400 before CSRF, rate limits, launch lookups or any view reads it.
    register_input_guard(app)
    # Security headers on every response, errors included (frame-ancestors, nosniff, HSTS...).
    register_security_headers(app)
    init_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    return app


def configure(app: Flask, settings: Settings) -> None:
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MICROCRED_BASE_URL=settings.base_url,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        # The tool runs inside platform iframes: cross-site cookies must be SameSite=None; Secure.
        SESSION_COOKIE_SAMESITE="None" if settings.secure_cookies else "Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        SESSION_COOKIE_HTTPONLY=True,
        PREFERRED_URL_SCHEME="https" if settings.secure_cookies else "http",
        WTF_CSRF_TIME_LIMIT=None,
        BABEL_DEFAULT_LOCALE=settings.default_locale,
        JSON_SORT_KEYS=False,
    )
    if settings.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_prefix=n)


def init_extensions(app: Flask) -> None:
    from plugin.web import extensions
    extensions.init_app(app)


def register_blueprints(app: Flask) -> None:
    from plugin.web import BLUEPRINTS
    for blueprint in BLUEPRINTS():
        app.register_blueprint(blueprint)


def register_error_handlers(app: Flask) -> None:
    from plugin.web.errors import init_app
    init_app(app)


def register_request_logging(app: Flask) -> None:
    from plugin.web.request_log import init_app
    init_app(app)


def register_input_guard(app: Flask) -> None:
    from plugin.web.input_guard import init_app
    init_app(app)


def register_security_headers(app: Flask) -> None:
    from plugin.web.security_headers import init_app
    init_app(app)
