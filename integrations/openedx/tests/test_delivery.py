"""Delivery of a signed token: retries, the tool's rate limit, replays and configuration errors."""
from microcred_openedx import webhook

DATA = {"is_passing": True, "course_key": "course-v1:DemoX+MC101+2026",
        "user": {"external_id": "ext-1", "username": "ada"}, "grade": None}


def test_a_server_error_is_retried_with_the_same_token(tool):
    tool.replies.append((503, {}, {"error": "processing_failed"}))
    slept = []
    assert webhook.deliver(webhook.build_token(DATA), attempts=3, sleep=slept.append) == "accepted"
    assert slept == [1] and len({t["token"] for t in tool.tokens}) == 1 and len(tool.tokens) == 2


def test_a_rate_limited_delivery_waits_as_told(tool):
    tool.replies.append((429, {"Retry-After": "7"}, {"error": "rate_limited"}))
    slept = []
    assert webhook.deliver(webhook.build_token(DATA), attempts=2, sleep=slept.append) == "accepted"
    assert slept == [7]


def test_a_replay_counts_as_delivered_and_a_refusal_is_not_retried(tool):
    tool.replies.append((409, {}, {"error": "replayed"}))
    assert webhook.deliver(webhook.build_token(DATA), attempts=3, sleep=lambda s: None) == "duplicate"
    tool.replies.append((401, {}, {"error": "unknown_issuer", "message": "register the LMS"}))
    assert webhook.deliver(webhook.build_token(DATA), attempts=3, sleep=lambda s: None) == "rejected"
    assert len(tool.tokens) == 2


def test_an_unreachable_tool_fails_after_the_attempts():
    from django.test import override_settings
    with override_settings(MICROCRED_WEBHOOK_URL="http://127.0.0.1:9/api/webhooks/openedx"):
        slept = []
        assert webhook.deliver(webhook.build_token(DATA), attempts=3, sleep=slept.append) == "failed"
    assert slept == [1, 2]
