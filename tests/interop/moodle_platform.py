"""A Moodle 4.x site's LTI 1.3 endpoints, on 127.0.0.1 in a thread, for the interoperability tests.

Moodle cannot run here, so this reproduces what ``mod/lti`` sends and accepts, field by field
(``openid-configuration.php``, ``openid-registration.php`` with ``registration_helper``'s
``registration_to_config``/``config_to_registration``, ``auth.php``, ``certs.php``,
``token.php``, the gradebook and memberships services, ``contentitem_return.php``), signed
with a real RSA platform key. Moodle's particular shapes are kept on purpose:

* ``iss`` is the site root (no path), ``aud`` a plain string, ``exp`` 60 seconds after ``iat``;
* ``login_hint`` is the numeric user id, ``lti_message_hint`` a small JSON
  (``{"cmid": 5, "launchid": "ltilaunch5_..."}``), the login initiation is an auto-posted form
  carrying ``client_id`` and ``lti_deployment_id``;
* ``deployment_id`` is the tool type id, as a string;
* the claim set includes ``…/claim/ext`` (``user_username``, ``lms``), ``…/claim/lis``,
  ``…/lti-bo/claim/basicoutcome``, ``…/claim/tool_platform`` and custom parameters;
* ``openid-configuration.php`` lists ``messages_supported`` as plain strings;
* the registration reply's ``scope`` follows the type's grade-sync setting; with "grade sync
  only" (``gradesync=1``) launches and tokens offer ``lineitem.readonly`` but not ``lineitem``;
* services URLs carry ``?type_id=N``, so ``/scores`` and ``/results`` go before the query;
* the access token is opaque (not a JWT) and lives one hour;
* a dynamically registered tool "accepts grades as specified in the deep-linking definition"
  (``lti_acceptgrades`` = delegate): ``contentitem_return.php`` gives the new activity a grade
  item only when the content item carries a ``lineItem`` (its ``scoreMaximum`` becomes the
  activity's maximum grade); otherwise ``grade=0`` and launches carry ``lineitems`` but no
  ``lineitem`` (``lti_tool_configuration_from_content_item``, 4.3);
* with the tool's privacy settings at "Never" (``sendname``/``sendemailaddr`` = 0) launches
  carry no ``name``/``given_name``/``family_name``, no ``email`` and no ``ext.user_username``
  (``lti_build_request``); the user's language is only in ``launch_presentation.locale``
  (``lti_build_standard_message``: ``current_language()``), never in a ``locale`` claim.
"""
from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_RESULT = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_LINEITEM_RO = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
SCOPE_TOOL_SETTING = "https://purl.imsglobal.org/spec/lti-ts/scope/toolsetting"
SCOPE_BASIC_OUTCOME = "https://purl.imsglobal.org/spec/lti-bo/scope/basicoutcome"
RELEASE = "4.4.3 (Build: 20240902)"
VERSION = "2024042203.00"
ROLE_INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
ROLE_LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
ROLE_SITE_ADMIN = ["http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator",
                   "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator"]


@dataclass
class User:
    id: int
    username: str
    firstname: str
    lastname: str
    email: str
    teacher: bool = False
    site_admin: bool = False
    lang: str = "en"


@dataclass
class ToolType:
    id: int
    clientid: str
    name: str
    toolurl: str
    tooldomain: str
    initiatelogin: str
    redirectionuris: list[str]
    publickeyset: str
    contentitem: bool
    contentitem_url: str
    gradesync: int  # 0 none, 1 "grade sync only", 2 "grade sync and column management"
    memberships: int
    toolsettings: int
    sendname: bool
    sendemail: bool
    customparameters: dict[str, str]
    description: str = ""
    state: str = "pending"  # Moodle 4.x: an admin activates a dynamically registered tool
    # lti_acceptgrades: "never", "delegate" ("as specified in Deep Linking definition or
    # delegate to teacher", what Dynamic Registration sets when grade sync is on) or "always".
    acceptgrades: str = "delegate"


@dataclass
class Activity:
    cmid: int
    instance: int
    typeid: int
    name: str
    toolurl: str
    custom: dict[str, str] = field(default_factory=dict)
    lineitem_id: int | None = None


@dataclass
class LineItem:
    id: int
    typeid: int
    label: str
    score_maximum: float
    resource_id: str = ""
    tag: str = ""
    resource_link_id: str = ""
    results: dict[str, dict] = field(default_factory=dict)


class MoodleSite:
    """One Moodle site with one course (id 2, "MC101"), a teacher (3) and two students (4, 5)."""

    course_id = 2
    course_shortname = "MC101"
    course_fullname = "Micro-credentials 101"

    def __init__(self, *, services: tuple[str, ...] = ("gradebookservices", "memberships", "basicoutcomes",
                                                          "toolsettings")):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = secrets.token_hex(10)
        self.site_services = services
        self.users = {
            2: User(2, "admin", "Admin", "User", "admin@moodle.test", teacher=True, site_admin=True),
            3: User(3, "teacher1", "Terry", "Teacher", "teacher1@moodle.test", teacher=True),
            4: User(4, "student1", "Léa", "Martin", "student1@moodle.test"),
            5: User(5, "student2", "Sam", "Novak", "student2@moodle.test"),
        }
        self.types: dict[int, ToolType] = {}
        self.activities: dict[int, Activity] = {}
        self.lineitems: dict[int, LineItem] = {}
        self.sessions: dict[str, dict] = {}  # MoodleSession cookie -> {"user": id, "launches": {...}}
        self.tokens: dict[str, dict] = {}  # access token -> {"typeid", "scopes", "expires"}
        self.requests: list[tuple[str, str, dict]] = []  # (method, path, headers) for assertions
        self.config_patch: dict = {}  # tests break the configuration on purpose
        self.registration_patch: dict = {}  # ... or the registration reply
        self._ids = {"type": 0, "cm": 4, "instance": 0, "lineitem": 0}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.wwwroot = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="moodle", daemon=True)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> "MoodleSite":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next(self, kind: str) -> int:
        with self._lock:
            self._ids[kind] += 1
            return self._ids[kind]

    # ------------------------------------------------------------------ keys and tokens
    def jwks(self) -> dict:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        public.update({"kid": self.kid, "alg": "RS256", "use": "sig"})
        return {"keys": [public]}

    def sign(self, claims: dict) -> str:
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})

    def private_pem(self) -> bytes:
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())

    # ------------------------------------------------------------------ admin actions
    def registration_url(self, tool_registration_url: str) -> str:
        """What ``startltiadvregistration.php`` opens: the tool's URL with the two parameters."""
        now = int(time.time())
        token = self.sign({"sub": secrets.token_urlsafe(11)[:15], "scope": "reg", "iat": now, "exp": now + 3600})
        sep = "&" if "?" in tool_registration_url else "?"
        return tool_registration_url + sep + urlencode({
            "openid_configuration": f"{self.wwwroot}/mod/lti/openid-configuration.php",
            "registration_token": token})

    def activate(self, typeid: int, *, gradesync: int | None = None, memberships: int | None = None,
                 sendname: bool | None = None, sendemail: bool | None = None) -> ToolType:
        """The admin activates the pending tool (and may restrict its services or, under
        Privacy, set "Share launcher's name/e-mail with tool" to "Never" on the way)."""
        t = self.types[typeid]
        t.state = "configured"
        if gradesync is not None:
            t.gradesync = gradesync
        if memberships is not None:
            t.memberships = memberships
        if sendname is not None:
            t.sendname = sendname
        if sendemail is not None:
            t.sendemail = sendemail
        return t

    def add_activity(self, typeid: int, name: str, *, toolurl: str | None = None,
                     custom: dict | None = None, graded: bool = True, score_maximum: float = 100) -> Activity:
        """A teacher adds an External tool activity using the preconfigured tool (``graded``:
        "Allow the tool to add grades in the gradebook" ticked, with that maximum grade)."""
        t = self.types[typeid]
        act = Activity(cmid=self._next("cm"), instance=self._next("instance"), typeid=typeid, name=name,
                       toolurl=toolurl or t.toolurl, custom=dict(custom or {}))
        if graded and t.gradesync:
            item = LineItem(id=self._next("lineitem"), typeid=typeid, label=name, score_maximum=score_maximum,
                            resource_link_id=str(act.instance))
            self.lineitems[item.id] = item
            act.lineitem_id = item.id
        self.activities[act.cmid] = act
        return act

    # ------------------------------------------------------------------ URLs
    def lineitems_url(self, typeid: int) -> str:
        return f"{self.wwwroot}/mod/lti/services.php/{self.course_id}/lineitems?type_id={typeid}"

    def lineitem_url(self, item: LineItem) -> str:
        return (f"{self.wwwroot}/mod/lti/services.php/{self.course_id}/lineitems/{item.id}/lineitem"
                f"?type_id={item.typeid}")

    def memberships_url(self, typeid: int) -> str:
        return f"{self.wwwroot}/mod/lti/services.php/CourseSection/{self.course_id}/bindings/{typeid}/memberships"

    # ------------------------------------------------------------------ configuration and registration
    def service_scopes(self) -> list[str]:
        scopes = []
        if "basicoutcomes" in self.site_services:
            scopes.append(SCOPE_BASIC_OUTCOME)
        if "gradebookservices" in self.site_services:
            scopes += [SCOPE_LINEITEM_RO, SCOPE_RESULT, SCOPE_SCORE, SCOPE_LINEITEM]
        if "memberships" in self.site_services:
            scopes.append(SCOPE_NRPS)
        if "toolsettings" in self.site_services:
            scopes.append(SCOPE_TOOL_SETTING)
        return scopes

    def openid_configuration(self) -> dict:
        config = self._openid_configuration()
        for key, value in self.config_patch.items():
            if value is None:
                config.pop(key, None)
            else:
                config[key] = value
        return config

    def _openid_configuration(self) -> dict:
        return {
            "issuer": self.wwwroot,
            "token_endpoint": f"{self.wwwroot}/mod/lti/token.php",
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
            "jwks_uri": f"{self.wwwroot}/mod/lti/certs.php",
            "authorization_endpoint": f"{self.wwwroot}/mod/lti/auth.php",
            "registration_endpoint": f"{self.wwwroot}/mod/lti/openid-registration.php",
            "scopes_supported": self.service_scopes() + ["openid"],
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public", "pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": ["sub", "iss", "name", "given_name", "family_name", "email"],
            "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                "product_family_code": "moodle",
                "version": RELEASE,
                "messages_supported": ["LtiResourceLinkRequest", "LtiDeepLinkingRequest"],
                "placements": ["AddContentMenu"],
                "variables": ["basic-lti-launch-request", "ContentItemSelectionRequest", "Context.id",
                              "CourseSection.sourcedId", "Person.email.primary", "Person.name.full",
                              "User.id", "User.username"],
            },
        }

    def register_tool(self, auth_header: str, payload) -> tuple[int, object]:
        """``openid-registration.php``: (HTTP status, body) exactly as Moodle answers."""
        if not (auth_header and auth_header.startswith("Bearer ")):
            return 401, "missing_registration_token"
        try:
            token = jwt.decode(auth_header[7:].strip(), self.key.public_key(), algorithms=["RS256"])
        except jwt.PyJWTError as exc:
            return 400, str(exc)  # Moodle lets the JWT library's message through
        if token.get("scope") != "reg":
            return 403, "Incorrect scope"
        clientid = token["sub"]
        if any(t.clientid == clientid for t in self.types.values()):
            return 401, "token_already_used"
        if not isinstance(payload, dict):
            return 400, "missing required attribute response_types"
        for key in ("response_types", "initiate_login_uri", "redirect_uris", "client_name", "jwks_uri",
                    "token_endpoint_auth_method", "https://purl.imsglobal.org/spec/lti-tool-configuration"):
            if not payload.get(key):
                return 400, f"missing required attribute {key}"
        conf = payload["https://purl.imsglobal.org/spec/lti-tool-configuration"]
        domain = conf.get("domain")
        if not domain:
            return 400, "missing_domain"
        target = conf.get("target_link_uri") or f"https://{domain}"
        if _domain(domain) != _domain(target):
            return 400, "domain_targetlinkuri_mismatch"
        if "id_token" not in payload["response_types"]:
            return 400, "invalid_response_types"
        if not isinstance(payload["redirect_uris"], list):
            return 400, "invalid_redirect_uris"
        if payload["token_endpoint_auth_method"] != "private_key_jwt":
            return 400, "invalid_token_endpoint_auth_method"
        if payload.get("application_type") and payload["application_type"] != "web":
            return 400, "invalid_application_type"
        scopes = (payload.get("scope") or "").split(" ")
        gradesync = 0
        if {SCOPE_SCORE, SCOPE_RESULT, SCOPE_LINEITEM_RO} & set(scopes):
            gradesync = 1
        if SCOPE_LINEITEM in scopes:
            gradesync = 2
        contentitem, contentitem_url = False, ""
        for message in conf.get("messages") or []:
            if message.get("type") == "LtiDeepLinkingRequest":
                contentitem, contentitem_url = True, message.get("target_link_uri") or ""
        claims = conf.get("claims") or []
        t = ToolType(
            id=self._next("type"), clientid=clientid, name=payload["client_name"], toolurl=target,
            tooldomain=_domain(domain), initiatelogin=payload["initiate_login_uri"],
            redirectionuris=list(payload["redirect_uris"]), publickeyset=payload["jwks_uri"],
            contentitem=contentitem, contentitem_url=contentitem_url, gradesync=gradesync,
            memberships=1 if SCOPE_NRPS in scopes else 0, toolsettings=1 if SCOPE_TOOL_SETTING in scopes else 0,
            sendname=bool({"name", "given_name", "family_name"} & set(claims)), sendemail="email" in claims,
            acceptgrades="delegate" if gradesync else "never",
            customparameters=dict(conf.get("custom_parameters") or {}), description=conf.get("description") or "")
        self.types[t.id] = t
        reply = self.config_to_registration(t)
        reply.update(self.registration_patch)
        return 200, reply

    def config_to_registration(self, t: ToolType) -> dict:
        scopes = []
        if t.gradesync:  # PHP: `$gradesync ?? 0 > 0` and `?? 0 == 2` are both true for 1 and 2
            scopes += [SCOPE_SCORE, SCOPE_RESULT, SCOPE_LINEITEM_RO]
            scopes.append(SCOPE_LINEITEM)
        if t.memberships:
            scopes.append(SCOPE_NRPS)
        if t.toolsettings:
            scopes.append(SCOPE_TOOL_SETTING)
        tool_conf = {"version": "1.3.0", "deployment_id": str(t.id), "target_link_uri": t.toolurl,
                     "domain": t.tooldomain, "description": t.description}
        if t.contentitem:
            tool_conf["messages"] = [{"type": "LtiDeepLinkingRequest", "target_link_uri": t.contentitem_url}]
        if t.customparameters:
            tool_conf["custom_parameters"] = dict(t.customparameters)
        claims = ["sub", "iss"]
        if t.sendname:
            claims += ["name", "family_name", "given_name"]
        if t.sendemail:
            claims.append("email")
        tool_conf["claims"] = claims
        return {
            "client_id": t.clientid, "response_types": ["id_token"], "jwks_uri": t.publickeyset,
            "initiate_login_uri": t.initiatelogin, "grant_types": ["client_credentials", "implicit"],
            "redirect_uris": t.redirectionuris, "application_type": "web",
            "token_endpoint_auth_method": "private_key_jwt", "client_name": t.name, "logo_uri": "",
            "scope": " ".join(scopes),
            "https://purl.imsglobal.org/spec/lti-tool-configuration": tool_conf,
        }

    # ------------------------------------------------------------------ launches
    def permitted_scopes(self, t: ToolType) -> list[str]:
        scopes = []
        if t.gradesync:
            scopes += [SCOPE_LINEITEM_RO, SCOPE_RESULT, SCOPE_SCORE]
            if t.gradesync == 2:
                scopes.append(SCOPE_LINEITEM)
        if t.memberships:
            scopes.append(SCOPE_NRPS)
        return scopes

    def login_form(self, session_id: str, *, cmid: int | None = None, typeid: int | None = None) -> str:
        """What ``launch.php`` (an activity) or ``contentitem.php`` (deep linking) sends the browser."""
        session = self.sessions[session_id]
        user = self.users[session["user"]]
        if cmid is not None:
            act = self.activities[cmid]
            t = self.types[act.typeid]
            launchid = f"ltilaunch{act.instance}_{secrets.randbelow(10**9)}"
            session["launches"][launchid] = {"kind": "resource", "cmid": cmid}
            hint = json.dumps({"cmid": cmid, "launchid": launchid})
            target = act.toolurl
        else:
            t = self.types[typeid]
            launchid = f"ltilaunch_contentitem_{secrets.randbelow(10**9)}"
            session["launches"][launchid] = {"kind": "deeplink", "typeid": typeid}
            hint = json.dumps({"launchid": launchid})
            target = t.contentitem_url or t.toolurl
        if t.state != "configured":
            return "<p>This tool is pending: a site administrator must activate it first.</p>"
        fields = {"iss": self.wwwroot, "target_link_uri": target, "login_hint": str(user.id),
                  "lti_message_hint": hint, "client_id": t.clientid, "lti_deployment_id": str(t.id)}
        inputs = "".join(f'<input type="hidden" name="{k}" value="{_attr(v)}"/>' for k, v in fields.items())
        return (f'<form action="{_attr(t.initiatelogin)}" name="ltiInitiateLoginForm" id="ltiInitiateLoginForm" '
                f'method="post" encType="application/x-www-form-urlencoded">{inputs}</form>'
                '<script>document.ltiInitiateLoginForm.submit();</script>')

    def auth(self, session_id: str | None, params: dict) -> tuple[int, str]:
        """``auth.php``: check the authentication request, answer with the auto-posted id_token."""
        if params.get("scope") != "openid":
            return 400, "invalid_scope"
        if params.get("response_type") != "id_token":
            return 400, "unsupported_response_type"
        t = next((t for t in self.types.values() if t.clientid == params.get("client_id")), None)
        if t is None:
            return 400, "unauthorized_client"
        if params.get("response_mode") != "form_post" or params.get("prompt") != "none" or not params.get("nonce"):
            return 400, "invalid_request"
        if params.get("redirect_uri") not in t.redirectionuris:
            return 400, "invalid_request: redirect_uri not registered"
        session = self.sessions.get(session_id or "")
        if session is None:
            return 400, "login_required"
        if params.get("login_hint") != str(session["user"]):
            return 400, "access_denied: login_hint does not match the logged-in user"
        try:
            hint = json.loads(params.get("lti_message_hint") or "")
            launch = session["launches"].pop(hint["launchid"])
        except (ValueError, KeyError, TypeError):
            return 400, "invalid_request: unknown lti_message_hint"
        user = self.users[session["user"]]
        claims = self._base_claims(t, user, params["nonce"])
        if launch["kind"] == "resource":
            act = self.activities[launch["cmid"]]
            claims.update(self._resource_claims(t, act, user))
        else:
            claims.update(self._deep_linking_claims(t, session_id))
        token = self.sign(claims)
        body = (f'<form action="{_attr(params["redirect_uri"])}" name="ltiAuthForm" id="ltiAuthForm" method="post" '
                'enctype="application/x-www-form-urlencoded">'
                f'<input type="hidden" name="id_token" value="{_attr(token)}"/>'
                f'<input type="hidden" name="state" value="{_attr(params.get("state", ""))}"/>'
                '</form><script type="text/javascript">window.document.ltiAuthForm.submit();</script>')
        return 200, body

    def _roles(self, user: User) -> list[str]:
        roles = [ROLE_INSTRUCTOR] if user.teacher else [ROLE_LEARNER]
        if user.site_admin:
            roles = [ROLE_SITE_ADMIN[0], ROLE_INSTRUCTOR, ROLE_SITE_ADMIN[1]]
        return roles

    def _base_claims(self, t: ToolType, user: User, nonce: str) -> dict:
        now = int(time.time())
        claims = {
            "nonce": nonce, "iat": now, "exp": now + 60, "iss": self.wwwroot, "aud": t.clientid,
            LTI + "deployment_id": str(t.id), "sub": str(user.id),
            LTI + "lis": {"person_sourcedid": "", "course_section_sourcedid": ""},
            LTI + "roles": self._roles(user),
            LTI + "context": {"id": str(self.course_id), "label": self.course_shortname,
                              "title": self.course_fullname, "type": ["CourseSection"]},
            LTI + "ext": {"lms": "moodle-2"},
            LTI + "launch_presentation": {"locale": user.lang, "document_target": "iframe",
                                          "return_url": f"{self.wwwroot}/mod/lti/return.php?course="
                                                        f"{self.course_id}&launch_container=3&sesskey=x"},
            LTI + "tool_platform": {"product_family_code": "moodle", "version": VERSION,
                                    "guid": urlsplit(self.wwwroot).hostname, "name": "Moodle interop site",
                                    "description": "Moodle interop site"},
            LTI + "version": "1.3.0",
        }
        if t.sendname:
            claims.update(given_name=user.firstname, family_name=user.lastname,
                          name=f"{user.firstname} {user.lastname}")
            claims[LTI + "ext"]["user_username"] = user.username
        if t.sendemail:
            claims["email"] = user.email
        return claims

    def _resource_claims(self, t: ToolType, act: Activity, user: User) -> dict:
        claims = {
            LTI + "message_type": "LtiResourceLinkRequest",
            LTI + "target_link_uri": act.toolurl,
            LTI + "resource_link": {"title": act.name, "description": "", "id": str(act.instance)},
            "https://purl.imsglobal.org/spec/lti-bo/claim/basicoutcome": {
                "lis_result_sourcedid": json.dumps({"data": {"instanceid": str(act.instance), "userid": str(user.id),
                                                             "typeid": str(t.id), "launchid": 1}, "hash": "x"}),
                "lis_outcome_service_url": f"{self.wwwroot}/mod/lti/service.php"},
        }
        custom = {**t.customparameters, **act.custom}
        if custom:
            claims[LTI + "custom"] = custom
        if t.gradesync:
            ags = {"scope": [s for s in self.permitted_scopes(t) if s != SCOPE_NRPS],
                   "lineitems": self.lineitems_url(t.id)}
            if act.lineitem_id:
                ags["lineitem"] = self.lineitem_url(self.lineitems[act.lineitem_id])
            claims["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"] = ags
        if t.memberships:
            claims["https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"] = {
                "context_memberships_url": self.memberships_url(t.id), "service_versions": ["1.0", "2.0"]}
        return claims

    def _deep_linking_claims(self, t: ToolType, session_id: str) -> dict:
        return {
            LTI + "message_type": "LtiDeepLinkingRequest",
            LTI + "target_link_uri": t.contentitem_url or t.toolurl,
            "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings": {
                "deep_link_return_url": f"{self.wwwroot}/mod/lti/contentitem_return.php?course={self.course_id}"
                                        f"&id={t.id}&sesskey={session_id[:10]}",
                "accept_types": ["ltiResourceLink"], "accept_presentation_document_targets": ["frame", "iframe",
                                                                                              "window"],
                "accept_copy_advice": False, "accept_multiple": True, "accept_unsigned": False,
                "auto_create": False, "can_confirm": False, "title": "", "text": ""},
        }

    def deep_linking_return(self, typeid: int, token: str) -> tuple[int, str]:
        """``contentitem_return.php``: verify the tool's signed reply, then add the activities."""
        t = self.types.get(typeid)
        if t is None:
            return 400, "invalid type"
        try:
            keys = jwt.PyJWKClient(t.publickeyset, cache_keys=False)
            key = keys.get_signing_key_from_jwt(token)
            claims = jwt.decode(token, key.key, algorithms=["RS256"], audience=self.wwwroot, issuer=t.clientid)
        except jwt.PyJWTError as exc:
            return 400, f"Consumer key is incorrect: {exc}"
        if claims.get(LTI + "deployment_id") != str(t.id):
            return 400, "deployment_id mismatch"
        if claims.get(LTI + "message_type") != "LtiDeepLinkingResponse":
            return 400, "unexpected message type"
        added = []
        for item in claims.get("https://purl.imsglobal.org/spec/lti-dl/claim/content_items") or []:
            if item.get("type") != "ltiResourceLink":
                continue
            line_item = item.get("lineItem") if isinstance(item.get("lineItem"), dict) else None
            graded = t.acceptgrades == "always" or (t.acceptgrades == "delegate" and line_item is not None)
            act = self.add_activity(t.id, item.get("title") or t.name, toolurl=item.get("url") or t.toolurl,
                                    custom=item.get("custom") or {}, graded=graded,
                                    score_maximum=float((line_item or {}).get("scoreMaximum", 100)))
            if act.lineitem_id and line_item is not None:
                li = self.lineitems[act.lineitem_id]
                li.label = line_item.get("label", li.label)
                li.tag = line_item.get("tag", "")
                li.resource_id = line_item.get("resourceId", "")
            added.append(act)
        self.last_deep_link = {"claims": claims, "activities": added}
        return 200, "<p>" + ", ".join(f"cmid={a.cmid}" for a in added) + " added</p>"

    # ------------------------------------------------------------------ token.php and services.php
    def token(self, content_type: str, form: dict) -> tuple[int, dict]:
        if content_type.split(";")[0].strip() != "application/x-www-form-urlencoded":
            return 400, {"error": "invalid_request"}
        assertion, atype = form.get("client_assertion", ""), form.get("client_assertion_type", "")
        grant, scope = form.get("grant_type", ""), form.get("scope", "")
        if not (assertion and atype and grant and scope):
            return 400, {"error": "invalid_request"}
        if atype != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" or grant != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}
        try:
            sub = jwt.decode(assertion, options={"verify_signature": False}).get("sub")
        except jwt.PyJWTError:
            return 400, {"error": "invalid_request"}
        t = next((t for t in self.types.values() if t.clientid == sub), None)
        if t is None:
            return 400, {"error": "invalid_client"}
        try:
            key = jwt.PyJWKClient(t.publickeyset, cache_keys=False).get_signing_key_from_jwt(assertion)
            jwt.decode(assertion, key.key, algorithms=["RS256"], options={"verify_aud": False})
        except jwt.PyJWTError as exc:
            return 400, {"error": str(exc)}
        scopes = [s for s in scope.split(" ") if s in self.permitted_scopes(t)]
        if not scopes:
            return 400, {"error": "invalid_scope"}
        token = secrets.token_hex(16)
        self.tokens[token] = {"typeid": t.id, "scopes": scopes, "expires": time.time() + 3600}
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600, "scope": " ".join(scopes)}

    def _authorised(self, headers, typeid: int, any_of: tuple[str, ...]) -> bool:
        auth = headers.get("Authorization") or ""
        info = self.tokens.get(auth[7:].strip()) if auth.startswith("Bearer ") else None
        return bool(info and info["expires"] > time.time() and info["typeid"] == typeid
                    and set(any_of) & set(info["scopes"]))

    def lineitem_json(self, item: LineItem) -> dict:
        body = {"id": self.lineitem_url(item), "label": item.label, "scoreMaximum": item.score_maximum,
                "resourceId": item.resource_id, "tag": item.tag}
        if item.resource_link_id:
            body.update(resourceLinkId=item.resource_link_id, ltiLinkId=item.resource_link_id)
        return body

    def services(self, method: str, path: str, query: dict, headers, body: bytes) -> tuple[int, str, object]:
        """``services.php``: (status, content type, body)."""
        parts = [p for p in path.split("/") if p]
        typeid = int(query.get("type_id", ["0"])[0] or 0)
        if parts[:1] == ["CourseSection"] and len(parts) == 5 and parts[4] == "memberships":
            typeid = int(parts[3])
            if not self._authorised(headers, typeid, (SCOPE_NRPS,)):
                return 403, "text/plain", "forbidden"
            members = [{"status": "Active", "roles": self._roles(u), "user_id": str(u.id),
                        "name": f"{u.firstname} {u.lastname}", "given_name": u.firstname,
                        "family_name": u.lastname, "email": u.email, "lis_person_sourcedid": ""}
                       for u in self.users.values() if u.id != 2]
            return 200, "application/vnd.ims.lti-nrps.v2.membershipcontainer+json", {
                "id": self.memberships_url(typeid),
                "context": {"id": str(self.course_id), "label": self.course_shortname,
                            "title": self.course_fullname}, "members": members}
        if len(parts) >= 2 and parts[1] == "lineitems":
            if len(parts) == 2:
                if method == "GET":
                    if not self._authorised(headers, typeid, (SCOPE_LINEITEM_RO, SCOPE_LINEITEM)):
                        return 403, "text/plain", "forbidden"
                    items = [self.lineitem_json(i) for i in self.lineitems.values() if i.typeid == typeid]
                    for name, key in (("tag", "tag"), ("resource_id", "resourceId"),
                                      ("resource_link_id", "resourceLinkId")):
                        if name in query:
                            items = [i for i in items if i.get(key) == query[name][0]]
                    return 200, "application/vnd.ims.lis.v2.lineitemcontainer+json", items
                if method == "POST":
                    if not self._authorised(headers, typeid, (SCOPE_LINEITEM,)):
                        return 403, "text/plain", "forbidden"
                    data = json.loads(body or b"{}")
                    item = LineItem(id=self._next("lineitem"), typeid=typeid, label=data.get("label", ""),
                                    score_maximum=float(data.get("scoreMaximum", 100)),
                                    resource_id=data.get("resourceId", ""), tag=data.get("tag", ""))
                    self.lineitems[item.id] = item
                    return 201, "application/vnd.ims.lis.v2.lineitem+json", self.lineitem_json(item)
            item = self.lineitems.get(int(parts[2])) if len(parts) >= 4 and parts[2].isdigit() else None
            if item is None or item.typeid != typeid:
                return 404, "text/plain", "not found"
            tail = parts[4] if len(parts) >= 5 else None
            if tail is None and method == "GET":
                if not self._authorised(headers, typeid, (SCOPE_LINEITEM_RO, SCOPE_LINEITEM)):
                    return 403, "text/plain", "forbidden"
                return 200, "application/vnd.ims.lis.v2.lineitem+json", self.lineitem_json(item)
            if tail == "scores" and method == "POST":
                if not self._authorised(headers, typeid, (SCOPE_SCORE,)):
                    return 403, "text/plain", "forbidden"
                if (headers.get("Content-Type") or "").split(";")[0] != "application/vnd.ims.lis.v1.score+json":
                    return 400, "text/plain", "unsupported content type"
                score = json.loads(body or b"{}")
                if str(score.get("userId")) not in {str(u) for u in self.users}:
                    return 400, "text/plain", "Incorrect score received"
                item.results[str(score["userId"])] = score
                return 200, "application/json", None
            if tail == "results" and method == "GET":
                if not self._authorised(headers, typeid, (SCOPE_RESULT,)):
                    return 403, "text/plain", "forbidden"
                results = []
                for uid, s in item.results.items():
                    if "user_id" in query and query["user_id"][0] != uid:
                        continue
                    results.append({"id": f"{self.lineitem_url(item).split('?')[0]}/results?type_id={typeid}"
                                          f"&user_id={uid}", "userId": uid,
                                    "resultScore": s.get("scoreGiven"), "resultMaximum": s.get("scoreMaximum"),
                                    "scoreOf": self.lineitem_url(item), "timestamp": s.get("timestamp")})
                return 200, "application/vnd.ims.lis.v2.resultcontainer+json", results
        return 400, "text/plain", "No handler found"

    # ------------------------------------------------------------------ HTTP
    def _handler(self):
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def _send(self, status: int, body, content_type: str = "text/html; charset=utf-8", headers=None):
                if isinstance(body, (dict, list)):
                    data = json.dumps(body).encode()
                elif body is None:
                    data = b""
                else:
                    data = str(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _cookie(self) -> str | None:
                for part in (self.headers.get("Cookie") or "").split(";"):
                    name, _, value = part.strip().partition("=")
                    if name == "MoodleSession":
                        return value
                return None

            def _route(self, method: str):
                url = urlsplit(self.path)
                query = parse_qs(url.query, keep_blank_values=True)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                site.requests.append((method, url.path, dict(self.headers)))
                form = {k: v[0] for k, v in parse_qs(body.decode(errors="replace"), keep_blank_values=True).items()} \
                    if (self.headers.get("Content-Type") or "").startswith("application/x-www-form-urlencoded") else {}
                params = {**{k: v[0] for k, v in query.items()}, **form}
                path = url.path
                if path == "/mod/lti/openid-configuration.php" and method == "GET":
                    return self._send(200, site.openid_configuration(), "application/json; charset=utf-8")
                if path == "/mod/lti/openid-registration.php" and method == "POST":
                    try:
                        payload = json.loads(body or b"null")
                    except ValueError:
                        payload = None
                    status, reply = site.register_tool(self.headers.get("Authorization") or "", payload)
                    return self._send(status, reply, "application/json; charset=utf-8" if status == 200
                                      else "text/plain; charset=utf-8")
                if path == "/mod/lti/toolconfigure.php":
                    # The "Manage tools" page after "Add LTI Advantage": the tool's registration
                    # page in an iframe, closed when the tool posts org.imsglobal.lti.close.
                    src = _attr(site.registration_url(params["url"]))
                    return self._send(200, (
                        '<!doctype html><html><body><p id="status">registering</p>'
                        f'<iframe id="registration" src="{src}" width="900" height="700"></iframe>'
                        "<script>window.addEventListener('message', function (e) {"
                        "  if (e.data && e.data.subject === 'org.imsglobal.lti.close') {"
                        "    document.getElementById('registration').remove();"
                        "    document.getElementById('status').textContent = 'closed by ' + e.origin;"
                        "  }"
                        "});</script></body></html>"))
                if path == "/mod/lti/certs.php":
                    return self._send(200, site.jwks(), "application/json; charset=utf-8")
                if path == "/login/index.php":
                    sid = secrets.token_hex(13)
                    site.sessions[sid] = {"user": int(params["userid"]), "launches": {}}
                    return self._send(200, "<p>Logged in</p>",
                                      headers={"Set-Cookie": f"MoodleSession={sid}; path=/; HttpOnly"})
                if path == "/mod/lti/launch.php":
                    return self._send(200, site.login_form(self._cookie(), cmid=int(params["id"])))
                if path == "/mod/lti/contentitem.php":
                    return self._send(200, site.login_form(self._cookie(), typeid=int(params["id"])))
                if path == "/mod/lti/auth.php":
                    status, reply = site.auth(self._cookie(), params)
                    return self._send(status, reply)
                if path == "/mod/lti/contentitem_return.php" and method == "POST":
                    status, reply = site.deep_linking_return(int(params.get("id", 0)), params.get("JWT", ""))
                    return self._send(status, reply)
                if path == "/mod/lti/token.php" and method == "POST":
                    status, reply = site.token(self.headers.get("Content-Type") or "", form)
                    return self._send(status, reply, "application/json; charset=utf-8")
                if path.startswith("/mod/lti/services.php/"):
                    status, ctype, reply = site.services(method, path[len("/mod/lti/services.php/"):], query,
                                                         self.headers, body)
                    return self._send(status, reply, ctype)
                return self._send(404, "Not found", "text/plain")

            def do_GET(self):
                self._route("GET")

            def do_POST(self):
                self._route("POST")

            def do_PUT(self):
                self._route("PUT")

        return Handler


def _domain(url: str) -> str:
    """``lti_get_domain_from_url``: the host (and port) without scheme, path or ``www.``."""
    rest = url.split("://", 1)[-1]
    host = rest.split("/", 1)[0]
    return host[4:] if host.startswith("www.") else host


def _attr(value: str) -> str:
    return (str(value).replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;"))


def new_session_id() -> str:
    return uuid.uuid4().hex
