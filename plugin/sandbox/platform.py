"""The sandbox platform: state (users, course, links, line items, tokens) and its Flask app."""
from __future__ import annotations

import html
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import jwt
import requests
from flask import Flask, Response, abort, jsonify, request
from jwcrypto.jwk import JWK

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
]
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
ALL_SCOPES = AGS_SCOPES + [NRPS_SCOPE]
WEBHOOK_PATH = "/api/webhooks/openedx"
ROLE_URIS = {
    "instructor": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",
                   "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Faculty"],
    "learner": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",
                "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student"],
    "admin": ["http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator",
              "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"],
}


@dataclass
class SandboxConfig:
    base_url: str = "http://127.0.0.1:5001"
    tool_base_url: str = "http://127.0.0.1:5000"
    client_id: str = "microcred-sandbox"
    deployment_id: str = "1"
    granted_scopes: list[str] | None = None  # None: grant every scope asked for
    token_ttl: int = 3600
    page_size: int = 2  # NRPS / line item pages, small so pagination is exercised
    share_pii: bool = True
    key_file: Path | None = None
    # The key signing the course-passing webhooks the sandbox sends when a learner passes
    # (as the microcred Open edX plugin would); kept beside the platform key across runs.
    webhook_key_file: Path | None = None
    # Where the links the instructor added by deep linking are kept, so that they are still
    # in the course when the demo restarts (None: in memory only, as the headless demo wants).
    links_file: Path | None = None
    # The platform's LTI issuer; default: its base URL. The headless demo listens on a free
    # port each run but keeps one issuer, so the tool keeps one registration for it.
    issuer: str | None = None
    course_id: str = "sandbox-course-1"
    course_title: str = "Sandbox course: Data literacy"
    # What the platform calls itself (its page title and its registration's name).
    name: str = "microcred sandbox platform"
    users: dict = field(default_factory=lambda: {
        "sandbox-instructor": {"name": "Ada Lovelace", "given_name": "Ada", "family_name": "Lovelace",
                               "email": "ada@sandbox.invalid", "role": "instructor"},
        "sandbox-learner-1": {"name": "Grace Hopper", "given_name": "Grace", "family_name": "Hopper",
                              "email": "grace@sandbox.invalid", "role": "learner"},
        "sandbox-learner-2": {"name": "Alan Turing", "given_name": "Alan", "family_name": "Turing",
                              "email": "alan@sandbox.invalid", "role": "learner"},
        "sandbox-learner-3": {"name": "Katherine Johnson", "given_name": "Katherine", "family_name": "Johnson",
                              "email": "katherine@sandbox.invalid", "role": "learner"},
        "sandbox-admin": {"name": "Sam Admin", "given_name": "Sam", "family_name": "Admin",
                          "email": "admin@sandbox.invalid", "role": "admin"},
    })


class SandboxError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class SandboxPlatform:
    """Everything the platform knows, in memory (thread-safe)."""

    def __init__(self, config: SandboxConfig | None = None):
        self.config = config or SandboxConfig()
        self.base = self.config.base_url.rstrip("/")
        self.tool = self.config.tool_base_url.rstrip("/")
        self.key = self._load_key()
        self.kid = self.key.thumbprint()
        # Where server-to-server calls reach the tool (its JWKS, the webhook); the demo
        # points it at the loopback port when the tool's public URL differs.
        self.tool_local = self.tool
        self.webhook_key = self._load_webhook_key()
        self.private_pem = self.key.export_to_pem(private_key=True, password=None)
        self.lock = threading.RLock()
        self.course = {"id": self.config.course_id, "title": self.config.course_title, "label": "DATA101"}
        self.links: dict[str, dict] = {
            "sandbox-link-1": {"title": "microcred (default link)", "url": self.tool + "/lti/launch", "custom": {}},
        }
        self.links.update(self._load_links())
        self.line_items: dict[str, dict] = {}
        self.scores: dict[str, list[dict]] = {}
        self.tokens: dict[str, dict] = {}
        self.used_jti: set[str] = set()
        self.deep_link_data: dict[str, dict] = {}
        self.events: list[dict] = []  # what happened (tests and the demo page read it)
        self.passing: dict[str, dict] = {}  # learners the course marked as passing, and the tool's answer

    # ------------------------------------------------------------------ keys and registration
    def _load_key(self) -> JWK:
        path = self.config.key_file
        if path and Path(path).exists():
            return JWK.from_pem(Path(path).read_bytes())
        key = JWK.generate(kty="RSA", size=2048)
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_bytes(key.export_to_pem(private_key=True, password=None))
            Path(path).chmod(0o600)
        return key

    def _load_webhook_key(self):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
        path = self.config.webhook_key_file
        if path and Path(path).exists():
            return serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
        key = ed25519.Ed25519PrivateKey.generate()
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption()))
            Path(path).chmod(0o600)
        return key

    def webhook_public_pem(self) -> str:
        """The webhook key an administrator registers in the tool (``microcred bridge set``)."""
        from cryptography.hazmat.primitives import serialization
        return self.webhook_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")

    @property
    def webhook_url(self) -> str:
        """The tool's webhook as the platform addresses it (the token's audience)."""
        return self.tool + WEBHOOK_PATH

    @property
    def issuer(self) -> str:
        return (self.config.issuer or self.base).rstrip("/")

    def jwks(self) -> dict:
        public = self.key.export_public(as_dict=True)
        public.update(kid=self.kid, alg="RS256", use="sig")
        return {"keys": [public]}

    def registration(self) -> dict:
        """What ``microcred platform add`` needs to register this platform."""
        return {"issuer": self.issuer, "client_id": self.config.client_id,
                "deployment_id": self.config.deployment_id,
                "auth_login_url": self.base + "/auth", "auth_token_url": self.base + "/token",
                "key_set_url": self.base + "/jwks", "name": self.config.name, "product": "sandbox"}

    def sign(self, claims: dict, *, headers: dict | None = None, key_pem: bytes | None = None) -> str:
        """Sign claims as this platform (tests use it to craft id_tokens)."""
        hdr = {"kid": self.kid}
        if headers is not None:
            hdr = headers
        return jwt.encode(claims, key_pem or self.private_pem, algorithm="RS256", headers=hdr)

    # ------------------------------------------------------------------ launches
    def login_initiation_url(self, user: str, *, link: str | None = None, deep_link: bool = False) -> str:
        if user not in self.config.users:
            raise SandboxError(404, f"unknown sandbox user {user!r}")
        hint = {"deep_link": True} if deep_link else {"link": link or "sandbox-link-1"}
        target = self.tool + ("/lti/deep-link" if deep_link else "/lti/launch")
        params = {"iss": self.issuer, "login_hint": user, "target_link_uri": target,
                  "lti_message_hint": json.dumps(hint), "client_id": self.config.client_id,
                  "lti_deployment_id": self.config.deployment_id}
        return self.tool + "/lti/login?" + urlencode(params)

    def launch_claims(self, user: str, *, nonce: str, hint: dict) -> dict:
        u = self.config.users[user]
        now = int(time.time())
        claims = {
            "iss": self.issuer, "aud": self.config.client_id, "azp": self.config.client_id,
            "sub": user, "iat": now, "exp": now + 300, "nonce": nonce,
            LTI + "version": "1.3.0", LTI + "deployment_id": self.config.deployment_id,
            LTI + "roles": ROLE_URIS[u["role"]],
            LTI + "context": {"id": self.course["id"], "title": self.course["title"], "label": self.course["label"],
                              "type": ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"]},
            LTI + "tool_platform": {"guid": "sandbox-" + self.config.client_id, "name": "microcred sandbox",
                                    "product_family_code": "microcred-sandbox"},
            LTI + "launch_presentation": {"document_target": "iframe", "locale": "en"},
            "locale": "en",
            "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
                "context_memberships_url": self.base + "/api/memberships", "service_versions": ["2.0"]},
        }
        if self.config.share_pii:
            claims.update({k: u[k] for k in ("name", "given_name", "family_name", "email")})
        ags = {"scope": AGS_SCOPES, "lineitems": self.base + "/api/lineitems"}
        if hint.get("deep_link"):
            data = "dl-" + secrets.token_hex(8)
            with self.lock:
                self.deep_link_data[data] = {"user": user, "at": now}
            claims.update({
                LTI + "message_type": "LtiDeepLinkingRequest",
                LTI + "target_link_uri": self.tool + "/lti/deep-link",
                "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings": {
                    "deep_link_return_url": self.base + "/deep-link-return",
                    "accept_types": ["ltiResourceLink"],
                    "accept_presentation_document_targets": ["iframe", "window"],
                    "accept_multiple": False, "auto_create": True,
                    "title": "microcred", "data": data},
            })
        else:
            link_id = hint.get("link") or "sandbox-link-1"
            with self.lock:
                link = self.links.get(link_id)
            if link is None:
                raise SandboxError(404, f"unknown resource link {link_id!r}")
            claims.update({
                LTI + "message_type": "LtiResourceLinkRequest",
                LTI + "target_link_uri": link["url"],
                LTI + "resource_link": {"id": link_id, "title": link["title"]},
            })
            if link.get("custom"):
                claims[LTI + "custom"] = dict(link["custom"])
            if link.get("lineitem"):
                ags["lineitem"] = self.base + "/api/lineitems/" + link["lineitem"]
        claims["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"] = ags
        return claims

    def authorize(self, params: dict) -> tuple[str, dict]:
        """The OIDC authorization endpoint: returns (redirect_uri, form fields)."""
        def need(name, expected=None):
            value = params.get(name)
            if not value:
                raise SandboxError(400, f"authorization request without {name}")
            if expected is not None and value != expected:
                raise SandboxError(400, f"authorization request: {name} must be {expected!r}, got {value!r}")
            return value
        need("scope", "openid")
        need("response_type", "id_token")
        need("response_mode", "form_post")
        need("prompt", "none")
        need("client_id", self.config.client_id)
        redirect_uri = need("redirect_uri")
        if redirect_uri not in (self.tool + "/lti/launch", self.tool + "/lti/deep-link"):
            raise SandboxError(400, f"redirect_uri {redirect_uri!r} is not registered for this tool")
        nonce = need("nonce")
        state = need("state")
        user = need("login_hint")
        if user not in self.config.users:
            raise SandboxError(400, f"unknown login_hint {user!r}")
        try:
            hint = json.loads(params.get("lti_message_hint") or "{}")
        except ValueError:
            raise SandboxError(400, "lti_message_hint is not JSON") from None
        token = self.sign(self.launch_claims(user, nonce=nonce, hint=hint if isinstance(hint, dict) else {}))
        self.events.append({"event": "launch", "user": user, "hint": hint})
        return redirect_uri, {"id_token": token, "state": state}

    # ------------------------------------------------------------------ OAuth2 and services
    def tool_jwks(self) -> dict:
        r = requests.get(self.tool_local + "/lti/jwks", timeout=10)
        r.raise_for_status()
        return r.json()

    def verify_tool_jwt(self, token: str, *, audience: str | None = None) -> dict:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise SandboxError(400, "not a JWT") from None
        for key in self.tool_jwks().get("keys", []):
            if key.get("kid") == header.get("kid"):
                pem = JWK(**key).export_to_pem()
                try:
                    return jwt.decode(token, pem, algorithms=["RS256"], audience=audience,
                                      options={"verify_aud": audience is not None, "require": ["exp", "iat"]})
                except jwt.InvalidTokenError as exc:
                    raise SandboxError(401, f"tool JWT rejected: {exc}") from None
        raise SandboxError(401, "tool JWT signed with a key that is not in the tool's JWKS")

    def issue_token(self, form: dict) -> dict:
        if form.get("grant_type") != "client_credentials":
            raise SandboxError(400, "unsupported_grant_type")
        if form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            raise SandboxError(400, "invalid_client: client_assertion_type")
        claims = self.verify_tool_jwt(form.get("client_assertion") or "", audience=self.base + "/token")
        if claims.get("iss") != self.config.client_id or claims.get("sub") != self.config.client_id:
            raise SandboxError(401, "invalid_client: iss/sub must be the client id")
        jti = claims.get("jti")
        with self.lock:
            if not jti or jti in self.used_jti:
                raise SandboxError(401, "invalid_client: jti missing or reused")
            self.used_jti.add(jti)
        asked = [s for s in (form.get("scope") or "").split() if s in ALL_SCOPES]
        allowed = self.config.granted_scopes
        granted = [s for s in asked if allowed is None or s in allowed]
        if not granted:
            raise SandboxError(400, "invalid_scope")
        token = secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[token] = {"scopes": granted, "exp": time.time() + self.config.token_ttl}
        self.events.append({"event": "token", "scopes": granted})
        return {"access_token": token, "token_type": "Bearer", "expires_in": self.config.token_ttl,
                "scope": " ".join(granted)}

    def check_bearer(self, header: str | None, *any_of: str) -> None:
        if not header or not header.startswith("Bearer "):
            raise SandboxError(401, "missing bearer token")
        with self.lock:
            info = self.tokens.get(header[7:])
        if info is None or info["exp"] < time.time():
            raise SandboxError(401, "unknown or expired token")
        if not set(any_of) & set(info["scopes"]):
            raise SandboxError(403, f"token lacks scope {' or '.join(any_of)}")

    def add_line_item(self, item: dict) -> dict:
        if not isinstance(item, dict) or not item.get("label") or not isinstance(item.get("scoreMaximum"), (int, float)):
            raise SandboxError(400, "a line item needs label and numeric scoreMaximum")
        with self.lock:
            item_id = str(len(self.line_items) + 1)
            stored = {k: item[k] for k in ("label", "scoreMaximum", "tag", "resourceId", "resourceLinkId") if k in item}
            stored["id"] = self.base + "/api/lineitems/" + item_id
            self.line_items[item_id] = stored
            self.scores[item_id] = []
        return stored

    def add_score(self, item_id: str, score: dict) -> None:
        with self.lock:
            if item_id not in self.line_items:
                raise SandboxError(404, "no such line item")
            if not isinstance(score, dict) or score.get("userId") not in self.config.users:
                raise SandboxError(400, "score for an unknown userId")
            for name in ("activityProgress", "gradingProgress", "timestamp"):
                if not score.get(name):
                    raise SandboxError(400, f"score without {name}")
            self.scores[item_id] = [s for s in self.scores[item_id] if s["userId"] != score["userId"]] + [score]

    def results(self, item_id: str, user_id: str | None = None) -> list[dict]:
        with self.lock:
            if item_id not in self.line_items:
                raise SandboxError(404, "no such line item")
            item = self.line_items[item_id]
            out = []
            for s in self.scores[item_id]:
                if user_id and s["userId"] != user_id:
                    continue
                out.append({"id": f"{item['id']}/results/{s['userId']}", "scoreOf": item["id"],
                            "userId": s["userId"], "resultScore": s.get("scoreGiven"),
                            "resultMaximum": s.get("scoreMaximum"), "comment": s.get("comment")})
            return out

    def pass_learner(self, user: str, *, percent: float = 0.82, letter_grade: str = "Pass") -> dict:
        """The course marks ``user`` as passing: send the signed course-passing webhook to the tool.

        Exactly what the microcred Open edX plugin sends on ``COURSE_PASSING_STATUS_UPDATED``
        (:mod:`plugin.sandbox.openedx_webhook`): issuer = this platform, audience = the tool's
        webhook URL, the learner's LTI ``sub`` as external id. Returns the recorded event with
        the tool's HTTP status and answer.
        """
        from plugin.sandbox.openedx_webhook import passing_token
        u = self.config.users.get(user)
        if u is None or u["role"] != "learner":
            raise SandboxError(400, f"{user!r} is not a learner of the sandbox course")
        if not 0 <= percent <= 1:
            raise SandboxError(400, "the grade must be between 0 and 1")
        token = passing_token(self.webhook_key, issuer=self.issuer, audience=self.webhook_url,
                              course_key=self.course["id"], external_id=user, username=user, percent=percent,
                              letter_grade=letter_grade)
        event: dict = {"event": "pass", "user": user, "percent": percent, "status": None, "response": None}
        try:
            r = requests.post(self.tool_local + WEBHOOK_PATH, data=token, timeout=60,
                              headers={"Content-Type": "application/jwt", "Accept": "application/json"})
            event["status"] = r.status_code
            try:
                event["response"] = r.json()
            except ValueError:
                event["response"] = {"message": r.text[:300]}
        except requests.RequestException as exc:
            event["response"] = {"message": f"the tool is unreachable: {type(exc).__name__}"}
        with self.lock:
            self.passing[user] = event
        self.events.append(event)
        return event

    def members(self) -> list[dict]:
        out = []
        for sub, u in self.config.users.items():
            m = {"user_id": sub, "status": "Active", "roles": ROLE_URIS[u["role"]][:1]}
            if self.config.share_pii:
                m.update({k: u[k] for k in ("name", "given_name", "family_name", "email")})
            out.append(m)
        return out

    def _load_links(self) -> dict[str, dict]:
        """Deep-linked items saved by an earlier run, re-pointed at this run's tool URL."""
        path = self.config.links_file
        if not path or not Path(path).exists():
            return {}
        try:
            saved = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        links = {}
        for link_id, link in (saved if isinstance(saved, dict) else {}).items():
            if isinstance(link, dict) and link_id.startswith("sandbox-link-"):
                path_part = str(link.get("path") or "/lti/launch")
                links[link_id] = {"title": str(link.get("title") or "microcred"), "url": self.tool + path_part,
                                  "custom": dict(link.get("custom") or {})}
        return links

    def _save_links(self) -> None:
        path = self.config.links_file
        if not path:
            return
        saved = {link_id: {"title": link["title"], "path": link["url"][len(self.tool):],
                           "custom": link["custom"]}
                 for link_id, link in self.links.items() if link_id != "sandbox-link-1"}
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(str(path) + ".tmp")
        tmp.write_text(json.dumps(saved, indent=1), encoding="utf-8")
        tmp.replace(path)

    def accept_deep_link(self, token: str) -> list[dict]:
        claims = self.verify_tool_jwt(token, audience=self.issuer)
        if claims.get("iss") != self.config.client_id:
            raise SandboxError(400, "deep-linking response iss must be the client id")
        if claims.get(LTI + "message_type") != "LtiDeepLinkingResponse":
            raise SandboxError(400, "not an LtiDeepLinkingResponse")
        if claims.get(LTI + "version") != "1.3.0":
            raise SandboxError(400, "deep-linking response without LTI version 1.3.0")
        if claims.get(LTI + "deployment_id") != self.config.deployment_id:
            raise SandboxError(400, "deep-linking response for another deployment")
        if not claims.get("nonce"):
            raise SandboxError(400, "deep-linking response without nonce")
        data = claims.get("https://purl.imsglobal.org/spec/lti-dl/claim/data")
        with self.lock:
            if data not in self.deep_link_data:
                raise SandboxError(400, "deep-linking response data does not match a request")
            del self.deep_link_data[data]
        items = claims.get("https://purl.imsglobal.org/spec/lti-dl/claim/content_items") or []
        created = []
        for item in items:
            if item.get("type") != "ltiResourceLink":
                raise SandboxError(400, f"unsupported content item type {item.get('type')!r}")
            url = item.get("url") or self.tool + "/lti/launch"
            if not url.startswith(self.tool + "/"):
                raise SandboxError(400, "content item URL is not on the tool's domain")
            with self.lock:
                link_id = "sandbox-link-" + uuid.uuid4().hex[:8]
                self.links[link_id] = {"title": item.get("title") or "microcred", "url": url,
                                       "custom": dict(item.get("custom") or {})}
            created.append({"id": link_id, **self.links[link_id]})
        with self.lock:
            self._save_links()
        self.events.append({"event": "deep_link", "items": created})
        return created


# ---------------------------------------------------------------------- Flask app
def _pass_summary(event: dict) -> str:
    """The tool's answer to a pass webhook, in a few words."""
    body = event.get("response") or {}
    if event.get("status") == 200:
        if not body.get("results"):
            return "accepted (no credential of this course listens to this platform's passes yet)"
        from plugin.sandbox.story import not_issued_message  # pass kept, issuing failed: say why
        return "; ".join(not_issued_message(r) or {
            "issued": "credential issued", "already_issued": "credential already issued",
            "ready_to_claim": "ready to claim", "disabled": "pass recorded; the credential is not enabled yet",
            "not_passed": "not passed"}.get(r.get("action"), str(r.get("action"))) for r in body.get("results") or [])
    return f"HTTP {event.get('status') or 'unreachable'}: {body.get('message') or body.get('error') or ''}".strip()


def _page(title: str, body: str) -> Response:
    return Response(f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
                    "<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
                    "iframe{width:100%;height:32rem;border:1px solid #888}</style></head>"
                    f"<body><h1>{html.escape(title)}</h1>{body}</body></html>", mimetype="text/html")


def create_sandbox_app(platform: SandboxPlatform) -> Flask:
    app = Flask("microcred_sandbox")
    app.extensions["sandbox"] = platform

    def paged(items: list, media_type: str, wrap=None):
        try:
            page = max(0, int(request.args.get("page", "0")))
            limit = int(request.args.get("limit") or platform.config.page_size)
        except ValueError:
            abort(400)
        limit = max(1, min(limit, 100))
        chunk = items[page * limit:(page + 1) * limit]
        resp = jsonify(wrap(chunk) if wrap else chunk)
        resp.mimetype = media_type
        if (page + 1) * limit < len(items):
            args = request.args.to_dict()
            args.update(page=str(page + 1), limit=str(limit))
            resp.headers["Link"] = f'<{platform.base}{request.path}?{urlencode(args)}>; rel="next"'
        return resp

    @app.errorhandler(SandboxError)
    def _error(exc: SandboxError):
        if request.path in ("/token",) or request.path.startswith("/api/"):
            return jsonify({"error": exc.message}), exc.status
        return _page("Sandbox platform: error", f"<p>{html.escape(exc.message)}</p>"), exc.status

    @app.get("/")
    def home():
        rows = []
        with platform.lock:
            links = dict(platform.links)
        for sub, u in platform.config.users.items():
            if u["role"] == "instructor":
                rows.append(f'<li><a href="/start?user={sub}&amp;deep_link=1">{html.escape(u["name"])} '
                            f'(instructor): add microcred to the course (deep linking)</a></li>')
            for link_id, link in links.items():
                rows.append(f'<li><a href="/start?user={sub}&amp;link={link_id}">{html.escape(u["name"])} '
                            f'({u["role"]}): open “{html.escape(link["title"])}”</a></li>')
        passes = []
        with platform.lock:
            passing = dict(platform.passing)
        for sub, u in platform.config.users.items():
            if u["role"] != "learner":
                continue
            done = passing.get(sub)
            state = f" — passing; the tool answered: {html.escape(_pass_summary(done))}" if done else ""
            passes.append(f'<li><form method="post" action="/pass" style="display:inline">'
                          f'<input type="hidden" name="user" value="{sub}">'
                          f'<button type="submit">{html.escape(u["name"])} passes the course (82 %)</button>'
                          f"</form>{state}</li>")
        pass_block = ("<h2>Grades</h2><p>Marking a learner as passing sends the signed course-passing webhook "
                      f"to <code>{html.escape(platform.webhook_url)}</code>, exactly as the microcred Open edX "
                      f"plugin does.</p><ul>{''.join(passes)}</ul>")
        body = (f"<p>Issuer <code>{platform.issuer}</code>, client id <code>{platform.config.client_id}</code>, "
                f"deployment <code>{platform.config.deployment_id}</code>. "
                f"Course <strong>{html.escape(platform.course['title'])}</strong>.</p>"
                f"<p>Launches open below, inside an iframe, as in a real LMS.</p><ul>{''.join(rows)}</ul>"
                f"{pass_block}"
                "<iframe name=\"tool\" title=\"microcred tool\" src=\"about:blank\"></iframe>"
                "<script>for(const a of document.querySelectorAll('a[href^=\"/start\"]'))a.target='tool';</script>")
        return _page(platform.config.name, body)

    @app.post("/pass")
    def mark_passing():
        user = request.form.get("user", "")
        try:
            percent = float(request.form.get("percent") or 0.82)
        except ValueError:
            raise SandboxError(400, "the grade must be a number between 0 and 1") from None
        event = platform.pass_learner(user, percent=percent)
        name = platform.config.users[user]["name"]
        if request.accept_mimetypes.best == "application/json":
            return jsonify(event)
        return _page("Sandbox platform: learner passed",
                     f"<p>{html.escape(name)} is marked as passing ({percent:.0%}). The platform sent the signed "
                     f"course-passing webhook; the tool answered: <strong>{html.escape(_pass_summary(event))}"
                     "</strong>.</p><p><a href=\"/\">Back to the course</a></p>")

    @app.get("/start")
    def start():
        user = request.args.get("user", "")
        url = platform.login_initiation_url(user, link=request.args.get("link"),
                                            deep_link=bool(request.args.get("deep_link")))
        return Response(status=302, headers={"Location": url})

    @app.route("/auth", methods=["GET", "POST"])
    def auth():
        redirect_uri, fields = platform.authorize(request.values.to_dict())
        inputs = "".join(f'<input type="hidden" name="{k}" value="{html.escape(v, quote=True)}">' for k, v in fields.items())
        return Response("<!doctype html><html><body>"
                        f'<form id="f" method="post" action="{html.escape(redirect_uri, quote=True)}">{inputs}'
                        '<noscript><button>Continue</button></noscript></form>'
                        "<script>document.getElementById('f').submit()</script></body></html>", mimetype="text/html")

    @app.get("/jwks")
    def jwks():
        return jsonify(platform.jwks())

    @app.post("/token")
    def token():
        return jsonify(platform.issue_token(request.form.to_dict()))

    @app.route("/api/lineitems", methods=["GET", "POST"])
    def lineitems():
        if request.method == "POST":
            platform.check_bearer(request.headers.get("Authorization"), AGS_SCOPES[0])
            item = platform.add_line_item(request.get_json(force=True, silent=True))
            resp = jsonify(item)
            resp.mimetype = "application/vnd.ims.lis.v2.lineitem+json"
            return resp, 201
        platform.check_bearer(request.headers.get("Authorization"), AGS_SCOPES[0], AGS_SCOPES[1])
        with platform.lock:
            items = list(platform.line_items.values())
        for arg, key in (("tag", "tag"), ("resource_id", "resourceId"), ("resource_link_id", "resourceLinkId")):
            if request.args.get(arg):
                items = [i for i in items if i.get(key) == request.args[arg]]
        return paged(items, "application/vnd.ims.lis.v2.lineitemcontainer+json")

    @app.get("/api/lineitems/<item_id>")
    def lineitem(item_id):
        platform.check_bearer(request.headers.get("Authorization"), AGS_SCOPES[0], AGS_SCOPES[1])
        with platform.lock:
            item = platform.line_items.get(item_id)
        if item is None:
            raise SandboxError(404, "no such line item")
        resp = jsonify(item)
        resp.mimetype = "application/vnd.ims.lis.v2.lineitem+json"
        return resp

    @app.post("/api/lineitems/<item_id>/scores")
    def scores(item_id):
        platform.check_bearer(request.headers.get("Authorization"), AGS_SCOPES[3])
        if request.mimetype != "application/vnd.ims.lis.v1.score+json":
            raise SandboxError(415, "scores must be application/vnd.ims.lis.v1.score+json")
        platform.add_score(item_id, request.get_json(force=True, silent=True))
        return "", 204

    @app.get("/api/lineitems/<item_id>/results")
    def results(item_id):
        platform.check_bearer(request.headers.get("Authorization"), AGS_SCOPES[2])
        return paged(platform.results(item_id, request.args.get("user_id")),
                     "application/vnd.ims.lis.v2.resultcontainer+json")

    @app.get("/api/memberships")
    def memberships():
        platform.check_bearer(request.headers.get("Authorization"), NRPS_SCOPE)
        context = {"id": platform.course["id"], "title": platform.course["title"], "label": platform.course["label"]}
        return paged(platform.members(), "application/vnd.ims.lti-nrps.v2.membershipcontainer+json",
                     wrap=lambda chunk: {"id": platform.base + "/api/memberships", "context": context,
                                         "members": chunk})

    @app.post("/deep-link-return")
    def deep_link_return():
        created = platform.accept_deep_link(request.form.get("JWT", ""))
        items = "".join(f'<li>{html.escape(c["title"])} (<code>{c["id"]}</code>) — '
                        f'<a href="/start?user=sandbox-instructor&amp;link={c["id"]}">open as instructor</a></li>'
                        for c in created)
        return _page("Sandbox platform: link added", f"<p>The tool added:</p><ul>{items}</ul>"
                     '<p><a href="/" target="_top">Back to the course</a></p>')

    return app
