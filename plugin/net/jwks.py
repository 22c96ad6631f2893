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
import time
import weakref
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
        memory = _memory_of(self.session)
        held = memory.get(url)
        if held is not None and held[1] > time.monotonic() and _has_kid(held[0], kid):
            return held[0]  # this process read it from the shared cache (or fetched it) lately
        cached = kv_get(self.session, self.cache_key(url))
        if isinstance(cached, dict) and isinstance(cached.get("keys"), list):
            if _has_kid(cached, kid):
                memory[url] = (cached, time.monotonic() + min(self.ttl, MEMORY_TTL))
                return cached
            # Unknown kid: a rotation, or somebody naming made-up kids. Counted per platform.
            self.limits.hit(self.refetch_rate, "refetches of a platform's key set", "jwks-refetch", scope)
        key_set = fetch_key_set(self.http, url)
        kv_set(self.session, self.cache_key(url), key_set, self.ttl)
        memory[url] = (key_set, time.monotonic() + min(self.ttl, MEMORY_TTL))
        return key_set


# Each process also keeps the key sets it read, per database, for at most MEMORY_TTL seconds
# (the shared cache in ``key_value`` keeps them for ``ttl``): a launch need not read them
# from the database. A kid it does not hold still goes to the shared cache, then the platform.
MEMORY_TTL = 300
_MEMORY: "weakref.WeakKeyDictionary[Any, dict[str, tuple[dict, float]]]" = weakref.WeakKeyDictionary()


def _memory_of(session: Session) -> dict[str, tuple[dict, float]]:
    bind = session.get_bind()
    engine = getattr(bind, "engine", bind)
    memory = _MEMORY.get(engine)
    if memory is None:
        memory = _MEMORY.setdefault(engine, {})
    return memory
