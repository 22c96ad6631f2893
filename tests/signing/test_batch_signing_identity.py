"""A credential signed by the bulk signer (shape template, per-batch memos, one JSON serialisation
shared by the document and the VC-JWT) is byte for byte the one the single path signs."""
import json
from datetime import datetime

import pytest

from plugin.composition.credential import EvidenceData, LearnerIdentity, compose
from plugin.domain.definition import DefinitionData, LearningOutcome
from plugin.domain.issuer import IssuerProfile
from plugin.issuance.batch_signing import SignerSpec, _Signer
from plugin.issuance.service import badge_image_url
from plugin.signing import data_integrity as di
from plugin.signing import keys as keylib
from plugin.signing.contexts import ContextStore
from plugin.signing.jwt import sign_vc_jwt
from tests.conftest import CONTEXTS_DIR

BASE = "https://tool.example"
ISSUER = "did:web:tool.example:issuers:7"
ED = keylib.generate_ed25519("key-ed")
RSA = keylib.generate_rsa(2048, "key-rsa")

# learners: values with every character N-Quads escapes, non-ASCII, and two learners sharing values
LEARNERS = [
    ("l-1", 'ann"quote@example.org', "https://lms.example", "sub-1", 'Passed "the" exam'),
    ("l-2", "bob@example.org", "https://lms.example", "C:\\new folder\\sub", "line one\nline two\r\tend"),
    ("l-3", "zoé@exemple.fr", "https://lms.example", "sub-\u2028-🎓", "back\\slash and <angle>"),
    ("l-4", "bob@example.org", "https://lms.example", "sub-4", 'Passed "the" exam'),
    ("l-5", "eve@example.org", "https://other-lms.example", "sub-5", ""),
]


def spec(outcomes):
    definition = DefinitionData(
        title='Data "literacy" \\ basics', learning_outcomes=[LearningOutcome(text=t) for t in outcomes],
        ects_credits=5, workload_hours=120, eqf_level=5, assessment_type="Exam", participation="online",
        quality_assurance="QA", grading_scheme="0-100", pass_mark="50", supervision="supervised-no-id",
        languages=["fr"])
    profile = IssuerProfile(legal_name="Université \"Test\"\nLyon", url="https://u.example", country_code="FR",
                            region="Auvergne-Rhône-Alpes")
    return SignerSpec(settings=None, base_url=BASE, issuer_profile=profile.to_json(), issuer_did=ISSUER,
                      definition=definition.to_json(), ed_key=(ED.private_bytes(), ED.key_id),
                      rsa_key=(RSA.private_bytes(), RSA.key_id), labels={"label_alignments": [],
                                                                         "label_endorsements": []})


def record(i, learner):
    key, email, lti_issuer, sub, narrative = learner
    return {"learner": key, "email": email, "lti_issuer": lti_issuer, "sub": sub,
            "credential_id": f"{BASE}/credentials/00000000-0000-4000-8000-00000000000{i}",
            "issued_at": "2026-12-03T10:00:00+00:00",
            "status_entry": {"id": f"{BASE}/status/s1#{i}", "type": "BitstringStatusListEntry",
                             "statusPurpose": "revocation", "statusListIndex": str(i),
                             "statusListCredential": f"{BASE}/status/s1"},
            "evidence": {"source": "Instructor's list", "observed_at": "2026-12-03T09:59:00.5+00:00",
                         "passed": True, "narrative": narrative}}


def variant(i, r):
    """Records of the other batched paths (catch-up sync, pathway backlog): a display name, a
    score, no evidence, pathway parts; and the plain bulk record."""
    kind = i % 4
    if kind == 1:
        return dict(r, name=f'Ada "{i}" Lovelace\\', evidence=dict(r["evidence"], score=87.5, score_max=100))
    if kind == 2:
        return dict(r, evidence=None)
    if kind == 3:
        part = {"id": f"{BASE}/credentials/part-{i}", "name": 'Part "one"\n', "issued": "2026-11-02T10:00:00+00:00",
                "digest": "sha256-" + "A" * 43 + "=", "achievement": {"id": f"{BASE}/achievements/p{i}",
                                                                      "type": ["Achievement"], "name": "Part one"}}
        return dict(r, parts=[part, dict(part, id=f"{BASE}/credentials/part-{i}b")])
    return r


def single_path(s: SignerSpec, r, created, iat):
    """What :func:`plugin.issuance.service.award` signs for the same inputs: compose, then the
    Data Integrity proof (fresh context store: no template, no memo) and the VC-JWT."""
    ev = r["evidence"]
    evidence = None if ev is None else EvidenceData(
        source=ev["source"], observed_at=datetime.fromisoformat(ev["observed_at"]), passed=True,
        narrative=ev["narrative"], score=ev.get("score"), score_max=ev.get("score_max"))
    unsigned = compose(IssuerProfile.from_json(s.issuer_profile), ISSUER, DefinitionData.from_json(s.definition),
                       LearnerIdentity(key=r["learner"], email=r["email"], lti_issuer=r["lti_issuer"],
                                       lti_sub=r["sub"], name=r.get("name")),
                       evidence, r["credential_id"], datetime.fromisoformat(r["issued_at"]),
                       status_entries=[r["status_entry"]], base_url=BASE, image=badge_image_url(r["credential_id"]),
                       parts=r.get("parts"), **s.labels)
    store = ContextStore(directory=CONTEXTS_DIR)
    document = di.sign(unsigned, ED, ED.verification_method(ISSUER), created=created, store=store)
    jwt = sign_vc_jwt(unsigned, RSA, RSA.verification_method(ISSUER), issued_at=iat)
    return unsigned, document, jwt, store


@pytest.mark.parametrize("outcomes", [["Reads a chart", "Explains a \"mean\""],
                                      ["Same outcome", "Same outcome"]],  # two blank nodes tie
                         ids=["distinct-blank-nodes", "blank-node-tie"])
def test_batch_signed_credentials_are_byte_identical_to_the_single_path(outcomes, monkeypatch):
    import secrets
    s = spec(outcomes)
    signer = _Signer(s, store=ContextStore(directory=CONTEXTS_DIR))  # one store: templates and memos shared
    for rounds in range(2):  # the second round meets every value in the memos already
        for i, learner in enumerate(LEARNERS):
            r = variant(i + rounds, record(i, learner))
            # the identity salt is random per credential: the same one for both paths here
            monkeypatch.setattr(secrets, "token_hex", lambda n=None, i=i: f"{i:02d}5a17" * 2)
            text, token, valid_until = signer.sign_text(r)
            document = json.loads(text)
            created = document["proof"][0]["created"]
            payload = json.loads(keylib.b64url_decode(token.split(".")[1]))
            unsigned, expected, expected_jwt, store = single_path(s, r, created, payload["iat"])
            assert document == expected
            assert text == json.dumps(expected, separators=(",", ":"))
            assert token == expected_jwt
            assert valid_until == unsigned.get("validUntil")
            # and the canonical form is pyld's (the reference canonicaliser the JS verifiers agree with)
            assert di.canonicalize(unsigned, signer.store) == di.canonicalize_pyld(unsigned, store)
            assert di.verify(document, public_key=ED.public, store=store).ok
            # the in-process batch path (small batches) gives the same document
            inline_document, inline_jwt, _ = signer.sign(r)
            if inline_document["proof"][0]["created"] == created:
                assert inline_document == expected

