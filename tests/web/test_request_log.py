"""One JSON line per request, with a request id; never a secret, a private key or a raw id_token."""
from __future__ import annotations

import io
import json
import logging

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from plugin.logging import JsonFormatter

ID_TOKEN = ("eyJhbGciOiJSUzI1NiIsImtpZCI6InBsYXRmb3JtLWtleSJ9."
            "eyJpc3MiOiJodHRwczovL2xtcy50ZXN0Iiwic3ViIjoibGVhcm5lci0xIiwibm9uY2UiOiJuLTEifQ."
            "c2lnbmF0dXJlLW9mLXRoZS1wbGF0Zm9ybS1vdmVyLXRoZS1pZC10b2tlbg")
PEM = ed25519.Ed25519PrivateKey.generate().private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
PEM_BODY = PEM.splitlines()[1]


@pytest.fixture
def log_lines():
    """What the deployed tool writes: the JSON formatter on the root logger."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield lambda: [line for line in stream.getvalue().splitlines() if line]
    root.removeHandler(handler)
    root.setLevel(old_level)


@pytest.fixture
def leaky_app(app):
    """An app with views that mishandle secrets the way real bugs do."""
    from plugin.web.extensions import csrf

    @csrf.exempt
    def echo_failure():
        from flask import request
        logging.getLogger("microcred.test").info("got form %s and args %s", dict(request.form), dict(request.args))
        raise ValueError(f"could not validate id_token={request.values.get('id_token')} key={request.values.get('key')}")

    app.add_url_rule("/lti/test-launch", "test_launch", echo_failure, methods=["GET", "POST"])
    return app


def request_lines(lines):
    return [json.loads(line) for line in lines if json.loads(line).get("logger") == "microcred.request"]


def test_one_json_line_per_request_with_request_id(client, log_lines):
    client.get("/healthz")
    client.get("/no-such-page")
    entries = request_lines(log_lines())
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [("GET", "/healthz", 200),
                                                                      ("GET", "/no-such-page", 404)]
    for entry in entries:
        assert len(entry["request_id"]) == 32 and entry["duration_ms"] >= 0
    assert entries[0]["request_id"] != entries[1]["request_id"]


def test_valid_incoming_request_id_is_honoured_and_echoed(client, log_lines):
    response = client.get("/healthz", headers={"X-Request-ID": "lb-5f2a9c7e-0001"})
    assert response.headers["X-Request-ID"] == "lb-5f2a9c7e-0001"
    assert request_lines(log_lines())[-1]["request_id"] == "lb-5f2a9c7e-0001"


@pytest.mark.parametrize("bad", ["short", "x" * 65, "has space in it", "inject\"quote\"here", "a;b<c>d&e"])
def test_invalid_incoming_request_id_is_replaced(client, bad, log_lines):
    response = client.get("/healthz", headers={"X-Request-ID": bad})
    assert response.headers["X-Request-ID"] != bad
    assert len(response.headers["X-Request-ID"]) == 32
    assert bad not in "\n".join(log_lines())


def test_id_tokens_and_private_keys_never_reach_the_logs(leaky_app, log_lines):
    client = leaky_app.test_client()
    form = client.post("/lti/test-launch", data={"id_token": ID_TOKEN, "key": PEM, "state": "s"})
    query = client.get("/lti/test-launch", query_string={"id_token": ID_TOKEN, "key": PEM})
    assert form.status_code == query.status_code == 500
    lines = log_lines()
    text = "\n".join(lines)
    assert len(request_lines(lines)) == 2
    assert "ValueError" in text  # the failure itself is logged...
    assert ID_TOKEN not in text and ID_TOKEN.split(".")[1] not in text  # ...without the token
    assert PEM_BODY not in text and "BEGIN PRIVATE KEY" not in text
    assert "[redacted-jwt]" in text and "[redacted-private-key]" in text
    for body in (form.data, query.data):
        assert ID_TOKEN.encode() not in body and PEM_BODY.encode() not in body
