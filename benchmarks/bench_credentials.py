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
from plugin.signing.keys import ED25519_PRIV_HEADER, generate_ed25519, generate_rsa, multibase_encode  # noqa: E402

BASE = "https://tool.example"
JS_PACKAGES = ["@digitalbazaar/vc@7", "@digitalbazaar/eddsa-rdfc-2022-cryptosuite@1",
               "@digitalbazaar/data-integrity@2", "@digitalbazaar/ed25519-multikey@1"]


def contexts_dir() -> Path:
    """The contexts the package ships (or the MICROCRED_CONTEXTS_DIR override)."""
    from plugin.signing.contexts import BUNDLED_DIR
    env = os.environ.get("MICROCRED_CONTEXTS_DIR")
    return Path(env) if env else BUNDLED_DIR


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
def _loop(fn, seconds: float) -> tuple[int, float, float]:
    """(count, wall seconds, CPU seconds of this process)."""
    fn(0)  # warm up (template, contexts)
    n, start, cpu = 0, time.perf_counter(), time.process_time()
    while True:
        fn(n)
        n += 1
        if n % 16 == 0 and time.perf_counter() - start >= seconds:
            return n, time.perf_counter() - start, time.process_time() - cpu


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


def _worker(args) -> tuple[int, float, float]:
    kind, seconds = args
    return _loop(_prepared(kind), seconds)


def rate(kind: str, seconds: float, cores: int = 1, *, cpu: bool = False) -> float:
    """Operations per wall-clock second (summed over ``cores`` processes), or, with ``cpu``,
    per CPU-second of the process: on a shared machine the latter is the per-core cost."""
    if cores == 1:
        n, elapsed, cpu_s = _worker((kind, seconds))
        return n / (cpu_s if cpu else elapsed)
    ctx = mp.get_context("fork")
    with ctx.Pool(cores) as pool:
        results = pool.map(_worker, [(kind, seconds)] * cores)
    return sum(n / elapsed for n, elapsed, _ in results)


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

const cpuRates = {};
async function timed(fn, seconds, name) {
  await fn();
  let n = 0; const start = process.hrtime.bigint(); const cpu0 = process.cpuUsage();
  for(;;) {
    await fn(); n++;
    const el = Number(process.hrtime.bigint() - start) / 1e9;
    if(el >= seconds) {
      const c = process.cpuUsage(cpu0);
      if(name) cpuRates[name] = n / ((c.user + c.system) / 1e6);
      return n / el;
    }
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
out.rawSign = await timed(async () => crypto.sign(null, msg, privateKey), input.seconds, 'rawSign');
out.sign = await timed(() => vc.issue({credential: structuredClone(input.credential), suite: signSuite(),
                                       documentLoader}), input.seconds, 'sign');
out.verify = await timed(async () => {
  const r = await vc.verifyCredential({credential: jsSigned, suite: verifySuite, documentLoader, checkStatus});
  if(!r.verified) throw new Error('JS verification failed: ' + why(r));
}, input.seconds, 'verify');
out.cpu = cpuRates;
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
    for label, kind in kinds:
        n, wall, cpu = _worker((kind, args.seconds))
        allc = rate(kind, args.seconds, args.cores) if args.cores > 1 else n / wall
        results[kind] = {"label": label, "one_core": n / wall, "per_cpu_second": n / cpu, "all_cores": allc}
        print(f"  {label}: {n / wall:,.0f}/s on 1 core ({n / cpu:,.0f} per CPU-second), "
              f"{allc:,.0f}/s on {args.cores}", file=sys.stderr)
    js = None if args.no_js else js_reference(args.seconds)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\nmicro-credential: {size:,} bytes signed; Python {sys.version.split()[0]}; "
          f"load average {load:.1f} at the end (the machine may be shared: 'per CPU-s' is ops per CPU-second "
          f"of the measuring process, the per-core cost whatever else runs)")
    print(f"{'measure':50} {'1 core /s':>10} {'per CPU-s':>10} {f'{args.cores} cores /s':>11} {'vs JS (CPU-s)':>14}")
    jcpu = (js or {}).get("cpu", {})
    for kind, r in results.items():
        ratio = ""
        if jcpu and kind == "di_sign":
            ratio = f"{r['per_cpu_second'] / jcpu['sign']:.1f}x"
        elif jcpu and kind == "di_verify":
            ratio = f"{r['per_cpu_second'] / jcpu['verify']:.1f}x"
        print(f"{r['label']:50} {r['one_core']:>10,.0f} {r['per_cpu_second']:>10,.0f} {r['all_cores']:>11,.0f} "
              f"{ratio:>14}")
    if js:
        print(f"{'JS reference (node --max-semi-space-size=64): sign':50} {js['sign']:>10,.0f} "
              f"{jcpu.get('sign', 0):>10,.0f} {'':>11} {'1.0x':>14}")
        print(f"{'JS reference: verify':50} {js['verify']:>10,.0f} {jcpu.get('verify', 0):>10,.0f} {'':>11} "
              f"{'1.0x':>14}")
        print(f"{'JS raw Ed25519 sign (node crypto, floor)':50} {js['rawSign']:>10,.0f} "
              f"{jcpu.get('rawSign', 0):>10,.0f}")
        print(f"wall-clock ratios: DI sign {results['di_sign']['one_core'] / js['sign']:.1f}x, "
              f"DI verify {results['di_verify']['one_core'] / js['verify']:.1f}x")
        print(f"interoperability: JS verifies the Python-signed credential: {js['jsVerifiesPython']}; "
              f"Python verifies the JS-signed one: {js['pythonVerifiesJs']}")
        if not js["jsVerifiesPython"]:
            print("  JS said: " + js.get("jsVerifiesPythonError", ""))
    targets = []
    if jcpu:
        targets.append(("DI issuance >= 3x the JS sign rate per core",
                        results["di_sign"]["per_cpu_second"] >= 3 * jcpu["sign"]))
        targets.append(("DI verification >= 1x the JS verify rate per core",
                        results["di_verify"]["per_cpu_second"] >= jcpu["verify"]))
    for kind, alg in (("jwt_eddsa_sign", "EdDSA"), ("jwt_rs256_sign", "RS256")):
        if kind in results:
            r = results[kind]
            targets.append((f"VC-JWT {alg} issuance >= 5,000/s per core (per CPU-s: {r['per_cpu_second']:,.0f}, "
                            f"wall: {r['one_core']:,.0f})", r["per_cpu_second"] >= 5000))
    for name, ok in targets:
        print(f"target {name}: {'met' if ok else 'NOT met'}")
    if args.json:
        args.json.write_text(json.dumps({"results": results, "js": {k: v for k, v in (js or {}).items()
                                                                     if k != "jsSigned"}, "bytes": size}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
