#!/usr/bin/env python3
"""Credentials composed + signed per second and verified per second (a script, not a test).

    .venv/bin/python benchmarks/bench_credentials.py [--seconds 3] [--cores N] [--no-js]

Measures, on one core and on all cores (one process per core):

* Data Integrity ``eddsa-rdfc-2022``: compose + sign, and verify (key resolved from the
  issuer's did:web document, offline);
* VC-JWT RS256 and EdDSA: compose + sign, and verify;
* the raw Ed25519 sign rate (the floor: what signing costs without JSON-LD);
* the reference JavaScript stack (``@digitalbazaar/vc`` + ``eddsa-rdfc-2022-cryptosuite`` +
  ``data-integrity`` + ``ed25519-multikey``, installed from the npm registry into
  ``~/.cache/microcred-bench/js``, run with ``node --max-semi-space-size=64``) signing and
  verifying the same credential with a document loader that serves our pinned contexts.

Every Python-signed credential is a new one (new id, new learner), as in issuance. The JS
run also cross-checks interoperability: it verifies a credential signed by Python, and
Python verifies one signed by JS. Targets (issue 3): DI issuance >= 3x the JS sign rate
per core, verification >= 1x, VC-JWT issuance >= 5,000/s per core.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from plugin.composition.credential import EvidenceData, LearnerIdentity, compose  # noqa: E402
from plugin.domain.definition import DefinitionData, LearningOutcome  # noqa: E402
from plugin.domain.issuer import IssuerProfile, LegalIdentifier  # noqa: E402
from plugin.signing import data_integrity as di  # noqa: E402
from plugin.signing import jwt as vcjwt  # noqa: E402
from plugin.signing.contexts import ContextStore, extension_context_url  # noqa: E402
from plugin.signing.did import did_document, issuer_did  # noqa: E402
from plugin.signing.keys import (ED25519_PRIV_HEADER, SigningKey, generate_ed25519,  # noqa: E402
                                 generate_rsa, multibase_encode)

BASE = "https://tool.example"
JS_PACKAGES = ["@digitalbazaar/vc@7", "@digitalbazaar/eddsa-rdfc-2022-cryptosuite@1",
               "@digitalbazaar/data-integrity@2", "@digitalbazaar/ed25519-multikey@1"]


def contexts_dir() -> Path:
    env = os.environ.get("MICROCRED_CONTEXTS_DIR")
    return Path(env) if env else REPO.parent / "shared" / "jsonld" / "contexts"


# --------------------------------------------------------------------------- fixtures
class Fixture:
    def __init__(self):
        self.store = ContextStore(directory=contexts_dir())
        self.did = issuer_did(BASE, "universite-exemple")
        self.ed = generate_ed25519()
        self.rsa = generate_rsa(2048, key_id="rsa-1")
        self.documents = {self.did: did_document(self.did, [self.ed, self.rsa])}
        self.vm_ed = f"{self.did}#{self.ed.key_id}"
        self.vm_rsa = f"{self.did}#{self.rsa.key_id}"
        self.profile = IssuerProfile(
            legal_name="Université Exemple", url="https://universite.example", email="contact@universite.example",
            country_code="FR", region="Île-de-France", legal_identifiers=[LegalIdentifier(scheme="SIREN", value="123456789")],
            quality_assurance="Evaluated by HCERES", accreditation="Accredited by the French Ministry of Higher Education")
        self.definition = DefinitionData(
            title="Data literacy for public servants", description="A short course on reading and using data.",
            learning_outcomes=[
                LearningOutcome(text="Analyse a public data set and state its limits",
                                esco_uri="http://data.europa.eu/esco/skill/ccdf3597-5c80-410f-896d-e1bdfa223de9"),
                LearningOutcome(text="Present findings in a clear chart")],
            workload_hours=125, ects_credits=5, eqf_level=6, qf_ehea_cycle="first",
            assessment_type="Proctored online final exam", participation="online",
            quality_assurance="Internal programme review", prerequisites="None",
            supervision="supervised-online-id", grading_scheme="Score out of 100", pass_mark="60",
            stackability="stackable", stackable_towards="University diploma in data science", languages=["fr", "en"],
            field_of_study="0542", field_of_study_label="Statistics", validity_months=60)
        self.when = datetime(2026, 1, 15, 9, 0, tzinfo=timezone.utc)

    def compose(self, i: int) -> dict:
        cid = f"urn:uuid:{uuid.uuid4()}"
        learner = LearnerIdentity(key=f"learner-{i}", email=f"learner{i}@example.org",
                                  lti_issuer="https://lms.example", lti_sub=f"sub-{i}")
        ev = EvidenceData(source="Open edX grades", observed_at=self.when, score=60 + i % 40, score_max=100)
        status = [{"id": f"{BASE}/status/1#{i}", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
                   "statusListIndex": str(i), "statusListCredential": f"{BASE}/status/1"}]
        return compose(self.profile, self.did, self.definition, learner, ev, cid, self.when, None, status, BASE)


_FIX: Fixture | None = None


def fixture() -> Fixture:
    global _FIX
    if _FIX is None:
        _FIX = Fixture()
    return _FIX


# --------------------------------------------------------------------------- workloads
def _loop(fn, seconds: float) -> tuple[int, float]:
    fn(0)  # warm up (template, contexts)
    n, start = 0, time.perf_counter()
    while True:
        fn(n)
        n += 1
        if n % 16 == 0 and time.perf_counter() - start >= seconds:
            return n, time.perf_counter() - start


def _prepared(kind: str):
    f = fixture()
    if kind == "di_sign":
        return lambda i: di.sign(f.compose(i), f.ed, f.vm_ed, store=f.store)
    if kind == "jwt_rs256_sign":
        return lambda i: vcjwt.sign_vc_jwt(f.compose(i), f.rsa, f.vm_rsa)
    if kind == "jwt_eddsa_sign":
        return lambda i: vcjwt.sign_vc_jwt(f.compose(i), f.ed, f.vm_ed)
    if kind == "ed25519_raw":
        data = os.urandom(64)
        return lambda i: f.ed.sign(data)
    if kind == "rsa_raw":
        data = os.urandom(64)
        return lambda i: f.rsa.sign(data)
    pool = 64
    if kind == "di_verify":
        docs = [di.sign(f.compose(i), f.ed, f.vm_ed, store=f.store) for i in range(pool)]

        def run(i):
            assert di.verify(docs[i % pool], documents=f.documents, store=f.store).ok
        return run
    if kind in ("jwt_rs256_verify", "jwt_eddsa_verify"):
        key, vm = (f.rsa, f.vm_rsa) if "rs256" in kind else (f.ed, f.vm_ed)
        tokens = [vcjwt.sign_vc_jwt(f.compose(i), key, vm) for i in range(pool)]

        def run(i):
            assert vcjwt.verify_vc_jwt(tokens[i % pool], documents=f.documents).ok
        return run
    raise ValueError(kind)


def _worker(args) -> tuple[int, float]:
    kind, seconds = args
    return _loop(_prepared(kind), seconds)


def rate(kind: str, seconds: float, cores: int = 1) -> float:
    if cores == 1:
        n, elapsed = _worker((kind, seconds))
        return n / elapsed
    ctx = mp.get_context("fork")
    with ctx.Pool(cores) as pool:
        results = pool.map(_worker, [(kind, seconds)] * cores)
    return sum(n / elapsed for n, elapsed in results)


# --------------------------------------------------------------------------- JavaScript reference
JS_SCRIPT = r"""
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import fs from 'node:fs';
import crypto from 'node:crypto';

const input = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const docs = {...input.contexts, ...input.documents};
const documentLoader = async url => {
  if(url in docs) {
    return {contextUrl: null, documentUrl: url, document: docs[url], tag: 'static'};
  }
  throw new Error('documentLoader: not served: ' + url);
};
const key = await Ed25519Multikey.from(input.key);
const signSuite = () => new DataIntegrityProof({signer: key.signer(), cryptosuite});
const verifySuite = new DataIntegrityProof({cryptosuite});
// Status lists are not part of this measure (both sides would fetch the same list).
const checkStatus = async () => ({verified: true});
const why = r => JSON.stringify({error: r.error && (r.error.message || r.error),
  results: (r.results || []).map(x => x.error && x.error.message)}).slice(0, 1500);

async function timed(fn, seconds) {
  await fn();
  let n = 0; const start = process.hrtime.bigint();
  for(;;) {
    await fn(); n++;
    const el = Number(process.hrtime.bigint() - start) / 1e9;
    if(el >= seconds) return n / el;
  }
}
const out = {};
const jsSigned = await vc.issue({credential: structuredClone(input.credential), suite: signSuite(), documentLoader});
const pyCheck = await vc.verifyCredential({credential: input.pySigned, suite: verifySuite, documentLoader,
                                           checkStatus});
out.jsVerifiesPython = pyCheck.verified;
if(!pyCheck.verified) out.jsVerifiesPythonError = why(pyCheck);
out.jsSigned = jsSigned;
// The floor in this process, measured just before: the machine may be shared.
const {privateKey} = crypto.generateKeyPairSync('ed25519');
const msg = crypto.randomBytes(64);
out.rawSign = await timed(async () => crypto.sign(null, msg, privateKey), input.seconds);
out.sign = await timed(() => vc.issue({credential: structuredClone(input.credential), suite: signSuite(),
                                       documentLoader}), input.seconds);
out.verify = await timed(async () => {
  const r = await vc.verifyCredential({credential: jsSigned, suite: verifySuite, documentLoader, checkStatus});
  if(!r.verified) throw new Error('JS verification failed: ' + why(r));
}, input.seconds);
console.log(JSON.stringify(out));
"""


def js_reference(seconds: float) -> dict | None:
    if not shutil.which("node") or not shutil.which("npm"):
        print("node/npm not found: skipping the JavaScript reference", file=sys.stderr)
        return None
    workdir = Path(os.environ.get("MICROCRED_BENCH_JS_DIR", Path.home() / ".cache" / "microcred-bench" / "js"))
    workdir.mkdir(parents=True, exist_ok=True)
    if not (workdir / "node_modules" / "@digitalbazaar" / "vc").is_dir():
        (workdir / "package.json").write_text('{"name": "microcred-bench", "private": true, "type": "module"}\n')
        print(f"installing {' '.join(JS_PACKAGES)} into {workdir} ...", file=sys.stderr)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent", *JS_PACKAGES], cwd=workdir,
                       check=True, timeout=600)
    (workdir / "bench.mjs").write_text(JS_SCRIPT)
    f = fixture()
    credential = f.compose(1)
    py_signed = di.sign(credential, f.ed, f.vm_ed, store=f.store)
    urls = list(json.loads((contexts_dir() / "index.json").read_text())) + [extension_context_url(BASE)]
    contexts = {u: json.loads(f.store.raw(u)) for u in urls}
    vm_doc = next(m for m in f.documents[f.did]["verificationMethod"] if m["id"] == f.vm_ed)
    documents = {f.did: f.documents[f.did],
                 f.vm_ed: {"@context": "https://w3id.org/security/multikey/v1", **vm_doc}}
    raw = f.ed.private.private_bytes_raw() + f.ed.public.public_bytes_raw()
    key = {"id": f.vm_ed, "controller": f.did, "type": "Multikey", "publicKeyMultibase": f.ed.public_multibase,
           "secretKeyMultibase": multibase_encode(ED25519_PRIV_HEADER + raw)}
    data = {"contexts": contexts, "documents": documents, "credential": credential, "pySigned": py_signed,
            "key": key, "seconds": seconds}
    inp = workdir / "input.json"
    inp.write_text(json.dumps(data))
    proc = subprocess.run(["node", "--max-semi-space-size=64", "bench.mjs", str(inp)], cwd=workdir,
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        print("JavaScript reference failed:\n" + proc.stderr[-2000:], file=sys.stderr)
        return None
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["pythonVerifiesJs"] = di.verify(out["jsSigned"], documents=f.documents, store=f.store).ok
    return out


# --------------------------------------------------------------------------- main
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=3.0, help="duration of each measurement")
    ap.add_argument("--cores", type=int, default=os.cpu_count() or 1, help="processes for the all-cores runs")
    ap.add_argument("--no-js", action="store_true", help="skip the JavaScript reference")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    ap.add_argument("--only", help="comma-separated measures to run (e.g. di_sign,jwt_eddsa_sign); implies --no-js")
    args = ap.parse_args(argv)

    size = len(json.dumps(di.sign(fixture().compose(0), fixture().ed, fixture().vm_ed, store=fixture().store)))
    kinds = [("Data Integrity eddsa-rdfc-2022: compose + sign", "di_sign"),
             ("Data Integrity eddsa-rdfc-2022: verify", "di_verify"),
             ("VC-JWT RS256: compose + sign", "jwt_rs256_sign"),
             ("VC-JWT RS256: verify", "jwt_rs256_verify"),
             ("VC-JWT EdDSA: compose + sign", "jwt_eddsa_sign"),
             ("VC-JWT EdDSA: verify", "jwt_eddsa_verify"),
             ("raw Ed25519 sign (floor of DI and EdDSA)", "ed25519_raw"),
             ("raw RSA-2048 PKCS#1 v1.5 sign (floor of RS256)", "rsa_raw")]
    if args.only:
        wanted = set(args.only.split(",")) | {"ed25519_raw"}
        kinds = [k for k in kinds if k[1] in wanted]
        args.no_js = True
    results = {}
    floor = rate("ed25519_raw", args.seconds, 1)
    for label, kind in kinds:
        one = rate(kind, args.seconds, 1)
        allc = rate(kind, args.seconds, args.cores) if args.cores > 1 else one
        results[kind] = {"label": label, "one_core": one, "all_cores": allc}
        print(f"  {label}: {one:,.0f}/s on 1 core, {allc:,.0f}/s on {args.cores}", file=sys.stderr)
    js = None if args.no_js else js_reference(args.seconds)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\nmicro-credential: {size:,} bytes signed; {args.cores} cores for the all-cores column; "
          f"Python {sys.version.split()[0]}; load average {load:.1f} at the end")
    print(f"{'measure':52} {'1 core /s':>11} {f'{args.cores} cores /s':>12} {'vs JS (1 core)':>15}")
    for kind, r in results.items():
        ratio = ""
        if js and kind == "di_sign":
            ratio = f"{r['one_core'] / js['sign']:.1f}x sign"
        elif js and kind == "di_verify":
            ratio = f"{r['one_core'] / js['verify']:.1f}x verify"
        print(f"{r['label']:52} {r['one_core']:>11,.0f} {r['all_cores']:>12,.0f} {ratio:>15}")
    if js:
        print(f"{'JS reference (node --max-semi-space-size=64): sign':52} {js['sign']:>11,.0f} {'':>12} {'1.0x':>15}")
        print(f"{'JS reference: verify':52} {js['verify']:>11,.0f} {'':>12} {'1.0x':>15}")
        print(f"{'JS raw Ed25519 sign (node crypto, floor)':52} {js['rawSign']:>11,.0f}")
        # The machine may be shared: compare each side's rate as a share of its own raw
        # Ed25519 rate measured in the same process, so a busier minute does not decide the ratio.
        py_floor = (floor + results["ed25519_raw"]["one_core"]) / 2
        norm = (results["di_sign"]["one_core"] / py_floor) / (js["sign"] / js["rawSign"])
        normv = (results["di_verify"]["one_core"] / py_floor) / (js["verify"] / js["rawSign"])
        print(f"load-normalised ratios (rate / own raw Ed25519 rate): DI sign {norm:.1f}x, DI verify {normv:.1f}x")
        js["normalised_sign_ratio"], js["normalised_verify_ratio"] = norm, normv
        print(f"interoperability: JS verifies the Python-signed credential: {js['jsVerifiesPython']}; "
              f"Python verifies the JS-signed one: {js['pythonVerifiesJs']}")
        if not js["jsVerifiesPython"]:
            print("  JS said: " + js.get("jsVerifiesPythonError", ""))
    targets = []
    if js:
        targets.append(("DI issuance >= 3x JS sign (1 core)", results["di_sign"]["one_core"] >= 3 * js["sign"]
                        and js["normalised_sign_ratio"] >= 3))
        targets.append(("DI verification >= 1x JS verify (1 core)", results["di_verify"]["one_core"] >= js["verify"]
                        and js["normalised_verify_ratio"] >= 1))
    for kind, alg in (("jwt_eddsa_sign", "EdDSA"), ("jwt_rs256_sign", "RS256")):
        if kind in results:
            targets.append((f"VC-JWT issuance >= 5,000/s (1 core, {alg})", results[kind]["one_core"] >= 5000))
    if "jwt_eddsa_sign" in results:
        share = results["jwt_eddsa_sign"]["one_core"] / results["ed25519_raw"]["one_core"]
        print(f"VC-JWT EdDSA issuance = {share:.1%} of the raw Ed25519 rate measured here")
    for name, ok in targets:
        print(f"target {name}: {'met' if ok else 'NOT met'}")
    if args.json:
        args.json.write_text(json.dumps({"results": results, "floor_before": floor, "js": {k: v for k, v in (js or {}).items()
                                                                     if k != "jsSigned"}, "bytes": size}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
