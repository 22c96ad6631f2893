"""Property-based tests (Hypothesis), one per external input: no response is ever >= 500.

Each input gets at least :data:`CASES` generated requests through one app (SQLite, shared by the
module; CSRF off so form values reach the views). The number of cases each input ran and the
number of 5xx answers are written to ``fuzz-summary.json`` in pytest's temporary folder
(``MICROCRED_FUZZ_SUMMARY`` names another path) and printed; :func:`test_the_summary_lists_every_input` checks it.
Examples are derandomized, so CI runs the same requests every time.
"""
from __future__ import annotations

import io
import json
import os
import time
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.bridges_support import COURSE_KEY, ISSUER, SigningKey, make_definition, make_platform, passing_claims
from tests.web.helpers import launch
from tests.web.module_app import module_app

CASES = int(os.environ.get("MICROCRED_FUZZ_CASES", "3000"))
INPUTS = ("lti login", "lti launch", "webhooks", "exchanges", "verify upload", "forms", "bulk csv", "query strings")
FUZZ = settings(max_examples=CASES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
COUNTS: dict[str, dict] = {}
SUMMARY: dict[str, str] = {}  # "path": where this run writes its summary

NASTY = st.sampled_from(["\x00", "%00", "NaN", "Infinity", "-1", "0", "1e308", "../../etc/passwd", "<script>x</script>",
                         "' OR 1=1--", "9" * 400, "é" * 300, "\u202e", "\ufeff", "", " ", "null", "[]", "{}",
                         "javascript:alert(1)", "https://127.0.0.1/", "a" * 5000])
TEXT = st.one_of(st.text(max_size=40), NASTY, st.text(alphabet=st.characters(max_codepoint=0x7f), max_size=20))
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | TEXT,
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3), max_leaves=8)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    import logging
    SUMMARY["path"] = os.environ.get("MICROCRED_FUZZ_SUMMARY") or str(tmp_path_factory.getbasetemp() / "fuzz-summary.json")
    if os.path.exists(SUMMARY["path"]):
        os.remove(SUMMARY["path"])  # this run's counts only
    app, services = module_app(tmp_path_factory.mktemp("fuzz"))
    app.config["WTF_CSRF_ENABLED"] = False
    # One log line per request is the product's; tens of thousands kept by pytest's capture are not.
    quiet = logging.getLogger("microcred")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    key = SigningKey()
    with services.session() as s:
        platform = make_platform(s, bridge={"openedx": {"webhook_jwks": key.jwks}, "moodle": {"webhook_jwks": key.jwks}})
        make_definition(s, services=services, platform_id=platform.id,
                        policy={"source": "openedx_webhook", "rule": "course_grade", "threshold": 70,
                                "issuance": "on_claim"})
        make_definition(s, platform_id=platform.id, context_id="2",
                        policy={"source": "moodle", "rule": "completion", "issuance": "on_claim"})
        platform_id = platform.id
    launches = {role: launch(services, [role], platform_id=platform_id, context_id=COURSE_KEY, sub=f"{role}-1")
                for role in ("instructor", "learner", "admin")}
    yield {"app": app, "services": services, "key": key, "launches": launches, "client": app.test_client()}
    quiet.setLevel(level)
    services.engine.dispose()


def _record(name: str, response) -> None:
    entry = COUNTS.setdefault(name, {"cases": 0, "responses_5xx": 0, "started": time.perf_counter()})
    entry["cases"] += 1
    if response.status_code >= 500:
        entry["responses_5xx"] += 1
    assert response.status_code < 500, (name, response.status_code, response.get_data(as_text=True)[:500])


def _finish(name: str) -> None:
    entry = COUNTS[name]
    entry["seconds"] = round(time.perf_counter() - entry.pop("started"), 1)
    path = SUMMARY["path"]
    summary = json.loads(open(path, encoding="utf-8").read()) if os.path.exists(path) else {}
    summary[name] = entry
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(summary, fh, indent=1, sort_keys=True)
    print(f"fuzz: {name}: {entry['cases']} cases, {entry['responses_5xx']} responses >= 500, {entry['seconds']} s")
    assert entry["cases"] >= CASES and entry["responses_5xx"] == 0


# ------------------------------------------------------------------------------------ the inputs
def test_lti_login(world):
    client = world["client"]

    @FUZZ
    @given(method=st.sampled_from(["GET", "POST"]), iss=st.one_of(TEXT, st.just(ISSUER)), hint=TEXT,
           target=st.one_of(TEXT, st.just("http://tool.test/lti/launch")), client_id=st.one_of(TEXT, st.just("client-1")),
           message_hint=TEXT, deployment=TEXT)
    def run(method, iss, hint, target, client_id, message_hint, deployment):
        params = {"iss": iss, "login_hint": hint, "target_link_uri": target, "client_id": client_id,
                  "lti_message_hint": message_hint, "lti_deployment_id": deployment}
        if method == "GET":
            resp = client.get("/lti/login", query_string=params)
        else:
            resp = client.post("/lti/login", data=params)
        _record("lti login", resp)
    run()
    _finish("lti login")


def test_lti_launch(world):
    client, key = world["client"], world["key"]

    @FUZZ
    @given(claims=st.one_of(JSON, st.dictionaries(st.sampled_from(["iss", "aud", "sub", "nonce", "exp", "iat",
                                                                   "https://purl.imsglobal.org/spec/lti/claim/roles",
                                                                   "https://purl.imsglobal.org/spec/lti/claim/context"]),
                                                  JSON, max_size=8)),
           raw=st.one_of(TEXT, st.just("a.b.c")), state=TEXT, signed=st.booleans(), path=st.sampled_from(["/lti/launch", "/lti/deep-link"]))
    def run(claims, raw, state, signed, path):
        token = _signed_as_is(key, claims) if signed else raw
        _record("lti launch", client.post(path, data={"id_token": token, "state": state}))
    run()
    _finish("lti launch")


def _signed_as_is(key, claims) -> str:
    """A JWS over exactly these claims (PyJWT's encode refuses a non-string iss, for instance)."""
    import jwt
    return jwt.api_jws.PyJWS().encode(json.dumps(claims).encode(), key.private, algorithm="EdDSA",
                                      headers={"kid": key.kid})


def _openedx(data):
    claims = passing_claims()
    claims["data"] = data
    return claims


def _moodle(data):
    iat = int(time.time())
    return {"iss": ISSUER, "aud": "http://tool.test/api/webhooks/moodle", "iat": iat, "exp": iat + 120,
            "jti": uuid.uuid4().hex, "event_type": "local_microcred.course_status.v1", "data": data}


USERS = st.fixed_dictionaries({"external_id": TEXT, "id": st.one_of(TEXT, st.integers()), "name": TEXT,
                               "email": TEXT, "username": TEXT})
OPENEDX_DATA = st.one_of(JSON, st.fixed_dictionaries({
    "is_passing": st.one_of(st.booleans(), JSON), "course_key": st.one_of(st.just(COURSE_KEY), TEXT), "user": st.one_of(USERS, JSON),
    "grade": st.one_of(JSON, st.fixed_dictionaries({"percent": st.one_of(st.floats(), JSON), "letter_grade": TEXT}))}))
MOODLE_DATA = st.one_of(JSON, st.fixed_dictionaries({
    "courseid": st.one_of(st.just("2"), TEXT, st.integers()), "trigger": TEXT, "user": st.one_of(USERS, JSON),
    "completion": st.one_of(JSON, st.fixed_dictionaries({"enabled": st.booleans(), "completed": st.booleans(),
                                                         "missing": st.lists(TEXT, max_size=3)})),
    "course_total": st.one_of(JSON, st.fixed_dictionaries({"grade": st.floats(), "grademin": st.floats(),
                                                           "grademax": st.floats(), "gradepass": st.floats()}))}))


def test_webhooks(world):
    client, key = world["client"], world["key"]

    @FUZZ
    @given(bridge=st.sampled_from(["openedx", "moodle"]), kind=st.sampled_from(["signed", "raw", "json"]),
           openedx=OPENEDX_DATA, moodle=MOODLE_DATA, raw=st.one_of(TEXT, st.binary(max_size=300)), body=JSON)
    def run(bridge, kind, openedx, moodle, raw, body):
        url = f"/api/webhooks/{bridge}"
        if kind == "signed":
            token = _signed_as_is(key, _openedx(openedx) if bridge == "openedx" else _moodle(moodle))
            resp = client.post(url, data=token, content_type="application/jwt")
        elif kind == "raw":
            resp = client.post(url, data=raw, content_type="application/jwt")
        else:
            resp = client.post(url, data=json.dumps({"token": body}), content_type="application/json")
        _record("webhooks", resp)
    run()
    _finish("webhooks")


def test_exchanges(world):
    client, services = world["client"], world["services"]
    from plugin.storage.models import KeyValue
    from datetime import datetime, timedelta, timezone
    exchange_id = "fuzz-exchange"
    with services.session() as s:
        s.merge(KeyValue(key=f"exchange:{exchange_id}", value={"credential": str(uuid.uuid4()), "challenge": "c"},
                         expires_at=datetime.now(timezone.utc) + timedelta(days=1)))

    @FUZZ
    @given(ident=st.one_of(st.just(exchange_id), TEXT.filter(lambda t: "/" not in t and t not in (".", ".."))),
           body=st.one_of(JSON, st.fixed_dictionaries({"verifiablePresentation": st.one_of(JSON, st.fixed_dictionaries({
               "@context": JSON, "type": JSON, "holder": TEXT, "proof": JSON}))})),
           raw=st.one_of(st.none(), st.binary(max_size=200)))
    def run(ident, body, raw):
        data = raw if raw is not None else json.dumps(body)
        _record("exchanges", client.post(f"/api/exchanges/{ident}", data=data, content_type="application/json"))
    run()
    _finish("exchanges")


@pytest.fixture(scope="module")
def credential(world):
    from plugin.issuance import service as issuance
    from tests.engine_helpers import make_world
    services = world["services"]
    made = make_world(services)
    with services.session() as s:
        row, _ = issuance.award(s, services, definition_id=made.definition_id, learner_id=made.learner_id,
                                evidence_id=made.evidence_id, display_name="Ada", actor="test")
        return row.document


def _paths(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, prefix + (i,))


def test_verify_upload(world, credential):
    client = world["client"]
    paths = [p for p in _paths(credential) if p]

    @FUZZ
    @given(where=st.sampled_from(paths), value=JSON, keep_proof=st.booleans(), raw=st.one_of(st.none(), st.binary(max_size=300), TEXT),
           how=st.sampled_from(["page-file", "page-text", "api"]))
    def run(where, value, keep_proof, raw, how):
        if raw is None:
            doc = json.loads(json.dumps(credential))
            target = doc
            for part in where[:-1]:
                target = target[part]
            target[where[-1]] = value
            if not keep_proof:
                doc.pop("proof", None)
            data = json.dumps(doc).encode()
        else:
            data = raw if isinstance(raw, bytes) else raw.encode("utf-8", "surrogatepass")
        if how == "page-file":
            resp = client.post("/verify", data={"file": (io.BytesIO(data), "c.json")}, content_type="multipart/form-data")
        elif how == "page-text":
            resp = client.post("/verify", data={"text": data.decode("utf-8", "replace")})
        else:
            resp = client.post("/api/verify", data=data, content_type="application/octet-stream")
        _record("verify upload", resp)
    run()
    _finish("verify upload")


FORM_FIELDS = ["title", "description", "learning_outcomes-0-text", "learning_outcomes-0-esco_uri", "criteria",
               "workload_hours", "ects_credits", "eqf_level", "qf_ehea_cycle", "field_of_study", "languages",
               "assessment_kind", "participation", "supervision", "pass_mark", "validity_months",
               "further_information_url", "issuer", "policy_source", "policy_rule", "policy_threshold",
               "policy_issuance", "labels", "action"]


def test_forms(world):
    client, launches = world["client"], world["launches"]
    lid = launches["instructor"]
    forms = [("/instructor/definition", FORM_FIELDS), ("/instructor/issued/x/revoke", ["reason"]),
             ("/admin/issuers/new", ["slug", "legal_name", "url", "country_code", "email"]),
             ("/learner/", ["launch"]), ("/admin/login", ["username", "password", "next"])]

    @FUZZ
    @given(which=st.sampled_from(forms), values=st.lists(TEXT, min_size=24, max_size=24), role=st.sampled_from(list(launches)))
    def run(which, values, role):
        path, fields = which
        data = dict(zip(fields, values))
        data["launch"] = launches[role]
        _record("forms", client.post(f"{path}?launch={launches[role]}", data=data))
    run()
    _finish("forms")


def test_bulk_csv(world):
    client, lid = world["client"], world["launches"]["instructor"]

    @FUZZ
    @given(header=st.one_of(st.just("email,sub,name"), TEXT), rows=st.lists(st.lists(TEXT, max_size=4), max_size=5),
           raw=st.one_of(st.none(), st.binary(max_size=400)), delimiter=st.sampled_from([",", ";", "\t", "|"]))
    def run(header, rows, raw, delimiter):
        body = raw if raw is not None else (header + "\n" + "\n".join(delimiter.join(r) for r in rows)).encode(
            "utf-8", "surrogatepass")
        resp = client.post(f"/instructor/bulk?launch={lid}", data={"launch": lid, "file": (io.BytesIO(body), "x.csv")},
                           content_type="multipart/form-data")
        _record("bulk csv", resp)
    run()
    _finish("bulk csv")


def test_query_strings(world):
    app, client, launches = world["app"], world["client"], world["launches"]
    paths = sorted({rule.rule for rule in app.url_map.iter_rules()
                    if "GET" in rule.methods and not rule.arguments and rule.endpoint != "static"
                    and not rule.endpoint.startswith("health.")})
    keys = st.sampled_from(["launch", "q", "page", "per_page", "status", "lang", "ref", "format", "next", "iss",
                            "sort", "x"])

    @FUZZ
    @given(path=st.sampled_from(paths), params=st.dictionaries(keys, TEXT, max_size=4),
           role=st.sampled_from([None, *launches]))
    def run(path, params, role):
        if role and "launch" not in params:
            params["launch"] = launches[role]
        _record("query strings", client.get(path, query_string=params))
    run()
    _finish("query strings")


def test_the_summary_lists_every_input(world):
    with open(SUMMARY["path"], encoding="utf-8") as fh:
        summary = json.load(fh)
    missing = [name for name in INPUTS if summary.get(name, {}).get("cases", 0) < CASES]
    assert not missing, f"inputs not fuzzed {CASES} times in this run: {missing}"
    assert sum(entry["responses_5xx"] for entry in summary.values()) == 0
    print(f"fuzz summary ({SUMMARY['path']}): " + ", ".join(f"{n} {summary[n]['cases']}" for n in INPUTS))
