"""Verify a credential: every check separately, in words a person understands.

:func:`verify` accepts the credential as JSON (text, bytes or a dict), as a compact JWS
(VC-JWT), or baked into a PNG or SVG badge, and runs these checks:

``format``          the input is one of those forms and holds a credential;
``issuer_key``      the signing key (``verificationMethod`` / JWT ``kid``) resolves, is listed
                    under ``assertionMethod`` and is controlled by the credential's issuer;
``proof``           the Data Integrity ``eddsa-rdfc-2022`` proof, or the JWT signature;
``validity_dates``  ``validFrom`` <= now <= ``validUntil``;
``status``          the Bitstring Status List entry: the list credential is fetched through
                    the resolver, its own proof and issuer checked, the entry read; for our
                    ``revocation`` entries, the state list named in ``statusReference`` too
                    (suspended, superseded), when the resolver has it;
``schema``          the official OB 3.0 JSON Schema.

A European Digital Credential (sealed JAdES JSON, or bare) gets its own checks instead
(:mod:`plugin.verification.edc`), with the trust anchors in ``resolver.edc_anchors``.

``report.ok`` is true only when every check passed. The schema ships inside the package,
so the ``schema`` check always runs; a schema override (``MICROCRED_SCHEMAS_DIR``) that is
missing or does not match its pin fails the check with that reason. Only a library caller
that passes ``schema=None`` explicitly turns it off (reported as skipped).

``report.status`` is ``valid``, ``revoked``, ``suspended``, ``superseded`` (replaced by a newer
version), ``expired``, ``not-yet-valid`` or ``invalid`` (any failed format, key, proof,
status-list or schema check).

Nothing here uses the network: documents (DID documents, issuer profiles, status list
credentials) come from a :class:`Resolver`, built from a ``documents.json`` mapping and,
inside the tool, a source backed by its database (:mod:`plugin.verification.resolver`).
"""
from __future__ import annotations

from plugin.domain.i18n import N_

import base64
import json
import logging
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Mapping

from plugin.delivery.baking import BakingError, sniff, unbake

log = logging.getLogger("microcred.verify")

MAX_INPUT_BYTES = 10 * 1024 * 1024
AUTO = "auto"
CHECKS = ("format", "issuer_key", "proof", "validity_dates", "status", "schema")
_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


# --------------------------------------------------------------------------- resolver
class Resolver:
    """URL or DID -> document, offline: a mapping first, then each source in turn."""

    def __init__(self, documents: Mapping[str, Any] | None = None, sources: Iterable[Callable] = (),
                 store=None, edc_anchors: Iterable[Any] = ()):
        self.documents = dict(documents or {})
        self.edc_anchors = list(edc_anchors)  # X.509 trust anchors for EDC seals
        self.sources = list(sources)
        self.store = store

    @classmethod
    def from_file(cls, path, **kwargs) -> "Resolver":
        with open(path, "rb") as fh:
            data = json.loads(fh.read(MAX_INPUT_BYTES + 1)[:MAX_INPUT_BYTES] or b"{}")
        if not isinstance(data, dict):
            raise ValueError(f"{path} must map URLs and DIDs to documents (a JSON object)")
        return cls(data, **kwargs)

    def get(self, url: str) -> Any | None:
        if url in self.documents:
            return self.documents[url]
        for source in self.sources:
            doc = source(url)
            if doc is not None:
                return doc
        return None


# --------------------------------------------------------------------------- report
@dataclass
class Check:
    name: str
    ok: bool | None  # None: not run (skipped)
    message: str
    # What a failed check found, for a person: the schema check's [(field path, problem), ...]
    problems: list[tuple[str, str]] = field(default_factory=list)

    @property
    def label(self) -> str:
        return "PASS" if self.ok else ("SKIP" if self.ok is None else "FAIL")


@dataclass
class VerificationReport:
    format: str | None = None  # json, jwt, png, svg
    proof_type: str | None = None  # DataIntegrityProof/eddsa-rdfc-2022, JWT/RS256 ...
    checks: list[Check] = field(default_factory=list)
    status: str = "invalid"
    credential: dict[str, Any] | None = None
    issuer: str | None = None

    def check(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)

    @property
    def ok(self) -> bool:
        required = [c for c in self.checks if c.name != "schema"]
        schema = self.check("schema")
        return (len(required) == len(CHECKS) - 1 and all(c.ok for c in required)
                and (schema is None or schema.ok is not False))

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.ok is False]

    def summary(self) -> str:
        if self.ok:
            return "valid: every check passed"
        first = self.failed[0] if self.failed else None
        return f"{self.status}: {first.name} check failed: {first.message}" if first else self.status

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "status": self.status, "format": self.format, "proof_type": self.proof_type,
                "issuer": self.issuer, "credential_id": (self.credential or {}).get("id"),
                "checks": [{k: v for k, v in asdict(c).items() if k != "problems" or v} for c in self.checks]}


# --------------------------------------------------------------------------- helpers
def _issuer_id(credential: dict[str, Any]) -> str | None:
    issuer = credential.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None


def _parse_time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("not a date-time string")
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        raise ValueError(f"{value} has no time zone")
    return dt


def _b64url_canonical(segment: str) -> bool:
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (ValueError, base64.binascii.Error):
        return False
    return base64.urlsafe_b64encode(raw).decode().rstrip("=") == segment


def _jwt_payload(token: str) -> dict[str, Any]:
    payload = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=" * (-len(token.split(".")[1]) % 4)))
    if not isinstance(payload, dict):
        raise ValueError("the JWT payload is not a JSON object")
    return payload


def _parse(data: bytes | str | dict, report: VerificationReport) -> tuple[dict | None, str | None, str]:
    """-> (credential, jwt, message)."""
    if isinstance(data, dict):
        report.format = "json"
        return data, None, N_("a JSON credential")
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not isinstance(data, (bytes, bytearray)):
        return None, None, "expected JSON, a compact JWS, or a PNG/SVG badge"
    data = bytes(data)
    if len(data) > MAX_INPUT_BYTES:
        return None, None, f"the file is larger than {MAX_INPUT_BYTES // (1024 * 1024)} MB"
    kind = sniff(data)
    if kind:
        report.format = kind
        try:
            baked = unbake(data)
        except BakingError as exc:
            return None, None, str(exc)
        if baked.kind == "json":
            return baked.credential, None, N_("a %(kind)s badge holding a JSON credential", kind=kind.upper())
        text = baked.jwt
        where = N_("a %(kind)s badge holding a VC-JWT", kind=kind.upper())
    else:
        try:
            text = data.decode("utf-8").strip()
        except UnicodeDecodeError:
            return None, None, N_("not text, PNG or SVG")
        if text.startswith("{"):
            report.format = "json"
            try:
                doc = json.loads(text)
            except ValueError as exc:
                return None, None, N_("not valid JSON (%(why)s)", why=str(exc))
            except RecursionError:
                return None, None, "the JSON is nested too deeply"
            if not isinstance(doc, dict):
                return None, None, N_("the JSON is not an object")
            return doc, None, N_("a JSON credential")
        report.format = "jwt"
        where = N_("a VC-JWT")
    if not _JWS.fullmatch(text or ""):
        return None, None, N_("neither JSON nor a compact JWS")
    if not all(_b64url_canonical(s) for s in text.split(".")):
        return None, None, "the JWS is not canonical base64url (it was changed)"
    try:
        payload = _jwt_payload(text)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        return None, text, f"the JWT payload is not JSON ({type(exc).__name__})"
    from plugin.signing.jwt import credential_of
    vc, _form = credential_of(payload)  # the payload itself (OB 3.0 §8.2.4) or its vc claim (older tokens)
    if vc is None:
        return None, text, "the JWT holds no credential (no vc claim, and the payload is not a credential)"
    return vc, text, where


# --------------------------------------------------------------------------- verify
def verify(data: bytes | str | dict, resolver: Resolver | None = None, *, now: datetime | None = None,
           schema: dict | None | str = AUTO) -> VerificationReport:
    """Run every check on ``data``; see the module docstring. Never raises for bad input.

    The resolver's documents are trusted: a ``documents.json`` proves only what its
    source vouches for (use the one exported by the issuer, or the tool's database).
    """
    try:
        return _verify(data, resolver, now=now, schema=schema)
    except RecursionError:
        report = VerificationReport()
        report.checks = [Check("format", False, "the credential is nested too deeply to be checked")] + \
            [Check(name, None, "not run: the credential could not be read") for name in CHECKS[1:]]
        return report


def _verify(data, resolver, *, now, schema) -> VerificationReport:
    from plugin.signing import contexts as ctx
    from plugin.signing.did import ResolutionError, resolve
    from plugin.signing.jwt import unverified_parts

    resolver = resolver or Resolver()
    store = resolver.store or ctx.default_store()
    now = now or datetime.now(timezone.utc)
    report = VerificationReport()
    add = report.checks.append

    credential, token, message = _parse(data, report)
    if credential is not None and token is None and report.format == "json":
        from plugin.verification.edc import is_edc, verify_edc
        if is_edc(credential):  # a European Digital Credential, sealed (JAdES) or not
            return verify_edc(credential, anchors=getattr(resolver, "edc_anchors", ()), store=store, now=now)
    if credential is None:
        add(Check("format", False, message))
        for name in CHECKS[1:]:
            add(Check(name, None, N_("not run: the credential could not be read")))
        return report
    report.credential = credential
    issuer = _issuer_id(credential)
    report.issuer = issuer
    if not issuer:
        add(Check("format", False, N_("the credential names no issuer")))
    else:
        add(Check("format", True, message))

    # issuer_key: which key signed, is it the issuer's, authorised for assertions?
    public_key, vm_ids = None, []
    if token:
        try:
            header, _claims = unverified_parts(token)
            vm_ids = [header.get("kid")] if isinstance(header.get("kid"), str) else []
            report.proof_type = f"JWT/{header.get('alg')}"
        except ValueError as exc:
            add(Check("issuer_key", False, str(exc)))
    else:
        proofs = credential.get("proof")
        proofs = proofs if isinstance(proofs, list) else [proofs] if proofs is not None else []
        vm_ids = [p.get("verificationMethod") for p in proofs if isinstance(p, dict)]
        kinds = {f"{p.get('type')}/{p.get('cryptosuite')}" for p in proofs if isinstance(p, dict)}
        report.proof_type = ", ".join(sorted(kinds)) or None
    if report.check("issuer_key") is None:
        if not vm_ids or not all(isinstance(v, str) and v for v in vm_ids):
            add(Check("issuer_key", False, N_("the credential has no proof naming its signing key")))
        else:
            try:
                resolved = [resolve(v, resolver.documents, [resolver.get]) for v in vm_ids]
                bad = [(v, r.controller) for v, r in zip(vm_ids, resolved) if r.controller != issuer]
                if bad:
                    add(Check("issuer_key", False, f"the key {bad[0][0]} is controlled by {bad[0][1]}, "
                                                   f"not by the issuer {issuer}"))
                else:
                    public_key = resolved[0].public_key if len(resolved) == 1 else None
                    add(Check("issuer_key", True, N_("signed with %(key)s, an assertion key of the issuer", key=vm_ids[0])))
            except (ResolutionError, ValueError) as exc:
                add(Check("issuer_key", False, str(exc)))

    # proof (a verifier fails closed, whatever the input does to a library)
    try:
        add(_check_proof(report, credential, token, issuer, public_key, resolver, store))
    except RecursionError:
        raise
    except Exception as exc:
        log.exception("proof check crashed")
        add(Check("proof", False, f"the proof could not be checked ({type(exc).__name__})"))

    # validity dates
    add(_check_dates(credential, now, report))

    # status
    try:
        add(_check_status(credential, issuer, resolver, store, now, report))
    except RecursionError:
        raise
    except Exception as exc:
        log.exception("status check crashed")
        add(Check("status", False, f"the status could not be checked ({type(exc).__name__})"))

    # schema
    schema_problem = None
    if schema == AUTO:
        from plugin.verification.schema import SchemaUnavailable, load_schema
        try:
            schema = load_schema()
        except SchemaUnavailable as exc:
            schema, schema_problem = None, str(exc)
    if schema_problem:
        add(Check("schema", False, f"the OB 3.0 JSON Schema could not be loaded: {schema_problem}"))
    elif schema is None:
        add(Check("schema", None, "skipped: turned off by the caller"))
    else:
        from plugin.composition.clr import is_clr
        if is_clr(credential):
            add(_check_record(credential, schema, resolver, now))
        else:
            from plugin.verification.schema import schema_problems
            problems = schema_problems(credential, schema)
            errors = [f"{where}: {what}" for where, what in problems]
            add(Check("schema", not errors, N_("valid against the OB 3.0 JSON Schema") if not errors
                      else "does not match the OB 3.0 JSON Schema: " + "; ".join(errors), problems=problems))

    _set_status(report)
    return report


def _check_record(record: dict, schema, resolver, now) -> Check:
    """A CLR 2.0 learner record: every credential in it is checked like a credential on its own
    (its proof, dates, status and the OB 3.0 JSON Schema); the record's proof covers the whole."""
    from plugin.verification.schema import schema_errors
    subject = record.get("credentialSubject") if isinstance(record.get("credentialSubject"), dict) else {}
    inner = subject.get("verifiableCredential")
    if not isinstance(inner, list) or not inner:
        return Check("schema", False, N_("the learner record holds no credential"))
    problems = []
    for i, cred in enumerate(inner):
        errors = schema_errors(cred, schema) if isinstance(cred, dict) else ["not a JSON object"]
        if errors:
            problems.append(f"credential {i + 1}: " + "; ".join(errors))
            continue
        sub = _verify(cred, resolver, now=now, schema=None)
        if sub.status != "valid":
            problems.append(f"credential {i + 1} ({cred.get('id')}): {sub.status}")
    if problems:
        return Check("schema", False, "the learner record holds credentials that are not valid: " + "; ".join(problems))
    return Check("schema", True, N_("a CLR 2.0 learner record of %(n)s credentials, each valid (proof, dates, status) "
                                    "and valid against the OB 3.0 JSON Schema", n=len(inner)))


def _check_proof(report, credential, token, issuer, public_key, resolver, store) -> Check:
    from plugin.signing.data_integrity import verify as di_verify
    from plugin.signing.jwt import verify_vc_jwt

    if not report.check("issuer_key").ok:
        return Check("proof", False, N_("not checked: the signing key is not a known key of the issuer"))
    if token:
        res = verify_vc_jwt(token, public_key=public_key, check_dates=False)
        ok = res.ok and res.credential == credential
        return Check("proof", ok, N_("the JWT signature is valid") if ok else (res.reason or N_("the JWT does not match")))
    foreign = _foreign_extension_contexts(credential, issuer)
    if foreign:
        return Check("proof", False, f"the credential uses the extension context {foreign[0]}, which its "
                                     "issuer does not publish (the context list was changed)")
    res = di_verify(credential, public_key=public_key, documents=resolver.documents,
                    sources=[resolver.get], store=store)
    return Check("proof", res.ok, N_("the Data Integrity proof is valid") if res.ok else res.reason)


def _issuer_base(issuer: str | None) -> str | None:
    """The base URL of the microcred tool that publishes ``issuer`` (did:web or profile URL)."""
    if not issuer:
        return None
    url = issuer
    if issuer.startswith("did:web:"):
        from plugin.signing.did import did_web_url
        try:
            url = did_web_url(issuer)
        except ValueError:
            return None
    if "/issuers/" not in url:
        return None
    return url.rsplit("/issuers/", 1)[0]


def _foreign_extension_contexts(credential: dict, issuer: str | None) -> list[str]:
    """Extension-context URLs not published by the issuer's own tool.

    The context store maps the path ``/contexts/microcred/v1.jsonld`` on *any* host to
    the bundled file (so credentials of every microcred deployment verify offline).
    Data Integrity signs the expanded statements, not the context URLs, so without this
    check the host of that URL could be changed without breaking the proof.
    """
    from plugin.signing import contexts as ctx
    contexts = credential.get("@context")
    contexts = contexts if isinstance(contexts, list) else [contexts]
    base = _issuer_base(issuer)
    expected = ctx.extension_context_url(base) if base else None
    return [c for c in contexts if isinstance(c, str) and ctx.is_extension_context_url(c) and c != expected]


def _check_dates(credential: dict, now: datetime, report: VerificationReport) -> Check:
    start = credential.get("validFrom", credential.get("issuanceDate"))
    end = credential.get("validUntil", credential.get("expirationDate"))
    try:
        if start is None:
            return Check("validity_dates", False, N_("the credential has no validFrom date"))
        start_dt = _parse_time(start)
        end_dt = _parse_time(end) if end is not None else None
    except ValueError as exc:
        return Check("validity_dates", False, f"a validity date is malformed ({exc})")
    if now < start_dt:
        report._date_status = "not-yet-valid"
        return Check("validity_dates", False, N_("not valid before %(start)s", start=start))
    if end_dt is not None and now > end_dt:
        report._date_status = "expired"
        return Check("validity_dates", False, N_("expired on %(end)s", end=end))
    return Check("validity_dates", True, N_("valid from %(start)s until %(end)s", start=start, end=end) if end
                 else N_("valid from %(start)s, no end date", start=start))


def _check_status(credential: dict, issuer: str | None, resolver: Resolver, store, now: datetime,
                  report: VerificationReport) -> Check:
    entries = credential.get("credentialStatus")
    if entries is None:
        return Check("status", True, N_("no status list: the issuer cannot revoke this credential"))
    entries = entries if isinstance(entries, list) else [entries]
    messages = []
    for entry in entries:
        result = _check_entry(entry, issuer, resolver, store, now)
        if isinstance(result, Check):
            return result
        state, text = result
        if state != "valid":
            report._status_value = state
            return Check("status", False, text)
        messages.append(text)
    return Check("status", True, messages[0] if len(messages) == 1 else "; ".join(messages))


class _ListProblem(ValueError):
    """A status list that cannot be used. ``kind``: ``missing`` (the resolver does not have
    it), ``other`` (not a status list), ``purpose`` (a list for another purpose) or ``bad``
    (forged, malformed, expired...)."""

    def __init__(self, message: str, kind: str = "bad"):
        super().__init__(message)
        self.kind = kind


def _read_list(url: Any, purpose: str, issuer, resolver: Resolver, store, now, what: str = "status list"):
    """The authentic bits of the list at ``url``, or :class:`_ListProblem` saying what is wrong."""
    from plugin.signing.data_integrity import verify as di_verify
    from plugin.status.bitstring import StatusListError, decode

    if not isinstance(url, str):
        raise _ListProblem(f"the status entry names no {what}")
    slc = resolver.get(url)
    if not isinstance(slc, dict):
        raise _ListProblem(f"the {what} {url} is not available to this verifier", kind="missing")
    types = slc.get("type")
    if "BitstringStatusListCredential" not in (types if isinstance(types, list) else [types]):
        raise _ListProblem(f"the {what} {url} is not a BitstringStatusListCredential", kind="other")
    res = di_verify(slc, documents=resolver.documents, sources=[resolver.get], store=store)
    if not res.ok:
        raise _ListProblem(f"the {what} {url} is not authentic: {res.reason}")
    if _issuer_id(slc) != issuer or res.controller != issuer:
        raise _ListProblem(f"the {what} {url} was not issued by the credential's issuer")
    if slc.get("id") not in (None, url):
        raise _ListProblem(f"the {what} served at {url} says it is {slc.get('id')}")
    try:
        if slc.get("validUntil") and now > _parse_time(slc["validUntil"]):
            raise _ListProblem(f"the {what} {url} has expired")
    except ValueError:
        raise _ListProblem(f"the {what} {url} has a malformed validUntil") from None
    subject = slc.get("credentialSubject") or {}
    list_purposes = subject.get("statusPurpose")
    list_purposes = list_purposes if isinstance(list_purposes, list) else [list_purposes]
    if purpose not in list_purposes:
        raise _ListProblem(f"the {what} {url} is for {list_purposes}, not {purpose!r}", kind="purpose")
    try:
        return decode(subject.get("encodedList"), min_entries=131_072)
    except StatusListError as exc:
        raise _ListProblem(f"the {what} {url} is malformed: {exc}") from None


def _check_entry(entry: Any, issuer, resolver: Resolver, store, now) -> Check | tuple[str, str]:
    from plugin.status.states import get_value

    def fail(msg):
        return Check("status", False, msg)

    if not isinstance(entry, dict) or entry.get("type") != "BitstringStatusListEntry":
        return fail("unsupported credentialStatus type (only BitstringStatusListEntry is checked)")
    purpose = entry.get("statusPurpose")
    try:
        index = int(entry.get("statusListIndex"))
        size = int(entry.get("statusSize", 1))
    except (TypeError, ValueError):
        return fail("the status entry has no valid statusListIndex/statusSize")
    if index < 0 or not 1 <= size <= 8:
        return fail("the status entry's index or size is out of range")
    if purpose not in ("revocation", "suspension", "message"):
        return fail(f"unsupported status purpose {purpose!r}")
    try:
        bits = _read_list(entry.get("statusListCredential"), purpose, issuer, resolver, store, now)
    except _ListProblem as exc:
        return fail(str(exc))
    if (index + 1) * size > bits.size:
        return fail(f"status index {index} is outside the status list")
    value = get_value(bits, index, size)
    if purpose == "revocation":
        if value:
            return ("revoked", N_("revoked by the issuer"))
        return _state_from_reference(entry, index, bits.size // size, issuer, resolver, store, now)
    if purpose == "suspension":
        return ("suspended", N_("suspended by the issuer")) if value else ("valid", N_("not suspended"))
    # "message": the 2-bit entry of credentials issued before revocation lists (still read)
    table = {}
    for m in entry.get("statusMessage") or []:
        if isinstance(m, dict) and isinstance(m.get("status"), str):
            try:
                table[int(m["status"], 16)] = str(m.get("message", ""))
            except ValueError:
                pass
    text = table.get(value)
    if text is None:
        return fail(f"status value 0x{value:x} has no statusMessage")
    word = text.lower()
    if value == 0 or word in ("valid", "active"):
        return ("valid", f"status: {text}")
    if word == "superseded":
        return ("superseded", N_("status: superseded (replaced by a newer version of this credential)"))
    state = word if word in ("revoked", "suspended") else "revoked"
    return (state, f"status: {text}" + ("" if state == word else " (no longer valid)"))


def _state_from_reference(entry: dict, index: int, entries: int, issuer, resolver: Resolver, store,
                          now) -> Check | tuple[str, str]:
    """A credential that is not revoked: is it suspended or replaced? Our revocation entries
    name a 2-bit state list (same indexes) in ``statusReference``; see plugin/status/states.py."""
    from plugin.status.states import STATE_OF_VALUE, get_value

    refs = entry.get("statusReference")
    refs = [r for r in (refs if isinstance(refs, list) else [refs]) if isinstance(r, str)]
    unavailable = []
    for ref in refs:
        try:
            bits = _read_list(ref, "message", issuer, resolver, store, now, what="state list")
        except _ListProblem as exc:
            if exc.kind == "missing":
                unavailable.append(ref)
                continue
            if exc.kind in ("other", "purpose"):
                continue  # material of another kind, not a state list
            return Check("status", False, str(exc))
        width = bits.size // entries
        if bits.size % entries or not 1 <= width <= 8:
            return Check("status", False, f"the state list {ref} does not match the revocation list")
        state = STATE_OF_VALUE.get(get_value(bits, index, width))
        if state == "valid":
            return ("valid", N_("not revoked, suspended or replaced"))
        if state == "suspended":
            return ("suspended", N_("suspended by the issuer (not revoked)"))
        if state == "superseded":
            return ("superseded", N_("replaced by a newer version of this credential (not revoked)"))
        if state == "revoked":
            return Check("status", False, f"the issuer's state list {ref} says revoked, its revocation list does not")
        return Check("status", False, f"the state list {ref} holds an unknown value")
    if unavailable:
        return ("valid", f"not revoked (the state list {unavailable[0]} is not available here, so suspension "
                         "and replacement were not checked)")
    return ("valid", N_("not revoked"))


def _set_status(report: VerificationReport) -> None:
    failed = {c.name for c in report.failed}
    if failed & {"format", "issuer_key", "proof", "schema"}:
        report.status = "invalid"
    elif "status" in failed:
        report.status = getattr(report, "_status_value", "invalid")
    elif "validity_dates" in failed:
        report.status = getattr(report, "_date_status", "invalid")
    else:
        report.status = "valid"
