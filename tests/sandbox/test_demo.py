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


def test_sandbox_page_says_why_the_pass_did_not_lead_to_a_credential(settings):
    """The interactive demo: after "Grace Hopper passes the course", the sandbox page shows the
    tool's plain reason when issuing failed (here the tool's context store refuses a context)."""
    import html

    from plugin.issuance import service
    from plugin.sandbox.demo import prepare_demo
    from plugin.storage.models import CredentialDefinition
    from tests.issuance.failure_support import refuse_context
    handle = start_demo(lambda base: Settings.from_env(base_url=base), 0, 0)
    try:
        ids = prepare_demo(handle.services, handle.platform)
        with handle.services.session() as s:  # the instructor's Enable (the headless story clicks it)
            service.set_enabled(s, s.get(CredentialDefinition, ids["definition_id"]), True, actor="instructor:demo")
        with refuse_context(handle.services) as url:
            page = requests.post(handle.platform_url + "/pass", data={"user": "sandbox-learner-1"}, timeout=60)
        said = (f"the pass is recorded, but the credential could not be signed: JSON-LD context {url} is not "
                "pinned")
        assert page.status_code == 200 and said in html.unescape(page.text)
        assert "(the tool retries automatically)" in html.unescape(page.text)
        home = html.unescape(requests.get(handle.platform_url + "/", timeout=10).text)
        assert "Grace Hopper passes the course" in home and said in home
    finally:
        handle.stop()
