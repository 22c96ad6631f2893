import json

from plugin.delivery.baking import unbake
from plugin.delivery.badge_image import badge_facts
from plugin.delivery.export import write_credential_files
from plugin.issuance import service as issuance
from plugin.verification.resolver import documents_for
from plugin.verification.verify import Resolver, verify
from tests.engine_helpers import make_world


def test_files_verify_offline_from_documents_json(services, tmp_path):
    world = make_world(services)
    with services.session() as s:
        cred, _ = issuance.award(s, services, definition_id=world.definition_id, learner_id=world.learner_id,
                                 evidence_id=world.evidence_id)
        docs = documents_for(s, services, [cred.document])
        paths = write_credential_files(tmp_path, [cred], docs)
        public_id, document = cred.public_id, cred.document
    names = sorted(p.name for p in paths)
    assert names == sorted([f"{public_id}.json", f"{public_id}.jwt", f"{public_id}.png", f"{public_id}.svg",
                            "documents.json"])
    documents = json.loads((tmp_path / "documents.json").read_text())
    issuer = document["issuer"]["id"]
    status_url = document["credentialStatus"]["statusListCredential"]
    assert {issuer, status_url, "http://tool.test/issuers/acme", "http://tool.test/issuers/acme/did.json",
            "http://tool.test/contexts/microcred/v1.jsonld"} <= set(documents)
    assert not any(url.startswith("https://www.w3.org") for url in documents)  # only what the tool serves
    for suffix in ("json", "jwt", "png", "svg"):
        report = verify((tmp_path / f"{public_id}.{suffix}").read_bytes(), Resolver(documents))
        assert report.ok, (suffix, report.to_dict())
    assert unbake((tmp_path / f"{public_id}.png").read_bytes()).credential == document
    assert badge_facts(document) == ("Data Analysis for Public Policy", "Université Démo de Lille", 6)
    svg = (tmp_path / f"{public_id}.svg").read_text()
    assert "<title>Data Analysis for Public Policy</title>" in svg and "<path" in svg  # drawn as outlines
