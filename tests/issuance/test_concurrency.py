"""Two transactions awarding the same learner at the same moment: exactly one credential."""
import threading

from sqlalchemy import func, select

from plugin.issuance import service as issuance
from plugin.storage.models import IssuedCredential
from tests.engine_helpers import make_world


def test_concurrent_awards_make_one_credential(services):
    # On SQLite too: both transactions read without the write lock (deferred BEGIN) and both
    # sign; the unique index, checked under the write lock, keeps one.
    world = make_world(services)
    # Both transactions pass the "no current credential yet" check before either inserts.
    barrier = threading.Barrier(2, timeout=30)
    original = issuance.current_credential
    calls = threading.local()

    def racing_current(session, definition_id, learner_id):
        found = original(session, definition_id, learner_id)
        if not getattr(calls, "waited", False):
            calls.waited = True
            barrier.wait()
        return found

    results, errors = [], []

    def run():
        try:
            with services.session() as s:
                cred, created = issuance.award(s, services, definition_id=world.definition_id,
                                               learner_id=world.learner_id, evidence_id=world.evidence_id)
                results.append((cred.public_id, created))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    issuance.current_credential = racing_current
    try:
        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        issuance.current_credential = original
    assert not errors, errors
    assert sorted(created for _, created in results) == [False, True]
    assert results[0][0] == results[1][0]
    with services.session() as s:
        assert s.scalar(select(func.count()).select_from(IssuedCredential)) == 1
