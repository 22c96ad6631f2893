"""The status values the tool publishes, and how each kind of list encodes them (pure, no database).

A credential is ``active``, ``revoked``, ``suspended`` or ``superseded`` (replaced by a
re-issued credential, e.g. after a name change). Two kinds of lists carry those states:

``revocation`` lists (every credential issued since the 0002 migration)
    One bit per credential, set **exactly when the credential is revoked**. This is the
    list the credential's ``credentialStatus`` names (``statusPurpose: "revocation"``), so
    every Bitstring Status List verifier (the Learner Credential Wallet and VerifierPlus
    through ``@digitalcredentials/verifier-core``, ``@digitalbazaar/vc-bitstring-status-list``)
    reads it correctly. Each revocation list has a **state list** beside it (same slots,
    2 bits each, the :data:`MESSAGES` below, ``statusPurpose: "message"``), which the entry
    names in ``statusReference``: our verifier reads it to tell *suspended* and
    *superseded* apart from *active*; other verifiers ignore it.

``message`` lists (legacy: credentials issued before)
    ``statusPurpose: "message"``, ``statusSize: 2``, the same :data:`MESSAGES` in the
    entry's ``statusMessage``. Still served and still read by our verifier; third-party
    verifiers read one bit at ``statusListIndex`` and get it wrong, hence
    ``microcred status migrate``.
"""
from __future__ import annotations

REVOCATION = "revocation"
LEGACY_MESSAGE = "message"
STATE_SIZE = 2  # bits per credential in a state list and in a legacy message list

VALUES = {"active": 0, "revoked": 1, "suspended": 2, "superseded": 3}
MESSAGES = [{"status": "0x0", "message": "valid"}, {"status": "0x1", "message": "revoked"},
            {"status": "0x2", "message": "suspended"}, {"status": "0x3", "message": "superseded"}]
STATE_OF_VALUE = {0: "valid", 1: "revoked", 2: "suspended", 3: "superseded"}


def state_value(status: str) -> int:
    """The 2-bit value of a credential status; an unknown status counts as revoked (fail closed)."""
    return VALUES.get(status, VALUES["revoked"])


def revocation_bit(status: str) -> bool:
    """The bit of a revocation list: set exactly when revoked (or in an unknown state)."""
    return status not in ("active", "suspended", "superseded")


def set_value(bits, index: int, value: int, size: int = STATE_SIZE) -> None:
    """Write ``value`` into entry ``index`` of ``size`` bits (most significant bit first)."""
    for b in range(size):
        bits.set(index * size + b, bool(value & (1 << (size - 1 - b))))


def get_value(bits, index: int, size: int = STATE_SIZE) -> int:
    value = 0
    for b in range(size):
        value = (value << 1) | int(bits.get(index * size + b))
    return value
