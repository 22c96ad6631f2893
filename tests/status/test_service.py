from sqlalchemy import select

from plugin.issuance import service as issuance
from plugin.signing import data_integrity
from plugin.signing.contexts import get_store
from plugin.status import service as status
from plugin.status.bitstring import decode
from plugin.storage.models import IssuedCredential, KeyValue, StatusList, StatusListSlot
from tests.engine_helpers import add_learner, make_world


def _value(doc, index):
    bits = decode(doc["credentialSubject"]["encodedList"])
    return status.get_value(bits, index)


def test_slots_are_random_and_the_list_credential_follows_status(services):
    world = make_world(services)
    with services.session() as s:
        creds = []
        for i in range(4):
            learner, ev = add_learner(s, world.definition_id, sub=f"l{i}", email=f"l{i}@example.org")
            creds.append(issuance.award(s, services, definition_id=world.definition_id, learner_id=learner,
                                        evidence_id=ev)[0])
        slots = {c.id: s.scalars(select(StatusListSlot).where(StatusListSlot.credential_id == c.id)).one()
                 for c in creds}
        indexes = [slots[c.id].index for c in creds]
        assert len(set(indexes)) == 4 and indexes != sorted(indexes) or max(indexes) > 1000  # not sequential
        sl = s.scalars(select(StatusList)).one()
        assert sl.purpose == "message" and sl.size >= 131072
        doc = status.list_credential(s, services, sl)
        assert doc["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
        assert data_integrity.verify(doc, documents={doc["issuer"]: issuance.did_document_for(
            s, services, s.get(IssuedCredential, creds[0].id).issuer)}, store=get_store(services)).ok
        assert all(_value(doc, i) == 0 for i in indexes)
        assert s.get(KeyValue, f"status-list-credential:{sl.id}") is not None  # cached
        assert status.list_credential(s, services, sl) == doc

        issuance.revoke(s, creds[0], "fraud", "admin")
        issuance.suspend(s, creds[1], "check", "admin")
        assert s.get(KeyValue, f"status-list-credential:{sl.id}") is None  # invalidated
        doc2 = status.list_credential(s, services, sl)
        assert [_value(doc2, i) for i in indexes] == [1, 2, 0, 0]
        issuance.reinstate(s, creds[1], "admin")
        assert [_value(status.list_credential(s, services, sl), i) for i in indexes] == [1, 0, 0, 0]
        entry = creds[2].document["credentialStatus"]
        assert entry["statusListIndex"] == str(indexes[2]) and entry["statusSize"] == 2
        assert entry["statusListCredential"] == doc["id"] == status.status_list_url("http://tool.test", sl)


def test_full_list_opens_the_next_one(services, monkeypatch):
    world = make_world(services)
    monkeypatch.setattr(status, "LIST_ENTRIES", 8)
    monkeypatch.setattr(status, "FILL_LIMIT", 0.5)
    with services.session() as s:
        for i in range(6):
            learner, ev = add_learner(s, world.definition_id, sub=f"m{i}", email=f"m{i}@example.org")
            issuance.award(s, services, definition_id=world.definition_id, learner_id=learner, evidence_id=ev)
        lists = s.scalars(select(StatusList).order_by(StatusList.sequence)).all()
        assert [sl.sequence for sl in lists] == [1, 2]
        counts = [len(s.scalars(select(StatusListSlot).where(StatusListSlot.status_list_id == sl.id)).all())
                  for sl in lists]
        assert counts == [4, 2]
