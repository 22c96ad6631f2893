"""OIDC third-party login initiation (the first leg of every LTI 1.3 launch).

The platform sends ``iss``, ``login_hint``, ``target_link_uri`` and optionally
``client_id``, ``lti_deployment_id`` and ``lti_message_hint`` (GET or POST). The tool
answers with a redirect to the platform's authorization endpoint carrying a fresh
``state`` and ``nonce``. The state carries the login's record (issuer, client id, nonce),
signed with the tool's secret key and timed, because the launch that follows may come back
in an iframe that has lost every third-party cookie; nothing is written at login.
"""
from __future__ import annotations

import secrets
import typing as t
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from itsdangerous import BadData, URLSafeTimedSerializer
from pylti1p3.cookie import CookieService
from pylti1p3.exception import OIDCException
from pylti1p3.launch_data_storage.base import LaunchDataStorage
from pylti1p3.oidc_login import OIDCLogin
from pylti1p3.request import Request
from pylti1p3.session import SessionService
from sqlalchemy.orm import Session

from lti.config import DBToolConfig
from lti.errors import LoginError, UnknownPlatform
from lti.platforms import find_deployment, launch_targets, platforms_of_issuer, tool_urls
from plugin.storage.secrets import SecretBox

STATE_TTL = 600  # seconds between the login and the launch
MAX_STATE = 2048  # characters of a state this tool issued (a signed, compressed record)
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


class _Unused(LaunchDataStorage[t.Any]):
    """pylti1p3's login stores its nonce and state parameters; the launch never reads them (it
    reads the record signed into the state, :func:`read_state`), so they are not written anywhere."""

    def get_session_cookie_name(self) -> t.Optional[str]:
        return None

    def get_value(self, key: str) -> t.Any:
        return None

    def set_value(self, key: str, value: t.Any, exp: t.Optional[int] = None) -> None:
        pass

    def check_value(self, key: str) -> bool:
        return False


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
    def __init__(self, request, tool_config, *, session_service, cookie_service, nonce: str, state_token: str):
        super().__init__(request, tool_config, session_service=session_service, cookie_service=cookie_service)
        self._nonce = nonce
        self._state_token = state_token

    def get_redirect(self, url: str):  # pragma: no cover - we only build the URL
        raise NotImplementedError

    def _generate_nonce(self) -> str:
        return self._nonce

    def _get_uuid(self) -> str:
        return self._state_token  # the state is "state-" + this


def _state_signer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="microcred-lti-login-state")


def read_state(secret: str, state: str) -> dict | None:
    """The login record a ``state`` carries, or ``None`` when it is not one of ours (bad
    signature, not ``state-…``) or older than :data:`STATE_TTL`."""
    if not isinstance(state, str) or not state.startswith("state-") or len(state) > MAX_STATE:
        return None
    try:
        record = _state_signer(secret).loads(state[len("state-"):], max_age=STATE_TTL)
    except BadData:
        return None
    return record if isinstance(record, dict) else None


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
                *, state_secret: str, secure: bool = False) -> LoginResult:
    """Validate a third-party login initiation and build the platform authorization redirect.

    The login is remembered in the ``state`` itself: its record (issuer, client id, nonce,
    platform, deployment) signed with ``state_secret`` and timed (:func:`read_state`), so the
    login writes nothing to the database and the launch reads nothing to find it. The nonce
    is still accepted only once, by the launch (``one_time_token``)."""
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
    platforms = platforms_of_issuer(session, iss)
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
    session_service = SessionService(request)
    session_service.set_data_storage(_Unused())
    session_service._launch_data_lifetime = STATE_TTL
    cookies = CollectingCookies(request)
    nonce = secrets.token_urlsafe(32)
    record = {"iss": iss, "client_id": client_id, "nonce": nonce, "platform_id": platform.id}
    if deployment_id:
        record["deployment_id"] = deployment_id
    login = _Login(request, DBToolConfig(session, box), session_service=session_service,
                   cookie_service=cookies, nonce=nonce, state_token=_state_signer(state_secret).dumps(record))
    login.pass_params_to_launch({"iss": iss, "client_id": client_id, "nonce": nonce,
                                 "target_link_uri": target, "platform_id": platform.id})
    try:
        url = login._prepare_redirect_url(tool_urls(base_url)["launch_url"])
    except OIDCException as exc:
        raise LoginError(str(exc)) from None
    state = next(v for name, v, _ in cookies.to_set if name.startswith("lti1p3-state-"))
    return LoginResult(redirect_url=url, state=state, platform_id=platform.id, cookies=cookies.to_set)
