"""Flask extensions: CSRF protection, translations, request-scoped database session."""
from __future__ import annotations

from flask import Flask, g, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

from plugin.paths import PACKAGE_DIR
from plugin.web.context import close_db

csrf = CSRFProtect()
babel = Babel()
# Rate limits (plugin.web.ratelimits). Memory storage on the embedded default (one process);
# Redis when MICROCRED_REDIS_URL is set, so every gunicorn worker shares the counters.
limiter = Limiter(get_remote_address, default_limits=[], headers_enabled=True)
LANGUAGES = ("en", "fr")


def select_locale() -> str:
    """``?lang=``, then inside a launch its language (the platform's ``locale`` claim, or
    what the person chose on the switch during that launch), outside one the person's
    choice (cookie, :mod:`plugin.web.language`), then the browser's preference."""
    from plugin.web.language import chosen_language
    explicit = request.args.get("lang", "")[:2].lower()
    if explicit in LANGUAGES:
        return explicit
    from plugin.web.auth import current_actor
    try:
        actor = current_actor()
    except Exception:  # no database yet (health checks during start-up)
        actor = None
    if actor is not None and actor.locale and actor.locale[:2].lower() in LANGUAGES:
        return actor.locale[:2].lower()
    return chosen_language() or request.accept_languages.best_match(LANGUAGES) or "en"


def _csrf_secret_from_launch() -> None:
    """Bind the CSRF token to the launch when the request carries one.

    Inside a platform iframe the session cookie is often dropped (third-party
    cookies blocked), so Flask-WTF's per-session token would change on every
    request and every form would fail. The launch id is already the server-side
    key of the page's authority and travels in the URL and in a hidden field;
    the token is derived from it (HMAC with the app secret), so a page of one
    launch cannot post for another and nothing depends on the cookie.
    """
    import hashlib
    import hmac

    from flask import current_app, session
    from plugin.web.auth import form_launch_id
    launch_id = request.args.get("launch") or (form_launch_id() if request.method == "POST" else None)
    if launch_id:
        # Only a launch that exists: a made-up id would otherwise give a token anybody can read
        # from a public page, accepted for a signed-in local admin (the actor falls back to the session).
        from plugin.web.auth import current_actor
        actor = current_actor()
        if actor is None or actor.launch_id != launch_id:
            return
        key = current_app.config["SECRET_KEY"].encode()
        session["csrf_token"] = hmac.new(key, b"csrf-launch:" + launch_id.encode(), hashlib.sha256).hexdigest()


def init_app(app: Flask) -> None:
    # Registered before CSRFProtect's own hook so the launch-bound secret is in place when it checks.
    app.before_request(_csrf_secret_from_launch)
    csrf.init_app(app)
    redis_url = app.extensions["microcred"].settings.redis_url
    app.config.setdefault("RATELIMIT_STORAGE_URI", redis_url or "memory://")
    limiter.init_app(app)
    from plugin.web import ratelimits
    ratelimits.init_app(app)
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(PACKAGE_DIR / "translations"))
    app.teardown_appcontext(close_db)

    app.add_template_filter(tr, "tr")

    @app.before_request
    def _locale_for_templates():
        from flask_babel import get_locale
        g.locale = str(get_locale() or "en")


def tr(value):
    """A message from pure code (:class:`plugin.domain.i18n.Msg`, or a list of them) in the
    request's language; plain text (a platform's or a person's words) is returned unchanged."""
    from flask_babel import gettext
    from plugin.domain.i18n import translate
    return translate(value, gettext)
