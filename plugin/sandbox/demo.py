"""The interactive ``microcred demo``: the tool and two sandbox platforms on loopback, in threads.

All three run on werkzeug's threaded development server (enough for one person clicking
through the story; production uses ``microcred serve``). The second sandbox platform (its
own issuer, keys and port) hosts the third course of the demo pathway. The sandbox keys are
kept in the instance folder so the registrations stay valid from one run to the next.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

from werkzeug.serving import make_server

from plugin.sandbox.platform import SandboxConfig, SandboxPlatform, create_sandbox_app


class _Slot:
    """A WSGI callable whose app is set once the port (hence the base URL) is known."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


@dataclass
class DemoHandle:
    tool_url: str
    platform_url: str
    platform: SandboxPlatform
    services: object
    _servers: list
    _threads: list
    prepared: dict | None = None
    second_platform_url: str | None = None
    second_platform: SandboxPlatform | None = None

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self.services.engine.dispose()


# What "passed" means for the demo credential: the course-passing webhook the sandbox sends
# (as the Open edX plugin does), a course grade of at least 50 %, issued automatically.
DEMO_POLICY = {"source": "openedx_webhook", "rule": "course_grade", "threshold": 50, "issuance": "automatic"}


def prepare_demo(services, platform: SandboxPlatform, second: SandboxPlatform | None = None) -> dict:
    """What an administrator and an instructor set up before the story (idempotent).

    * the sandbox's webhook key becomes the platform's Open edX bridge key, so its
      course-passing webhooks are accepted (the ``second`` platform's too);
    * the demo awarding body (:mod:`plugin.issuance.demo_data`), allowed for the platform;
    * the sandbox course with the demo credential described (every Annex I element) under
      :data:`DEMO_POLICY`, NOT enabled: enabling it is the instructor's step;
    * with the ``second`` sandbox platform (registered already): the demo pathway
      (:mod:`plugin.sandbox.pathway_demo`); without it, no pathway.
    """
    from sqlalchemy import select

    from plugin.evidence.base import find_course
    from plugin.evidence.bridge_config import set_openedx_webhook_key
    from plugin.issuance import service as issuance
    from plugin.issuance.demo_data import DEMO_SLUG, demo_definition, demo_profile
    from plugin.storage.models import Course, IssuerPlatform, Platform

    with services.session() as s:
        row = s.scalars(select(Platform).where(Platform.issuer == platform.issuer,
                                               Platform.client_id == platform.config.client_id)).one()
        set_openedx_webhook_key(row, platform.webhook_public_pem())
        issuer = issuance.issuer_by_slug(s, DEMO_SLUG) or issuance.create_issuer(
            s, services, DEMO_SLUG, demo_profile(), actor="admin:demo")
        if not s.scalars(select(IssuerPlatform).where(IssuerPlatform.issuer_id == issuer.id,
                                                      IssuerPlatform.platform_id == row.id)).first():
            s.add(IssuerPlatform(issuer_id=issuer.id, platform_id=row.id))
        from plugin.issuance.demo_data import ensure_demo_seal
        ensure_demo_seal(s, services, issuer)
        course = find_course(s, platform.issuer, platform.course["id"])
        if course is None:
            course = Course(platform_issuer=platform.issuer, context_id=platform.course["id"], platform_id=row.id,
                            title=platform.course["title"], label=platform.course["label"])
            s.add(course)
            s.flush()
        definition = issuance.definition_for_course(s, course)
        if definition is None or not definition.current_version:
            version = issuance.save_definition(s, course, demo_definition(), "instructor:demo", issuer,
                                               definition=definition, policy=dict(DEMO_POLICY))
            definition = version.definition
        pathway = None
        if second is not None:
            from plugin.sandbox.pathway_demo import prepare_pathway
            pathway = prepare_pathway(s, services, platform, row, issuer, definition, second)  # None: cannot be set up
        return {"platform_id": row.id, "issuer_slug": issuer.slug, "course_id": course.id,
                "definition_id": definition.id, "definition_public_id": definition.public_id, "pathway": pathway}


class PortInUse(RuntimeError):
    pass


def _bind(port: int, slot: _Slot, what: str, option: str):
    try:
        return make_server("127.0.0.1", port, slot, threaded=True)
    except (OSError, SystemExit):  # werkzeug prints a hint and exits when the port is taken
        raise PortInUse(f"cannot listen on 127.0.0.1:{port} for the {what} (port in use?); "
                        f"choose another with {option}") from None


# The headless demo's sandbox listens on a free port each run; its LTI issuer stays this one,
# so repeated runs update one registration (login, token and key URLs) instead of adding one
# per port. Each run tells the story in a course of its own (credentials of earlier runs stay
# verifiable and untouched).
HEADLESS_ISSUER = "http://127.0.0.1/microcred-headless-sandbox"


def _next_headless_run(services) -> int:
    from sqlalchemy import func, select

    from plugin.storage.models import Course
    with services.session() as s:
        runs = s.scalar(select(func.count()).select_from(Course).where(Course.platform_issuer == HEADLESS_ISSUER))
    return (runs or 0) + 1


def start_demo(settings_for: Callable[[str], object], port: int = 5000, platform_port: int = 5001,
               *, headless: bool = False, second_platform_port: int | None = None) -> DemoHandle:
    """Start the tool and both sandbox platforms; ``settings_for(base_url)`` builds the tool's
    settings. Port 0 picks a free port; ``second_platform_port`` (default: ``platform_port + 1``,
    or a free port when ``platform_port`` is 0) is the second sandbox platform's.

    ``headless``: the sandbox keeps :data:`HEADLESS_ISSUER` as its issuer whatever its port,
    and the story runs in a new course of each platform."""
    from lti.platforms import PlatformInput, register_platform
    from plugin.app import create_app
    from plugin.sandbox.pathway_demo import second_sandbox_config
    from plugin.services import build_services

    if second_platform_port is None:
        second_platform_port = 0 if platform_port == 0 else platform_port + 1
    tool_slot, platform_slot, second_slot = _Slot(), _Slot(), _Slot()
    servers = []
    try:
        for at, slot, what, option in ((port, tool_slot, "tool", "--port"),
                                        (platform_port, platform_slot, "sandbox platform", "--platform-port"),
                                        (second_platform_port, second_slot, "second sandbox platform",
                                         "--second-platform-port")):
            servers.append(_bind(at, slot, what, option))
    except PortInUse:
        for server in servers:
            server.server_close()
        raise
    tool_server, platform_server, second_server = servers
    tool_url = f"http://127.0.0.1:{tool_server.server_port}"
    platform_url = f"http://127.0.0.1:{platform_server.server_port}"
    second_url = f"http://127.0.0.1:{second_server.server_port}"
    settings = settings_for(tool_url)
    # The tool calls the sandboxes (their keys, their token endpoints) on loopback: allowed for
    # those two ports, explicitly, and for nothing else on this machine.
    settings.outbound_allow = [*settings.outbound_allow, f"127.0.0.1:{platform_server.server_port}",
                               f"127.0.0.1:{second_server.server_port}"]
    services = build_services(settings)
    tool_slot.app = create_app(services=services)
    extra, run = {}, None
    if headless:
        run = _next_headless_run(services)
        extra = {"issuer": HEADLESS_ISSUER, "course_id": f"sandbox-course-{run}",
                 "course_title": f"Sandbox course: Data literacy (headless demo run {run})"}
    folder = settings.instance_dir / "sandbox"
    platform = SandboxPlatform(SandboxConfig(base_url=platform_url, tool_base_url=tool_url,
                                             key_file=folder / "platform-key.pem",
                                             webhook_key_file=folder / "webhook-key.pem",
                                             links_file=None if headless else folder / "links.json",
                                             **extra))
    second = SandboxPlatform(second_sandbox_config(second_url, tool_url, folder, headless=headless, run=run))
    platform_slot.app = create_sandbox_app(platform)
    second_slot.app = create_sandbox_app(second)
    with services.session() as s:
        for sandbox in (platform, second):  # the first one first: it is the demo's main platform
            reg = sandbox.registration()
            register_platform(s, PlatformInput(
                issuer=reg["issuer"], client_id=reg["client_id"], deployment_ids=[reg["deployment_id"]],
                auth_login_url=reg["auth_login_url"], auth_token_url=reg["auth_token_url"],
                key_set_url=reg["key_set_url"], name=reg["name"], product="sandbox"))
    prepared = prepare_demo(services, platform, second)
    threads = []
    for server, name in ((tool_server, "microcred-tool"), (platform_server, "microcred-sandbox"),
                         (second_server, "microcred-second-sandbox")):
        thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
        thread.start()
        threads.append(thread)
    return DemoHandle(tool_url, platform_url, platform, services, servers, threads, prepared,
                      second_platform_url=second_url, second_platform=second)
