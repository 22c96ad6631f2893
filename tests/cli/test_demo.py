"""``microcred demo``: the headless story end to end, and the interactive one until Ctrl-C."""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from plugin.cli import cli


def _env(tmp_path) -> dict:
    """The embedded default in a fresh instance folder, offline."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MICROCRED_") and k != "DATABASE_URL"}
    env.update(MICROCRED_INSTANCE_DIR=str(tmp_path / "instance"))
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_headless_demo_tells_the_story_over_http_and_every_file_verifies(settings, tmp_path):
    """On each database; the tool keeps its public URL (http://tool.test) and listens on a free port."""
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["demo", "--headless", "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = result.output
    for step in ("deep linking", "enables it", "learner opens the link", "course-passing webhook",
                 "issues the credential automatically", "learner claims", "authentic and valid"):
        assert step in text, text
    credential_id = re.search(r"verify/([0-9a-f-]{36})", text).group(1)
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([f"{credential_id}.{ext}" for ext in ("json", "jwt", "png", "svg", "edc.json", "edc.jades.json")]
                           + ["documents.json", "edc-trust-anchors.pem", "pathway"])
    # The demo pathway: the third part (this course) completed it, and its credential cites the three parts.
    assert "completed the pathway" in text
    pathway_id = re.search(r"completed the pathway.*\n\s+\S+/verify/([0-9a-f-]{36})", text).group(1)
    assert sorted(p.name for p in (out / "pathway").iterdir()) == sorted(
        [f"{pathway_id}.{ext}" for ext in ("json", "jwt", "png", "svg")] + ["documents.json", "learner-record.json"])
    pathway_doc = json.loads((out / "pathway" / f"{pathway_id}.json").read_text())
    cited = [e for e in pathway_doc["evidence"] if e.get("genre") == "Part credential"]
    assert len(cited) == 3 and all(e["digestSRI"].startswith("sha256-") for e in cited)
    checked = CliRunner().invoke(cli, ["verify", str(out / "pathway" / f"{pathway_id}.json"),
                                       "--documents", str(out / "pathway" / "documents.json")])
    assert checked.exit_code == 0 and "result: valid" in checked.output, checked.output
    # Two running platforms: the third course was launched and passed on the second sandbox
    # platform (its own origin and issuer), over HTTP, and its webhook issued that part.
    first_lms = re.search(r"^sandbox platform\s+(http://127\.0\.0\.1:\d+)$", text, re.M).group(1)
    second_lms = re.search(r"^second sandbox\s+(http://127\.0\.0\.1:\d+)$", text, re.M).group(1)
    assert first_lms != second_lms
    assert f"{second_lms}/start?user=grace-on-second-sandbox&link=sandbox-link-1" in text
    assert "the second platform sends its own signed course-passing webhook" in text
    assert "links that account to her account on the first sandbox platform (linked)" in text
    # The learner record she downloaded: every credential of both accounts, the official 1EdTech
    # CLR 2.0 schema met, and it verifies offline with the pathway's documents.json.
    from tests.clr_schema import assert_valid_clr
    record = json.loads((out / "pathway" / "learner-record.json").read_text())
    assert_valid_clr(record)
    held = record["credentialSubject"]["verifiableCredential"]
    assert {c["id"].rsplit("/", 1)[-1] for c in held} >= {credential_id, pathway_id} and len(held) == 4
    parts = {c["credentialSubject"]["achievement"]["name"] for c in held}
    assert {"Open Data Foundations", "Statistics for Public Policy"} <= parts
    assert len(record["credentialSubject"]["association"]) == 6
    checked = CliRunner().invoke(cli, ["verify", str(out / "pathway" / "learner-record.json"),
                                       "--documents", str(out / "pathway" / "documents.json")])
    assert checked.exit_code == 0 and "result: valid" in checked.output, checked.output
    # The European Digital Credential: it passes the EDC shapes, and its demo seal verifies offline
    # against the demo's trust anchor (a test CA, not a trust service).
    from plugin.verification.shacl import validate_edc
    edc = json.loads((out / f"{credential_id}.edc.json").read_text())
    assert validate_edc(edc).conforms and edc["credentialSubject"]["fullName"] == {"en": "Grace Hopper"}
    sealed = CliRunner().invoke(cli, ["verify", str(out / f"{credential_id}.edc.jades.json"), "--documents",
                                      str(out / "documents.json"), "--trust-anchors", str(out / "edc-trust-anchors.pem")])
    assert sealed.exit_code == 0 and "result: valid" in sealed.output, sealed.output

    document = json.loads((out / f"{credential_id}.json").read_text())
    assert document["credentialSubject"]["name"] == "Grace Hopper"  # the name the learner confirmed
    (evidence,) = document["evidence"]
    assert evidence["assessmentSource"].startswith("Open edX (course passing event")
    assert evidence["assessmentScore"] == "82/100" and "pass mark 50 %" in evidence["narrative"]

    for ext in ("json", "jwt", "png", "svg"):
        check = CliRunner().invoke(cli, ["verify", str(out / f"{credential_id}.{ext}"),
                                         "--documents", str(out / "documents.json"), "--json"])
        assert check.exit_code == 0, check.output
        assert json.loads(check.output)["ok"] is True
        from_db = CliRunner().invoke(cli, ["verify", str(out / f"{credential_id}.{ext}")])  # the tool's database
        assert from_db.exit_code == 0 and "result: valid" in from_db.output, from_db.output
    tampered = out / "tampered.json"
    tampered.write_text((out / f"{credential_id}.json").read_text().replace("Grace Hopper", "Grace Hoppér"))
    assert CliRunner().invoke(cli, ["verify", str(tampered), "--documents", str(out / "documents.json")]).exit_code != 0


def test_interactive_demo_prints_where_to_open_things_and_stops_on_ctrl_c(tmp_path):
    port, platform_port, second_port = _free_port(), _free_port(), _free_port()
    microcred = str(Path(sys.executable).parent / "microcred")
    proc = subprocess.Popen([microcred, "demo", "--port", str(port), "--platform-port", str(platform_port),
                             "--second-platform-port", str(second_port)], cwd=tmp_path, env=_env(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Ctrl-C" in line:
                break
        text = "".join(lines)
        assert "Press Ctrl-C to stop." in text, text
        tool, lms = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{platform_port}"
        urls = set(re.findall(r"http://127\.0\.0\.1:\d+[^\s<]*", text))
        assert f"{lms}/start?user=sandbox-instructor&deep_link=1" in urls
        assert f"{lms}/start?user=sandbox-learner-1&link=sandbox-link-1" in urls
        assert f"{tool}/lti/config" in {u.rstrip(")") for u in urls}
        assert "passes the course" in text and "/verify/" in text
        # the second sandbox platform runs too (the pathway's third course), registered like the first
        second = f"http://127.0.0.1:{second_port}"
        assert f"{second}/start?user=grace-on-second-sandbox&link=sandbox-link-1" in urls
        assert "registered as http://127.0.0.1/microcred-second-sandbox" in text
        second_home = requests.get(second + "/", timeout=10)
        assert second_home.status_code == 200 and "Second sandbox LMS" in second_home.text
        assert "Open Data Foundations" in second_home.text
        # its course credential is enabled (demo data) and its webhook key registered: Grace's pass there issues
        there = requests.post(second + "/pass", data={"user": "grace-on-second-sandbox"},
                              headers={"Accept": "application/json"}, timeout=60).json()
        assert there["status"] == 200 and [r["action"] for r in there["response"]["results"]] == ["issued"], there

        home = requests.get(lms + "/", timeout=10)
        assert home.status_code == 200 and "Grace Hopper passes the course" in home.text
        assert requests.get(tool + "/lti/config", timeout=10).json()["launch_url"] == tool + "/lti/launch"
        assert requests.get(f"{tool}/issuers/demo-university/about", timeout=10).status_code == 200
        # The learner's signed pass reaches the tool and is accepted (the sandbox's key is the
        # platform's bridge key); the credential is not enabled yet, so the pass is recorded for
        # when the instructor enables it, and nothing is issued now.
        passed = requests.post(lms + "/pass", data={"user": "sandbox-learner-1"},
                               headers={"Accept": "application/json"}, timeout=30).json()
        assert passed["status"] == 200, passed
        assert [r["action"] for r in passed["response"]["results"]] == ["disabled"]
        assert "pass recorded; the credential is not enabled yet" in requests.get(lms + "/", timeout=10).text

        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0, proc.stderr.read()
        assert "stopping" in proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    for stopped in (lms, f"http://127.0.0.1:{second_port}", f"http://127.0.0.1:{port}"):
        with pytest.raises(requests.ConnectionError):
            requests.get(stopped + "/", timeout=5)


def test_interactive_demo_refuses_one_port_for_two_servers(tmp_path):
    port = _free_port()
    result = CliRunner().invoke(cli, ["demo", "--port", str(_free_port()), "--platform-port", str(port),
                                      "--second-platform-port", str(port)])
    assert result.exit_code != 0
    assert result.stderr.strip().splitlines()[-1] == (
        "microcred: error: --port, --platform-port and --second-platform-port must differ")


def test_repeated_headless_demos_keep_one_sandbox_registration(settings, services, tmp_path):
    from sqlalchemy import select

    from plugin.storage.models import Course, CredentialDefinition, IssuedCredential, Platform
    runs = []
    for n in (1, 2):
        result = CliRunner().invoke(cli, ["demo", "--headless", "--out", str(tmp_path / f"out{n}")])
        assert result.exit_code == 0, result.output
        runs.append(re.search(r"verify/([0-9a-f-]{36})", result.output).group(1))
    with services.session() as s:
        # one registration per sandbox platform, updated to each run's ports
        platform, second = s.scalars(select(Platform).where(Platform.product == "sandbox").order_by(Platform.id))
        assert platform.auth_login_url.startswith(re.search(r"sandbox platform\s+(\S+)", result.output).group(1))
        assert second.issuer == "http://127.0.0.1/microcred-second-sandbox"
        assert second.auth_login_url.startswith(re.search(r"second sandbox\s+(\S+)", result.output).group(1))
        courses = s.scalars(select(Course).where(Course.platform_issuer == platform.issuer)).all()
        demo_courses = [c.id for c in courses if c.context_id.startswith("sandbox-course-")]
        assert len(demo_courses) == 2  # each run tells the story in a course of its own
        active = set(s.scalars(select(IssuedCredential.public_id).join(
            CredentialDefinition, CredentialDefinition.id == IssuedCredential.definition_id).where(
            IssuedCredential.status == "active", CredentialDefinition.course_id.in_(demo_courses))))
        assert active == set(runs)  # the first run's credential is untouched
    check = CliRunner().invoke(cli, ["verify", str(tmp_path / "out1" / f"{runs[0]}.json")])
    assert check.exit_code == 0 and "result: valid" in check.output, check.output


def _tampered_contexts_dir(tmp_path) -> Path:
    """A MICROCRED_CONTEXTS_DIR whose copy of the W3C credentials v2 context was altered."""
    from plugin.signing import contexts as ctx
    folder = tmp_path / "contexts"
    folder.mkdir()
    original = (ctx.BUNDLED_DIR / "credentials-v2.jsonld").read_text(encoding="utf-8")
    (folder / "credentials-v2.jsonld").write_text(original.replace("VerifiableCredential", "VerifiableCredentia1", 1),
                                                  encoding="utf-8")
    (folder / "index.json").write_text(json.dumps({ctx.CREDENTIALS_V2: "credentials-v2.jsonld"}), encoding="utf-8")
    return folder


def test_headless_demo_names_the_cause_in_one_line_when_the_pass_does_not_lead_to_a_credential(
        settings, services, tmp_path, monkeypatch):
    monkeypatch.setenv("MICROCRED_CONTEXTS_DIR", str(_tampered_contexts_dir(tmp_path)))
    result = CliRunner().invoke(cli, ["demo", "--headless", "--out", str(tmp_path / "out")])
    assert result.exit_code != 0
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("microcred: error: the demo story stopped: the pass did not lead to a credential: "
                            "the credential could not be signed: JSON-LD context "
                            "https://www.w3.org/ns/credentials/v2 from ")
    assert "does not match its pinned SHA-256" in error
    assert "HTTP 503" not in result.output
    # the pass is kept, and its issuance is waiting to be retried
    from sqlalchemy import select

    from plugin.storage.models import PassEvidence, PendingIssuance
    with services.session() as s:
        assert s.scalar(select(PassEvidence)).passed
        assert s.scalar(select(PendingIssuance)).state == "pending"
