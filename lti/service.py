"""OAuth2 client-credentials access to a platform's LTI Advantage services (AGS, NRPS).

The tool authenticates with a JWT client assertion (RS256, tool key, ``kid`` in our JWKS)
as pylti1p3's :class:`~pylti1p3.service_connector.ServiceConnector` does; this subclass
adds what it leaves abstract or missing: the access token is cached in ``key_value``
until shortly before it expires, the scopes the platform actually *granted* are
remembered (Moodle may grant only ``lineitem.readonly``), an operation needing a scope
that was not granted fails with :class:`~lti.errors.ScopeNotGranted`, HTTP calls go through
the outbound layer (:mod:`plugin.net`: every address checked at connection time, timeouts, a
size limit), and every failure is a :class:`~lti.errors.ServiceError` naming what failed.
The URLs come from launches (AGS/NRPS claims) and registrations: they are checked when
stored too (:func:`check_service_url`).
"""
from __future__ import annotations

import hashlib
import re
import time
import typing as t
import uuid
from urllib.parse import urlsplit

import requests
from pylti1p3.exception import LtiServiceException
from pylti1p3.service_connector import ServiceConnector

from lti.config import DBToolConfig
from lti.errors import ScopeNotGranted, ServiceError
from lti.storage import kv_delete, kv_get, kv_set
from plugin.net import describe_error
from plugin.storage.models import Platform

EXPIRY_MARGIN = 30  # seconds: refresh a token this long before the platform says it expires
_OAUTH_ERROR = re.compile(r"[a-z_]{1,64}")  # RFC 6749 error codes; anything else is not repeated


def check_service_url(services, url: t.Any, what: str) -> str | None:
    """A service URL from a launch, or the reason it is refused (None when the tool may call it)."""
    from plugin.net import OutboundPolicy
    if not isinstance(url, str) or not url or len(url) > 2048:
        return f"the {what} URL is missing or too long"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"the {what} URL is not an absolute http(s) URL"
    policy = services.outbound if services is not None else OutboundPolicy()
    refused = policy.refusal_for_url(url)
    return f"the {what} URL is refused: {refused.message}" if refused else None


# The URLs of each service claim of a launch the tool may call later.
SERVICE_URLS = {"ags": (("lineitems", "AGS line items"), ("lineitem", "AGS line item")),
                "nrps": (("context_memberships_url", "NRPS memberships"),)}


def service_claim_problems(services, name: str, claim: t.Any) -> list[str]:
    """Why a launch's AGS (``name="ags"``) or NRPS claim cannot be kept; empty when it can."""
    if not isinstance(claim, dict):
        return [f"the {name} claim is not an object"]
    problems = []
    for key, what in SERVICE_URLS.get(name, ()):
        if claim.get(key) is not None:
            problem = check_service_url(services, claim.get(key), what)
            if problem:
                problems.append(problem)
    return problems


class PlatformConnector(ServiceConnector):
    """A service connector for one platform registration, usable outside any web request."""

    def __init__(self, services, platform_id: int, *, offered_scopes: t.Iterable[str] | None = None,
                 http: requests.Session | None = None):
        with services.session() as s:
            platform = s.get(Platform, platform_id)
            if platform is None:
                raise ServiceError(f"platform registration {platform_id} no longer exists", status=404)
            registration = DBToolConfig(s, services.secrets).registration_for(platform)
            s.expunge_all()
        http = http or services.http()
        super().__init__(registration, http)
        self._services = services
        self.platform_id = platform_id
        self.offered_scopes = list(offered_scopes) if offered_scopes is not None else None
        self.requested_scopes: list[str] | None = None
        self.token_requests = 0  # how many times the token endpoint was called (tests, metrics)

    # ---- token cache
    def _cache_key(self, scopes: t.Sequence[str]) -> str:
        digest = hashlib.sha256("|".join([str(self.platform_id), *sorted(scopes)]).encode()).hexdigest()
        return f"lti-token:{digest}"

    def _cached(self, scopes: t.Sequence[str]) -> dict | None:
        with self._services.session() as s:
            value = kv_get(s, self._cache_key(scopes))
        return value if isinstance(value, dict) and value.get("access_token") else None

    def forget_token(self, scopes: t.Sequence[str]) -> None:
        with self._services.session() as s:
            kv_delete(s, self._cache_key(scopes))

    def token(self, scopes: t.Sequence[str]) -> dict:
        """``{"access_token", "granted": [...]}`` for ``scopes``, from the cache or the platform."""
        scopes = sorted(set(scopes))
        cached = self._cached(scopes)
        if cached:
            return cached
        reg = self._registration
        aud = reg.get_auth_audience() or reg.get_auth_token_url()
        now = int(time.time())
        assertion = self.encode_jwt({
            "iss": reg.get_client_id(), "sub": reg.get_client_id(), "aud": aud,
            "iat": now - 5, "exp": now + 300, "jti": "microcred-" + str(uuid.uuid4()),
        }, reg.get_tool_private_key(), {"kid": reg.get_kid()})
        self.token_requests += 1
        try:
            r = self._requests_session.post(reg.get_auth_token_url(), data={
                "grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion,
                "scope": " ".join(scopes),
            }, headers={"Accept": "application/json"})
        except requests.RequestException as exc:
            raise ServiceError(f"the platform's token endpoint {reg.get_auth_token_url()} failed: "
                               f"{describe_error(exc)}") from None
        try:
            body = r.json()
        except ValueError:
            body = None
        if not r.ok or not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            detail = ""
            if isinstance(body, dict) and isinstance(body.get("error"), str) and _OAUTH_ERROR.fullmatch(body["error"]):
                detail = ": " + body["error"]  # the OAuth error code only: nothing else of the reply is repeated
            if isinstance(body, dict) and body.get("error") == "invalid_scope":
                raise ScopeNotGranted(f"the platform did not grant the scope(s) {' '.join(scopes)}{detail}")
            raise ServiceError(f"the platform refused an access token for {' '.join(scopes)} "
                               f"(HTTP {r.status_code}{detail})")
        granted = body.get("scope")
        granted_list = granted.split() if isinstance(granted, str) and granted.strip() else list(scopes)
        try:
            expires_in = float(body.get("expires_in") or 3600)
        except (TypeError, ValueError):
            expires_in = 3600.0
        value = {"access_token": body["access_token"], "granted": granted_list,
                 "expires_at": time.time() + expires_in}
        ttl = max(1.0, expires_in - EXPIRY_MARGIN)
        with self._services.session() as s:
            kv_set(s, self._cache_key(scopes), value, ttl)
        return value

    def get_access_token(self, scopes: t.Sequence[str]) -> str:
        return self.token(scopes)["access_token"]

    # ---- scopes
    def scopes_to_request(self, wanted: t.Iterable[str]) -> list[str]:
        """Ask for every scope the platform offered in the launch (one token serves all calls)."""
        offered = self.offered_scopes
        base = set(offered) if offered else set(wanted)
        return sorted(base)

    def require(self, any_of: t.Sequence[str], operation: str) -> list[str]:
        """Scopes to use for ``operation`` (needing one of ``any_of``); ScopeNotGranted otherwise."""
        if self.offered_scopes is not None and not set(any_of) & set(self.offered_scopes):
            raise ScopeNotGranted(f"{operation} needs the scope {' or '.join(any_of)}, which the platform "
                                  f"did not offer (offered: {' '.join(self.offered_scopes) or 'none'})")
        scopes = self.scopes_to_request(any_of)
        granted = self.token(scopes)["granted"]
        if not set(any_of) & set(granted):
            raise ScopeNotGranted(f"{operation} needs the scope {' or '.join(any_of)}, which the platform "
                                  f"did not grant (granted: {' '.join(granted) or 'none'})")
        return scopes

    # ---- requests
    def checked(self, url: t.Any, what: str = "platform service") -> str:
        """``url`` when the tool may call it; else ServiceError. Called before a token is asked for,
        so neither the token request nor the bearer token goes anywhere for an internal URL."""
        problem = check_service_url(self._services, url, what)
        if problem:
            raise ServiceError(problem, status=502)
        return url

    def request(self, scopes: t.Sequence[str], url: str, **kwargs) -> dict:
        self.checked(url)  # the connection-time check stays the guard; this gives the clear message early
        for attempt in (0, 1):
            try:
                return self.make_service_request(scopes, url, **kwargs)
            except LtiServiceException as exc:
                status = exc.response.status_code
                if status == 401 and attempt == 0:  # token revoked or expired early: get a new one
                    self.forget_token(sorted(set(scopes)))
                    continue
                raise ServiceError(f"the platform answered HTTP {status} to {url}", status=502) from None
            except requests.RequestException as exc:
                raise ServiceError(f"the platform service {url} failed: {describe_error(exc)}") from None
            except ValueError:
                raise ServiceError(f"the platform service {url} did not answer JSON") from None
        raise ServiceError(f"the platform kept refusing our access token at {url}")  # pragma: no cover

    def paginated(self, scopes: t.Sequence[str], url: str, *, accept: str, max_pages: int = 1000):
        pages = 0
        while url and pages < max_pages:
            response = self.request(scopes, url, accept=accept)
            yield response
            pages += 1
            url = response["next_page_url"]
