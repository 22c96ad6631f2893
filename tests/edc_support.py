"""Test certificates for European Digital Credential seals: a CA and a seal certificate under it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

ORG_ID = "VATFR-12345678901"


@dataclass
class SealMaterial:
    ca_key: object
    ca: x509.Certificate
    key: object
    cert: x509.Certificate

    @property
    def chain(self) -> list[x509.Certificate]:
        return [self.cert, self.ca]

    def pem_chain(self) -> bytes:
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.chain)

    def pem_key(self, password: bytes | None = None) -> bytes:
        enc = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)

    def pkcs12(self, password: bytes) -> bytes:
        from cryptography.hazmat.primitives.serialization import pkcs12
        return pkcs12.serialize_key_and_certificates(b"seal", self.key, self.cert, [self.ca],
                                                     serialization.BestAvailableEncryption(password))

    def ca_pem(self) -> bytes:
        return self.ca.public_bytes(serialization.Encoding.PEM)


def _name(cn: str, org_id: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test"),
             x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if org_id:
        attrs.append(x509.NameAttribute(x509.ObjectIdentifier("2.5.4.97"), org_id))
    return x509.Name(attrs)


def make_seal(kind: str = "rsa", *, org_id: str | None = ORG_ID, days: int = 365,
              ca_name: str = "Test Seal CA") -> SealMaterial:
    now = datetime.now(timezone.utc) - timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name(ca_name)).issuer_name(_name(ca_name))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now).not_valid_after(now + timedelta(days=3650))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048) if kind == "rsa" \
        else ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name("Université Démo seal", org_id)).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now if days > 0 else now + timedelta(days=2 * days))
            .not_valid_after(now + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256()))
    return SealMaterial(ca_key, ca, key, cert)
