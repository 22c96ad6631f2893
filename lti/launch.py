"""The hardened LTI 1.3 launch (``id_token`` form post from the platform).

pylti1p3's :class:`~pylti1p3.message_launch.MessageLaunch` does the decoding and the
message validators; this subclass closes the gaps measured against the 1EdTech
certification cases (brief §5):

* the ``state`` must be one our login issued (signed, at most 10 minutes old:
  :func:`lti.login.read_state`), for the same issuer and client id, and the id_token's
  ``nonce`` must be the one issued with it;
* the nonce is accepted **once** (``one_time_token``): a replayed id_token is refused;
* ``aud`` may be a list only with an ``azp`` naming one of its members; ``azp`` must be
  our client id;
* ``target_link_uri`` is required and must name one of the tool's launch URLs;
* ``exp`` and ``iat`` are required and checked with a small clock-skew allowance;
* ``exp`` at most :data:`MAX_ID_TOKEN_LIFETIME` away, a finite number;
* only RS256 with a ``kid`` found in the platform's JWKS (fetched through the outbound layer
  and cached; fetched again when the kid is unknown, to follow key rotation, at most as
  often as the refetch limit allows: :mod:`plugin.net.jwks`);
* every refusal is an :class:`~lti.errors.LtiError` (a 4xx with a message naming the
  problem), never an unhandled exception.
"""
from __future__ import annotations

import json
import math
import secrets
import threading
import time
import typing as t
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import jwt
import requests
from jwcrypto.jwk import JWK
from pylti1p3.exception import LtiException, OIDCException
from pylti1p3.message_launch import MessageLaunch
from pylti1p3.session import SessionService
from sqlalchemy.orm import Session

from lti import (CLAIM_CONTEXT, CLAIM_DEPLOYMENT_ID, CLAIM_DL_SETTINGS, CLAIM_MESSAGE_TYPE,
                 CLAIM_RESOURCE_LINK, CLAIM_ROLES, CLAIM_TARGET_LINK_URI, CLAIM_VERSION,
                 MESSAGE_DEEP_LINKING, MESSAGE_RESOURCE_LINK, SUPPORTED_MESSAGES)
from lti.config import DBRegistration, DBToolConfig
from lti.errors import LaunchError, LtiError, UnknownPlatform
from lti.login import CollectingCookies, DictRequest, read_state, same_endpoint
from lti.platforms import launch_targets
from lti.storage import DBLaunchDataStorage, kv_get
from plugin.net import OutboundPolicy, outbound_session
from plugin.net.http import SMALL
from plugin.net.jwks import KeySetError, KeySets
from plugin.ratelimit import Limits, RateLimited
from plugin.storage.db import upsert_insert
from plugin.storage.models import OneTimeToken, Platform
from plugin.storage.secrets import SecretBox

CLOCK_SKEW = 60  # seconds of tolerance on exp / iat / nbf
LAUNCH_DATA_TTL = 8 * 3600
JWKS_CACHE_TTL = 3600
MAX_ID_TOKEN = 64 * 1024
# An id_token lives minutes (Moodle: 60 s, Open edX and Canvas: an hour); one valid for longer
# than this is refused, as is a made-up exp such as 1e308.
MAX_ID_TOKEN_LIFETIME = 4 * 3600
ALLOWED_ALGS = ("RS256", "RS384", "RS512")
JWKS_REFETCH = "1 per minute"  # default of MICROCRED_RATELIMIT_JWKS_REFETCH
_LIMITS: Limits | None = None  # counters of callers that bring none (tests, scripts)


def _not_json(name: str) -> t.NoReturn:
    # Python's json accepts NaN and Infinity, which JSON (RFC 8259) does not: such a body would
    # be refused later by PostgreSQL's JSON column, so it is refused here as not JSON.
    raise ValueError(f"{name} is not JSON")


def _str(value: t.Any) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass
class LaunchResult:
    launch_id: str
    claims: dict
    platform_id: int
    issuer: str
    client_id: str
    deployment_id: str
    message_type: str
    product: str = "generic"
    cookies: list = field(default_factory=list)

    @property
    def is_deep_link(self) -> bool:
        return self.message_type == MESSAGE_DEEP_LINKING


_PUBLIC_KEYS: "OrderedDict[str, t.Any]" = OrderedDict()
_PUBLIC_KEYS_LOCK = threading.Lock()
PUBLIC_KEYS_CACHED = 256


def _public_key(jwk: dict) -> t.Any:
    """A platform's JWK as a ``cryptography`` public key, parsed once per process.

    Keyed by the JWK's whole content: the key is still looked up by ``kid`` in the platform's
    current key set on every launch (:class:`plugin.net.jwks.KeySets` and its cache lifetime), so
    a key the platform removed is never used, and a changed key is a new entry. Saves the
    JWK -> PEM -> key parsing (~0.5 ms) per launch; the signature is verified every time."""
    from cryptography.hazmat.primitives.serialization import load_pem_public_key
    cache_key = json.dumps(jwk, sort_keys=True, separators=(",", ":"))
    with _PUBLIC_KEYS_LOCK:
        key = _PUBLIC_KEYS.get(cache_key)
        if key is not None:
            _PUBLIC_KEYS.move_to_end(cache_key)
            return key
    key = load_pem_public_key(JWK(**jwk).export_to_pem())
    with _PUBLIC_KEYS_LOCK:
        _PUBLIC_KEYS[cache_key] = key
        while len(_PUBLIC_KEYS) > PUBLIC_KEYS_CACHED:
            _PUBLIC_KEYS.popitem(last=False)
    return key


class HardenedLaunch(MessageLaunch):
    def __init__(self, request: DictRequest, tool_config: DBToolConfig, *, session: Session, base_url: str,
                 state_secret: str, http: requests.Session | None = None, clock_skew: int = CLOCK_SKEW,
                 limits: Limits | None = None, jwks_refetch: str = JWKS_REFETCH):
        # No session given: the strictest one (public addresses only), never a plain requests.Session.
        http = http or outbound_session(OutboundPolicy(), max_bytes=SMALL)
        session_service = SessionService(request)
        storage = DBLaunchDataStorage(session)
        session_service.set_data_storage(storage)
        session_service._launch_data_lifetime = LAUNCH_DATA_TTL
        super().__init__(request, tool_config, session_service=session_service,
                         cookie_service=CollectingCookies(request), requests_session=http)
        self._db = session
        self._base_url = base_url
        self._state_secret = state_secret
        self._clock_skew = clock_skew
        self._state_record: dict | None = None
        self._platform: Platform | None = None
        self._client_id: str | None = None
        self._key_sets = KeySets(session, http, limits or _default_limits(), jwks_refetch, JWKS_CACHE_TTL)
        self.set_launch_id(secrets.token_urlsafe(32))

    def _get_request_param(self, key: str) -> str:
        return self._request.get_param(key)

    # ------------------------------------------------------------------ the chain
    def validate(self) -> "HardenedLaunch":
        self._validated = True
        try:
            return (self.validate_jwt_format()
                    .validate_state()
                    .validate_registration()
                    .validate_jwt_signature()
                    .validate_nonce()
                    .validate_deployment()
                    .validate_target_link_uri()
                    .validate_message()
                    .save_launch_data())
        except LtiError:
            self._validated = False
            raise
        except (LtiException, OIDCException) as exc:  # pylti1p3's own validators
            self._validated = False
            raise LaunchError(f"invalid launch: {exc}") from None

    def get_client_id(self) -> str:
        return self._client_id or super().get_client_id()

    def validate_jwt_format(self) -> "HardenedLaunch":
        id_token = self._get_request_param("id_token")
        if not id_token:
            raise LaunchError("the launch has no id_token: open the tool from your course")
        if len(id_token) > MAX_ID_TOKEN:
            raise LaunchError("the id_token is too large")
        parts = id_token.split(".")
        if len(parts) != 3:
            raise LaunchError("the id_token is not a JWT (expected three dot-separated parts)")
        try:
            header = json.loads(self.urlsafe_b64decode(parts[0]), parse_constant=_not_json)
            body = json.loads(self.urlsafe_b64decode(parts[1]), parse_constant=_not_json)
        except Exception:
            raise LaunchError("the id_token is not a JWT (its header or body is not base64url JSON)") from None
        if not isinstance(header, dict) or not isinstance(body, dict):
            raise LaunchError("the id_token is not a JWT (header and body must be JSON objects)")
        self._jwt = {"header": header, "body": body}
        return self

    def validate_state(self) -> "HardenedLaunch":
        state = self._get_request_param("state")
        if not state:
            raise LaunchError("the launch has no state: start it again from the platform")
        record = read_state(self._state_secret, state)
        if not isinstance(record, dict):
            raise LaunchError("the launch state is unknown or expired (more than 10 minutes since the login): "
                              "start it again from the platform")
        self._state_record = record
        return self

    def validate_registration(self) -> "HardenedLaunch":
        body = self._jwt["body"]
        iss = _str(body.get("iss"))
        if iss is None:
            raise LaunchError("the id_token has no iss (issuer) claim")
        aud = body.get("aud")
        if isinstance(aud, str) and aud:
            audiences = [aud]
        elif isinstance(aud, list) and aud and all(isinstance(a, str) and a for a in aud):
            audiences = aud
        else:
            raise LaunchError("the id_token has no valid aud (audience) claim")
        azp = body.get("azp")
        if azp is not None and not isinstance(azp, str):
            raise LaunchError("the id_token's azp claim must be a string")
        if len(audiences) > 1 and azp is None:
            raise LaunchError("the id_token has several audiences but no azp (authorized party) claim")
        if azp is not None and azp not in audiences:
            raise LaunchError(f"the id_token's azp {azp!r} is not one of its audiences")
        client_id = azp or audiences[0]
        record = self._state_record or {}
        if iss != record.get("iss"):
            raise LaunchError("the id_token's issuer is not the platform that started this login")
        if client_id != record.get("client_id"):
            if record.get("client_id") in audiences:
                raise LaunchError(f"the id_token's azp {azp!r} is not this tool's client id")
            raise LaunchError("the id_token's audience is not the client id that started this login")
        conf: DBToolConfig = self._tool_config
        if not conf.issuer_known(iss):
            raise UnknownPlatform(f"the platform {iss!r} is not registered with this tool")
        platform = conf.platform(iss, client_id)
        if platform is None:
            raise UnknownPlatform(f"client_id {client_id!r} is not registered for the platform {iss!r}")
        self._platform = platform
        self._client_id = client_id
        self._registration = conf.registration_for(platform)
        return self

    # ---- keys
    def _key_set(self, kid: str) -> dict:
        platform = self._platform
        if platform.key_set and not platform.key_set_url:
            return platform.key_set
        try:
            return self._key_sets.get(platform.key_set_url, kid=kid, scope=f"platform:{platform.id}")
        except KeySetError as exc:
            raise LaunchError(f"the platform's public keys could not be used: {exc.message}") from None
        except RateLimited as exc:
            raise LaunchError(f"the id_token's kid {kid!r} is not in the platform's key set, which was fetched "
                              f"again moments ago; try again in {exc.retry_after} s", status=429,
                              code="rate_limited", retry_after=exc.retry_after) from None

    def get_public_key(self):
        header = self._jwt["header"]
        kid = header.get("kid")
        alg = header.get("alg")
        if alg not in ALLOWED_ALGS:
            raise LaunchError(f"the id_token is signed with {alg!r}; only {', '.join(ALLOWED_ALGS)} are accepted")
        if not isinstance(kid, str) or not kid or len(kid) > 255:
            raise LaunchError("the id_token header has no kid (key id)")
        for key in self._key_set(kid).get("keys", []):
            if isinstance(key, dict) and key.get("kid") == kid and key.get("alg", alg) == alg:
                if key.get("kty") != "RSA":  # PyJWT would raise InvalidKeyError (a 500) for RS* with it
                    raise LaunchError(f"the platform key {kid!r} is not an RSA key; {alg} needs one")
                try:
                    return _public_key(key), alg
                except Exception:
                    raise LaunchError(f"the platform key {kid!r} is not a usable RSA public key") from None
        raise LaunchError(f"the id_token's kid {kid!r} is not in the platform's key set")

    def validate_jwt_signature(self) -> "HardenedLaunch":
        public_key, alg = self.get_public_key()
        try:
            jwt.decode(self._get_request_param("id_token"), public_key, algorithms=[alg],
                       leeway=self._clock_skew,
                       options={"verify_aud": False, "require": ["exp", "iat"]})
        except jwt.ExpiredSignatureError:
            raise LaunchError("the id_token has expired (check the platform's clock)") from None
        except jwt.ImmatureSignatureError:
            raise LaunchError("the id_token is dated in the future (check the platform's clock)") from None
        except jwt.MissingRequiredClaimError as exc:
            raise LaunchError(f"the id_token has no {exc.claim} claim") from None
        except jwt.InvalidSignatureError:
            raise LaunchError("the id_token's signature does not match the platform's key") from None
        except jwt.InvalidTokenError as exc:
            raise LaunchError(f"the id_token is invalid: {exc}") from None
        exp = self._jwt["body"].get("exp")
        if not isinstance(exp, (int, float)) or isinstance(exp, bool) or not math.isfinite(exp):
            raise LaunchError("the id_token's exp claim must be a number (seconds since 1970)")
        if exp > time.time() + MAX_ID_TOKEN_LIFETIME + self._clock_skew:
            raise LaunchError(f"the id_token's exp is more than {MAX_ID_TOKEN_LIFETIME // 3600} hours away: "
                              "id_tokens are short-lived (check the platform's clock)")
        return self

    def validate_nonce(self) -> "HardenedLaunch":
        body = self._jwt["body"]
        nonce = body.get("nonce")
        if not isinstance(nonce, str) or not nonce:
            raise LaunchError("the id_token has no nonce")
        if len(nonce) > 255 or nonce != (self._state_record or {}).get("nonce"):
            raise LaunchError("the id_token's nonce is not the one issued at login")
        exp = body.get("exp")
        until = datetime.now(timezone.utc) + timedelta(seconds=self._clock_skew + 3600)
        if isinstance(exp, (int, float)) and not isinstance(exp, bool):
            try:
                until = max(until, datetime.fromtimestamp(exp, timezone.utc) + timedelta(seconds=self._clock_skew))
            except (OverflowError, OSError, ValueError):
                pass
        if not use_once(self._db, "lti-nonce", nonce, until):
            raise LaunchError("this launch was already used (replayed id_token): "
                              "open the tool again from the platform", code="replayed_launch")
        return self

    def validate_deployment(self) -> "HardenedLaunch":
        deployment_id = self._jwt["body"].get(CLAIM_DEPLOYMENT_ID)
        if not isinstance(deployment_id, str) or not deployment_id:
            raise LaunchError("the id_token has no deployment_id claim")
        if len(deployment_id) > 255 or "\x00" in deployment_id:
            raise LaunchError("the id_token's deployment_id is longer than 255 characters or not text")
        if self._tool_config.find_deployment_by_params(self._platform.issuer, deployment_id,
                                                       self._client_id) is None:
            raise UnknownPlatform(f"deployment {deployment_id!r} is not registered for client_id "
                                  f"{self._client_id!r} of {self._platform.issuer!r}")
        return self

    def validate_target_link_uri(self) -> "HardenedLaunch":
        target = self._jwt["body"].get(CLAIM_TARGET_LINK_URI)
        if not isinstance(target, str) or not target:
            raise LaunchError("the id_token has no target_link_uri claim")
        if not same_endpoint(target, launch_targets(self._base_url)):
            raise LaunchError(f"the id_token's target_link_uri {target[:200]!r} is not a launch URL of this tool")
        return self

    def validate_message(self) -> "HardenedLaunch":
        body = self._jwt["body"]
        version = body.get(CLAIM_VERSION)
        if version is None:
            raise LaunchError("the id_token has no LTI version claim")
        if version != "1.3.0":
            raise LaunchError(f"unsupported LTI version {str(version)[:20]!r} (expected 1.3.0)")
        message_type = body.get(CLAIM_MESSAGE_TYPE)
        if not message_type:
            raise LaunchError("the id_token has no message_type claim")
        if message_type not in SUPPORTED_MESSAGES:
            raise LaunchError(f"unsupported message type {str(message_type)[:60]!r}")
        sub = body.get("sub")
        if not isinstance(sub, str) or not sub:
            raise LaunchError("the id_token has no sub (user id) claim")
        if len(sub) > 255 or "\x00" in sub:
            raise LaunchError("the id_token's sub is longer than 255 characters or not text")
        roles = body.get(CLAIM_ROLES)
        if roles is None:
            raise LaunchError("the id_token has no roles claim")
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise LaunchError("the id_token's roles claim must be a list of strings")
        context = body.get(CLAIM_CONTEXT)
        if context is not None:
            if not isinstance(context, dict) or not _str(context.get("id")):
                raise LaunchError("the id_token's context claim has no id")
            if len(context["id"]) > 255 or "\x00" in context["id"]:
                raise LaunchError("the id_token's context id is longer than 255 characters or not text")
        if message_type == MESSAGE_RESOURCE_LINK:
            link = body.get(CLAIM_RESOURCE_LINK)
            if not isinstance(link, dict) or not _str(link.get("id")):
                raise LaunchError("the id_token has no resource_link id")
        if message_type == MESSAGE_DEEP_LINKING:
            settings = body.get(CLAIM_DL_SETTINGS)
            if not isinstance(settings, dict) or not _str(settings.get("deep_link_return_url")):
                raise LaunchError("the deep-linking request has no deep_link_return_url")
            accept = settings.get("accept_types")
            if not isinstance(accept, list) or "ltiResourceLink" not in accept:
                raise LaunchError("the platform does not accept ltiResourceLink items in this deep-linking request")
            from lti.platforms import check_url
            try:
                check_url("deep_link_return_url", settings["deep_link_return_url"])
            except LtiError as exc:
                raise LaunchError(exc.message) from None
        return super().validate_message()

    def save_launch_data(self) -> "HardenedLaunch":
        return self  # kept by validate_launch (or its caller): keep_launch_claims

    def result(self) -> LaunchResult:
        body = self._jwt["body"]
        return LaunchResult(launch_id=self._launch_id, claims=body, platform_id=self._platform.id,
                            issuer=self._platform.issuer, client_id=self._client_id,
                            deployment_id=body[CLAIM_DEPLOYMENT_ID], message_type=body[CLAIM_MESSAGE_TYPE],
                            product=self._platform.product)


def use_once(session: Session, kind: str, value: str, expires_at: datetime) -> bool:
    """Record ``(kind, value)`` in ``one_time_token``; ``False`` when it was recorded before.

    One ``INSERT ... ON CONFLICT DO NOTHING`` (PostgreSQL and SQLite): no savepoint, and the
    transaction stays usable after a replay. Expired tokens are purged by the worker's
    maintenance (:mod:`plugin.jobs.maintenance`)."""
    stmt = upsert_insert(session, OneTimeToken.__table__).values(kind=kind, value=value, expires_at=expires_at)
    stmt = stmt.on_conflict_do_nothing(index_elements=["kind", "value"]).returning(OneTimeToken.__table__.c.id)
    return session.execute(stmt).first() is not None


def _default_limits() -> Limits:
    global _LIMITS
    if _LIMITS is None:
        _LIMITS = Limits()
    return _LIMITS


def validate_launch(session: Session, box: SecretBox, base_url: str, params: t.Mapping[str, t.Any], *,
                    state_secret: str, cookies: t.Mapping[str, str] | None = None, secure: bool = False,
                    http: requests.Session | None = None, clock_skew: int = CLOCK_SKEW,
                    limits: Limits | None = None, jwks_refetch: str = JWKS_REFETCH,
                    keep_claims: bool = True) -> LaunchResult:
    """Validate the platform's form post (``id_token``, ``state``) and return the launch; raises LtiError.

    ``keep_claims=False``: the caller keeps them with :func:`keep_launch_claims` (so that the
    row is inserted in one statement with its own)."""
    for name in ("id_token", "state"):
        if params.get(name) is not None and not isinstance(params.get(name), str):
            raise LaunchError(f"the launch parameter {name} must be a string")
    request = DictRequest(params, secure=secure, cookies=cookies)
    launch = HardenedLaunch(request, DBToolConfig(session, box), session=session, base_url=base_url,
                            state_secret=state_secret,
                            http=http, clock_skew=clock_skew, limits=limits, jwks_refetch=jwks_refetch)
    launch.validate()
    result = launch.result()
    if keep_claims:
        keep_launch_claims(session, result.launch_id, result.claims)
    return result


def keep_launch_claims(session: Session, launch_id: str, claims: dict) -> None:
    """Keep the validated id_token body server-side (read by :func:`stored_launch_claims`). The
    launch id is fresh and random: one INSERT with the session's next flush, nothing read first."""
    DBLaunchDataStorage(session).add_value(launch_id, claims, LAUNCH_DATA_TTL)


def restore_registration(session: Session, box: SecretBox, platform_id: int) -> DBRegistration | None:
    platform = session.get(Platform, platform_id)
    return DBToolConfig(session, box).registration_for(platform) if platform else None


def stored_launch_claims(session: Session, launch_id: str) -> dict | None:
    """The validated id_token body of a launch (kept server-side for its lifetime)."""
    value = kv_get(session, "lti1p3-" + launch_id)
    return value if isinstance(value, dict) else None
