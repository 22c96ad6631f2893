"""The shape-template canonicalizer must give exactly pyld's bytes, or step aside."""
import copy
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from plugin.composition.credential import EvidenceData, LearnerIdentity, compose
from plugin.domain.definition import DefinitionData, LearningOutcome
from plugin.domain.issuer import IssuerProfile
from plugin.signing import data_integrity as di
from plugin.signing import fastcanon
from plugin.signing.contexts import ContextStore
from tests.conftest import CONTEXTS_DIR

STORE = ContextStore(directory=CONTEXTS_DIR)
text = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x7f")
               | st.sampled_from(["\t", "\n", "\r", '"', "\\", "é", "\u2028", "🎓", "<", ">"]), max_size=30)
nonblank = text.filter(lambda s: s.strip())
iri = st.builds(lambda scheme, tail: f"{scheme}:{tail}", st.sampled_from(["https", "did", "urn"]),
                st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789-._~%:/"), min_size=1, max_size=20))


def credential(title, outcome_a, outcome_b, issuer_name, region, sub, email, score, source, issuer_id, cred_id):
    d = DefinitionData(title=title, learning_outcomes=[LearningOutcome(text=outcome_a), LearningOutcome(text=outcome_b)],
                       ects_credits=5, workload_hours=120, eqf_level=5, assessment_type="Exam", participation="online",
                       quality_assurance="QA", grading_scheme="0-100", pass_mark="50", supervision="supervised-no-id",
                       languages=["fr"])
    p = IssuerProfile(legal_name=issuer_name, url="https://u.example", country_code="FR", region=region)
    when = datetime(2026, 1, 1, tzinfo=timezone.utc)
    return compose(p, issuer_id, d, LearnerIdentity(key="k", email=email, lti_issuer="https://lms.example",
                                                     lti_sub=sub, salt="aa"),
                   EvidenceData(source=source, observed_at=when, score=score, score_max=100),
                   cred_id, when, None, None, "https://tool.example")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=nonblank, a=nonblank, b=nonblank, issuer_name=nonblank, region=nonblank, sub=nonblank,
       email=nonblank, score=st.integers(0, 100), source=text, issuer_id=iri, cred_id=iri)
def test_same_shape_different_values_gives_pyld_bytes(title, a, b, issuer_name, region, sub, email, score, source,
                                                       issuer_id, cred_id):
    doc = credential(title, a, b, issuer_name, region, sub, email, score, source, issuer_id, cred_id)
    assert di.canonicalize(doc, STORE) == di.canonicalize_pyld(doc, STORE)


def test_template_is_reused_for_one_shape():
    cache = fastcanon.TemplateCache()
    args = ["T", "A", "B", "Uni", "Bretagne", "s1", "a@b.c", 80, "src", "did:web:x.example", "urn:uuid:1"]
    first = credential(*args)
    second = credential(*(["Other title"] + args[1:9] + ["did:web:y.example", "urn:uuid:2"]))
    for doc in (first, second):
        assert cache.canonicalize(doc, STORE, di.expand_checked) == di.canonicalize_pyld(doc, STORE)
    assert (cache.misses, cache.hits) == (1, 1)


def test_equal_blank_nodes_fall_back_to_pyld():
    # two identical outcomes give two blank nodes with the same first-degree hash
    doc = credential("T", "Same", "Same", "Uni", "R", "s", "e@x.y", 1, "s", "did:web:x.example", "urn:uuid:1")
    assert fastcanon.TemplateCache().canonicalize(doc, STORE, di.expand_checked) == di.canonicalize_pyld(doc, STORE)


@pytest.mark.parametrize("title", ["C:\\new folder", "tab\\there", "cr\\r", 'quote\\"d', "\\\\n", "a\\u00e9"])
def test_a_tie_with_backslashes_gives_pyld_bytes(title):
    """Two identical outcomes (a blank-node tie) and a backslash before n/t/r/": the tie path
    once re-parsed N-Quads text with pyld, which read ``\\n`` back as a backslash and a newline."""
    doc = credential(title, "Same", "Same", "Uni", "R", "s", "e@x.y", 1, "s", "did:web:x.example", "urn:uuid:1")
    assert fastcanon.TemplateCache().canonicalize(doc, STORE, di.expand_checked) == di.canonicalize_pyld(doc, STORE)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=nonblank, a=nonblank, data=st.data(), issuer_name=nonblank, sub=nonblank, source=text)
def test_ties_with_any_text_give_pyld_bytes(title, a, data, issuer_name, sub, source):
    b = data.draw(st.one_of(st.just(a), nonblank))  # often a tie
    doc = credential(title, a, b, issuer_name, a, sub, "e@x.y", 7, source, "did:web:x.example", "urn:uuid:1")
    assert di.canonicalize(doc, STORE) == di.canonicalize_pyld(doc, STORE)


def test_merged_nodes_are_deduplicated_like_pyld():
    doc = credential("T", "A", "B", "Uni", "R", "s", "e@x.y", 1, "s", "did:web:x.example", "urn:uuid:1")
    # the achievement id becomes the issuer id: pyld merges the two nodes
    doc2 = copy.deepcopy(doc)
    doc2["credentialSubject"]["achievement"]["id"] = doc2["issuer"]["id"]
    cache = fastcanon.TemplateCache()
    for d in (doc, doc2):
        assert cache.canonicalize(d, STORE, di.expand_checked) == di.canonicalize_pyld(d, STORE)


@pytest.mark.parametrize("value", ["relative/path", "_:b0", "https://x.example/a b", "name:x", "Profile:x"])
def test_values_pyld_would_rewrite_in_iri_positions_take_the_plain_path(value):
    doc = credential("T", "A", "B", "Uni", "R", "s", "e@x.y", 1, "s", "did:web:x.example", "urn:uuid:1")
    cache = fastcanon.TemplateCache()
    assert cache.canonicalize(doc, STORE, di.expand_checked) is not None
    doc["credentialSubject"]["achievement"]["id"] = value
    assert cache.canonicalize(doc, STORE, di.expand_checked) is None


def test_compact_iri_like_values_with_no_matching_term_stay_on_the_fast_path():
    doc = credential("T", "A", "B", "Uni", "R", "s", "e@x.y", 1, "s", "did:web:x.example", "urn:uuid:1")
    doc["credentialSubject"]["achievement"]["id"] = "xsd:string"
    fast = fastcanon.TemplateCache().canonicalize(doc, STORE, di.expand_checked)
    assert fast == di.canonicalize_pyld(doc, STORE)


def test_undefined_term_is_still_refused_on_the_fast_path():
    doc = credential("T", "A", "B", "Uni", "R", "s", "e@x.y", 1, "s", "did:web:x.example", "urn:uuid:1")
    doc["credentialSubject"]["achievement"]["madeUpTerm"] = "x"
    with pytest.raises(di.SigningError, match="'madeUpTerm' is not defined"):
        di.canonicalize(doc, STORE)
    doc = credential("T", "A", "B", "Uni", "R", "s", "e@x.y", 1, "s", "did:web:x.example", "urn:uuid:1")
    doc["credentialSubject"]["achievement"]["id"] = "relative"
    with pytest.raises(di.SigningError, match="'relative' is a relative IRI"):
        di.canonicalize(doc, STORE)
    doc = credential("T", "A\bB", "B", "Uni", "R", "s", "e@x.y", 1, "s", "did:web:x.example", "urn:uuid:1")
    with pytest.raises(di.SigningError, match="control character U\\+0008"):
        di.canonicalize(doc, STORE)


def test_signed_credentials_with_arbitrary_text_and_ties_verify_in_the_javascript_reference(js_verify):
    """Every credential we sign must verify everywhere, not only agree with pyld: arbitrary
    Unicode, escapes, duplicate learning outcomes (ties) and merged nodes, signed here and
    verified by digitalbazaar's eddsa-rdfc-2022 verifier in one batch."""
    import json

    from plugin.signing.contexts import EXTENSION_FILE, extension_context_url
    from plugin.signing.did import did_document
    from plugin.signing.keys import generate_ed25519

    did = "did:web:tool.example:issuers:u"
    key = generate_ed25519()
    documents = {did: did_document(did, [key]),
                 extension_context_url("https://tool.example"): json.loads(EXTENSION_FILE.read_text())}
    signed = []

    @settings(max_examples=120, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])
    @given(title=nonblank, a=nonblank, data=st.data(), issuer_name=nonblank, region=nonblank, sub=nonblank,
           score=st.integers(0, 100), source=text, merge=st.booleans())
    def collect(title, a, data, issuer_name, region, sub, score, source, merge):
        b = data.draw(st.one_of(st.just(a), nonblank))
        doc = credential(title, a, b, issuer_name, region, sub, "e@x.y", score, source, did,
                         f"urn:uuid:00000000-0000-4000-8000-{len(signed):012d}")
        if merge:
            doc["credentialSubject"]["achievement"]["id"] = "https://tool.example/achievements/same"
        signed.append(di.sign(doc, key, key.verification_method(did), store=STORE))

    for doc in (credential("C:\\new folder", "Same", "Same", "Uni", "R", "s", "e@x.y", 1, "s", did, "urn:uuid:a"),):
        signed.append(di.sign(doc, key, key.verification_method(did), store=STORE))
    collect()
    results = js_verify(signed, documents, verifiers=["digitalbazaar"])
    failures = [(doc["name"], r["digitalbazaar"]) for doc, r in zip(signed, results)
                if r["digitalbazaar"].get("verified") is not True]
    assert not failures, failures[:3]
    assert len(results) == 121


def test_numbers_equal_in_python_but_not_in_rdf_do_not_share_a_template():
    """1 == 1.0 == True and 0 == False in Python; pyld writes integers, booleans and doubles
    differently: one cache, each document gets pyld's bytes."""
    cache = fastcanon.TemplateCache()
    outputs = set()
    for value in (0.0, -0.0, 0, False, 1, 1.0, True, 2.5, -2.5, None, 2.5e300):
        doc = {"@context": ["https://www.w3.org/ns/credentials/v2", {"n": "https://ex.example/n"}],
               "id": "urn:uuid:1", "type": ["VerifiableCredential"], "issuer": "did:web:x.example",
               "validFrom": "2026-01-01T00:00:00Z", "credentialSubject": {"id": "did:web:s.example", "n": value}}
        expected = di.canonicalize_pyld(doc, STORE)
        assert cache.canonicalize(doc, STORE, di.expand_checked) == expected, value
        outputs.add(expected)
    assert len(outputs) >= 6  # integer, boolean true/false, doubles, absent


def test_memos_shared_by_many_documents_give_pyld_bytes_for_each():
    """One cache, documents alternating values (escapes, a value valid as an IRI in one document
    and a literal elsewhere): each output equals pyld's."""
    cache = fastcanon.TemplateCache()
    titles = ['T "1"', "C:\\new folder", "T \"1\"", "line\nbreak", "C:\\new folder"]
    for i, title in enumerate(titles * 2):
        doc = credential(title, "A", "A" if i % 3 == 0 else "B", "Uni", "https://x.example/r", f"s{i % 2}",
                         "e@x.y", i, "https://x.example/r", f"did:web:x{i % 2}.example", f"urn:uuid:{i % 3}")
        assert cache.canonicalize(doc, STORE, di.expand_checked) == di.canonicalize_pyld(doc, STORE)
