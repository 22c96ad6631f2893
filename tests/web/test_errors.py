"""Error pages: HTML for people, JSON for API clients, never a stack trace in the body."""
from __future__ import annotations

import io
import json
import logging

import pytest

HTML = {"Accept": "text/html"}
JSON = {"Accept": "application/json"}


@pytest.fixture
def failing_app(app):
    from plugin.web.extensions import csrf

    @csrf.exempt
    def boom():
        raise RuntimeError("database exploded at /srv/secret/path")

    app.add_url_rule("/boom", "boom", boom, methods=["GET", "POST"])
    app.add_url_rule("/api/boom", "api_boom", boom)

    def form_view():
        from flask import request
        return {"n": len(request.form)}

    app.add_url_rule("/form", "form", form_view, methods=["POST"])
    return app


def check_html(response, status, words):
    assert response.status_code == status
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "<h1" in page and words in page
    assert response.headers["X-Request-ID"] in page  # people can quote it


def check_json(response, status, error):
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["status"] == status and body["error"] == error and body["message"]
    assert body["request_id"] == response.headers["X-Request-ID"]


def test_404(client):
    check_html(client.get("/nope", headers=HTML), 404, "Not Found")
    check_json(client.get("/nope", headers=JSON), 404, "Not Found")
    check_json(client.get("/api/nope"), 404, "Not Found")  # API paths answer JSON whatever Accept says


def test_405(client):
    check_html(client.delete("/", headers=HTML), 405, "Method Not Allowed")
    check_json(client.delete("/healthz", headers=JSON), 405, "Method Not Allowed")


def test_413(failing_app):
    failing_app.config["MAX_CONTENT_LENGTH"] = 1000
    client = failing_app.test_client()
    big = {"field": "x" * 5000}
    check_html(client.post("/form", data=big, headers=HTML), 413, "Too Large")
    check_json(client.post("/form", data=big, headers=JSON), 413, "Request Entity Too Large")


def test_400_missing_csrf_token(failing_app):
    client = failing_app.test_client()
    check_html(client.post("/form", data={"a": "1"}, headers=HTML), 400, "CSRF")
    check_json(client.post("/form", data={"a": "1"}, headers=JSON), 400, "Bad Request")


def test_unhandled_exception_is_500_without_stack_trace_and_logged_with_request_id(failing_app):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    from plugin.logging import JsonFormatter
    handler.setFormatter(JsonFormatter())
    logging.getLogger().addHandler(handler)
    try:
        client = failing_app.test_client()
        page = client.get("/boom", headers=HTML)
        api = client.get("/api/boom")
    finally:
        logging.getLogger().removeHandler(handler)
    check_html(page, 500, "Internal Server Error")
    check_json(api, 500, "Internal Server Error")
    for response in (page, api):
        body = response.get_data(as_text=True)
        assert "Traceback" not in body and "RuntimeError" not in body and "/srv/secret/path" not in body
    entries = [json.loads(line) for line in stream.getvalue().splitlines()]
    errors = [e for e in entries if e["msg"] == "unhandled error"]
    assert [e["request_id"] for e in errors] == [page.headers["X-Request-ID"], api.headers["X-Request-ID"]]
    assert all("RuntimeError: database exploded" in e["exc"] for e in errors)
