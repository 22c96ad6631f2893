import copy
import json
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from plugin.signing import data_integrity as di
from plugin.signing.contexts import ContextStore
from plugin.signing.did import did_document, issuer_did
from plugin.signing.keys import SigningKey, generate_ed25519, multibase_encode
from tests.conftest import CONTEXTS_DIR, FIXTURES

W3C = FIXTURES / "testvectors" / "eddsa-rdfc-2022"
OB3 = FIXTURES / "testvectors" / "ob3"
# Test only: the W3C vector's examples context (public content), never pinned for production.
EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"
EXAMPLES = {"@context": {"@vocab": "https://www.w3.org/ns/credentials/examples#"}}


@pytest.fixture(scope="module")
def store():
    return ContextStore(directory=CONTEXTS_DIR, documents={EXAMPLES_V2: EXAMPLES})


@pytest.fixture(scope="module")
def plain_store():
    return ContextStore(directory=CONTEXTS_DIR)


def w3c(name):
    return (W3C / name).read_text()


# --------------------------------------------------------------------------- W3C vectors
def test_w3c_canonical_document(store):
    assert di.canonicalize(json.loads(w3c("unsigned.json")), store) == w3c("canonDocDataInt.txt")


def test_w3c_canonical_proof_config_fast_and_pyld(store):
    config = json.loads(w3c("proofConfigDataInt.json"))
    assert di.canonical_proof_config(config, store) == w3c("proofCanonDataInt.txt")
    assert di.canonicalize_pyld(config, store) == w3c("proofCanonDataInt.txt")


def test_w3c_hashes_signature_and_signed_document(store):
    unsigned = json.loads(w3c("unsigned.json"))
    config = json.loads(w3c("proofConfigDataInt.json"))
    data = di.hash_data(unsigned, config, store)
    assert data[:32].hex() == w3c("proofHashDataInt.txt").strip()
    assert data[32:].hex() == w3c("docHashDataInt.txt").strip()
    assert data.hex() == w3c("combinedHashDataInt.txt").strip()
    key = SigningKey.from_multibase(json.loads(w3c("keyPair.json"))["privateKeyMultibase"])
    assert key.sign(data).hex() == w3c("sigHexDataInt.txt").strip()
    assert multibase_encode(key.sign(data)) == w3c("sigBTC58DataInt.txt").strip()
    signed = di.sign(unsigned, key, config["verificationMethod"], created=config["created"], store=store,
                     proof_as_array=False)
    assert json.dumps(signed, sort_keys=True) == json.dumps(json.loads(w3c("signedDataInt.json")), sort_keys=True)


def test_w3c_signed_document_verifies_with_did_key_and_fails_when_changed(store):
    signed = json.loads(w3c("signedDataInt.json"))
    result = di.verify(signed, store=store)
    assert result.ok and result.controller == "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["alumniOf"] = "The School of Examplez"
    assert not di.verify(tampered, store=store).ok
    tampered = copy.deepcopy(signed)
    tampered["proof"]["created"] = "2023-02-24T23:36:39Z"
    assert not di.verify(tampered, store=store).ok


# --------------------------------------------------------------------------- 1EdTech OB 3.0 vectors
OB3_CREDENTIAL = {
    "@context": ["https://www.w3.org/ns/credentials/v2",
                 "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
    "id": "http://example.com/credentials/3527",
    "type": ["VerifiableCredential", "OpenBadgeCredential"],
    "issuer": {"id": "https://example.edu/issuers/565049", "type": ["Profile"], "name": "Example Corp",
               "url": "https://www.imsglobal.org"},
    "validFrom": "2010-01-01T00:00:00Z",
    "name": "Teamwork Badge",
    "credentialSubject": {
        "id": "did:example:ebfeb1f712ebc6f1c276e12ec21",
        "type": ["AchievementSubject"],
        "achievement": {
            "id": "https://example.com/achievements/21st-century-skills/teamwork",
            "type": ["Achievement"],
            "criteria": {"narrative": "Team members are nominated for this badge by their peers and "
                                      "recognized upon review by Example Corp management."},
            "description": "This badge recognizes the development of the capacity to collaborate "
                           "within a group environment.",
            "name": "Teamwork",
        },
    },
}
OB3_PROOF = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": "2010-01-01T19:23:24Z",
             "verificationMethod": "https://example.edu/issuers/565049#z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi",
             "proofPurpose": "assertionMethod"}


def test_ob3_canonical_document(plain_store):
    expected = (OB3 / "document-canon.txt").read_text()
    assert di.canonicalize(OB3_CREDENTIAL, plain_store) == expected
    assert di.canonicalize_pyld(OB3_CREDENTIAL, plain_store) == expected


def test_ob3_canonical_proof_config(plain_store):
    config = dict(OB3_PROOF, **{"@context": OB3_CREDENTIAL["@context"]})
    expected = (OB3 / "proof-canon.txt").read_text()
    assert di.canonical_proof_config(config, plain_store) == expected
    assert di.canonicalize_pyld(config, plain_store) == expected


# --------------------------------------------------------------------------- safety checks
def _key_and_did():
    key = generate_ed25519()
    d = issuer_did("https://tool.example", "uni")
    return key, d, {d: did_document(d, [key])}


def test_undefined_property_is_refused_by_name(plain_store):
    key, d, _ = _key_and_did()
    doc = copy.deepcopy(OB3_CREDENTIAL)
    doc["credentialSubject"]["achievement"]["workloadHourz"] = 12
    with pytest.raises(di.SigningError, match="'workloadHourz' is not defined"):
        di.sign(doc, key, f"{d}#{key.key_id}", store=plain_store)


def test_undefined_type_and_relative_ids_are_refused(plain_store):
    key, d, _ = _key_and_did()
    doc = copy.deepcopy(OB3_CREDENTIAL)
    doc["type"].append("MicroCredentialX")
    with pytest.raises(di.SigningError, match="type 'MicroCredentialX' is not defined"):
        di.sign(doc, key, f"{d}#{key.key_id}", store=plain_store)
    doc = copy.deepcopy(OB3_CREDENTIAL)
    doc["credentialSubject"]["achievement"]["id"] = "achievements/teamwork"
    with pytest.raises(di.SigningError, match="'achievements/teamwork' is a relative IRI"):
        di.sign(doc, key, f"{d}#{key.key_id}", store=plain_store)


@pytest.mark.parametrize("char", ["\b", "\f", "\x00", "\x1f", "\x7f", "\x0b"])
def test_control_characters_pyld_does_not_escape_are_refused(plain_store, char):
    key, d, _ = _key_and_did()
    doc = copy.deepcopy(OB3_CREDENTIAL)
    doc["name"] = f"Team{char}work"
    with pytest.raises(di.SigningError, match=r"name contains the control character U\+00"):
        di.sign(doc, key, f"{d}#{key.key_id}", store=plain_store)


def test_tab_newline_quote_and_backslash_are_fine(plain_store):
    key, d, docs = _key_and_did()
    doc = copy.deepcopy(OB3_CREDENTIAL)
    doc["name"] = 'Team\twork\n"quoted" \\ back\r'
    signed = di.sign(doc, key, f"{d}#{key.key_id}", store=plain_store)
    assert di.verify(signed, documents=docs, store=plain_store).ok
    assert di.canonicalize(doc, plain_store) == di.canonicalize_pyld(doc, plain_store)


def test_unpinned_context_is_refused(plain_store):
    key, d, _ = _key_and_did()
    doc = dict(OB3_CREDENTIAL, **{"@context": OB3_CREDENTIAL["@context"] + ["https://evil.example/ctx"]})
    with pytest.raises(di.SigningError, match="https://evil.example/ctx"):
        di.sign(doc, key, f"{d}#{key.key_id}", store=plain_store)


def test_sign_verify_round_trip_reports_controller_and_detects_every_change(plain_store):
    key, d, docs = _key_and_did()
    signed = di.sign(OB3_CREDENTIAL, key, f"{d}#{key.key_id}", store=plain_store,
                     created=datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert isinstance(signed["proof"], list) and signed["proof"][0]["created"] == "2026-01-01T00:00:00Z"
    result = di.verify(signed, documents=docs, store=plain_store)
    assert result.ok and result.controller == d
    for mutate in (lambda s: s["credentialSubject"]["achievement"].__setitem__("name", "Teamwork!"),
                   lambda s: s.__setitem__("validFrom", "2010-01-01T00:00:01Z"),
                   lambda s: s["issuer"].__setitem__("id", "https://evil.example/issuer"),
                   lambda s: s["proof"][0].__setitem__("verificationMethod", f"{d}#other"),
                   lambda s: s.__setitem__("extra", "not signed")):
        tampered = copy.deepcopy(signed)
        mutate(tampered)
        assert not di.verify(tampered, documents=docs, store=plain_store).ok
    other = generate_ed25519()
    assert not di.verify(signed, public_key=other.public, store=plain_store).ok


# --------------------------------------------------------------------------- fast path == pyld
text = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x7f")
               | st.sampled_from(["\t", "\n", "\r", '"', "\\", "é", "\u2028", "🎓"]), max_size=40)


@st.composite
def credentials(draw):
    from plugin.composition.credential import EvidenceData, LearnerIdentity, compose
    from plugin.domain.definition import DefinitionData, LearningOutcome
    from plugin.domain.issuer import IssuerProfile
    outcomes = draw(st.lists(st.tuples(text.filter(lambda s: s.strip()), st.booleans()), min_size=1, max_size=4))
    d = DefinitionData(
        title=draw(text.filter(lambda s: s.strip())) , description=draw(text),
        learning_outcomes=[LearningOutcome(text=t, esco_uri=f"http://data.europa.eu/esco/skill/{i}" if e else None)
                           for i, (t, e) in enumerate(outcomes)],
        workload_hours=draw(st.one_of(st.none(), st.integers(1, 500), st.floats(0.5, 300, allow_nan=False))),
        ects_credits=draw(st.one_of(st.none(), st.integers(1, 60), st.floats(0.25, 60))) if True else None,
        eqf_level=draw(st.integers(1, 8)), assessment_type=draw(text.filter(lambda s: s.strip())),
        participation=draw(st.sampled_from(["online", "onsite", "blended"])),
        quality_assurance=draw(text.filter(lambda s: s.strip())), prerequisites=draw(text),
        supervision=draw(st.one_of(st.none(), st.sampled_from(["unsupervised-no-id", "supervised-onsite-id"]))),
        grading_scheme=draw(text), pass_mark=draw(text), languages=draw(st.lists(st.sampled_from(["en", "fr", "de"]))),
        field_of_study=draw(st.one_of(st.none(), st.sampled_from(["0613", "06"]))))
    if d.workload_hours is None and d.ects_credits is None:
        d.ects_credits = 5
    prof = IssuerProfile(legal_name=draw(text.filter(lambda s: s.strip())), url="https://u.example", country_code="FR",
                         region=draw(text))
    when = datetime(2026, 1, 1, tzinfo=timezone.utc)
    learner = LearnerIdentity(key="k", email=draw(st.one_of(st.none(), st.just("a@b.c"))), lti_issuer="https://lms",
                              lti_sub=draw(text.filter(lambda s: s.strip())), name=draw(st.one_of(st.none(), text)) or None,
                              salt="00")
    ev = EvidenceData(source=draw(text), observed_at=when, score=draw(st.one_of(st.none(), st.integers(0, 100))),
                      score_max=100)
    return compose(prof, "did:web:tool.example:issuers:u", d, learner, ev, "urn:uuid:12345678-1234-1234-1234-123456789012",
                   when, None, None, "https://tool.example", credential_schema=draw(st.booleans()))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(credentials())
def test_fast_canonicalization_equals_plain_pyld(plain_store, cred):
    assert di.canonicalize(cred, plain_store) == di.canonicalize_pyld(cred, plain_store)


iri_tail = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789-._~%:/#"), min_size=1, max_size=30)


@settings(max_examples=60, deadline=None)
@given(created=st.one_of(st.datetimes(timezones=st.just(timezone.utc)).map(di._created), text),
       vm=st.one_of(iri_tail.map(lambda t: "did:web:x.example:" + t), text),
       contexts=st.sampled_from([["https://www.w3.org/ns/credentials/v2"],
                                 ["https://www.w3.org/ns/credentials/v2",
                                  "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
                                  "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"]]))
def test_direct_proof_config_quads_equal_pyld(plain_store, created, vm, contexts):
    config = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": created,
              "verificationMethod": vm, "proofPurpose": "assertionMethod", "@context": contexts}
    try:
        fast = di.canonical_proof_config(config, plain_store)
    except di.SigningError:
        # refused (control character / relative IRI): the plain path refuses it too
        with pytest.raises(di.SigningError):
            di.canonicalize(config, plain_store)
        return
    assert fast == di.canonicalize_pyld(config, plain_store) == di.canonicalize(config, plain_store)


def test_a_tab_in_created_is_escaped_as_pyld_does(plain_store):
    # Found by the property test above: the direct path wrote the tab raw, pyld writes "\\t".
    config = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": "2020\t01",
              "verificationMethod": "did:web:x.example:a", "proofPurpose": "assertionMethod",
              "@context": ["https://www.w3.org/ns/credentials/v2"]}
    assert di.canonical_proof_config(config, plain_store) == di.canonicalize_pyld(config, plain_store)
    assert '"2020\\t01"' in di.canonical_proof_config(config, plain_store)


def test_a_proof_naming_an_rsa_key_is_refused(plain_store):
    from plugin.signing.keys import generate_rsa
    key, d, _ = _key_and_did()
    rsa = generate_rsa(key_id="rsa-1")
    signed = di.sign(OB3_CREDENTIAL, key, f"{d}#rsa-1", store=plain_store)
    result = di.verify(signed, documents={d: did_document(d, [key, rsa])}, store=plain_store)
    assert not result.ok and "not an Ed25519 key" in result.reason
