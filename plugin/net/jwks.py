"""A platform's public keys (JWKS): fetched through the outbound layer, cached in the database,
and refetched for an unknown ``kid`` at most as often as ``MICROCRED_RATELIMIT_JWKS_REFETCH`` says.

Used for LTI launches (``Platform.key_set_url``) and the Open edX webhook
(``bridge_settings["openedx"]["webhook_jwks_url"]``). A platform rotating its key signs with a
``kid`` the cached set does not have: the set is fetched again at once, so rotation just works.
A sender naming random ``kid`` values would otherwise make the tool fetch the set for every
request; past the limit the request gets :class:`~plugin.ratelimit.RateLimited` (a 429 with
``Retry-After``), and the platform is not hammered through the tool.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import requests
from sqlalchemy.orm import Session

from plugin.net.http import SMALL, describe_error
from plugin.ratelimit import Limits
from plugin.storage.kv import kv_get, kv_set

CACHE_TTL = 3600


class KeySetError(Exception):
    """The key set could not be fetched or is not a JWKS; ``message`` says which (never its body)."""

    def __init__(self, message: str, *, unreachable: bool = False):
        super().__init__(message)
        self.message = message
        self.unreachable = unreachable


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def fetch_key_set(http: requests.Session, url: str) -> dict[str, Any]:
    """GET ``url`` and check it is a JWKS (a JSON object with a ``keys`` list)."""
    try:
        response = http.get(url, headers={"Accept": "application/jwk-set+json, application/json"})
    except requests.RequestException as exc:
        raise KeySetError(f"the key set at {url} could not be fetched: {describe_error(exc)}",
                          unreachable=True) from None
    if response.status_code != 200:
        raise KeySetError(f"the key set at {url} could not be fetched: HTTP {response.status_code}",
                          unreachable=response.status_code >= 500)
    if len(response.content) > SMALL:
        raise KeySetError(f"the key set at {url} is larger than {SMALL} bytes")
    try:
        body = json.loads(response.content, parse_constant=_reject_constant)
    except ValueError:
        raise KeySetError(f"the key set at {url} is not JSON") from None
    if not isinstance(body, dict) or not isinstance(body.get("keys"), list):
        raise KeySetError(f"the key set at {url} is not a JWKS (a JSON object with a \"keys\" list)")
    return {"keys": [k for k in body["keys"] if isinstance(k, dict)]}


def _has_kid(key_set: dict[str, Any], kid: str | None) -> bool:
    return kid is None or any(k.get("kid") == kid for k in key_set.get("keys", []))


@dataclass
class KeySets:
    """Cached key sets. ``scope`` names whose refetches are counted (a platform)."""

    session: Session
    http: requests.Session
    limits: Limits
    refetch_rate: str
    ttl: int = CACHE_TTL

    @staticmethod
    def cache_key(url: str) -> str:
        return "jwks:" + hashlib.sha256(url.encode()).hexdigest()

    def get(self, url: str, *, kid: str | None, scope: str) -> dict[str, Any]:
        """The key set at ``url``, from the cache when it has ``kid``; fetched again when it does not.

        Raises :class:`KeySetError` or :class:`~plugin.ratelimit.RateLimited` (refetch limit)."""
        cached = kv_get(self.session, self.cache_key(url))
        if isinstance(cached, dict) and isinstance(cached.get("keys"), list):
            if _has_kid(cached, kid):
                return cached
            # Unknown kid: a rotation, or somebody naming made-up kids. Counted per platform.
            self.limits.hit(self.refetch_rate, "refetches of a platform's key set", "jwks-refetch", scope)
        key_set = fetch_key_set(self.http, url)
        kv_set(self.session, self.cache_key(url), key_set, self.ttl)
        return key_set
