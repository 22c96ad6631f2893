"""``microcred serve``: the production server (gunicorn)."""
from __future__ import annotations

import os

import click


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535), help="TCP port.")
@click.option("--base-url", envvar="MICROCRED_BASE_URL", help="Public base URL (default: MICROCRED_BASE_URL).")
@click.option("--workers", envvar="WEB_CONCURRENCY", default=2, show_default=True, show_envvar=True,
              type=click.IntRange(1, 64), help="Worker processes.")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64), help="Threads per worker.")
def serve(host, port, base_url, workers, threads):
    """Serve the tool with gunicorn (put it behind an HTTPS reverse proxy in production)."""
    from gunicorn.app.base import BaseApplication

    from plugin.services import build_services
    from plugin.settings import Settings

    if not base_url and os.environ.get("MICROCRED_ENV", "").strip().lower() != "production":
        # Outside production, links must at least point at the port actually served.
        base_url = f"http://{host if ':' not in host else f'[{host}]'}:{port}"
    overrides = {"base_url": base_url.rstrip("/")} if base_url else {}
    # Fail here, with one line, rather than in every worker.
    settings = Settings.from_env(**overrides)
    build_services(settings).engine.dispose()

    class _Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}" if ":" not in host else f"[{host}]:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("worker_class", "gthread" if threads > 1 else "sync")
            self.cfg.set("accesslog", None)  # the app logs one structured line per request
            # gunicorn's own lines (start, workers, shutdown) in the same JSON format
            self.cfg.set("logconfig_dict", {
                "version": 1,
                "disable_existing_loggers": False,
                "formatters": {"json": {"()": "plugin.logging.JsonFormatter"}},
                "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json",
                                         "stream": "ext://sys.stderr"}},
                "root": {"level": settings.log_level, "handlers": ["console"]},
                "loggers": {"gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True}},
            })
            self.cfg.set("forwarded_allow_ips", os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"))
            self.cfg.set("timeout", 60)
            # A worker that exits (restart, shutdown) writes the page views it counted first.
            self.cfg.set("worker_exit", _write_visit_counts)
            if "control_socket_disable" in self.cfg.settings:
                # gunicorn >= 25.1 opens a control socket at one fixed path per user
                # (~/.gunicorn/gunicorn.ctl): a second server on the host would take it over.
                self.cfg.set("control_socket_disable", True)

        def load(self):
            from plugin.app import create_app
            from plugin.logging import configure_logging
            configure_logging(settings.log_level)
            return create_app(Settings.from_env(**overrides))

    def _write_visit_counts(arbiter, worker):
        from plugin.issuance.visits import flush_all
        flush_all()

    click.echo(f"microcred serving {settings.base_url} on http://{host}:{port} ({workers} workers)", err=True)
    _Server().run()
