"""The ``microcred lti config`` / ``platform add`` / ``platform list`` contract."""
from __future__ import annotations

import json

from click.testing import CliRunner

from plugin.cli import cli

ARGS = ["platform", "add", "--issuer", "https://lms.example.org", "--client-id", "block-v1:abc",
        "--deployment-id", "1", "--auth-login-url", "https://lms.example.org/api/lti_consumer/v1/launch/",
        "--auth-token-url", "https://lms.example.org/api/lti_consumer/v1/token/block-v1:abc",
        "--key-set-url", "https://lms.example.org/api/lti_consumer/v1/public_keysets/block-v1:abc",
        "--name", "Example LMS", "--product", "openedx"]


def run(*args):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result


def test_lti_config_prints_the_tool_urls(settings):
    result = run("lti", "config")
    assert result.exit_code == 0, result.output
    conf = json.loads(result.stdout)
    assert conf["login_url"] == "http://tool.test/lti/login"
    assert conf["launch_url"] == "http://tool.test/lti/launch"
    assert conf["jwks_url"] == "http://tool.test/lti/jwks"
    assert conf["deep_linking_url"] == "http://tool.test/lti/deep-link"
    assert conf["registration_url"] == "http://tool.test/lti/register"
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in conf["scopes"]


def test_platform_add_is_idempotent_and_adds_deployments(services):
    first = run(*ARGS)
    assert first.exit_code == 0, first.output
    stored = json.loads(first.stdout)
    assert stored["issuer"] == "https://lms.example.org" and stored["deployment_ids"] == ["1"]
    assert stored["product"] == "openedx" and stored["name"] == "Example LMS"
    again = run(*ARGS)
    assert json.loads(again.stdout)["id"] == stored["id"]
    more = run(*[a if a != "1" else "2" for a in ARGS])
    assert json.loads(more.stdout)["deployment_ids"] == ["1", "2"]
    # a second component of the same Open edX gets its own client id under the same issuer
    other = run(*[a.replace("block-v1:abc", "block-v1:def") for a in ARGS])
    assert json.loads(other.stdout)["id"] != stored["id"]
    listed = json.loads(run("platform", "list", "--json").stdout)
    assert sorted(p["client_id"] for p in listed) == ["block-v1:abc", "block-v1:def"]
    table = run("platform", "list").stdout
    assert "block-v1:abc" in table and "1,2" in table and table.splitlines()[0].startswith("id")


def test_platform_add_bad_url_is_one_line_on_stderr(services):
    args = list(ARGS)
    args[args.index("--key-set-url") + 1] = "not a url"
    result = run(*args)
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "key_set_url" in lines[0] and "Traceback" not in result.stderr


def test_platform_list_empty(services):
    assert json.loads(run("platform", "list", "--json").stdout) == []
    assert "No platform" in run("platform", "list").stdout


def test_rotate_key_prints_the_new_kid_and_keeps_the_old_key_published(app, services):
    client = app.test_client()
    old = client.get("/lti/jwks").get_json()["keys"][0]["kid"]
    result = run("lti", "rotate-key")
    assert result.exit_code == 0, result.output
    new = result.stdout.strip()
    assert new and new != old and "stays in /lti/jwks" in result.stderr
    assert [k["kid"] for k in client.get("/lti/jwks").get_json()["keys"]] == [new, old]
    from lti.keys import ensure_key
    assert ensure_key(services).kid == new  # signs from now on

    retired = run("lti", "retire-old-keys")
    assert retired.exit_code == 0 and retired.stdout.strip() == old
    assert [k["kid"] for k in client.get("/lti/jwks").get_json()["keys"]] == [new]

    again = run("lti", "rotate-key", "--retire-old")
    assert again.exit_code == 0
    assert [k["kid"] for k in client.get("/lti/jwks").get_json()["keys"]] == [again.stdout.strip()]


def test_platform_add_and_bridge_set_refuse_private_addresses_unless_allowed(services, monkeypatch):
    """As on the admin pages: a URL the tool would refuse to call is refused when it is stored,
    in one line naming the option and MICROCRED_OUTBOUND_ALLOW, and nothing is saved."""
    for target in ("https://169.254.169.254/latest/keys", "https://10.0.0.5/jwks"):
        args = list(ARGS)
        args[args.index("--key-set-url") + 1] = target
        result = run(*args)
        assert result.exit_code == 1 and result.stdout == ""
        line = result.stderr.strip()
        assert "--key-set-url" in line and "local or private" in line and "MICROCRED_OUTBOUND_ALLOW" in line
        assert "\n" not in line
    assert json.loads(run("platform", "list", "--json").stdout) == []
    assert run(*ARGS).exit_code == 0
    refused = run("bridge", "set", "--issuer", "https://lms.example.org", "--moodle-url", "https://10.0.0.5/moodle",
                  "--moodle-token", "t")
    assert refused.exit_code == 1 and "--moodle-url" in refused.stderr and "MICROCRED_OUTBOUND_ALLOW" in refused.stderr
    # a Moodle on the campus network, once the deployment allows it
    monkeypatch.setenv("MICROCRED_OUTBOUND_ALLOW", "127.0.0.0/8,10.0.0.0/8")
    allowed = run("bridge", "set", "--issuer", "https://lms.example.org", "--moodle-url", "https://10.0.0.5/moodle",
                  "--moodle-token", "t")
    assert allowed.exit_code == 0, allowed.output
