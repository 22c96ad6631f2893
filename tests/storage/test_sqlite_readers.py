"""SQLite: reads never queue behind a writer (deferred BEGIN, WAL); writes still serialise.

Each test holds the database's write lock with an uncommitted write (another process's
connection, or another session of this process) and asks the tool for read-only pages at
the same time, in the same thread: a page that waited for the lock would never answer
(the writer only lets go after it), and would fail after the 30 s busy timeout.
"""
import sqlite3
import threading

import pytest
from sqlalchemy import func, select, text

from plugin.issuance import service as issuance
from plugin.storage import db
from plugin.storage.models import AuditLog, IssuedCredential
from tests.engine_helpers import make_world


@pytest.fixture
def sqlite_only(services):
    if services.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's database-wide write lock")
    return services


def _issue(services):
    world = make_world(services)
    with services.session() as s:
        cred, _ = issuance.award(s, services, definition_id=world.definition_id, learner_id=world.learner_id,
                                 evidence_id=world.evidence_id)
        return cred.public_id, cred.document["credentialStatus"]["statusListCredential"]


def _read_pages(client, public_id, status_url):
    verify_json = client.get(f"/verify/{public_id}", headers={"Accept": "application/json"})
    assert verify_json.status_code == 200, verify_json.get_data(as_text=True)[:300]
    assert verify_json.get_json()["status"] == "valid"
    page = client.get(f"/verify/{public_id}", headers={"Accept": "text/html"})
    assert page.status_code == 200
    served = client.get(f"/credentials/{public_id}")
    assert served.status_code == 200 and served.get_json()["id"].endswith(public_id)
    status_list = client.get(status_url.replace("http://tool.test", ""))
    assert status_list.status_code == 200 and status_list.mimetype == "application/vc+ld+json"


def test_verification_answers_while_another_process_holds_the_write_lock(sqlite_only, client):
    services = sqlite_only
    public_id, status_url = _issue(services)
    client.get(status_url.replace("http://tool.test", ""))  # the signed list is built and cached once
    other = sqlite3.connect(services.engine.url.database, timeout=1, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO audit_log (actor, action, target_type, target_id, details, at) "
                      "VALUES ('other-process', 'test.hold', '', '', '{}', CURRENT_TIMESTAMP)")
        _read_pages(client, public_id, status_url)
        # The uncommitted row is nobody else's business.
        with services.session() as s:
            assert s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.actor == "other-process")) == 0
        other.execute("COMMIT")
    finally:
        other.close()
    with services.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.actor == "other-process")) == 1
        cred = s.scalars(select(IssuedCredential).where(IssuedCredential.public_id == public_id)).one()
        assert (cred.page_views, cred.verifications) == (0, 0)  # the views' counts wait in memory...
    assert client.get(f"/verify/{public_id}", headers={"Accept": "text/html"}).status_code == 200
    from plugin.issuance import visits
    assert visits.flush(services) == 4  # ...until a flush (a thread, the worker, the dashboard) writes them
    with services.session() as s:
        cred = s.scalars(select(IssuedCredential).where(IssuedCredential.public_id == public_id)).one()
        assert (cred.page_views, cred.verifications) == (2, 2)  # ...and none was lost


def test_verification_answers_while_a_thread_of_this_process_is_writing(sqlite_only, client):
    services = sqlite_only
    public_id, status_url = _issue(services)
    client.get(status_url.replace("http://tool.test", ""))
    writer = services.sessions()
    try:
        writer.add(AuditLog(actor="writer", action="test.hold", target_type="", target_id="", details={}))
        writer.flush()  # holds the write lock (this process's queue and SQLite's) until it ends
        assert not db.reading_only(writer)
        _read_pages(client, public_id, status_url)
        writer.commit()
    finally:
        writer.close()


def test_a_write_waits_for_the_writer_and_then_sees_its_commit(sqlite_only):
    """The other half: writers still take turns, and the second starts from the first's result."""
    services = sqlite_only
    world = make_world(services)
    first = services.sessions()
    read_done, second_done = threading.Event(), threading.Event()
    seen = []

    def second():
        with services.session() as s:
            before = s.scalar(select(func.count()).select_from(IssuedCredential))  # a read: no waiting
            seen.append(("read", before))
            read_done.set()
            cred, created = issuance.award(s, services, definition_id=world.definition_id,
                                           learner_id=world.learner_id, evidence_id=world.evidence_id)
            seen.append(("award", created))
        second_done.set()

    try:
        cred, created = issuance.award(first, services, definition_id=world.definition_id,
                                       learner_id=world.learner_id, evidence_id=world.evidence_id)
        assert created
        thread = threading.Thread(target=second)
        thread.start()
        # The second reads while the first holds the lock (the first only commits after this
        # wait), and its award (which signs a credential of its own first) then queues for the
        # lock: it cannot finish while the first holds it.
        assert read_done.wait(30)
        assert seen == [("read", 0)]
        assert not second_done.wait(0.5)
        first.commit()
    finally:
        first.close()
    thread.join(60)
    assert seen == [("read", 0), ("award", False)]
    with services.session() as s:
        assert s.scalar(select(func.count()).select_from(IssuedCredential)) == 1


def test_select_for_update_and_savepoints_take_the_write_lock_first(sqlite_only):
    services = sqlite_only
    with services.session() as s:
        s.execute(text("SELECT 1"))
        assert db.reading_only(s)
        s.scalars(select(AuditLog).with_for_update()).all()
        assert not db.reading_only(s)
    with services.session() as s:
        s.execute(text("SELECT 1"))
        with s.begin_nested():
            assert not db.reading_only(s)
