"""LTI Dynamic Registration (1EdTech LTI-DR 1.0), tool side. No Flask here.

The platform opens ``/lti/register?openid_configuration=...&registration_token=...`` in a
window. The tool then:

1. fetches the platform's OpenID configuration and checks it (issuer on the same origin as
   the configuration URL, the endpoints the tool needs, HTTPS unless the platform is on
   loopback outside production, every URL on an address the tool may call (:mod:`plugin.net`:
   public, or allow-listed in ``MICROCRED_OUTBOUND_ALLOW``), private_key_jwt and RS256
   offered when the platform says);
2. registers itself (POST to ``registration_endpoint`` with the registration token as a
   bearer token) with its login, launch, deep-linking and JWKS URLs, the claims it wants,
   and the scopes it needs among those the platform supports (AGS line item, score, result,
   NRPS);
3. checks the platform's answer (a ``client_id``, a ``deployment_id``, the scopes actually
   granted) and stores it as a :class:`~plugin.storage.models.Platform` and its
   :class:`~plugin.storage.models.Deployment` (``registration_kind="dynamic"``, ``product``
   from ``product_family_code``).

The payload comes from :class:`pylti1p3.dynamic_registration.DynamicRegistration` (pylti1p3next),
whose ``register()`` drives steps 1-3; this module adds what that class leaves to the caller:
validation with messages that say exactly what failed (never repeating what the address
answered: anyone may open /lti/register), the outbound HTTP layer (addresses checked at
connection time on every redirect hop, timeouts, a size limit), the bearer token on the
configuration request (Moodle 4.3+ requires it), scope negotiation and storage.
"""
from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import requests
from pylti1p3.dynamic_registration import DynamicRegistration
from pylti1p3.exception import LtiException, LtiServiceException
from sqlalchemy.orm import Session

from lti import (MESSAGE_DEEP_LINKING, MESSAGE_RESOURCE_LINK, SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY,
                 SCOPE_NRPS, SCOPE_RESULT_READONLY, SCOPE_SCORE, TOOL_SCOPES)
from lti.errors import LtiError
from lti.platforms import (TOOL_DESCRIPTION, TOOL_TITLE, PlatformInput, RegistrationError, origin,
                           platform_as_dict, register_platform, tool_urls)
from plugin.net import OutboundPolicy, describe_error, outbound_session

PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
CLOSE_MESSAGE = {"subject": "org.imsglobal.lti.close"}

# Endpoints a platform's OpenID configuration must name for the tool to work at all.
REQUIRED_ENDPOINTS = ("authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint")
# The identity claims the tool asks for (the learner's name and email go on the credential).
CLAIMS = ["iss", "sub", "name", "given_name", "family_name", "email", "locale"]
# product_family_code values seen in the wild -> our Platform.product vocabulary.
PRODUCTS = {"moodle": "moodle", "openedx": "openedx", "open_edx": "openedx", "edx": "openedx",
            "microcred-sandbox": "sandbox"}
MAX_BODY = 1_000_000  # a platform configuration or registration reply is a few KB

# What each scope gives the instructor, for the "fewer scopes" warnings.
SCOPE_PURPOSE = {
    SCOPE_LINEITEM: "create and manage the tool's own grade columns",
    SCOPE_LINEITEM_READONLY: "read the tool's own grade columns",
    SCOPE_RESULT_READONLY: "read results on the tool's grade columns",
    SCOPE_SCORE: "send scores to the gradebook",
    SCOPE_NRPS: "list course members (names and emails where the platform shares them)",
}


class DynamicRegistrationError(LtiError):
    """Registration failed; ``step`` says where (configuration, registration, storage), ``message`` what."""

    code = "registration_failed"

    def __init__(self, message: str, *, step: str, status: int = 400, detail: str | None = None):
        super().__init__(message, status=status)
        self.step = step
        self.detail = detail


@dataclass
class RegistrationResult:
    platform: dict
    created: bool
    product: str
    product_family_code: str | None
    platform_origin: str
    requested_scopes: list[str]
    granted_scopes: list[str]
    warnings: list[str] = field(default_factory=list)

    @property
    def missing_scopes(self) -> list[str]:
        return [s for s in self.requested_scopes if s not in self.granted_scopes]


# --------------------------------------------------------------------------- helpers
def is_loopback(host: str | None) -> bool:
    """A loopback *name or address* (for the http-on-this-machine rule; addresses are checked by the policy)."""
    if not host:
        return False
    if host.lower() in ("localhost", "localhost.") or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_platform_url(name: str, value: Any, *, allow_http_loopback: bool, step: str,
                       policy: OutboundPolicy | None = None) -> str:
    """An absolute URL the tool may call: HTTPS (or HTTP on loopback outside production) to an
    address the outbound policy allows (public, or allow-listed by the administrator).

    The address is checked here, when the URL is read, for a clear message; the outbound layer
    checks it again for every connection (:mod:`plugin.net.http`)."""
    if not isinstance(value, str) or not value:
        raise DynamicRegistrationError(f"the platform's {name} is missing", step=step)
    shown = value[:200]
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise DynamicRegistrationError(f"the platform's {name} is not a valid URL: {shown!r}", step=step) from None
    if parts.scheme not in ("http", "https") or not host or any(c.isspace() for c in value):
        raise DynamicRegistrationError(f"the platform's {name} must be an absolute https URL, got {shown!r}",
                                       step=step)
    if parts.scheme == "http" and not (allow_http_loopback and is_loopback(host)):
        raise DynamicRegistrationError(
            f"the platform's {name} must use https (got {shown!r}); plain http is accepted only for "
            "a platform on this machine (localhost) outside production", step=step)
    refused = (policy or OutboundPolicy()).refusal_for_url(value)
    if refused is not None:
        raise DynamicRegistrationError(
            f"the platform's {name} points to a local or private address: {refused.message}", step=step)
    return value


def _describe(response: requests.Response) -> str:
    """What a reply was, without any of its content (the tool never repeats what an address answered)."""
    return (f"HTTP {response.status_code}, Content-Type {response.headers.get('Content-Type', 'none')[:80]}, "
            f"{len(response.content or b'')} bytes")


_ERROR_CODE = re.compile(r"[a-z][a-z0-9_]{1,63}")


def _error_code(response: requests.Response) -> str:
    """The platform's error *code*, when its reply is one (RFC 7591 ``{"error": "invalid_…"}``, or
    Moodle's bare ``token_already_used``): an identifier, never prose or markup from the reply."""
    text = (response.content or b"")[:2000].decode("utf-8", "replace").strip()
    try:
        body = json.loads(text)
        text = body.get("error") if isinstance(body, dict) else ""
    except ValueError:
        pass
    return f" ({text})" if isinstance(text, str) and _ERROR_CODE.fullmatch(text) else ""


def _json_object(response: requests.Response, what: str, step: str) -> dict:
    if len(response.content or b"") > MAX_BODY:
        raise DynamicRegistrationError(f"the {what} is too large ({len(response.content)} bytes)", step=step,
                                       status=502)
    try:
        body = json.loads(response.content or b"", parse_constant=_not_json)
    except ValueError:
        raise DynamicRegistrationError(f"the {what} is not JSON ({_describe(response)})", step=step,
                                       status=502) from None
    if not isinstance(body, dict):
        raise DynamicRegistrationError(f"the {what} is not a JSON object", step=step, status=502)
    return body


def _not_json(name: str):
    raise ValueError(f"{name} is not JSON")


def _scope_list(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [s for s in value.split() if s]
    if isinstance(value, list):
        return [s for s in value if isinstance(s, str) and s]
    return None


def product_of(config: dict) -> tuple[str, str | None]:
    """(our product name, the platform's product_family_code) from its OpenID configuration."""
    code = (config.get(PLATFORM_CONFIGURATION) or {}).get("product_family_code")
    code = code if isinstance(code, str) and code else None
    return PRODUCTS.get((code or "").strip().lower(), "generic"), code


# --------------------------------------------------------------------------- validation
def validate_openid_configuration(url: str, config: dict, *, allow_http_loopback: bool,
                                  policy: OutboundPolicy | None = None) -> dict:
    """Check a platform's OpenID configuration; raise :class:`DynamicRegistrationError` naming the problem."""
    step = "openid_configuration"
    issuer = config.get("issuer")
    if not isinstance(issuer, str) or not issuer:
        raise DynamicRegistrationError("the platform's OpenID configuration has no issuer", step=step)
    check_platform_url("issuer", issuer, allow_http_loopback=allow_http_loopback, step=step, policy=policy)
    if origin(issuer) != origin(url):
        raise DynamicRegistrationError(
            f"the platform's issuer {issuer!r} is not on the same site as its OpenID configuration URL "
            f"{url!r} (expected the origin {origin(url)!r})", step=step)
    missing = [name for name in REQUIRED_ENDPOINTS if not config.get(name)]
    if missing:
        raise DynamicRegistrationError(
            "the platform's OpenID configuration lacks " + ", ".join(missing), step=step)
    for name in REQUIRED_ENDPOINTS:
        check_platform_url(name, config[name], allow_http_loopback=allow_http_loopback, step=step, policy=policy)
    if config.get("authorization_server"):
        check_platform_url("authorization_server", config["authorization_server"],
                           allow_http_loopback=allow_http_loopback, step=step, policy=policy)
    methods = config.get("token_endpoint_auth_methods_supported")
    if isinstance(methods, list) and methods and "private_key_jwt" not in methods:
        raise DynamicRegistrationError(
            "the platform does not accept private_key_jwt client authentication "
            f"(token_endpoint_auth_methods_supported: {methods})", step=step)
    algs = config.get("id_token_signing_alg_values_supported")
    if isinstance(algs, list) and algs and "RS256" not in algs:
        raise DynamicRegistrationError(
            f"the platform does not sign id_tokens with RS256 (id_token_signing_alg_values_supported: {algs})",
            step=step)
    lti = config.get(PLATFORM_CONFIGURATION)
    if not isinstance(lti, dict):
        raise DynamicRegistrationError(
            f"the OpenID configuration is not an LTI platform's: it lacks {PLATFORM_CONFIGURATION}", step=step)
    return config


def requested_scopes(config: dict) -> list[str]:
    """The tool's scopes that the platform says it supports (all of them when it does not say)."""
    supported = _scope_list(config.get("scopes_supported"))
    if not supported:
        return list(TOOL_SCOPES)
    return [s for s in TOOL_SCOPES if s in supported]


def supports_deep_linking(config: dict) -> bool:
    messages = (config.get(PLATFORM_CONFIGURATION) or {}).get("messages_supported")
    if not isinstance(messages, list):
        return True  # not said: offer it, the platform ignores what it does not know
    # LTI-DR says objects ({"type": ...}); Moodle 4.x sends plain strings.
    return any((m.get("type") if isinstance(m, dict) else m) == MESSAGE_DEEP_LINKING for m in messages)


def deep_linking_placements(config: dict) -> list[str]:
    """Where the platform offers deep linking (its own words), else the spec's ``ContentArea``."""
    lti = config.get(PLATFORM_CONFIGURATION) or {}
    found: list[str] = []
    for m in lti.get("messages_supported") or []:
        if isinstance(m, dict) and m.get("type") == MESSAGE_DEEP_LINKING and isinstance(m.get("placements"), list):
            found += [p for p in m["placements"] if isinstance(p, str)]
    if not found and isinstance(lti.get("placements"), list):  # Moodle: one top-level list
        found = [p for p in lti["placements"] if isinstance(p, str)]
    return found[:10] or ["ContentArea"]


def validate_registration_response(body: dict) -> tuple[str, str | None, dict]:
    """(client_id, deployment_id or None, tool configuration) from the platform's answer."""
    step = "registration"
    client_id = body.get("client_id")
    if isinstance(client_id, int) and not isinstance(client_id, bool):
        client_id = str(client_id)
    if not isinstance(client_id, str) or not client_id.strip() or len(client_id) > 255:
        raise DynamicRegistrationError("the platform's registration reply has no client_id", step=step,
                                       status=502)
    tool = body.get(TOOL_CONFIGURATION)
    if not isinstance(tool, dict):
        raise DynamicRegistrationError(
            f"the platform's registration reply lacks {TOOL_CONFIGURATION}", step=step, status=502)
    deployment_id = tool.get("deployment_id")
    if isinstance(deployment_id, int) and not isinstance(deployment_id, bool):
        deployment_id = str(deployment_id)
    if deployment_id is not None and (not isinstance(deployment_id, str) or not deployment_id
                                      or len(deployment_id) > 255):
        raise DynamicRegistrationError(f"the platform's deployment_id is not usable: {deployment_id!r}",
                                       step=step, status=502)
    return client_id.strip(), deployment_id, tool


def granted_scopes(requested: list[str], body: dict) -> list[str]:
    """What the platform granted: its ``scope`` (RFC 7591 lets it grant less), or what was asked when it is silent."""
    granted = _scope_list(body.get("scope"))
    if granted is None:
        return list(requested)
    return [s for s in granted if s in TOOL_SCOPES]


def scope_warnings(requested: list[str], granted: list[str], config: dict) -> list[str]:
    warnings = []
    supported = _scope_list(config.get("scopes_supported")) or []
    not_offered = [s for s in TOOL_SCOPES if supported and s not in supported]
    not_granted = [s for s in requested if s not in granted]
    for scope in not_offered + not_granted:
        # Read-only line items are enough to read; the full scope covers it.
        if scope == SCOPE_LINEITEM_READONLY and SCOPE_LINEITEM in granted:
            continue
        warnings.append(f"The platform did not grant {scope}: the tool cannot {SCOPE_PURPOSE[scope]}.")
    if SCOPE_SCORE not in granted:
        warnings.append("Without the score scope, \"passed\" must come from a platform bridge or from "
                        "conditional release, not from a score the tool records.")
    return warnings


# --------------------------------------------------------------------------- the flow
def _open_session(policy: OutboundPolicy) -> requests.Session:
    """The registration's HTTP client: the outbound layer (addresses checked at connection time,
    on every redirect hop; timeouts; at most MAX_BODY bytes read)."""
    return outbound_session(policy, max_bytes=MAX_BODY)


class ToolDynamicRegistration(DynamicRegistration):
    """pylti1p3next's registration payload filled with this tool's URLs; storage done by :func:`register`."""

    client_name = TOOL_TITLE
    description = TOOL_DESCRIPTION

    def __init__(self, base_url: str, openid_configuration_url: str, registration_token: str | None, *,
                 allow_http_loopback: bool, http_factory=None, policy: OutboundPolicy | None = None):
        self.urls = tool_urls(base_url)
        self.policy = policy or OutboundPolicy()
        self.base_url = base_url.rstrip("/")
        self.openid_configuration_url = openid_configuration_url
        self.registration_token = registration_token or None
        self.allow_http_loopback = allow_http_loopback
        self._http_factory = http_factory or (lambda: _open_session(self.policy))
        self.config: dict | None = None
        self.scopes: list[str] = list(TOOL_SCOPES)
        self.reply: dict | None = None

    # ---- payload (pylti1p3next's lti_registration_data() calls these)
    def get_request_session(self):
        return self._http_factory()

    def get_initiate_login_uri(self) -> str:
        return self.urls["login_url"]

    def get_jwks_uri(self) -> str:
        return self.urls["jwks_url"]

    def get_redirect_uris(self) -> list[str]:
        return [self.urls["launch_url"], self.urls["deep_linking_url"]]

    def get_scopes(self) -> list[str]:
        return self.scopes

    def get_domain(self) -> str:
        return urlsplit(self.base_url).netloc

    def get_target_link_uri(self) -> str:
        return self.urls["launch_url"]

    def get_claims(self) -> list[str]:
        return list(CLAIMS)

    def get_messages(self) -> list[dict]:
        messages = [{"type": MESSAGE_RESOURCE_LINK, "target_link_uri": self.urls["launch_url"],
                     "label": TOOL_TITLE}]
        if self.config is None or supports_deep_linking(self.config):
            messages.append({"type": MESSAGE_DEEP_LINKING, "target_link_uri": self.urls["deep_linking_url"],
                             "label": "Add a micro-credential",
                             "placements": deep_linking_placements(self.config or {})})
        return messages

    def get_logo_uri(self) -> str:
        return ""  # no logo is served yet; an unreachable one shows as broken in the LMS

    def get_openid_configuration_endpoint(self) -> str:
        return self.openid_configuration_url

    def get_registration_token(self) -> str | None:
        return self.registration_token

    def lti_registration_data(self) -> dict:
        data = super().lti_registration_data()
        if not data.get("logo_uri"):
            data.pop("logo_uri", None)
        return data

    # ---- step 1: the platform's configuration, checked
    def get_openid_configuration(self) -> dict:
        step = "openid_configuration"
        url = check_platform_url("openid_configuration URL", self.openid_configuration_url,
                                 allow_http_loopback=self.allow_http_loopback, step=step, policy=self.policy)
        headers = {"Accept": "application/json"}
        if self.registration_token:
            headers["Authorization"] = "Bearer " + self.registration_token
        with self.get_request_session() as http:
            try:
                response = http.get(url, headers=headers)
            except requests.RequestException as exc:
                raise DynamicRegistrationError(
                    f"could not fetch the platform's OpenID configuration from {url}: {describe_error(exc)}",
                    step=step, status=502) from None
        if response.status_code != 200:
            raise DynamicRegistrationError(
                f"the platform answered HTTP {response.status_code}{_error_code(response)} to the OpenID "
                f"configuration request ({url})",
                step=step, status=502)
        config = _json_object(response, "platform's OpenID configuration", step)
        validate_openid_configuration(url, config, allow_http_loopback=self.allow_http_loopback, policy=self.policy)
        self.config = config
        self.scopes = requested_scopes(config)
        return config

    # ---- step 3: the platform's answer (pylti1p3next calls this after the POST)
    def complete_registration(self, openid_configuration: dict, openid_registration: dict) -> dict:
        self.reply = openid_registration
        return openid_registration


def register(session: Session, *, base_url: str, openid_configuration_url: str,
             registration_token: str | None, allow_http_loopback: bool,
             http_factory=None, policy: OutboundPolicy | None = None) -> RegistrationResult:
    """Run the whole Dynamic Registration and store the platform (in ``session``; the caller commits).

    ``policy``: the addresses the tool may call (the services' ``outbound``); the strictest
    (public addresses only) when not given."""
    flow = ToolDynamicRegistration(base_url, openid_configuration_url, registration_token,
                                   allow_http_loopback=allow_http_loopback, http_factory=http_factory,
                                   policy=policy)
    if not openid_configuration_url:
        raise DynamicRegistrationError(
            "the openid_configuration parameter is missing: open this address from your platform's "
            "LTI Advantage (Dynamic Registration) screen, not directly", step="request")
    if registration_token is not None and len(registration_token) > 8192:
        raise DynamicRegistrationError("the registration_token is too long", step="request")
    config = flow.get_openid_configuration()  # validated; register() asks again, answered from here
    flow.get_openid_configuration = lambda: config  # type: ignore[method-assign]
    endpoint = config["registration_endpoint"]
    try:
        reply = flow.register()
    except LtiServiceException as exc:
        response = exc.response
        if response.ok:
            raise DynamicRegistrationError(
                f"the platform's registration reply is not JSON ({_describe(response)} from {endpoint})",
                step="registration", status=502) from None
        raise DynamicRegistrationError(
            f"the platform refused the registration: HTTP {response.status_code}{_error_code(response)} "
            f"from {endpoint}", step="registration", status=502) from None
    except requests.RequestException as exc:
        raise DynamicRegistrationError(
            f"could not reach the platform's registration endpoint {endpoint}: {describe_error(exc)}",
            step="registration", status=502) from None
    except (LtiException, AssertionError) as exc:
        raise DynamicRegistrationError(f"the platform's registration reply is not usable: {exc}",
                                       step="registration", status=502) from None
    except (TypeError, ValueError, KeyError, AttributeError):
        # pylti1p3next looks into the reply before handing it over; JSON null, a list or a
        # number make it fail with a type error.
        raise DynamicRegistrationError("the platform's registration reply is not a JSON object",
                                       step="registration", status=502) from None
    if not isinstance(reply, dict):
        raise DynamicRegistrationError("the platform's registration reply is not a JSON object",
                                       step="registration", status=502)
    try:
        json.dumps(reply, allow_nan=False)  # requests' .json() lets NaN and Infinity through; JSON has neither
    except ValueError:
        raise DynamicRegistrationError("the platform's registration reply is not JSON (NaN or Infinity in it)",
                                       step="registration", status=502) from None
    client_id, deployment_id, tool_conf = validate_registration_response(reply)
    granted = granted_scopes(flow.scopes, reply)
    warnings = scope_warnings(flow.scopes, granted, config)
    if deployment_id is None:
        warnings.insert(0, "The platform did not say which deployment this is: launches will be refused "
                           "until a deployment id is added with `microcred platform add`.")
    product, family = product_of(config)
    host = urlsplit(config["issuer"]).netloc
    name = f"{family or 'LTI platform'} ({host})"
    lti_conf = config.get(PLATFORM_CONFIGURATION) or {}
    data = PlatformInput(
        issuer=config["issuer"], client_id=client_id, deployment_ids=[deployment_id] if deployment_id else [],
        auth_login_url=config["authorization_endpoint"], auth_token_url=config["token_endpoint"],
        key_set_url=config["jwks_uri"], auth_audience=config.get("authorization_server") or None,
        name=name[:255], product=product, registration_kind="dynamic",
        registration_data={
            "registered_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "openid_configuration_url": openid_configuration_url,
            "product_family_code": family,
            "platform_version": lti_conf.get("version"),
            "requested_scopes": flow.scopes,
            "granted_scopes": granted,
            "messages": tool_conf.get("messages") or [],
            "openid_configuration": config,
            "registration": reply,
        })
    try:
        platform, created = register_platform(session, data)
    except RegistrationError as exc:
        raise DynamicRegistrationError(f"the platform's registration cannot be stored: {exc.message}",
                                       step="storage", status=502) from None
    return RegistrationResult(platform=platform_as_dict(platform), created=created, product=product,
                              product_family_code=family, platform_origin=origin(config["issuer"]) or "",
                              requested_scopes=list(flow.scopes), granted_scopes=granted, warnings=warnings)
