"""Platform registrations (issuer, client id, deployments) and the tool's configuration document."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from lti import TOOL_SCOPES
from lti.errors import LtiError
from plugin.storage import config_cache
from plugin.storage.models import Deployment, Platform

PRODUCTS = ("openedx", "moodle", "sandbox", "generic")

TOOL_TITLE = "microcred"
TOOL_DESCRIPTION = ("Issues EU micro-credentials (Open Badges 3.0 Verifiable Credentials with every "
                    "Annex I element) to learners who pass the course.")


class RegistrationError(LtiError):
    code = "invalid_registration"


def check_url(name: str, value: str | None, *, required: bool = True) -> str | None:
    """An absolute http(s) URL without fragment, or a :class:`RegistrationError` naming the field."""
    if value is None or value == "":
        if required:
            raise RegistrationError(f"{name} is required")
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        raise RegistrationError(f"{name} is not a valid URL: {value!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment or any(c.isspace() for c in value):
        raise RegistrationError(f"{name} must be an absolute http(s) URL, got {value!r}")
    return value


def check_issuer(value: str | None) -> str:
    # Issuers are URLs per the spec; Open edX and Moodle both use their site root.
    return check_url("issuer", value)


def origin(url: str) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


@dataclass
class PlatformInput:
    issuer: str
    client_id: str
    deployment_ids: list[str]
    auth_login_url: str
    auth_token_url: str
    key_set_url: str | None = None
    key_set: dict | None = None
    auth_audience: str | None = None
    name: str = ""
    product: str = "generic"
    registration_kind: str = "manual"
    registration_data: dict | None = None

    def check(self) -> "PlatformInput":
        check_issuer(self.issuer)
        if not self.client_id or len(self.client_id) > 255:
            raise RegistrationError("client_id is required (at most 255 characters)")
        for dep in self.deployment_ids:
            if not dep or len(dep) > 255:
                raise RegistrationError("deployment_id must be 1 to 255 characters")
        check_url("auth_login_url", self.auth_login_url)
        check_url("auth_token_url", self.auth_token_url)
        check_url("key_set_url", self.key_set_url, required=self.key_set is None)
        check_url("auth_audience", self.auth_audience, required=False)
        if self.key_set is not None and not isinstance(self.key_set.get("keys"), list):
            raise RegistrationError("key_set must be a JWKS object with a \"keys\" list")
        if self.product not in PRODUCTS:
            raise RegistrationError(f"product must be one of {', '.join(PRODUCTS)}, got {self.product!r}")
        return self


def find_platform(session: Session, issuer: str, client_id: str) -> Platform | None:
    """The registration of (issuer, client id), from this process's cache (:mod:`plugin.storage.config_cache`)."""
    snap = config_cache.cached(session, ("platform", issuer, client_id), lambda: config_cache.snapshot(
        session.scalars(select(Platform).where(Platform.issuer == issuer, Platform.client_id == client_id)).first()))
    return config_cache.revive(session, snap)


def platforms_of_issuer(session: Session, issuer: str) -> list[Platform]:
    """Every registration of a platform issuer (one per client id), cached like :func:`find_platform`."""
    snaps = config_cache.cached(session, ("platforms", issuer), lambda: [config_cache.snapshot(p) for p in session.scalars(
        select(Platform).where(Platform.issuer == issuer).order_by(Platform.id))])
    return [config_cache.revive(session, snap) for snap in snaps]


def find_deployment(session: Session, platform: Platform, deployment_id: str) -> Deployment | None:
    snap = config_cache.cached(session, ("deployment", platform.id, deployment_id), lambda: config_cache.snapshot(
        session.scalars(select(Deployment).where(Deployment.platform_id == platform.id,
                                                 Deployment.deployment_id == deployment_id)).first()))
    return config_cache.revive(session, snap)


def register_platform(session: Session, data: PlatformInput) -> tuple[Platform, bool]:
    """Create or update the registration (idempotent) and add its deployments. Returns (platform, created)."""
    data.check()
    platform = find_platform(session, data.issuer, data.client_id)
    created = platform is None
    if platform is None:
        platform = Platform(issuer=data.issuer, client_id=data.client_id, bridge_settings={})
        session.add(platform)
    platform.auth_login_url = data.auth_login_url
    platform.auth_token_url = data.auth_token_url
    platform.key_set_url = data.key_set_url
    if data.key_set is not None:
        platform.key_set = data.key_set
    platform.auth_audience = data.auth_audience
    if data.name or created:
        platform.name = data.name or urlsplit(data.issuer).hostname or data.issuer
    if data.product != "generic" or created:
        platform.product = data.product
    platform.registration_kind = data.registration_kind
    if data.registration_data is not None:
        platform.registration_data = data.registration_data
    session.flush()
    known = {d.deployment_id for d in platform.deployments}
    for dep in data.deployment_ids:
        if dep not in known:
            platform.deployments.append(Deployment(deployment_id=dep))
            known.add(dep)
    session.flush()
    return platform, created


def platform_as_dict(platform: Platform) -> dict:
    return {
        "id": platform.id,
        "issuer": platform.issuer,
        "client_id": platform.client_id,
        "name": platform.name,
        "product": platform.product,
        "deployment_ids": sorted(d.deployment_id for d in platform.deployments),
        "auth_login_url": platform.auth_login_url,
        "auth_token_url": platform.auth_token_url,
        "auth_audience": platform.auth_audience,
        "key_set_url": platform.key_set_url,
        "registration_kind": platform.registration_kind,
    }


def list_platforms(session: Session) -> list[Platform]:
    return list(session.scalars(select(Platform).options(selectinload(Platform.deployments))
                                .order_by(Platform.issuer, Platform.client_id)))


def platform_origins(session: Session) -> list[str]:
    """Origins allowed to frame the tool: every registered platform's issuer and login URL."""
    def compute() -> tuple[str, ...]:
        seen: set[str] = set()
        for issuer, login in session.execute(select(Platform.issuer, Platform.auth_login_url)):
            for url in (issuer, login):
                o = origin(url or "")
                if o:
                    seen.add(o)
        return tuple(sorted(seen))
    return list(config_cache.cached(session, "platform_origins", compute))


# --------------------------------------------------------------------------- the tool's own URLs
def tool_urls(base_url: str) -> dict[str, str]:
    base = base_url.rstrip("/")
    return {
        "login_url": f"{base}/lti/login",
        "launch_url": f"{base}/lti/launch",
        "deep_linking_url": f"{base}/lti/deep-link",
        "jwks_url": f"{base}/lti/jwks",
        "registration_url": f"{base}/lti/register",
        "config_url": f"{base}/lti/config",
    }


def launch_targets(base_url: str) -> tuple[str, ...]:
    """URLs a ``target_link_uri`` may name (the launch and deep-linking endpoints)."""
    urls = tool_urls(base_url)
    return (urls["launch_url"], urls["deep_linking_url"])


def tool_configuration(base_url: str) -> dict:
    """The JSON document an admin pastes into a platform (manual registration)."""
    urls = tool_urls(base_url)
    domain = urlsplit(base_url).netloc
    return {
        "title": TOOL_TITLE,
        "description": TOOL_DESCRIPTION,
        "target_link_uri": urls["launch_url"],
        "oidc_initiation_url": urls["login_url"],
        **urls,
        "redirect_uris": [urls["launch_url"], urls["deep_linking_url"]],
        "domain": domain,
        "scopes": list(TOOL_SCOPES),
        "claims": ["iss", "sub", "name", "given_name", "family_name", "email", "locale"],
        "messages": [
            {"type": "LtiResourceLinkRequest", "target_link_uri": urls["launch_url"]},
            {"type": "LtiDeepLinkingRequest", "target_link_uri": urls["deep_linking_url"],
             "placements": ["link_selection", "assignment_selection"]},
        ],
        "public_jwk_url": urls["jwks_url"],
        "custom_parameters": {},
    }
