"""The package's own tests run in an environment holding only this distribution and what
edx-platform has (``pip install 'microcred-openedx[test]'``): Django set up like the LMS
(``lms_settings``), a webhook key, and a stand-in for the tool that records what it receives."""
import json
import os
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


class StandIn:
    """Answers each POST with the next queued (status, headers, body), then 200; keeps the tokens."""

    def __init__(self):
        self.tokens, self.replies = [], []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                stand_in.tokens.append({"token": body.decode(), "content_type": self.headers.get("Content-Type")})
                status, headers, reply = stand_in.replies.pop(0) if stand_in.replies else (200, {}, {"ok": True})
                payload = json.dumps(reply).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/api/webhooks/openedx"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


_KEY = ed25519.Ed25519PrivateKey.generate()
_STAND_IN = StandIn()


def pytest_configure(config):
    fd, key_file = tempfile.mkstemp(suffix=".pem")
    with os.fdopen(fd, "wb") as fh:
        fh.write(_KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    os.environ.update(TEST_WEBHOOK_URL=_STAND_IN.url, TEST_WEBHOOK_KEY_FILE=key_file,
                      TEST_LMS_ROOT_URL="https://lms.test", DJANGO_SETTINGS_MODULE="lms_settings")
    import django
    django.setup()
    from edx_django_utils.plugins import connect_plugin_receivers
    connect_plugin_receivers("lms.djangoapp")


@pytest.fixture
def tool():
    _STAND_IN.tokens.clear()
    _STAND_IN.replies.clear()
    return _STAND_IN


@pytest.fixture
def key():
    return _KEY
