"""``microcred status lists|migrate`` as an operator runs them."""
import json

from sqlalchemy import select

from plugin.issuance import service as issuance
from plugin.storage.models import IssuedCredential
from tests.engine_helpers import add_learner, make_world
from tests.status.legacy import award_legacy


def test_migrate_dry_run_then_for_real_then_nothing_left(run, services, tmp_path):
    world = make_world(services)
    with services.session() as s:
        for sub in ("a", "b", "c"):
            learner, ev = add_learner(s, world.definition_id, sub=sub, email=f"{sub}@example.org")
            cred = award_legacy(s, services, definition_id=world.definition_id, learner_id=learner, evidence_id=ev)[0]
            if sub == "c":
                issuance.suspend(s, cred, "check", "admin")

    listing = run("status", "lists")
    assert listing.exit_code == 0 and "acme  #1 message (legacy, 2 bits): 3/131072 used, 0 revoked, 3 current" \
        in listing.output
    dry = run("status", "migrate", "--dry-run")
    assert dry.exit_code == 0
    assert dry.output.splitlines() == ["acme: would re-issue 3 credential(s) (2 active, 1 suspended)",
                                       "dry run: nothing changed"]
    real = run("status", "migrate", "--issuer", "acme")
    assert real.exit_code == 0 and "acme: re-issued 3 credential(s) (2 active, 1 suspended)" in real.output
    with services.session() as s:
        statuses = sorted(c.status for c in s.scalars(select(IssuedCredential)))
    assert statuses == ["active", "active", "superseded", "superseded", "superseded", "suspended"]
    listing = run("status", "lists", "--issuer", "acme").output
    assert "#1 message (legacy, 2 bits): 3/131072 used, 0 revoked, 0 current" in listing
    assert "#1 revocation: 3/131072 used, 0 revoked, 3 current  http://tool.test/status/" in listing
    again = run("status", "migrate")
    assert again.exit_code == 0 and "nothing to migrate" in again.output
    with services.session() as s:
        old = s.scalars(select(IssuedCredential).where(IssuedCredential.status == "superseded")).first()
        new = s.scalars(select(IssuedCredential).where(IssuedCredential.replaces_id == old.id)).one()
        (tmp_path / "old.json").write_text(json.dumps(old.document))
        (tmp_path / "new.jwt").write_text(new.jwt)
    result = run("verify", tmp_path / "old.json")  # documents from the tool's database
    assert result.exit_code == 1 and "result: superseded" in result.output
    assert "replaced by a newer version" in result.output
    result = run("verify", tmp_path / "new.jwt")
    assert result.exit_code == 0 and "result: valid" in result.output


def test_status_commands_refuse_an_unknown_issuer_in_one_line(run, services):
    make_world(services)
    for args in (("status", "migrate", "--issuer", "nobody"), ("status", "lists", "--issuer", "nobody")):
        result = run(*args)
        assert result.exit_code == 1
        assert result.output.strip().splitlines() == ["microcred: error: no issuer 'nobody' (see `microcred "
                                                      "issuer list`)"]
    assert "no status list yet" in run("status", "lists").output
