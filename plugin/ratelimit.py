"""Rate limits outside a web request (no Flask here): the same `limits` library and storage as
flask-limiter, which guards the web endpoints (:mod:`plugin.web.ratelimits`).

Memory storage on the embedded default (one process); Redis when ``MICROCRED_REDIS_URL`` is
set, so every gunicorn worker and ``microcred worker`` shares the counters. A limit that is
reached raises :class:`RateLimited`, which says how many seconds to wait (the web layer turns
it into a 429 with ``Retry-After``).
"""
from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

KEY_PREFIX = "microcred"


class RateLimitError(ValueError):
    """A limit setting that does not parse ('5 per minute', '10/hour;100/day')."""


def parse_rate(name: str, value: str) -> list[RateLimitItem]:
    try:
        items = parse_many(value)
    except ValueError:
        items = []
    if not items:
        raise RateLimitError(f"{name} must be a rate such as '5 per minute' or '10/hour;100/day', got {value!r}")
    return items


class RateLimited(Exception):
    """A limit was reached; ``retry_after`` is the number of whole seconds until it resets."""

    def __init__(self, what: str, retry_after: int):
        self.what = what
        self.retry_after = max(1, int(retry_after))
        self.message = f"too many {what}: try again in {self.retry_after} s"
        super().__init__(self.message)


class Limits:
    """Counters keyed by strings; ``hit`` counts one event and raises :class:`RateLimited` past the limit."""

    def __init__(self, storage_uri: str = "memory://"):
        self.storage_uri = storage_uri
        self.storage = storage_from_string(storage_uri)
        self.limiter = FixedWindowRateLimiter(self.storage)

    @classmethod
    def from_settings(cls, settings) -> "Limits":
        return cls(settings.redis_url or "memory://")

    def hit(self, rate: str | list[RateLimitItem], what: str, *key: str) -> None:
        items = parse_rate(what, rate) if isinstance(rate, str) else rate
        for item in items:
            if not self.limiter.hit(item, KEY_PREFIX, *key):
                reset_at, _remaining = self.limiter.get_window_stats(item, KEY_PREFIX, *key)
                raise RateLimited(what, math.ceil(reset_at - time.time()))

    def clear(self, rate: str, *key: str) -> None:
        for item in parse_rate("rate", rate):
            self.limiter.clear(item, KEY_PREFIX, *key)
