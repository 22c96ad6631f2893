"""W3C Bitstring Status List v1.0: the ``encodedList`` value, encoded and decoded.

``encodedList`` = ``"u"`` (multibase base64url, no padding) + base64url(gzip(bits)).
Bit 0 is the most significant bit of byte 0 (spec §"Bitstring Encoding").
The spec asks for at least 16 KB (131,072 entries) so that a set bit does not
single out a holder; :data:`MIN_ENTRIES`.

Decoding takes input from strangers (a verifier fetches status lists from the
issuer's URL), so it refuses lists whose *decompressed* size exceeds a limit
while decompressing (a small gzip bomb never gets inflated in full), and every
malformed input raises :class:`StatusListError`, never another exception.
The standard library's ``gzip``/``base64`` do the work; no library offers a
bounded decoder for this format.
"""
from __future__ import annotations

import base64
import binascii
import gzip
import zlib

MIN_ENTRIES = 131_072
# 16 MiB of bits = 134 million entries: far beyond any real list, small enough for memory.
MAX_DECODED_BYTES = 16 * 1024 * 1024
MAX_ENCODED_CHARS = 4 * 1024 * 1024


class StatusListError(ValueError):
    """The encoded list is malformed, too big, or an index is out of range."""


class Bitstring:
    """A fixed-size bit array with the spec's bit order."""

    __slots__ = ("_bytes",)

    def __init__(self, size: int = MIN_ENTRIES, *, data: bytes | bytearray | None = None):
        if data is not None:
            self._bytes = bytearray(data)
        else:
            if size <= 0 or size % 8:
                raise StatusListError("a status list size must be a positive multiple of 8")
            self._bytes = bytearray(size // 8)

    @property
    def size(self) -> int:
        return len(self._bytes) * 8

    def _check(self, index: int) -> None:
        if not isinstance(index, int) or index < 0 or index >= self.size:
            raise StatusListError(f"status list index {index!r} is outside 0..{self.size - 1}")

    def get(self, index: int) -> bool:
        self._check(index)
        return bool(self._bytes[index >> 3] & (0x80 >> (index & 7)))

    def set(self, index: int, value: bool = True) -> None:
        self._check(index)
        mask = 0x80 >> (index & 7)
        if value:
            self._bytes[index >> 3] |= mask
        else:
            self._bytes[index >> 3] &= ~mask & 0xFF

    def set_indices(self) -> list[int]:
        return [i for i in range(self.size) if self._bytes[i >> 3] and self.get(i)]

    def to_bytes(self) -> bytes:
        return bytes(self._bytes)

    def encode(self) -> str:
        return encode_bits(self._bytes)


def encode_bits(raw: bytes | bytearray) -> str:
    """``"u"`` + base64url-no-pad(gzip(raw)); ``mtime=0`` so equal lists encode equally."""
    compressed = gzip.compress(bytes(raw), compresslevel=9, mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).decode("ascii").rstrip("=")


def encode(set_indices, size: int = MIN_ENTRIES) -> str:
    bits = Bitstring(size)
    for i in set_indices:
        bits.set(i)
    return bits.encode()


def decode(encoded: str, *, min_entries: int = MIN_ENTRIES, max_bytes: int = MAX_DECODED_BYTES) -> Bitstring:
    """Decode an ``encodedList``; raise :class:`StatusListError` on anything wrong."""
    if not isinstance(encoded, str):
        raise StatusListError("encodedList must be a string")
    if len(encoded) > MAX_ENCODED_CHARS:
        raise StatusListError("encodedList is too long")
    if encoded.startswith("u"):
        body = encoded[1:]
    else:
        # Version 1.0 requires the multibase prefix; older (StatusList2021) lists omit it.
        body = encoded
    if not body or any(c not in _B64URL for c in body):
        raise StatusListError("encodedList is not base64url")
    try:
        compressed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise StatusListError("encodedList is not base64url") from None
    raw = _gunzip_bounded(compressed, max_bytes)
    if len(raw) * 8 < min_entries:
        raise StatusListError(f"status list has {len(raw) * 8} entries, fewer than the {min_entries} required")
    return Bitstring(data=raw)


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _gunzip_bounded(compressed: bytes, max_bytes: int) -> bytes:
    if compressed[:2] != b"\x1f\x8b":
        raise StatusListError("encodedList is not gzip data")
    d = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = d.decompress(compressed, max_bytes + 1)
        if len(out) > max_bytes or d.unconsumed_tail:
            raise StatusListError(f"status list expands beyond {max_bytes} bytes")
        out += d.flush()
    except zlib.error:
        raise StatusListError("encodedList is not valid gzip data") from None
    if len(out) > max_bytes:
        raise StatusListError(f"status list expands beyond {max_bytes} bytes")
    if not d.eof:
        raise StatusListError("encodedList gzip data is truncated")
    return out
