"""Reading and writing a platform's bridge settings (``Platform.bridge_settings``).

Layout (secrets are sealed with the KEK, bound to the platform row)::

    {"openedx": {"webhook_jwks_url": "...",            # or
                 "webhook_jwks": {"keys": [...]},       # from a key file
                 "api_url": "...", "client_id": "...", "client_secret_sealed": "kek1:..."},
     "moodle":  {"url": "...", "token_sealed": "kek1:...",
                 "share_names": false,                  # names from web services (admin opt-in)
                 "webhook_jwks_url": "..."}}            # or "webhook_jwks": the local_microcred plugin's key

A sealed value is bound to its dotted path (``"moodle.token_sealed"``), the convention of
:func:`plugin.storage.secrets.platform_secret_context` that ``microcred keys rewrap`` follows.
"""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwcrypto.jwk import JWK

from plugin.domain.i18n import N_
from plugin.evidence.base import BridgeError
from plugin.storage.models import Platform
from plugin.storage.secrets import platform_secret_context


class BridgeConfigError(BridgeError):
    def __init__(self, message: str):
        super().__init__(message, code="bad_config")


def _url(value: str, what: str) -> str:
    parts = urlsplit(value or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BridgeConfigError(f"{what} must be an absolute http(s) URL, got {value!r}")
    return value.rstrip("/") if what != "the JWKS URL" else value


def jwks_from_key_text(text: str) -> dict[str, Any]:
    """A public key file (PEM, a JWK or a JWKS) as a JWKS. A private key is refused."""
    text = text.strip()
    if "PRIVATE KEY" in text:
        raise BridgeConfigError("this is a private key: give the tool only the public key "
                                "(openssl pkey -in key.pem -pubout)")
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise BridgeConfigError(f"the key file is not valid JSON: {exc}") from None
        keys = data.get("keys") if "keys" in data else [data]
        if any("d" in k for k in keys):
            raise BridgeConfigError("this JWK contains a private key ('d'): give the tool only the public key")
        try:
            jwks = jwt.PyJWKSet.from_dict({"keys": keys})
        except jwt.PyJWTError as exc:
            raise BridgeConfigError(f"the key file is not a usable JWK/JWKS: {exc}") from None
        if not jwks.keys:
            raise BridgeConfigError("the JWKS holds no usable key")
        return {"keys": keys}
    try:
        key = serialization.load_pem_public_key(text.encode())
    except ValueError:
        raise BridgeConfigError("the key file is neither a PEM public key nor a JWK/JWKS") from None
    if isinstance(key, ed25519.Ed25519PublicKey):
        alg = "EdDSA"
    elif isinstance(key, rsa.RSAPublicKey):
        alg = "RS256"
    elif isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1":
        alg = "ES256"
    else:
        raise BridgeConfigError("the key must be Ed25519, RSA or EC P-256")
    jwk = json.loads(jwt.get_algorithm_by_name(alg).to_jwk(key))
    jwk.update(use="sig", alg=alg)
    # The RFC 7638 thumbprint: the kid the Open edX plugin (and the Moodle plugin) put in their tokens.
    jwk["kid"] = JWK(**jwk).thumbprint()
    return {"keys": [jwk]}


def secret_context(platform: Platform, section: str, key: str) -> str:
    """Associated data of the sealed ``bridge_settings[section][key]``: its dotted path."""
    return platform_secret_context(platform.id, f"{section}.{key}")


def open_secret(services, platform: Platform, section: str, key: str) -> str:
    """The clear value of a sealed bridge secret (for the bridges' clients only)."""
    sealed = (platform.bridge_settings or {})[section][key]
    return services.secrets.open(sealed, secret_context(platform, section, key)).decode()


def _update(platform: Platform, name: str, values: dict[str, Any], drop: tuple[str, ...] = ()) -> None:
    settings = dict(platform.bridge_settings or {})
    section = dict(settings.get(name) or {})
    for key in drop:
        section.pop(key, None)
    section.update(values)
    settings[name] = section
    platform.bridge_settings = settings  # a new dict, so the JSON column is saved


def set_webhook_jwks_url(platform: Platform, url: str, bridge: str = "openedx") -> None:
    """Where the platform plugin (Open edX or Moodle) publishes its webhook keys."""
    _update(platform, bridge, {"webhook_jwks_url": _url(url, "the JWKS URL")}, drop=("webhook_jwks",))


def set_webhook_key(platform: Platform, key_text: str, bridge: str = "openedx") -> None:
    _update(platform, bridge, {"webhook_jwks": jwks_from_key_text(key_text)}, drop=("webhook_jwks_url",))


def set_openedx_webhook_jwks_url(platform: Platform, url: str) -> None:
    set_webhook_jwks_url(platform, url, "openedx")


def set_openedx_webhook_key(platform: Platform, key_text: str) -> None:
    set_webhook_key(platform, key_text, "openedx")


def set_moodle_share_names(platform: Platform, share: bool) -> None:
    """Opt in (or out) of taking learners' names from Moodle web services.

    Off by default: Moodle's tool privacy setting ("Share launcher's name with tool: Never")
    withholds names from launches, and the web-services token must not bring them in behind it."""
    _update(platform, "moodle", {"share_names": bool(share)})


def set_openedx_api(services, platform: Platform, api_url: str, client_id: str, client_secret: str) -> None:
    if not client_id or not client_secret:
        raise BridgeConfigError("the Open edX grades API needs --openedx-client-id and --openedx-client-secret")
    sealed = services.secrets.seal(client_secret.encode(), secret_context(platform, "openedx", "client_secret_sealed"))
    _update(platform, "openedx", {"api_url": _url(api_url, "the Open edX URL"), "client_id": client_id,
                                  "client_secret_sealed": sealed})


def set_moodle(services, platform: Platform, url: str, token: str) -> None:
    if not token:
        raise BridgeConfigError("the Moodle bridge needs --moodle-token")
    sealed = services.secrets.seal(token.encode(), secret_context(platform, "moodle", "token_sealed"))
    _update(platform, "moodle", {"url": _url(url, "the Moodle URL"), "token_sealed": sealed})


def describe(platform: Platform) -> dict[str, Any]:
    """The bridge settings with secrets replaced by 'set' (for people and logs)."""
    out: dict[str, Any] = {}
    for name, section in (platform.bridge_settings or {}).items():
        if name == "schedule":  # the catch-up period, as people write it (microcred bridge set --sync-every)
            out[name] = {"every": _period_text((section or {}).get("every"))}
            continue
        shown = {}
        for key, value in (section or {}).items():
            if key.endswith("_sealed"):
                shown[key[:-len("_sealed")]] = "set"
            elif key == "webhook_jwks":
                shown[key] = [k.get("kid") for k in value.get("keys", [])]
            else:
                shown[key] = value
        out[name] = shown
    return out


def _period_text(seconds: Any) -> str:
    if not isinstance(seconds, int) or seconds <= 0:
        return "off"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def check_bridges(services, platform: Platform, course_id: str | None = None) -> list[tuple[str, bool, str]]:
    """Test every configured bridge of a registration: (name, ok, one line saying what works or failed)."""
    from plugin.evidence.moodle import MoodleSource
    from plugin.evidence.openedx import OpenEdxGradesSource
    results: list[tuple[str, bool, str]] = []
    oe = (platform.bridge_settings or {}).get("openedx") or {}
    for bridge, label in (("openedx", N_("openedx webhook key")), ("moodle", N_("moodle webhook key"))):
        conf = (platform.bridge_settings or {}).get(bridge) or {}
        if conf.get("webhook_jwks_url"):
            from plugin.net.http import SMALL
            from plugin.net.jwks import KeySetError, fetch_key_set
            try:
                keys = jwt.PyJWKSet.from_dict(fetch_key_set(services.http(max_bytes=SMALL), conf["webhook_jwks_url"])).keys
                results.append((label, True,
                                N_("%(url)s serves %(count)s signing key(s): %(kids)s", url=conf["webhook_jwks_url"],
                                   count=len(keys), kids=", ".join(k.key_id or "(no kid)" for k in keys))))
            except KeySetError as exc:
                results.append((label, False, exc.message))
            except jwt.PyJWTError as exc:
                results.append((label, False, f"{conf['webhook_jwks_url']}: {exc}"))
        elif conf.get("webhook_jwks"):
            results.append((label, True, N_("%(count)s key(s) registered from a file",
                                            count=len(conf["webhook_jwks"]["keys"]))))
    if oe.get("api_url"):
        try:
            results.append((N_("openedx grades API"), True, OpenEdxGradesSource.for_platform(services, platform).check(course_id)))
        except BridgeError as exc:
            results.append((N_("openedx grades API"), False, exc.message))
    if ((platform.bridge_settings or {}).get("moodle") or {}).get("url"):
        try:
            results.append((N_("moodle web services"), True, MoodleSource.for_platform(services, platform).check(course_id)))
        except BridgeError as exc:
            results.append((N_("moodle web services"), False, exc.message))
    if not results:
        results.append((N_("bridges"), False, N_("no bridge is configured for this registration")))
    return results
