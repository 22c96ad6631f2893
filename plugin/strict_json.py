"""JSON as RFC 8259 writes it, for everything that arrives from outside (request bodies, the
payloads of signed webhooks): Python's ``json`` module also reads ``NaN``, ``Infinity`` and
``-Infinity``, which are not JSON, and fails with ``RecursionError`` (not ``ValueError``) on deep
nesting. Both came out as 5xx, or as a NaN grade every comparison says is not a failure.

:func:`loads` refuses them with :class:`NotJSON` (a ``ValueError`` saying what is wrong);
:func:`problem` names what no field of the tool accepts in a parsed value (a NUL character, a
non-finite number, nesting deeper than :data:`MAX_DEPTH`); :class:`StrictPyJWT` reads JWT
payloads with :func:`loads` (PyJWT's documented ``_decode_payload`` hook).
"""
from __future__ import annotations

import json
import math
from typing import Any, Iterator

import jwt

# Deeper than any credential, presentation or event the tool reads (an Open Badges 3.0
# credential nests about 8 levels, a European Digital Credential about 15).
MAX_DEPTH = 64


class NotJSON(ValueError):
    """Text that is not strict JSON; the message says why, in words."""


def _constant(name: str):
    raise NotJSON(f"{name} is not a JSON number")


def loads(text: str | bytes) -> Any:
    """Parse ``text`` as strict JSON nested at most :data:`MAX_DEPTH` deep."""
    try:
        value = json.loads(text, parse_constant=_constant)
    except RecursionError:
        raise NotJSON(f"it is nested deeper than {MAX_DEPTH} levels") from None
    except UnicodeDecodeError as exc:
        raise NotJSON(f"it is not UTF-8 text ({exc.reason})") from None
    if depth_over(value, MAX_DEPTH):
        raise NotJSON(f"it is nested deeper than {MAX_DEPTH} levels")
    return value


def depth_over(value: Any, limit: int) -> bool:
    """Whether ``value`` nests arrays/objects deeper than ``limit`` (iterative: any depth is safe)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _leaves(value: Any) -> Iterator[Any]:
    """Every string (keys included) and number in ``value``, iteratively (any depth is safe)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        else:
            yield item


def has_nul(value: Any) -> bool:
    """Whether a NUL character is in any string or key of ``value``."""
    return any(isinstance(leaf, str) and "\x00" in leaf for leaf in _leaves(value))


def problem(value: Any) -> str | None:
    """What in ``value`` no field accepts (in words), or None: a NUL character in a string or a
    key, a number that is NaN or infinite, nesting deeper than :data:`MAX_DEPTH`."""
    if depth_over(value, MAX_DEPTH):
        return f"it is nested deeper than {MAX_DEPTH} levels"
    for leaf in _leaves(value):
        if isinstance(leaf, str) and "\x00" in leaf:
            return "it contains a NUL character (\\u0000)"
        if isinstance(leaf, float) and not math.isfinite(leaf):
            return f"{leaf} is not a JSON number"
    return None


class StrictPyJWT(jwt.PyJWT):
    """PyJWT reading the payload as strict JSON (no NaN/Infinity, bounded nesting)."""

    def _decode_payload(self, decoded: dict[str, Any]) -> Any:
        try:
            payload = loads(decoded["payload"])
        except NotJSON as exc:
            raise jwt.DecodeError(f"Invalid payload string: {exc}") from None
        if not isinstance(payload, dict):
            raise jwt.DecodeError("Invalid payload string: must be a json object")
        return payload


strict_jwt = StrictPyJWT()
