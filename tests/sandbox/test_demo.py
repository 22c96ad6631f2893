"""The interactive demo's servers: tool and sandbox on loopback, registered, a launch works."""
from __future__ import annotations

import socket

import pytest
import requests

from plugin.sandbox.demo import PortInUse, start_demo
from plugin.settings import Settings
from tests.lti.fixtures import Browser


def test_demo_serves_tool_and_registered_sandbox(settings):
    handle = start_demo(lambda base: Settings.from_env(base_url=base), 0, 0)
    try:
        home = requests.get(handle.platform_url + "/", timeout=10)
        assert home.status_code == 200 and "deep linking" in home.text
        assert requests.get(handle.tool_url + "/lti/config", timeout=10).json()["launch_url"] == \
            handle.tool_url + "/lti/launch"
        page = Browser(requests.Session()).launch(handle.platform, "sandbox-learner-1")
        # the learner lands on their status page (learner.home) once the learner pages are installed
        assert page.status_code == 200 and ("/learner/" in page.url or "Learner" in page.text)
    finally:
        handle.stop()
    # a second run reuses the sandbox key (the registration in the database stays valid)
    again = start_demo(lambda base: Settings.from_env(base_url=base), 0, 0)
    try:
        assert again.platform.kid == handle.platform.kid
        assert Browser(requests.Session()).launch(again.platform, "sandbox-instructor").status_code == 200
    finally:
        again.stop()


def test_busy_port_is_a_clear_error(settings):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(PortInUse, match="--port"):
            start_demo(lambda base: Settings.from_env(base_url=base), busy.getsockname()[1], 0)
