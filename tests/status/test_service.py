"""Status lists in the database: one-bit revocation entries, their state lists, reservation
from a shuffled permutation (no counting), and the legacy 2-bit lists still served."""
import threading

import pytest
from sqlalchemy import event, select

from plugin.issuance import service as issuance
from plugin.signing import data_integrity
from plugin.signing.contexts import get_store
from plugin.status import service as status
from plugin.status.bitstring import decode
from plugin.status.permutation import permuted_index
from plugin.status.states import get_value
from plugin.storage.models import IssuedCredential, KeyValue, StatusList, StatusListSlot
from tests.engine_helpers import add_learner, make_world
from tests.status.legacy import award_legacy


def _award(s, services, world, i, prefix="l"):
    learner, ev = add_learner(s, world.definition_id, sub=f"{prefix}{i}", email=f"{prefix}{i}@example.org")
    return issuance.award(s, services, definition_id=world.definition_id, learner_id=learner, evidence_id=ev)[0]


def _slot(s, cred):
    return s.scalars(select(StatusListSlot).where(StatusListSlot.credential_id == cred.id)).one()


def test_revocation_entry_bit_set_exactly_when_revoked_and_states_beside_it(services):
    world = make_world(services)
    with services.session() as s:
        creds = [_award(s, services, world, i) for i in range(5)]
        indexes = [_slot(s, c).index for c in creds]
        sl = s.scalars(select(StatusList)).one()
        assert sl.purpose == "revocation" and sl.size == 131072 and len(sl.shuffle_key) == 64
        url = status.status_list_url("http://tool.test", sl)
        entry = creds[0].document["credentialStatus"]
        assert entry == {"id": f"{url}#{indexes[0]}", "type": "BitstringStatusListEntry",
                         "statusPurpose": "revocation", "statusListIndex": str(indexes[0]),
                         "statusListCredential": url, "statusReference": url + "/states"}

        doc = status.list_credential(s, services, sl)
        assert doc["id"] == url and doc["credentialSubject"]["statusPurpose"] == "revocation"
        did = issuance.did_document_for(s, services, s.get(IssuedCredential, creds[0].id).issuer)
        assert data_integrity.verify(doc, documents={doc["issuer"]: did}, store=get_store(services)).ok
        assert decode(doc["credentialSubject"]["encodedList"]).size == 131072  # one bit per entry
        assert s.get(KeyValue, f"status-list-credential:{sl.id}") is not None  # cached

        issuance.revoke(s, creds[0], "fraud", "admin")
        issuance.suspend(s, creds[1], "check", "admin")
        new = issuance.reissue(s, services, creds[2], display_name="Ada L.", actor="admin")
        issuance.suspend(s, creds[3], "check", "admin")
        issuance.reinstate(s, creds[3], "admin")
        assert s.get(KeyValue, f"status-list-credential:{sl.id}") is None  # invalidated
        bits = decode(status.list_credential(s, services, sl)["credentialSubject"]["encodedList"])
        assert [bits.get(i) for i in indexes] == [True, False, False, False, False]
        assert bits.set_indices() == [indexes[0]]  # nothing else, not the neighbours

        states = status.list_credential(s, services, sl, "states")
        assert states["id"] == url + "/states" and states["credentialSubject"]["statusPurpose"] == "message"
        assert data_integrity.verify(states, documents={doc["issuer"]: did}, store=get_store(services)).ok
        sbits = decode(states["credentialSubject"]["encodedList"])
        assert sbits.size == 2 * 131072
        assert [get_value(sbits, i) for i in indexes + [_slot(s, new).index]] == [1, 2, 3, 0, 0, 0]
        assert [_slot(s, c).is_set for c in creds] == [True, False, False, False, False]


def test_indexes_are_the_lists_permutation_of_positions(services):
    world = make_world(services)
    with services.session() as s:
        creds = [_award(s, services, world, i) for i in range(24)]
        sl = s.scalars(select(StatusList)).one()
        indexes = [_slot(s, c).index for c in creds]
        assert indexes == [permuted_index(sl.shuffle_key, p, sl.size) for p in range(24)]
        assert len(set(indexes)) == 24
        assert indexes != sorted(indexes) and max(indexes) - min(indexes) > 1000  # no issuance order


def test_reservation_runs_no_count_and_the_same_statements_when_the_list_fills(services, monkeypatch):
    world = make_world(services)
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(statement.lower())

    with services.session() as s:
        status.allocate_many(s, world.issuer_id, 1)  # opens the list
        per_call = []
        for _ in range(30):
            seen.clear()
            event.listen(services.engine, "before_cursor_execute", record)
            try:
                status.allocate_many(s, world.issuer_id, 1)
            finally:
                event.remove(services.engine, "before_cursor_execute", record)
            assert not [q for q in seen if "count(" in q], seen
            assert not [q for q in seen if "status_list_slot" in q], seen  # never reads the used slots
            per_call.append(len(seen))
        assert len(set(per_call)) == 1 and per_call[0] <= 3, per_call


def test_allocate_many_spans_lists_and_fills_each_completely(services, monkeypatch):
    world = make_world(services)
    monkeypatch.setattr(status, "LIST_ENTRIES", 8)
    with services.session() as s:
        first = status.allocate_many(s, world.issuer_id, 20)
        assert [r.purpose for r in first] == ["revocation"] * 20
        lists = s.scalars(select(StatusList).order_by(StatusList.sequence)).all()
        assert [sl.sequence for sl in lists] == [1, 2, 3]
        by_list = {sl.id: sorted(r.index for r in first if r.status_list_id == sl.id) for sl in lists}
        assert by_list[lists[0].id] == by_list[lists[1].id] == list(range(8))  # full, no index twice
        assert len(by_list[lists[2].id]) == 4
        more = status.allocate_many(s, world.issuer_id, 4)
        assert {r.status_list_id for r in more} == {lists[2].id}
        assert sorted(by_list[lists[2].id] + [r.index for r in more]) == list(range(8))
        assert status.allocate_many(s, world.issuer_id, 0) == []
        creds = [_award(s, services, world, i) for i in range(2)]  # list 3 is full: on list 4
        assert {_slot(s, c).status_list_id for c in creds} == {lists[2].id + 1}


def test_bind_many_binds_a_batch_in_one_insert(services):
    world = make_world(services)
    with services.session() as s:
        creds = []
        for i in range(3):  # rows without a revocation slot yet (legacy ones)
            learner, ev = add_learner(s, world.definition_id, sub=f"b{i}", email=f"b{i}@example.org")
            creds.append(award_legacy(s, services, definition_id=world.definition_id, learner_id=learner,
                                      evidence_id=ev)[0])
        batch = status.allocate_many(s, world.issuer_id, 3)
        seen = []
        listener = lambda conn, cursor, statement, *a: seen.append(statement)  # noqa: E731
        event.listen(services.engine, "before_cursor_execute", listener)
        try:
            status.bind_many(s, [(c.id, r) for c, r in zip(creds, batch)])
        finally:
            event.remove(services.engine, "before_cursor_execute", listener)
        assert len(seen) == 1 and seen[0].lower().startswith("insert into status_list_slot")
        issuance.revoke(s, creds[1], "fraud", "admin")
        sl = s.get(StatusList, batch[0].status_list_id)
        bits = decode(status.list_credential(s, services, sl)["credentialSubject"]["encodedList"])
        assert bits.set_indices() == [batch[1].index]


def test_a_list_without_a_key_takes_no_new_credential(services):
    world = make_world(services)
    with services.session() as s:
        cred = _award(s, services, world, 0)
        old = s.get(StatusList, _slot(s, cred).status_list_id)
        old.shuffle_key = None  # e.g. after a downgrade and a new upgrade: its counter is gone
        s.flush()
        other = _award(s, services, world, 1)
        assert _slot(s, other).status_list_id != old.id
        assert s.get(StatusList, _slot(s, other).status_list_id).sequence == 2


def _race(services, issuer_id, *, threads=4, rounds=5, n=10) -> list[tuple[int, int]]:
    """``threads`` workers, each reserving ``n`` indexes in ``rounds`` transactions, all at once."""
    barrier = threading.Barrier(threads, timeout=60)
    got, errors = [], []

    def run():
        try:
            barrier.wait()
            for _ in range(rounds):
                with services.session() as s:
                    got.extend((r.status_list_id, r.index) for r in status.allocate_many(s, issuer_id, n))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join(120)
    assert not errors, errors
    return got


def test_concurrent_reservations_never_share_an_index(services):
    world = make_world(services)
    got = _race(services, world.issuer_id)
    assert len(got) == 200 and len(set(got)) == 200
    with services.session() as s:
        assert len(s.scalars(select(StatusList)).all()) == 1


def test_concurrent_reservations_across_full_lists_open_each_list_once(services, monkeypatch):
    world = make_world(services)
    monkeypatch.setattr(status, "LIST_ENTRIES", 8)
    got = _race(services, world.issuer_id, n=3)
    assert len(got) == 60 and len(set(got)) == 60
    with services.session() as s:
        sequences = s.scalars(select(StatusList.sequence).order_by(StatusList.sequence)).all()
    assert sequences == list(range(1, len(sequences) + 1)) and len(sequences) >= 8  # 60 / 8 entries


def test_rolled_back_reservations_are_skipped_not_reused(services):
    world = make_world(services)
    with services.session() as s:
        status.allocate_many(s, world.issuer_id, 1)  # the list exists (committed)
    with pytest.raises(RuntimeError):
        with services.session() as s:
            lost = status.allocate_many(s, world.issuer_id, 3)
            raise RuntimeError("issuance failed")
    with services.session() as s:
        later = status.allocate_many(s, world.issuer_id, 3)
    assert len({r.index for r in later}) == 3
    if services.engine.dialect.name == "postgresql":
        assert not {r.index for r in later} & {r.index for r in lost}  # the sequence moved on


def test_legacy_lists_are_still_served_and_follow_status(services):
    world = make_world(services)
    with services.session() as s:
        learner, ev = add_learner(s, world.definition_id, sub="old", email="old@example.org")
        old, _ = award_legacy(s, services, definition_id=world.definition_id, learner_id=learner, evidence_id=ev)
        entry = old.document["credentialStatus"]
        assert entry["statusPurpose"] == "message" and entry["statusSize"] == 2
        legacy = s.get(StatusList, _slot(s, old).status_list_id)
        new = _award(s, services, world, 9)
        assert _slot(s, new).status_list_id != legacy.id  # nothing new goes on a legacy list
        assert status.list_credential(s, services, legacy, "states") is None
        issuance.suspend(s, old, "check", "admin")
        doc = status.list_credential(s, services, legacy)
        assert doc["credentialSubject"]["statusPurpose"] == "message"
        assert get_value(decode(doc["credentialSubject"]["encodedList"]), int(entry["statusListIndex"])) == 2
        assert _slot(s, old).is_set is True
