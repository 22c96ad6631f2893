"""The tool against Open edX's own LTI 1.3 platform code (lti-consumer-xblock), over HTTP.

The platform is a Django process running ``lti_consumer`` (see ``openedx_platform/``); the
tool listens on its own socket: ``microcred serve`` itself (gunicorn, two worker processes)
for the main story, a thread for the shorter ones. A scripted browser goes: instructor login → deep linking →
launch of the saved item → learner launches (with and without PII sharing); then the tool's
AGS client gets a token from Open edX's token endpoint and reads the line item, posts a
score and reads the results, and the score reaches the LMS gradebook through lti_consumer's
own signal.
"""
from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import select

from lti import CLAIM_AGS, CLAIM_CUSTOM, CLAIM_NRPS, SCOPE_LINEITEM
from lti.ags import AgsClient
from lti.errors import ScopeNotGranted, ServiceError
from lti.launch import stored_launch_claims
from lti.nrps import NrpsClient
from lti.platforms import tool_urls
from plugin.storage.models import CredentialDefinition, Learner, Platform
from tests.interop.harness import Browser, ServedTool, ToolServer

pytestmark = pytest.mark.interop
REPO = Path(__file__).resolve().parents[2]
LTI = "https://purl.imsglobal.org/spec/lti/claim/"


class OpenEdx:
    def __init__(self, url: str):
        self.url = url

    def setup(self, tool_base_url: str, components: list[dict], users: list[dict], **extra) -> dict:
        urls = tool_urls(tool_base_url)
        spec = {"tool": urls, "components": components, "users": users, **extra}
        r = requests.post(f"{self.url}/interop/setup", json=spec, timeout=60)
        assert r.status_code == 200, r.text[:2000]
        return r.json()

    def gradebook(self) -> list[dict]:
        return requests.get(f"{self.url}/interop/gradebook", timeout=10).json()["grades"]


@pytest.fixture(scope="module")
def openedx(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("openedx")
    log = open(workdir / "lms.log", "w")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "tests.interop.openedx_platform.server", str(workdir)],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=log, text=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    try:
        line = lines.get(timeout=120)
    except queue.Empty:
        line = ""
    if not line.startswith("READY "):
        proc.kill()
        log.close()
        pytest.fail("the Open edX platform did not start: " + (workdir / "lms.log").read_text()[-3000:])
    yield OpenEdx(line.split()[1])
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture
def tool(database_url, tmp_path):
    server = ToolServer(database_url, tmp_path / "instance")
    yield server
    server.stop()


@pytest.fixture
def served_tool(database_url, tmp_path):
    server = ServedTool(database_url, tmp_path / "instance")
    yield server
    server.stop()


def register_components(tool, lms: dict) -> None:
    """What an admin does for Open edX (no Dynamic Registration): one registration per component."""
    from plugin.cli import main
    env = {"DATABASE_URL": tool.settings.database_url, "MICROCRED_KEK": ",".join(tool.settings.kek),
           "MICROCRED_BASE_URL": tool.base_url, "MICROCRED_ENV": "test",
           "MICROCRED_INSTANCE_DIR": str(tool.settings.instance_dir),
           # the admin's shell has the tool's settings, its allow-list included (the LMS is on loopback)
           "MICROCRED_OUTBOUND_ALLOW": ",".join(tool.settings.outbound_allow)}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        for c in lms["components"]:
            code = main(["platform", "add", "--issuer", lms["issuer"], "--client-id", c["client_id"],
                         "--deployment-id", c["deployment_id"], "--auth-login-url", c["oidc_callback"],
                         "--auth-token-url", c["token_url"], "--key-set-url", c["keyset_url"],
                         "--product", "openedx", "--name", "Open edX interop LMS"])
            assert code == 0
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _launch_id(response) -> str:
    values = parse_qs(urlsplit(response.url).query).get("launch")
    assert values, f"no launch id in {response.url} (HTTP {response.status_code}): {response.text[:600]}"
    return values[0]


def _through_launch(browser: Browser, start_url: str):
    """LMS page → tool login → Open edX launch gate → id_token posted to the tool."""
    gate = browser.get(start_url)
    assert "/api/lti_consumer/v1/launch/" in gate.url, f"{gate.url}: {gate.text[:600]}"
    assert gate.status_code == 200, gate.text[:600]
    return browser.submit(gate)


def test_open_edx_platform_drives_the_tool(openedx, served_tool):
    tool = served_tool  # `microcred serve`: gunicorn, two worker processes
    suffix = uuid.uuid4().hex[:8]
    lms = openedx.setup(tool.base_url, components=[
        {"block_id": f"credential{suffix}", "display_name": "Earn your micro-credential", "pii": True},
        {"block_id": f"quiz{suffix}", "display_name": "Quiz without PII", "pii": False},
    ], users=[
        {"username": f"prof{suffix}", "email": f"prof{suffix}@openedx.test", "name": "Prof Essor", "role": "instructor"},
        {"username": f"lea{suffix}", "email": f"lea{suffix}@openedx.test", "name": "Léa Martin", "role": "student"},
    ], course_pii=True)
    credential, quiz = lms["components"]
    # Open edX quirks: one client id per component, deployment id always "1".
    assert credential["client_id"] != quiz["client_id"]
    assert credential["deployment_id"] == quiz["deployment_id"] == "1"
    register_components(tool, lms)

    # Instructor: deep linking from the component (Studio's "deep linking" launch).
    prof = Browser()
    prof.get(f"{openedx.url}/interop/login?username=prof{suffix}")
    select_page = _through_launch(prof, f"{openedx.url}/interop/courseware/credential{suffix}?deep_link=1")
    assert select_page.status_code == 200, select_page.text[:800]
    autopost = prof.submit(select_page)  # "Add to course": the tool signs the content item
    saved = prof.submit(autopost)  # posted to lti_consumer's deep_linking_response_endpoint
    assert saved.status_code == 200, saved.text[:800]
    assert "/lti-dl/response" in saved.url

    # Instructor: launch of the saved item (lti_consumer launches the deep-linked resource link).
    page = _through_launch(prof, f"{openedx.url}/interop/courseware/credential{suffix}")
    assert page.status_code == 200, page.text[:800]
    with tool.services.session() as s:
        claims = stored_launch_claims(s, _launch_id(page))
        definition = s.scalars(select(CredentialDefinition)).one()
        definition_id = definition.public_id
        assert definition.course.context_id == "course-v1:MicroX+MC101+2026"
    assert claims[CLAIM_CUSTOM]["microcred_definition"] == definition_id
    assert claims[LTI + "deployment_id"] == "1"
    assert "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor" in claims[LTI + "roles"]

    # Learner, component sharing PII: sub is Open edX's external user id, name and email present.
    lea = Browser()
    lea.get(f"{openedx.url}/interop/login?username=lea{suffix}")
    page = _through_launch(lea, f"{openedx.url}/interop/courseware/credential{suffix}")
    assert page.status_code == 200, page.text[:800]
    external_id = lms["users"][f"lea{suffix}"]
    with tool.services.session() as s:
        learner_claims = stored_launch_claims(s, _launch_id(page))
        learner = s.scalars(select(Learner).where(Learner.sub == external_id)).one()
        assert (learner.name, learner.email) == ("Léa Martin", f"lea{suffix}@openedx.test")
        platform_id = s.scalars(select(Platform.id).where(Platform.client_id == credential["client_id"])).one()
        assert len(s.scalars(select(Platform).where(Platform.issuer == lms["issuer"])).all()) == 2
    assert learner_claims["sub"] == external_id
    assert learner_claims[CLAIM_CUSTOM]["microcred_definition"] == definition_id

    # Learner, component without PII sharing: no name, no email, same learner (issuer, sub).
    page = _through_launch(lea, f"{openedx.url}/interop/courseware/quiz{suffix}")
    assert page.status_code == 200, page.text[:800]
    with tool.services.session() as s:
        quiet = stored_launch_claims(s, _launch_id(page))
        assert len(s.scalars(select(Learner).where(Learner.sub == external_id)).all()) == 1
    assert "name" not in quiet and "email" not in quiet and quiet["sub"] == external_id

    # AGS: Open edX's token endpoint, its line item (declarative mode), score, results.
    ags = AgsClient(tool.services, platform_id, learner_claims[CLAIM_AGS])
    item = ags.line_item(learner_claims[CLAIM_AGS]["lineitem"])
    assert item["label"] == "Earn your micro-credential"
    ags.post_score(item["id"], user_id=external_id, score_given=85, score_maximum=100)
    results = ags.results(item["id"])
    assert [(r["userId"], r["resultScore"], r["resultMaximum"]) for r in results] == [(external_id, 85.0, 100.0)]
    # Declarative mode grants lineitem.readonly only: the tool may not add columns.
    with pytest.raises(ScopeNotGranted, match=SCOPE_LINEITEM.rsplit("/", 1)[1]):
        ags.create_line_item(label="Extra", score_maximum=10)
    # lti_consumer published the score to the LMS gradebook (normalised to 0..1).
    grades = [g for g in openedx.gradebook() if g["username"] == f"lea{suffix}"]
    assert [(g["block"].rsplit("@", 1)[1], round(g["score"], 2)) for g in grades] == [(f"credential{suffix}", 0.85)]

    # NRPS: lti_consumer's memberships view; names and emails because the course shares PII.
    members = {m["user_id"]: m for m in NrpsClient(tool.services, platform_id, learner_claims[CLAIM_NRPS]).members()}
    lea_member = members[external_id]
    assert (lea_member.get("name"), lea_member.get("email")) == ("Léa Martin", f"lea{suffix}@openedx.test")
    assert "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner" in lea_member["roles"]
    assert lms["users"][f"prof{suffix}"] in members


def test_open_edx_course_without_pii_sharing_sends_neither_name_nor_email(openedx, tool):
    suffix = uuid.uuid4().hex[:8]
    lms = openedx.setup(tool.base_url, components=[
        {"block_id": f"private{suffix}", "display_name": "Private course credential", "pii": True},
    ], users=[
        {"username": f"sam{suffix}", "email": f"sam{suffix}@openedx.test", "name": "Sam Novak", "role": "student"},
    ], course_pii=False)
    register_components(tool, lms)
    sam = Browser()
    sam.get(f"{openedx.url}/interop/login?username=sam{suffix}")
    page = _through_launch(sam, f"{openedx.url}/interop/courseware/private{suffix}")
    assert page.status_code == 200, page.text[:800]
    external_id = lms["users"][f"sam{suffix}"]
    with tool.services.session() as s:
        claims = stored_launch_claims(s, _launch_id(page))
        learner = s.scalars(select(Learner).where(Learner.sub == external_id)).one()
        assert (learner.name, learner.email) == (None, None)
        platform_id = s.scalars(select(Platform.id)).one()
    # The component asks to share, but the course does not allow it: only sub and roles.
    assert not {"name", "email", "given_name", "family_name", "preferred_username"} & set(claims)
    members = NrpsClient(tool.services, platform_id, claims[CLAIM_NRPS]).members()
    sam_member = next(m for m in members if m["user_id"] == external_id)
    assert "name" not in sam_member and "email" not in sam_member


def test_open_edx_programmatic_ags_lets_the_tool_create_its_own_line_item(openedx, tool):
    suffix = uuid.uuid4().hex[:8]
    lms = openedx.setup(tool.base_url, components=[
        {"block_id": f"prog{suffix}", "display_name": "Programmatic grading", "ags_mode": "programmatic"},
    ], users=[
        {"username": f"ana{suffix}", "email": f"ana{suffix}@openedx.test", "name": "Ana Silva", "role": "student"},
    ])
    register_components(tool, lms)
    ana = Browser()
    ana.get(f"{openedx.url}/interop/login?username=ana{suffix}")
    page = _through_launch(ana, f"{openedx.url}/interop/courseware/prog{suffix}")
    assert page.status_code == 200, page.text[:800]
    external_id = lms["users"][f"ana{suffix}"]
    with tool.services.session() as s:
        claims = stored_launch_claims(s, _launch_id(page))
        platform_id = s.scalars(select(Platform.id)).one()
    assert SCOPE_LINEITEM in claims[CLAIM_AGS]["scope"] and "lineitem" not in claims[CLAIM_AGS]
    ags = AgsClient(tool.services, platform_id, claims[CLAIM_AGS])
    # Open edX quirk: a line item needs resourceId or resourceLinkId (AGS makes both optional).
    with pytest.raises(ServiceError, match="HTTP 400"):
        ags.create_line_item(label="Micro-credential", score_maximum=100, tag="microcred")
    # With resourceLinkId = the launch's resource link (the component), Open edX accepts it
    # and publishes scores on it to the gradebook.
    link_id = claims[LTI + "resource_link"]["id"]
    item = ags.create_line_item(label="Micro-credential", score_maximum=100, tag="microcred",
                                resource_link_id=link_id)
    again = ags.find_or_create_line_item(label="Micro-credential", score_maximum=100, tag="microcred")
    assert again["id"] == item["id"] and item["resourceLinkId"] == link_id
    assert [i["id"] for i in ags.line_items(tag="microcred")] == [item["id"]]
    ags.post_score(item["id"], user_id=external_id, score_given=40, score_maximum=100)
    assert [(r["userId"], r["resultScore"]) for r in ags.results(item["id"])] == [(external_id, 40.0)]
    grades = [g for g in openedx.gradebook() if g["username"] == f"ana{suffix}"]
    assert [round(g["score"], 2) for g in grades] == [0.4]
