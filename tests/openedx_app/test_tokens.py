"""The Django-free token builder (used by the plugin and by the demo's sandbox) against the receiver."""
import subprocess
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from plugin.evidence.bridge_config import jwks_from_key_text
from plugin.openedx_app.tokens import build_passing_token, passing_data, public_jwk
from tests.bridges_support import AUDIENCE, COURSE_KEY, ISSUER, Issued, make_definition, make_platform


def test_a_token_built_without_django_is_accepted_by_the_tool(client, services):
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    registered = jwks_from_key_text(pem.decode())
    assert registered["keys"][0]["kid"] == public_jwk(key)["kid"]  # the admin's file and the plugin agree on kid
    with services.session() as s:
        platform = make_platform(s, bridge={"openedx": {"webhook_jwks": registered}})
        make_definition(s, policy={"source": "openedx_webhook", "issuance": "automatic"}, platform_id=platform.id, services=services)
    token = build_passing_token(key, issuer=ISSUER, audience=AUDIENCE,
                                data=passing_data(course_key=COURSE_KEY, external_id="ext-1", username="ada",
                                                  percent=0.9, letter_grade="Pass"))
    resp = client.post("/api/webhooks/openedx", data=token, content_type="application/jwt")
    assert resp.status_code == 200 and resp.get_json()["results"][0]["action"] == "issued"
    (credential,) = Issued(services).all()
    assert credential["document"]["evidence"][0]["assessmentScore"] == "90/100"


def test_token_module_loads_neither_django_nor_flask():
    code = ("import sys, plugin.openedx_app.tokens; "
            "print(sorted(m for m in ('django', 'flask', 'sqlalchemy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
