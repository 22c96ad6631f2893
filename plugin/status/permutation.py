"""A keyed shuffle of a status list's indexes, computed one position at a time.

Bitstring Status List v1.0 §6.1 (privacy) asks issuers to hand out indexes in an order
that does not reveal when a credential was issued. A list therefore has a secret
``shuffle_key``; the n-th credential put on the list (its *position*, a plain counter)
gets the index ``permuted_index(key, n, size)``. Because the function is a permutation
of ``0..size-1``, two positions never share an index: no free-slot search, no count of
used slots, no retry on collision, and the cost is the same for the first credential and
the last one.

The permutation is a small Feistel network (6 rounds, keyed BLAKE2b as the round
function) over the smallest even number of bits that covers ``size``, with *cycle
walking* for the values that fall outside the list (at most about three steps on
average for any size, two for the 131,072-entry lists). Without the key the indexes look
uniformly random; with it (it lives in the tool's database) the issuance order can be
recomputed, which tells nothing the database does not already hold.

No maintained Python library offers format-preserving encryption over an arbitrary
integer range (the FF1/FF3 packages on PyPI are unmaintained or limited to decimal
strings), so these thirty lines are written here and tested for bijectivity.
"""
from __future__ import annotations

import hashlib
import secrets

ROUNDS = 6
KEY_BYTES = 32


def new_key() -> str:
    """A fresh shuffle key, hex-encoded (what ``StatusList.shuffle_key`` stores)."""
    return secrets.token_hex(KEY_BYTES)


def _half_bits(size: int) -> int:
    bits = max(2, (size - 1).bit_length())
    return (bits + 1) // 2


def permuted_index(key: str | bytes, position: int, size: int) -> int:
    """The index that position ``position`` (0-based) of a list of ``size`` entries gets."""
    if size < 2:
        raise ValueError("a shuffled list needs at least 2 entries")
    if not 0 <= position < size:
        raise ValueError(f"position {position} is outside 0..{size - 1}")
    raw_key = bytes.fromhex(key) if isinstance(key, str) else key
    half = _half_bits(size)
    mask = (1 << half) - 1
    value = position
    while True:  # cycle walking: terminates because the network permutes 0..2**(2*half)-1
        left, right = value >> half, value & mask
        for round_number in range(ROUNDS):
            digest = hashlib.blake2b(bytes((round_number,)) + right.to_bytes(8, "big"), key=raw_key,
                                     digest_size=8).digest()
            left, right = right, left ^ (int.from_bytes(digest, "big") & mask)
        value = (left << half) | right
        if value < size:
            return value
