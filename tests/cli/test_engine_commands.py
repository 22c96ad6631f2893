"""The engine's commands end to end: demo files, verify, tampering, status changes, rotation."""
import json

import pytest


@pytest.fixture
def demo(run, tmp_path):
    out = tmp_path / "out"
    result = run("demo", "--headless", "--out", out)
    assert result.exit_code == 0, result.output
    assert "a wallet shows the badge picture the credential names" in result.output  # fetched: 200, a PNG
    cred_id = next(p.stem for p in out.glob("*.jwt"))
    return out, cred_id


def _flip(data: bytes, pos: int) -> bytes:
    b = bytearray(data)
    b[pos] ^= 0x01
    return bytes(b)


def test_demo_credentials_verify_in_every_form_and_tampering_is_named(run, demo, tmp_path):
    out, cred_id = demo
    docs = out / "documents.json"
    for suffix in ("json", "jwt", "png", "svg"):
        result = run("verify", out / f"{cred_id}.{suffix}", "--documents", docs)
        assert result.exit_code == 0, result.output
        for check in ("format", "issuer_key", "proof", "validity_dates", "status", "schema"):
            assert f"PASS  {check}" in result.output
        assert "result: valid" in result.output
    document = json.loads((out / f"{cred_id}.json").read_text())
    assert document["credentialSubject"]["achievement"]["achievementType"] == "MicroCredential"

    needle = {"json": b'"name": "Data Analysis', "jwt": b".", "png": b"Data Analysis", "svg": b"Data Analysis"}
    for suffix in ("json", "jwt", "png", "svg"):
        data = (out / f"{cred_id}.{suffix}").read_bytes()
        if suffix == "svg":
            pos = data.index(b"<![CDATA[") + 200
        elif suffix == "jwt":
            pos = data.index(needle["jwt"]) + 40  # inside the payload
        else:
            pos = data.index(needle[suffix]) + 12
        tampered = tmp_path / f"tampered.{suffix}"
        tampered.write_bytes(_flip(data, pos))
        result = run("verify", tampered, "--documents", docs)
        assert result.exit_code == 1, (suffix, result.output)
        assert "FAIL" in result.output and "result: invalid" in result.output
        failed = [line.split()[1] for line in result.output.splitlines() if line.strip().startswith("FAIL")]
        assert failed and failed[0] in ("format", "proof", "issuer_key", "schema")
        assert f"the {failed[0]} check failed" in result.output  # the error line names it
    as_json = run("verify", out / f"{cred_id}.json", "--documents", docs, "--json")
    assert json.loads(as_json.output)["ok"] is True


def test_revoke_suspend_reinstate_through_the_database(run, demo):
    out, cred_id = demo
    png = out / f"{cred_id}.png"
    assert run("verify", png).exit_code == 0  # documents from the tool's database
    result = run("suspend", cred_id, "--reason", "identity check")
    assert result.exit_code == 0 and "suspended" in result.output
    result = run("verify", png)
    assert result.exit_code == 1 and "result: suspended" in result.output and "the status check failed" in \
        result.output
    assert run("reinstate", cred_id).exit_code == 0
    assert run("verify", png).exit_code == 0
    assert run("revoke", cred_id).exit_code == 2  # --reason is required
    result = run("revoke", cred_id, "--reason", "fraud")
    assert result.exit_code == 0 and "revoked" in result.output
    result = run("verify", out / f"{cred_id}.jwt")
    assert result.exit_code == 1 and "result: revoked" in result.output
    result = run("reinstate", cred_id)
    assert result.exit_code == 1 and "only a suspended" in result.output
    # The offline documents.json written before the revocation still says valid: it is a snapshot.
    assert run("verify", png, "--documents", out / "documents.json").exit_code == 0


def test_rotation_keeps_earlier_credentials_verifiable(run, demo, tmp_path):
    out, cred_id = demo
    result = run("keys", "rotate", "--issuer", "demo-university")
    assert result.exit_code == 0, result.output
    assert run("verify", out / f"{cred_id}.json").exit_code == 0
    assert run("verify", out / f"{cred_id}.jwt").exit_code == 0
    # A fresh export carries the new DID document: the old credential verifies offline too.
    again = tmp_path / "again"
    assert run("demo", "--headless", "--out", again).exit_code == 0
    for suffix in ("json", "jwt"):
        assert run("verify", out / f"{cred_id}.{suffix}", "--documents", again / "documents.json").exit_code == 0
    listing = run("issuer", "list").output
    assert "demo-university" in listing and "2 active key(s), 2 retired" in listing


def test_issuer_commands_and_clear_errors(run):
    result = run("issuer", "create", "--slug", "univ-b", "--name", "Université B", "--country", "fr",
                 "--url", "https://univ-b.example", "--legal-id", "SIREN:123456789")
    assert result.exit_code == 0 and "did:web:tool.test:issuers:univ-b" in result.output
    result = run("issuer", "create", "--slug", "univ-c", "--name", "C", "--country", "France",
                 "--url", "https://c.example")
    assert result.exit_code == 1 and "two-letter" in result.output and "Traceback" not in result.output
    result = run("issuer", "create", "--slug", "univ-b", "--name", "B", "--country", "FR", "--url", "https://b.example")
    assert result.exit_code == 1 and "already exists" in result.output
    assert run("keys", "rotate", "--issuer", "nobody").exit_code == 1
    assert run("revoke", "no-such-credential", "--reason", "x").exit_code == 1
    result = run("verify", "/no/such/file.json", "--documents", "/dev/null")
    assert result.exit_code != 0


def test_issue_command_writes_files(run, demo, tmp_path, services):
    from sqlalchemy import select

    from plugin.storage.models import CredentialDefinition, IssuedCredential, Learner
    _out, cred_id = demo
    with services.session() as s:
        # the demo's course credential and its learner (the demo also has pathway parts and a
        # pathway credential: the course credential is the one the headless demo wrote at the top)
        row = s.scalars(select(IssuedCredential).where(IssuedCredential.public_id == cred_id)).one()
        definition = s.get(CredentialDefinition, row.definition_id).public_id
        learner = s.get(Learner, row.learner_id).public_id
    result = run("issue", "--definition", definition, "--learner", learner, "--out", tmp_path / "issued")
    assert result.exit_code == 0 and "already held" in result.output
    assert len(list((tmp_path / "issued").glob("*.png"))) == 1
    assert run("issue", "--definition", "nope", "--learner", learner).exit_code == 1


def test_issuer_create_takes_the_linkedin_organization_id(run, services):
    from sqlalchemy import select

    from plugin.storage.models import Issuer
    bad = run("issuer", "create", "--slug", "univ-d", "--name", "D", "--country", "FR", "--url", "https://d.example",
              "--linkedin-organization-id", "univ-d")
    assert bad.exit_code == 1 and "digits only" in bad.output and "Traceback" not in bad.output
    good = run("issuer", "create", "--slug", "univ-d", "--name", "D", "--country", "FR", "--url", "https://d.example",
               "--linkedin-organization-id", "12345678")
    assert good.exit_code == 0, good.output
    with services.session() as s:
        assert s.scalars(select(Issuer).where(Issuer.slug == "univ-d")).one().profile["linkedin_organization_id"] \
            == "12345678"
