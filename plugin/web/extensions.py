"""Flask extensions: CSRF protection, translations, request-scoped database session."""
from __future__ import annotations

from flask import Flask, g, request
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect

from plugin.paths import PACKAGE_DIR
from plugin.web.context import close_db

csrf = CSRFProtect()
babel = Babel()
LANGUAGES = ("en", "fr")


def select_locale() -> str:
    """The launch's ``locale`` claim, then ``?lang=``, then the browser's preference."""
    explicit = request.args.get("lang")
    if explicit and explicit[:2] in LANGUAGES:
        return explicit[:2]
    from plugin.web.auth import current_actor
    try:
        actor = current_actor()
    except Exception:  # no database yet (health checks during start-up)
        actor = None
    if actor is not None and actor.locale and actor.locale[:2].lower() in LANGUAGES:
        return actor.locale[:2].lower()
    return request.accept_languages.best_match(LANGUAGES) or "en"


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(PACKAGE_DIR / "translations"))
    app.teardown_appcontext(close_db)

    @app.before_request
    def _locale_for_templates():
        from flask_babel import get_locale
        g.locale = str(get_locale() or "en")
