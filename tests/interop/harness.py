"""What the interoperability tests share: the tool on a real socket, and a scripted browser.

The tool runs exactly as ``microcred serve`` builds it (``create_app`` over ``build_services``),
served by werkzeug in a thread on 127.0.0.1 so the platforms under test reach its JWKS and
its login and launch URLs over real HTTP. The "browser" is a ``requests`` session that submits
the auto-posting forms LTI uses (login initiation, id_token post, deep-linking return) the way
a browser's JavaScript would.
"""
from __future__ import annotations

import socket
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import requests
from werkzeug.serving import make_server

# The interop platforms run on this machine: the tool may call loopback only because this says so.
LOOPBACK = "127.0.0.0/8,::1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Dispatch:
    """WSGI app whose target is set after the socket is bound (the base URL needs the port)."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


class ToolServer:
    """The tool, on http://127.0.0.1:<port>, with its own database."""

    def __init__(self, database_url: str, instance_dir: Path, **env):
        from plugin.app import create_app
        from plugin.services import build_services
        from plugin.settings import Settings
        from plugin.storage.secrets import generate_kek

        dispatch = _Dispatch()
        self._server = make_server("127.0.0.1", 0, dispatch, threaded=True)
        self.port = self._server.port
        self.base_url = f"http://127.0.0.1:{self.port}"
        environ = {
            "MICROCRED_ENV": "test", "MICROCRED_INSTANCE_DIR": str(instance_dir),
            "DATABASE_URL": database_url, "MICROCRED_BASE_URL": self.base_url,
            "MICROCRED_SECRET_KEY": "s" * 40, "MICROCRED_KEK": generate_kek(),
            "MICROCRED_CONTEXTS_FETCH": "false", "MICROCRED_MAIL_BACKEND": "file",
            "MICROCRED_OUTBOUND_ALLOW": LOOPBACK, **env,
        }
        self.settings = Settings.from_env(environ=environ)
        self.services = build_services(self.settings)
        self.app = create_app(services=self.services)
        dispatch.app = self.app
        self._thread = threading.Thread(target=self._server.serve_forever, name="tool-server", daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return self.base_url + path

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self.services.engine.dispose()


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action") or "", "method": (a.get("method") or "get").lower(),
                               "fields": {}, "attrs": a})
        elif tag in ("input", "button") and self.forms and a.get("name"):
            if tag == "input" and a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.forms[-1]["fields"].setdefault(a["name"], a.get("value") or "")
        elif tag == "textarea" and self.forms and a.get("name"):
            self.forms[-1]["fields"].setdefault(a["name"], "")


def forms_in(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


class Browser:
    """A requests session that behaves like a browser on LTI's auto-posting forms."""

    def __init__(self):
        self.http = requests.Session()
        self.http.headers["Accept"] = "text/html,application/xhtml+xml"
        self.http.headers["User-Agent"] = "microcred-interop-browser"

    def get(self, url: str, **kwargs) -> requests.Response:
        return self.http.get(url, timeout=30, **kwargs)

    def submit(self, response: requests.Response, *, index: int = 0, form_id: str | None = None,
               **overrides) -> requests.Response:
        """Submit a form of ``response`` (what the page's script or the user's click would do)."""
        forms = forms_in(response.text)
        if form_id is not None:
            forms = [f for f in forms if f["attrs"].get("id") == form_id]
        assert forms, f"no form on the page {response.url} (HTTP {response.status_code}): {response.text[:500]}"
        form = forms[index]
        action = urljoin(response.url, form["action"] or response.url)
        data = {**form["fields"], **overrides}
        if form["method"] == "post":
            return self.http.post(action, data=data, timeout=30)
        return self.http.get(action, params=data, timeout=30)


class ServedTool:
    """The tool as ``microcred serve`` runs it: gunicorn, several worker processes, its own process.

    Login and launch may land on different workers, so this also proves that launch state
    lives on the server (database), not in a process. ``services`` opens the same database
    from the test process for assertions and for the AGS/NRPS clients.
    """

    def __init__(self, database_url: str, instance_dir: Path, *, workers: int = 2, timeout: float = 60.0):
        import os
        import subprocess
        import sys
        import time

        from plugin.services import build_services
        from plugin.settings import Settings
        from plugin.storage.secrets import generate_kek

        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.environ = {
            "MICROCRED_ENV": "test", "MICROCRED_INSTANCE_DIR": str(instance_dir),
            "DATABASE_URL": database_url, "MICROCRED_BASE_URL": self.base_url,
            "MICROCRED_SECRET_KEY": "s" * 40, "MICROCRED_KEK": generate_kek(),
            "MICROCRED_CONTEXTS_FETCH": "false", "MICROCRED_MAIL_BACKEND": "file", "MICROCRED_LOG_LEVEL": "WARNING",
            "MICROCRED_OUTBOUND_ALLOW": LOOPBACK,
        }
        self.settings = Settings.from_env(environ=self.environ)
        self.services = build_services(self.settings)  # migrates before the workers start
        instance_dir.mkdir(parents=True, exist_ok=True)
        self._log = open(instance_dir / "serve.log", "w")
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "plugin", "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(workers), "--threads", "2"],
            env={**os.environ, **self.environ}, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            try:
                if requests.get(self.base_url + "/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("microcred serve did not start: " + (instance_dir / "serve.log").read_text()[-3000:])
            time.sleep(0.2)

    def url(self, path: str) -> str:
        return self.base_url + path

    def stop(self) -> None:
        import subprocess
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        self._log.close()
        self.services.engine.dispose()
