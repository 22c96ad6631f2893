"""Secrets at rest: private keys and platform tokens encrypted with a key-encryption key.

The key-encryption key (KEK) comes from ``MICROCRED_KEK``: one or more
comma-separated urlsafe-base64 32-byte keys, the first one encrypts, all of
them decrypt (so a KEK can be rotated: add the new one in front, run
``microcred keys rewrap``, drop the old one). Each value is sealed with
AES-256-GCM and bound to where it is stored (the associated data), so a
ciphertext copied to another row does not decrypt.

A stored canary (table ``kek_check``) lets the application tell at start-up
that the configured KEK is not the one that encrypted the database.
"""
from __future__ import annotations

import base64
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "kek1"


class KeyEncryptionError(RuntimeError):
    """The key-encryption key is missing, malformed or not the one that sealed a value."""


def generate_kek() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def _decode_kek(text: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except Exception:
        raw = b""
    if len(raw) != 32:
        raise KeyEncryptionError(
            "MICROCRED_KEK must be urlsafe-base64 of 32 random bytes "
            "(make one with: microcred keys new-kek)")
    return raw


def kek_id(raw: bytes) -> str:
    return hashlib.sha256(b"microcred-kek-id" + raw).hexdigest()[:12]


class SecretBox:
    """Seals and opens secrets with the configured key-encryption keys."""

    def __init__(self, keks: list[str]):
        if not keks:
            raise KeyEncryptionError("no key-encryption key configured (MICROCRED_KEK)")
        self._keys = [(kek_id(raw), AESGCM(raw)) for raw in map(_decode_kek, keks)]

    @property
    def current_id(self) -> str:
        return self._keys[0][0]

    @property
    def ids(self) -> list[str]:
        """Key ids of the configured KEKs, the sealing one first."""
        return [kid for kid, _ in self._keys]

    def seal(self, plaintext: bytes, context: str) -> str:
        kid, aead = self._keys[0]
        nonce = os.urandom(12)
        ct = aead.encrypt(nonce, plaintext, context.encode())
        return f"{PREFIX}:{kid}:{base64.urlsafe_b64encode(nonce + ct).decode()}"

    def open(self, sealed: str, context: str) -> bytes:
        try:
            prefix, kid, blob = sealed.split(":", 2)
        except ValueError:
            raise KeyEncryptionError("stored secret is not in the sealed format") from None
        if prefix != PREFIX:
            raise KeyEncryptionError(f"unknown sealed-secret format {prefix!r}")
        for candidate_id, aead in self._keys:
            if candidate_id == kid:
                raw = base64.urlsafe_b64decode(blob)
                try:
                    return aead.decrypt(raw[:12], raw[12:], context.encode())
                except InvalidTag:
                    raise KeyEncryptionError(
                        f"a stored secret ({context}) failed to decrypt: it was tampered with or moved") from None
        raise KeyEncryptionError(
            f"a stored secret was sealed with key-encryption key {kid}, which is not in MICROCRED_KEK")

    def knows(self, sealed: str) -> bool:
        try:
            kid = sealed.split(":", 2)[1]
        except IndexError:
            return False
        return any(k == kid for k, _ in self._keys)

    def rewrap(self, sealed: str, context: str) -> str:
        return self.seal(self.open(sealed, context), context)


CANARY_CONTEXT = "kek-check"
CANARY = b"microcred key-encryption key check"


def issuer_key_context(issuer_id: int, key_id: str) -> str:
    """Associated data binding an issuer's private key to its row."""
    return f"issuer-key:{issuer_id}:{key_id}"


def tool_key_context(kid: str) -> str:
    return f"tool-key:{kid}"


def platform_secret_context(platform_id: int, name: str) -> str:
    """Associated data of a secret in ``Platform.bridge_settings``.

    Convention (used by ``microcred keys rewrap``): a sealed value is stored as the
    string returned by :meth:`SecretBox.seal`, at any depth of ``bridge_settings``;
    ``name`` is the dot-joined path of keys leading to it (``"token"``, ``"moodle.token"``).
    """
    return f"platform:{platform_id}:{name}"


def is_sealed(value) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX + ":")


def sealed_paths(settings, prefix: str = ""):
    """Yield ``(dotted path, sealed value)`` for every sealed value in a nested dict."""
    if not isinstance(settings, dict):
        return
    for key, value in settings.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if is_sealed(value):
            yield path, value
        elif isinstance(value, dict):
            yield from sealed_paths(value, path)
