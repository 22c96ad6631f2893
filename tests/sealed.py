"""Test helper: store real private keys sealed with the services' KEK, as the engine and LTI layer do."""
from __future__ import annotations

import base64
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from plugin.evidence.bridge_config import set_moodle
from plugin.storage.models import Issuer, IssuerKey, Platform, ToolKey
from plugin.storage.secrets import issuer_key_context, tool_key_context

PLATFORM_TOKEN = b"moodle-webservice-token-5f1c2e9a"


@dataclass
class SeededKeys:
    issuer_pem: bytes
    issuer_raw: bytes
    tool_pem: bytes
    platform_id: int

    def clear_forms(self) -> list[str]:
        """Every clear-text spelling of the secrets a leak could take."""
        body = [line for line in self.issuer_pem.decode().splitlines() + self.tool_pem.decode().splitlines()
                if "-----" not in line and len(line) > 20]
        return body + [
            self.issuer_raw.hex(),
            base64.b64encode(self.issuer_raw).decode(),
            base64.urlsafe_b64encode(self.issuer_raw).decode().rstrip("="),
            PLATFORM_TOKEN.decode(),
        ]


def _pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def seed_sealed_keys(services) -> SeededKeys:
    box = services.secrets
    ed = ed25519.Ed25519PrivateKey.generate()
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raw = ed.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    with services.session() as s:
        issuer = Issuer(slug="uni", name="University")
        platform = Platform(issuer="https://lms.test", client_id="client-1", auth_login_url="https://lms.test/auth",
                            auth_token_url="https://lms.test/token")
        s.add_all([issuer, platform])
        s.flush()
        s.add(IssuerKey(issuer_id=issuer.id, key_id="key-1", algorithm="Ed25519", public_jwk={"kty": "OKP"},
                        private_sealed=box.seal(_pem(ed), issuer_key_context(issuer.id, "key-1"))))
        s.add(ToolKey(kid="tool-1", public_jwk={"kty": "RSA"},
                      private_sealed=box.seal(_pem(rsa_key), tool_key_context("tool-1"))))
        # stored the way the admin pages and `microcred bridge set` store it
        platform.bridge_settings = {"source": "moodle"}
        set_moodle(services, platform, "https://lms.test", PLATFORM_TOKEN.decode())
        s.flush()
        platform_id = platform.id
    return SeededKeys(issuer_pem=_pem(ed), issuer_raw=raw, tool_pem=_pem(rsa_key), platform_id=platform_id)
