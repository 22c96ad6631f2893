"""Run the Open edX stand-in LMS on 127.0.0.1 (its own process: ``python -m ...server DIR``).

Prints one line ``READY <url>`` on stdout once the database is migrated and the socket
listens; serves until terminated.
"""
from __future__ import annotations

import os
import sys


def main() -> None:
    from werkzeug.serving import make_server

    workdir = sys.argv[1]
    holder = {}

    def app(environ, start_response):
        return holder["app"](environ, start_response)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    os.environ["OPENEDX_INTEROP_DIR"] = workdir
    os.environ["OPENEDX_INTEROP_URL"] = f"http://127.0.0.1:{server.port}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.interop.openedx_platform.settings"
    import django
    from django.core.management import call_command
    django.setup()
    call_command("migrate", run_syncdb=True, verbosity=0)
    from django.core.wsgi import get_wsgi_application
    holder["app"] = get_wsgi_application()
    print(f"READY {os.environ['OPENEDX_INTEROP_URL']}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
