"""OIDC third-party login initiation (the first leg of every LTI 1.3 launch).

The platform sends ``iss``, ``login_hint``, ``target_link_uri`` and optionally
``client_id``, ``lti_deployment_id`` and ``lti_message_hint`` (GET or POST). The tool
answers with a redirect to the platform's authorization endpoint carrying a fresh
``state`` and ``nonce``. Both are remembered on the server (``key_value``), bound to
the issuer, client id and target of this login, because the launch that follows may
come back in an iframe that has lost every third-party cookie.
"""
from __future__ import annotations

import secrets
import typing as t
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from pylti1p3.cookie import CookieService
from pylti1p3.exception import OIDCException
from pylti1p3.oidc_login import OIDCLogin
from pylti1p3.request import Request
from pylti1p3.session import SessionService
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti.config import DBToolConfig
from lti.errors import LoginError, UnknownPlatform
from lti.platforms import find_deployment, launch_targets, tool_urls
from lti.storage import DBLaunchDataStorage, kv_set
from plugin.storage.models import Platform
from plugin.storage.secrets import SecretBox

STATE_TTL = 600  # seconds between the login and the launch
STATE_PREFIX = "lti-state:"
MAX_PARAM = 4096


class DictRequest(Request):
    """pylti1p3's request interface over plain values (no web framework)."""

    def __init__(self, params: t.Mapping[str, t.Any], *, secure: bool = False, cookies: t.Mapping[str, str] | None = None):
        self._params = params
        self._secure = secure
        self.cookies = dict(cookies or {})

    @property
    def session(self):  # pragma: no cover - pylti1p3 never needs it with our storage
        return {}

    def is_secure(self) -> bool:
        return self._secure

    def get_param(self, key: str) -> str:
        value = self._params.get(key)
        return value if isinstance(value, str) else ""


class CollectingCookies(CookieService):
    """Records the cookies pylti1p3 wants to set; the web layer writes them (SameSite=None; Secure)."""

    def __init__(self, request: DictRequest):
        self._request = request
        self.to_set: list[tuple[str, str, int | None]] = []

    def get_cookie(self, name: str) -> t.Optional[str]:
        return self._request.cookies.get(f"{self._cookie_prefix}-{name}")

    def set_cookie(self, name: str, value, exp: t.Optional[int] = 3600):
        self.to_set.append((f"{self._cookie_prefix}-{name}", str(value), exp))


@dataclass
class LoginResult:
    redirect_url: str
    state: str
    platform_id: int
    cookies: list[tuple[str, str, int | None]] = field(default_factory=list)


def same_endpoint(url: str, allowed: t.Iterable[str]) -> bool:
    """``url`` names one of ``allowed`` (same scheme, host, port and path; any query)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    for candidate in allowed:
        c = urlsplit(candidate)
        if (parts.scheme, parts.netloc.lower(), parts.path.rstrip("/") or "/") == \
                (c.scheme, c.netloc.lower(), c.path.rstrip("/") or "/"):
            return True
    return False


class _Login(OIDCLogin):
    def __init__(self, request, tool_config, *, session_service, cookie_service, nonce: str):
        super().__init__(request, tool_config, session_service=session_service, cookie_service=cookie_service)
        self._nonce = nonce

    def get_redirect(self, url: str):  # pragma: no cover - we only build the URL
        raise NotImplementedError

    def _generate_nonce(self) -> str:
        return self._nonce

    def _get_uuid(self) -> str:
        return secrets.token_urlsafe(24)


def _param(params: t.Mapping[str, t.Any], name: str) -> str:
    value = params.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise LoginError(f"the login parameter {name} must be a string")
    if len(value) > MAX_PARAM:
        raise LoginError(f"the login parameter {name} is too long ({len(value)} characters)")
    if "\x00" in value:
        raise LoginError(f"the login parameter {name} contains a NUL character")
    return value


def begin_login(session: Session, box: SecretBox, base_url: str, params: t.Mapping[str, t.Any],
                *, secure: bool = False) -> LoginResult:
    """Validate a third-party login initiation and build the platform authorization redirect."""
    iss = _param(params, "iss")
    login_hint = _param(params, "login_hint")
    target = _param(params, "target_link_uri")
    client_id = _param(params, "client_id")
    deployment_id = _param(params, "lti_deployment_id")
    _param(params, "lti_message_hint")
    if not iss:
        raise LoginError("the login request has no iss (platform issuer)")
    if not login_hint:
        raise LoginError("the login request has no login_hint")
    if not target:
        raise LoginError("the login request has no target_link_uri")
    if not same_endpoint(target, launch_targets(base_url)):
        raise LoginError(f"target_link_uri {target!r} is not a launch URL of this tool "
                         f"(expected {tool_urls(base_url)['launch_url']})")
    platforms = list(session.scalars(select(Platform).where(Platform.issuer == iss)))
    if not platforms:
        raise UnknownPlatform(f"the platform {iss!r} is not registered with this tool: "
                              "an administrator must add it first (microcred platform add)")
    if client_id:
        platform = next((p for p in platforms if p.client_id == client_id), None)
        if platform is None:
            raise UnknownPlatform(f"client_id {client_id!r} is not registered for the platform {iss!r}")
    elif len(platforms) == 1:
        platform = platforms[0]
        client_id = platform.client_id
    else:
        raise LoginError(f"the platform {iss!r} has {len(platforms)} registrations here: "
                         "the login request must name its client_id")
    if deployment_id and find_deployment(session, platform, deployment_id) is None:
        raise UnknownPlatform(f"deployment {deployment_id!r} is not registered for client_id {client_id!r}")

    request = DictRequest({**{k: v for k, v in params.items() if isinstance(v, str)}, "client_id": client_id},
                          secure=secure)
    storage = DBLaunchDataStorage(session)
    session_service = SessionService(request)
    session_service.set_data_storage(storage)
    session_service._launch_data_lifetime = STATE_TTL
    cookies = CollectingCookies(request)
    nonce = secrets.token_urlsafe(32)
    login = _Login(request, DBToolConfig(session, box), session_service=session_service,
                   cookie_service=cookies, nonce=nonce)
    login.pass_params_to_launch({"iss": iss, "client_id": client_id, "nonce": nonce,
                                 "target_link_uri": target, "platform_id": platform.id})
    try:
        url = login._prepare_redirect_url(tool_urls(base_url)["launch_url"])
    except OIDCException as exc:
        raise LoginError(str(exc)) from None
    state = next(v for name, v, _ in cookies.to_set if name.startswith("lti1p3-state-"))
    # Our own, cookie-free record of the login (pylti1p3 also stored its nonce and params).
    kv_set(session, STATE_PREFIX + state, {"iss": iss, "client_id": client_id, "nonce": nonce,
                                           "target_link_uri": target, "platform_id": platform.id,
                                           "deployment_id": deployment_id or None}, STATE_TTL)
    return LoginResult(redirect_url=url, state=state, platform_id=platform.id, cookies=cookies.to_set)
