"""The verifier, on credentials signed here with a did:web issuer resolved from a documents map."""
import json
from datetime import datetime, timedelta, timezone

import pytest

from plugin.delivery.badge_image import render_png, render_svg
from plugin.delivery.baking import bake_png, bake_svg
from plugin.signing import contexts as ctx
from plugin.signing import data_integrity
from plugin.signing.did import did_document
from plugin.signing.jwt import sign_vc_jwt
from plugin.signing.keys import generate_ed25519, generate_rsa
from plugin.status import service as status_service
from plugin.status.bitstring import Bitstring
from plugin.verification.schema import SchemaUnavailable, load_schema
from plugin.verification.verify import Resolver, verify
from tests.conftest import CONTEXTS_DIR, FIXTURES

DID = "did:web:tool.test:issuers:acme"
LIST_URL = "http://tool.test/status/list-1"
NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def store():
    return ctx.ContextStore(directory=CONTEXTS_DIR)


@pytest.fixture(scope="module")
def keys():
    return generate_ed25519(), generate_rsa()


def _credential(**extra):
    doc = {
        "@context": [ctx.CREDENTIALS_V2, ctx.OB_V3P0],
        "id": "urn:uuid:6a7f5a4e-4b8a-4f7e-9a51-0c1f3f0e2a11",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": DID, "type": ["Profile"], "name": "Acme University"},
        "validFrom": "2026-01-01T00:00:00Z",
        "name": "Data literacy",
        "credentialSubject": {
            "id": "urn:uuid:0e0b7c8e-1c55-4b0e-8f0e-4b1b7f5e9d01",
            "type": ["AchievementSubject"],
            "achievement": {"id": "http://tool.test/achievements/1", "type": ["Achievement"],
                            "name": "Data literacy", "description": "Reads charts.",
                            "criteria": {"narrative": "Pass the exam."}},
        },
        "credentialStatus": {
            "id": f"{LIST_URL}#77", "type": "BitstringStatusListEntry", "statusPurpose": "message",
            "statusListIndex": "77", "statusListCredential": LIST_URL, "statusSize": 2,
            "statusMessage": [dict(m) for m in status_service.MESSAGES],
        },
    }
    doc.update(extra)
    return doc


def _status_list(key, store, value=0):
    bits = Bitstring(131072 * 2)
    status_service.set_value(bits, 77, value)
    doc = {
        "@context": [ctx.CREDENTIALS_V2], "id": LIST_URL,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"], "issuer": DID,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": LIST_URL + "#list", "type": "BitstringStatusList",
                              "statusPurpose": "message", "encodedList": bits.encode()},
    }
    return data_integrity.sign(doc, key, key.verification_method(DID), store=store)


@pytest.fixture(scope="module")
def signed(keys, store):
    ed, rsa = keys
    cred = _credential()
    di = data_integrity.sign(cred, ed, ed.verification_method(DID), store=store)
    token = sign_vc_jwt(cred, rsa, rsa.verification_method(DID))
    documents = {DID: did_document(DID, [ed, rsa]), LIST_URL: _status_list(ed, store)}
    return di, token, documents


def _resolver(documents, store):
    return Resolver(documents, store=store)


def _forms(di, token):
    png, svg = render_png("Data literacy", "Acme", 6), render_svg("Data literacy", "Acme", 6)
    return {
        "json": json.dumps(di, indent=2).encode(),
        "jwt": token.encode(),
        "png-json": bake_png(png, di), "png-jwt": bake_png(png, token),
        "svg-json": bake_svg(svg, di).encode(), "svg-jwt": bake_svg(svg, token).encode(),
    }


def test_every_form_verifies(signed, store):
    di, token, documents = signed
    for name, data in _forms(di, token).items():
        report = verify(data, _resolver(documents, store), now=NOW)
        assert report.ok, (name, report.summary(), report.to_dict())
        assert report.status == "valid"
        assert [c.name for c in report.checks] == ["format", "issuer_key", "proof", "validity_dates", "status",
                                                   "schema"]
        assert report.check("schema").ok is True  # the OB 3.0 schema bundled in the package
    assert verify(di, _resolver(documents, store), now=NOW).format == "json"


def _positions(data: bytes, inside: bytes):
    start = data.index(inside)
    span = len(inside)
    return sorted({start, start + 1, start + span // 3, start + span // 2, start + (2 * span) // 3,
                   start + span - 2, start + span - 1})


@pytest.mark.parametrize("form", ["json", "jwt", "png-json", "png-jwt", "svg-json", "svg-jwt"])
def test_any_changed_byte_is_rejected_with_the_failing_check_named(signed, store, form):
    di, token, documents = signed
    data = _forms(di, token)[form]
    if "jwt" in form:
        inside = token.encode()
    elif form == "json":
        inside = data
    else:
        inside = json.dumps(di, ensure_ascii=False, separators=(",", ":")).encode()
    positions = _positions(data, inside)
    if form.startswith("png"):
        positions += [9, 30, len(data) // 2, len(data) - 5]  # header, image data, IEND: CRC catches them
    for pos in positions:
        tampered = bytearray(data)
        tampered[pos] ^= 0x01
        report = verify(bytes(tampered), _resolver(documents, store), now=NOW)
        assert not report.ok, (form, pos)
        assert report.status == "invalid"
        assert report.failed and report.failed[0].message
        assert report.failed[0].name in ("format", "issuer_key", "proof", "schema")


def test_legacy_message_entry_revoked_suspended_superseded(signed, keys, store):
    """Credentials issued before revocation lists (2-bit "message" entry) are still read right."""
    di, token, documents = signed
    ed, _ = keys
    for value, status in ((1, "revoked"), (2, "suspended"), (3, "superseded")):
        docs = dict(documents, **{LIST_URL: _status_list(ed, store, value)})
        for data in (di, token):
            report = verify(data, _resolver(docs, store), now=NOW)
            assert not report.ok and report.status == status
            assert report.failed[0].name == "status"


STATES_URL = LIST_URL + "/states"


def _revocation_credential(di_key, rsa_key, store):
    entry = {"id": f"{LIST_URL}#77", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
             "statusListIndex": "77", "statusListCredential": LIST_URL, "statusReference": STATES_URL}
    cred = _credential(credentialStatus=entry)
    return (data_integrity.sign(cred, di_key, di_key.verification_method(DID), store=store),
            sign_vc_jwt(cred, rsa_key, rsa_key.verification_method(DID)))


def _signed_list(key, store, url, purpose, bits, issuer=DID):
    doc = {"@context": [ctx.CREDENTIALS_V2], "id": url,
           "type": ["VerifiableCredential", "BitstringStatusListCredential"], "issuer": issuer,
           "validFrom": "2026-01-01T00:00:00Z",
           "credentialSubject": {"id": url + "#list", "type": "BitstringStatusList", "statusPurpose": purpose,
                                 "encodedList": bits.encode()}}
    return data_integrity.sign(doc, key, key.verification_method(issuer), store=store)


def _lists(key, store, revoked: bool, state: int, neighbours: bool = True):
    revocation, states = Bitstring(131072), Bitstring(131072 * 2)
    if neighbours:  # the entries on each side are revoked / superseded: they must not leak
        for i in (76, 78):
            revocation.set(i)
            status_service.set_value(states, i, 3)
    revocation.set(77, revoked)
    status_service.set_value(states, 77, state)
    return {LIST_URL: _signed_list(key, store, LIST_URL, "revocation", revocation),
            STATES_URL: _signed_list(key, store, STATES_URL, "message", states)}


@pytest.mark.parametrize("revoked,state,expected", [
    (False, 0, "valid"), (True, 1, "revoked"), (False, 2, "suspended"), (False, 3, "superseded")])
def test_revocation_entry_and_its_state_list(keys, store, revoked, state, expected):
    ed, rsa = keys
    documents = {DID: did_document(DID, [ed, rsa]), **_lists(ed, store, revoked, state)}
    for data in _revocation_credential(ed, rsa, store):
        report = verify(data, _resolver(documents, store), now=NOW)
        assert report.status == expected, report.to_dict()
        assert report.ok is (expected == "valid")
        assert report.check("schema").ok is True  # one credentialStatus object, as OB 3.0 wants
        if expected != "valid":
            assert report.failed[0].name == "status" and "not revoked" in report.check("status").message \
                or expected == "revoked"


def test_revocation_entry_without_its_state_list_reads_the_bit_only(keys, store):
    ed, rsa = keys
    di, _token = _revocation_credential(ed, rsa, store)
    lists = _lists(ed, store, False, 2)
    documents = {DID: did_document(DID, [ed, rsa]), LIST_URL: lists[LIST_URL]}
    report = verify(di, _resolver(documents, store), now=NOW)
    assert report.ok and report.status == "valid"
    assert "not available here" in report.check("status").message
    lists = _lists(ed, store, True, 1)
    report = verify(di, _resolver({DID: did_document(DID, [ed, rsa]), LIST_URL: lists[LIST_URL]}, store), now=NOW)
    assert report.status == "revoked"


def test_state_list_must_be_authentic_from_the_issuer_and_agree(keys, store):
    ed, rsa = keys
    di, _token = _revocation_credential(ed, rsa, store)
    base = {DID: did_document(DID, [ed, rsa]), **_lists(ed, store, False, 0)}
    forged = json.loads(json.dumps(_lists(ed, store, False, 2)[STATES_URL]))
    forged["validFrom"] = "2026-01-02T00:00:00Z"
    report = verify(di, _resolver(dict(base, **{STATES_URL: forged}), store), now=NOW)
    assert report.status == "invalid" and "state list" in report.failed[0].message \
        and "not authentic" in report.failed[0].message
    other, other_did = generate_ed25519(), "did:web:evil.test"
    states = Bitstring(131072 * 2)
    foreign = _signed_list(other, store, STATES_URL, "message", states, issuer=other_did)
    docs = dict(base, **{STATES_URL: foreign, other_did: did_document(other_did, [other])})
    report = verify(di, _resolver(docs, store), now=NOW)
    assert report.status == "invalid" and "not issued by" in report.failed[0].message
    disagree = dict(base, **{STATES_URL: _lists(ed, store, False, 1)[STATES_URL]})
    report = verify(di, _resolver(disagree, store), now=NOW)
    assert report.status == "invalid" and "says revoked" in report.failed[0].message


def test_status_list_must_be_authentic_and_from_the_issuer(signed, store):
    di, _token, documents = signed
    forged_list = json.loads(json.dumps(documents[LIST_URL]))
    forged_list["credentialSubject"]["encodedList"] = Bitstring(131072 * 2).encode()
    forged_list["validFrom"] = "2026-01-02T00:00:00Z"
    report = verify(di, _resolver(dict(documents, **{LIST_URL: forged_list}), store), now=NOW)
    assert report.status == "invalid" and report.failed[0].name == "status" and "not authentic" in \
        report.failed[0].message
    other = generate_ed25519()
    other_did = "did:web:evil.test"
    foreign = _status_list(other, store)
    foreign["issuer"] = other_did
    docs = dict(documents, **{LIST_URL: data_integrity.sign({k: v for k, v in foreign.items() if k != "proof"},
                                                            other, other.verification_method(other_did),
                                                            store=store),
                              other_did: did_document(other_did, [other])})
    report = verify(di, _resolver(docs, store), now=NOW)
    assert report.failed[0].name == "status" and "not issued by" in report.failed[0].message
    missing = {k: v for k, v in documents.items() if k != LIST_URL}
    assert verify(di, _resolver(missing, store), now=NOW).failed[0].name == "status"


def test_validity_dates(keys, store, signed):
    ed, rsa = keys
    _di, _token, documents = signed
    cred = _credential(validUntil="2026-03-01T00:00:00Z")
    di = data_integrity.sign(cred, ed, ed.verification_method(DID), store=store)
    report = verify(di, _resolver(documents, store), now=NOW)
    assert report.status == "expired" and report.failed[0].name == "validity_dates"
    report = verify(di, _resolver(documents, store), now=datetime(2025, 12, 1, tzinfo=timezone.utc))
    assert report.status == "not-yet-valid"
    token = sign_vc_jwt(cred, rsa, rsa.verification_method(DID))
    assert verify(token, _resolver(documents, store), now=NOW).status == "expired"
    assert verify(token, _resolver(documents, store), now=NOW - timedelta(days=100)).ok


def test_key_of_someone_else_is_refused(signed, store):
    di, _token, documents = signed
    intruder = generate_ed25519()
    forged = data_integrity.sign({k: v for k, v in di.items() if k != "proof"}, intruder,
                                 f"did:key:{intruder.public_multibase}#{intruder.public_multibase}", store=store)
    report = verify(forged, _resolver(documents, store), now=NOW)
    assert report.failed[0].name == "issuer_key" and "not by the issuer" in report.failed[0].message
    unknown = dict(documents)
    del unknown[DID]
    report = verify(di, _resolver(unknown, store), now=NOW)
    assert report.failed[0].name == "issuer_key"


def test_schema_is_checked_and_may_be_skipped(keys, store, signed):
    ed, _ = keys
    _di, _token, documents = signed
    cred = _credential()
    cred["credentialSubject"]["achievement"].pop("criteria")
    di = data_integrity.sign(cred, ed, ed.verification_method(DID), store=store)
    report = verify(di, _resolver(documents, store), now=NOW)
    assert report.status == "invalid" and report.failed[0].name == "schema" and "criteria" in report.failed[0].message
    report = verify(di, _resolver(documents, store), now=NOW, schema=None)
    assert report.ok and report.check("schema").ok is None
    assert report.check("schema").message == "skipped: turned off by the caller"


def test_schema_loads_only_the_pinned_file(tmp_path):
    assert load_schema()["$schema"].startswith("https://json-schema.org/draft/2019-09")
    (tmp_path / "ob_v3p0_achievementcredential_schema.json").write_text('{"type": "object"}')
    with pytest.raises(SchemaUnavailable, match="pinned SHA-256"):
        load_schema(tmp_path)
    with pytest.raises(SchemaUnavailable, match="no OB 3.0 schema"):
        load_schema(tmp_path / "nowhere")


def test_schema_check_runs_in_a_default_install(signed, store, monkeypatch):
    """No environment variable: the bundled schema is used, never skipped."""
    monkeypatch.delenv("MICROCRED_SCHEMAS_DIR", raising=False)
    di, _token, documents = signed
    report = verify(di, _resolver(documents, store), now=NOW)
    assert report.ok and report.check("schema").ok is True


def test_a_broken_schema_override_fails_the_check_with_its_reason(signed, store, monkeypatch, tmp_path):
    (tmp_path / "ob_v3p0_achievementcredential_schema.json").write_text('{"type": "object"}')
    monkeypatch.setenv("MICROCRED_SCHEMAS_DIR", str(tmp_path))
    di, _token, documents = signed
    report = verify(di, _resolver(documents, store), now=NOW)
    assert not report.ok and report.check("schema").ok is False
    assert "pinned SHA-256" in report.check("schema").message


@pytest.mark.parametrize("garbage", [b"", b"hello", b"{not json", b"[1,2]", b"\x89PNG\r\n\x1a\nxx", b"a.b.c",
                                     b"<svg/>", "x" * 20])
def test_garbage_is_reported_not_raised(garbage, store):
    report = verify(garbage, Resolver(store=store), now=NOW)
    assert not report.ok and report.failed[0].name == "format" and report.status == "invalid"


def test_hostile_nesting_is_reported_not_raised(store):
    deep = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    report = verify(deep, Resolver(store=store), now=NOW)
    assert report.status == "invalid" and report.failed[0].name == "format"
    nested = {"@context": [ctx.CREDENTIALS_V2], "issuer": DID, "proof": [{"verificationMethod": DID + "#k"}]}
    node = nested
    for _ in range(5000):
        node["x"] = {}
        node = node["x"]
    report = verify(nested, Resolver(store=store), now=NOW)
    assert not report.ok and report.failed


def test_extension_context_must_be_the_issuers_own(keys, store, signed):
    """The store maps the extension path on any host to the bundled file, so the host is checked here."""
    ed, _ = keys
    _di, _token, documents = signed
    cred = _credential()
    cred["@context"] = cred["@context"] + ["http://tool.test/contexts/microcred/v1.jsonld"]
    di = data_integrity.sign(cred, ed, ed.verification_method(DID), store=store)
    assert verify(di, _resolver(documents, store), now=NOW).ok
    swapped = json.loads(json.dumps(di).replace("http://tool.test/contexts/", "http://tool.tesu/contexts/"))
    report = verify(swapped, _resolver(documents, store), now=NOW)
    assert report.failed[0].name == "proof" and "does not publish" in report.failed[0].message


@pytest.mark.parametrize("form", ["json", "jwt"])
def test_changed_byte_anywhere_is_rejected(keys, store, signed, form):
    """Every byte of the whole file, one at a time."""
    ed, rsa = keys
    _di, _token, documents = signed
    cred = _credential()
    cred["@context"] = cred["@context"] + ["http://tool.test/contexts/microcred/v1.jsonld"]
    if form == "json":
        data = json.dumps(data_integrity.sign(cred, ed, ed.verification_method(DID), store=store), indent=1).encode()
    else:
        data = sign_vc_jwt(cred, rsa, rsa.verification_method(DID)).encode()
    resolver = _resolver(documents, store)
    assert verify(data, resolver, now=NOW).ok
    accepted = []
    for pos in range(len(data)):
        tampered = bytearray(data)
        tampered[pos] ^= 0x01
        if verify(bytes(tampered), resolver, now=NOW).ok:
            accepted.append((pos, data[max(0, pos - 15):pos + 15]))
    assert not accepted


def test_jwt_report_shows_the_credential_without_the_jwt_claims(signed, store):
    di, token, documents = signed
    report = verify(token, _resolver(documents, store), now=NOW)
    assert report.ok and report.format == "jwt" and report.proof_type == "JWT/RS256"
    assert report.credential == {k: v for k, v in di.items() if k != "proof"}  # no iss/sub/jti/nbf/iat


@pytest.mark.parametrize("name", ["rs256.jwt", "eddsa.jwt"])
def test_vc_jwts_signed_before_the_payload_form_still_verify_in_every_form(name, store):
    folder = FIXTURES / "vcjwt-before-payload-form"
    token = (folder / name).read_text().strip()
    documents = json.loads((folder / "documents.json").read_text())
    png = render_png("Data literacy", "Acme", 6)
    for data in (token.encode(), bake_png(png, token)):
        report = verify(data, _resolver(documents, store), now=NOW)
        assert report.ok, report.to_dict()
        assert report.check("schema").ok is True and report.credential["name"]
