"""What wallets and verifiers see: a list of 50 credentials in mixed states, read by
``@digitalcredentials/verifier-core`` (Learner Credential Wallet, VerifierPlus),
``@digitalbazaar/vc`` with ``@digitalbazaar/vc-bitstring-status-list``, and our verifier.

To make every state the neighbour of every other state, the list's permutation is
replaced by the identity for this test only: position n gets index n, so the credentials
sit side by side (indexes 0..49) in the order below, whose first 17 states contain each
ordered pair of states. The verifiers, the lists and the signatures are the real ones.

Expected, from the database: third-party verifiers report *revoked* exactly for the
revoked credentials (one bit, ``statusPurpose: "revocation"``) and *not revoked* for the
others; our verifier reports ``valid``, ``revoked``, ``suspended`` or ``superseded``.
"""
from __future__ import annotations

from sqlalchemy import select

from plugin.issuance import service as issuance
from plugin.status import service as status
from plugin.storage.models import IssuedCredential, StatusListSlot
from plugin.verification.resolver import documents_for, tool_resolver
from plugin.verification.verify import Resolver, verify
from tests.engine_helpers import add_learner, make_world
from tests.status.legacy import award_legacy

# A active, R revoked, S suspended, X superseded (re-issued: the new one goes on the list too)
PATTERN = "AARASAXRRSRXSSXXA" + "ARSXARSXARSXARSXARSXARS"
OURS = {"active": "valid", "revoked": "revoked", "suspended": "suspended", "superseded": "superseded"}


def _build_mixed_list(services, world) -> list[int]:
    with services.session() as s:
        creds = []
        for i, _state in enumerate(PATTERN):
            learner, ev = add_learner(s, world.definition_id, sub=f"p{i}", email=f"p{i}@example.org")
            creds.append(issuance.award(s, services, definition_id=world.definition_id, learner_id=learner,
                                        evidence_id=ev)[0])
        replacements = []
        for cred, state in zip(creds, PATTERN):
            if state == "R":
                issuance.revoke(s, cred, "fraud", "admin")
            elif state == "S":
                issuance.suspend(s, cred, "check", "admin")
            elif state == "X":
                replacements.append(issuance.reissue(s, services, cred, display_name="New Name", actor="admin"))
        for n, new in enumerate(replacements):  # side by side after the others: mixed states too
            if n % 3 == 1:
                issuance.suspend(s, new, "check", "admin")
            elif n % 3 == 2:
                issuance.revoke(s, new, "fraud", "admin")
        learner, ev = add_learner(s, world.definition_id, sub="last", email="last@example.org")
        last = issuance.award(s, services, definition_id=world.definition_id, learner_id=learner, evidence_id=ev)[0]
        ids = [c.id for c in creds + replacements + [last]]
        indexes = [s.scalars(select(StatusListSlot.index).where(StatusListSlot.credential_id == i)).one()
                   for i in ids]
        assert indexes == list(range(50))  # side by side
        return ids


def test_fifty_credentials_in_mixed_states_every_verifier_agrees_with_the_database(services, js_verify,
                                                                                   monkeypatch):
    world = make_world(services)
    monkeypatch.setattr(status, "permuted_index", lambda key, position, size: position)
    ids = _build_mixed_list(services, world)
    with services.session() as s:
        rows = [s.get(IssuedCredential, i) for i in ids]
        truth = [r.status for r in rows]
        documents = [r.document for r in rows]
        served = documents_for(s, services, documents)
    assert {"active", "revoked", "suspended", "superseded"} == set(truth)
    assert sum(t == "revoked" for t in truth) >= 10

    results = js_verify(documents, served, verifiers=("digitalbazaar", "verifier-core"))
    offline = Resolver(served)
    online = tool_resolver(services)
    for n, (state, doc, result) in enumerate(zip(truth, documents, results)):
        revoked = state == "revoked"
        core = result["verifier-core"]
        assert not core.get("crashed") and core["errors"] == [], (n, state, core)
        assert core["signature"] is True and core["statusError"] is None, (n, state, core)
        assert core["revocation"] is (not revoked), (n, state, core)  # VerifierPlus: "has (not) been revoked"
        assert core["suspension"] is None  # no suspension entry: VerifierPlus shows no suspension line
        assert core["schema"] is True, (n, core)
        dbz = result["digitalbazaar"]
        assert dbz["verified"] is True and dbz["statusError"] is None, (n, state, dbz)
        assert dbz["status"] == [{"purpose": "revocation", "set": revoked}], (n, state, dbz)
        for resolver in (online, offline):
            report = verify(doc, resolver)
            assert report.status == OURS[state], (n, state, report.to_dict())
            assert report.ok is (state == "active")
            assert all(c.ok for c in report.checks if c.name != "status"), (n, report.to_dict())


def test_legacy_entry_credentials_still_verify_with_ours(services):
    """Credentials issued with the 2-bit ``message`` entry, side by side in every state."""
    world = make_world(services)
    with services.session() as s:
        rows = []
        for i in range(8):
            learner, ev = add_learner(s, world.definition_id, sub=f"old{i}", email=f"old{i}@example.org")
            rows.append(award_legacy(s, services, definition_id=world.definition_id, learner_id=learner,
                                     evidence_id=ev)[0])
        issuance.revoke(s, rows[1], "fraud", "admin")
        issuance.suspend(s, rows[2], "check", "admin")
        new = issuance.reissue(s, services, rows[3], display_name="New Name", actor="admin")
        issuance.suspend(s, rows[4], "check", "admin")
        issuance.reinstate(s, rows[4], "admin")
        assert new.document["credentialStatus"]["statusPurpose"] == "revocation"
        documents = [(r.status, r.document) for r in rows] + [(r.status, r.jwt) for r in rows] + \
            [(new.status, new.document)]
        served = documents_for(s, services, [d for _, d in documents if isinstance(d, dict)])
    assert all(d["credentialStatus"]["statusPurpose"] == "message" for st, d in documents[:8])
    for resolver in (tool_resolver(services), Resolver(served)):
        for state, doc in documents:
            assert verify(doc, resolver).status == OURS[state], state
