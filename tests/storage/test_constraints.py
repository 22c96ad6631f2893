"""The database itself makes double issuance impossible: racing inserts, exactly one wins.

Each racer uses its own session (its own connection) and they flush together behind a
barrier. On PostgreSQL the inserts really overlap (the losers wait on the unique index,
then fail); on SQLite they are serialised by the database lock, but the constraint must
hold just the same.
"""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from plugin.storage.models import (Course, CredentialDefinition, DefinitionVersion, IssuedCredential, Issuer,
                                   IssuerKey, Learner, OneTimeToken, PassEvidence, StatusList, StatusListSlot)

RACERS = 6


def race(services, make_row, n: int = RACERS) -> list[str]:
    """Insert ``make_row(i)`` from ``n`` threads at once; return each thread's outcome."""
    barrier = threading.Barrier(n)
    outcomes: list[str] = []
    lock = threading.Lock()

    def racer(i: int) -> None:
        session = services.sessions()
        try:
            session.add(make_row(i))
            barrier.wait(timeout=30)
            session.flush()
            session.commit()
            outcome = "won"
        except IntegrityError:
            session.rollback()
            outcome = "IntegrityError"
        except Exception as exc:  # anything else is a failure of the test
            session.rollback()
            outcome = f"{type(exc).__name__}: {exc}"
        finally:
            session.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(outcomes) == n, "a racer hung"
    return sorted(outcomes)


def exactly_one_won(outcomes: list[str]) -> bool:
    return outcomes == ["IntegrityError"] * (len(outcomes) - 1) + ["won"]


@pytest.fixture
def world(services):
    """An issuer with a key, a course with a definition (version 1) and a few learners."""
    with services.session() as s:
        issuer = Issuer(slug="uni", name="University")
        s.add(issuer)
        s.flush()
        key = IssuerKey(issuer_id=issuer.id, key_id="key-1", algorithm="Ed25519",
                        public_jwk={"kty": "OKP"}, private_sealed="x")
        course = Course(platform_issuer="https://lms.test", context_id="c1", title="Course")
        s.add_all([key, course])
        s.flush()
        definition = CredentialDefinition(course_id=course.id, issuer_id=issuer.id, enabled=True, current_version=1)
        s.add(definition)
        s.flush()
        version = DefinitionVersion(definition_id=definition.id, version=1, data={"title": "T"})
        learners = [Learner(platform_issuer="https://lms.test", sub=f"learner-{i}") for i in range(RACERS)]
        s.add(version)
        s.add_all(learners)
        s.flush()
        ids = {"issuer": issuer.id, "key": key.id, "definition": definition.id, "version": version.id,
               "learners": [learner.id for learner in learners]}
    return ids


def credential(world, learner_id: int, n: int, status: str = "active") -> IssuedCredential:
    return IssuedCredential(credential_id=f"urn:uuid:cred-{learner_id}-{n}", definition_id=world["definition"],
                            definition_version_id=world["version"], learner_id=learner_id, issuer_id=world["issuer"],
                            issuer_key_id=world["key"], status=status, document={"n": n})


def test_one_current_credential_per_definition_and_learner(services, world):
    learner = world["learners"][0]
    outcomes = race(services, lambda i: credential(world, learner, i))
    assert exactly_one_won(outcomes), outcomes
    with services.session() as s:
        rows = s.scalars(select(IssuedCredential).where(IssuedCredential.learner_id == learner)).all()
    assert len(rows) == 1


def test_other_learners_are_not_blocked(services, world):
    outcomes = race(services, lambda i: credential(world, world["learners"][i], i))
    assert outcomes == ["won"] * RACERS


def test_revoking_frees_the_slot_but_suspending_does_not(services, world):
    learner = world["learners"][1]
    with services.session() as s:
        first = credential(world, learner, 1)
        s.add(first)
    with services.session() as s:
        s.get(IssuedCredential, first.id).status = "suspended"
    with pytest.raises(IntegrityError):
        with services.session() as s:
            s.add(credential(world, learner, 2))  # a suspended credential is still current
    with services.session() as s:
        s.get(IssuedCredential, first.id).status = "revoked"
    outcomes = race(services, lambda i: credential(world, learner, 10 + i))
    assert exactly_one_won(outcomes), outcomes
    with services.session() as s:
        statuses = sorted(s.scalars(select(IssuedCredential.status)
                                    .where(IssuedCredential.learner_id == learner)).all())
    assert statuses == ["active", "revoked"]


def test_one_learner_per_platform_issuer_and_sub(services):
    outcomes = race(services, lambda i: Learner(platform_issuer="https://lms.test", sub="same-sub", name=f"n{i}"))
    assert exactly_one_won(outcomes), outcomes
    # the same sub on another platform is another person
    assert race(services, lambda i: Learner(platform_issuer=f"https://lms{i}.test", sub="same-sub")) == ["won"] * RACERS


def test_one_time_token_is_accepted_once(services):
    expires = datetime.now(timezone.utc) + timedelta(minutes=5)
    outcomes = race(services, lambda i: OneTimeToken(kind="nonce", value="n-0123456789", expires_at=expires))
    assert exactly_one_won(outcomes), outcomes
    # the same value as another kind of token is another token
    with services.session() as s:
        s.add(OneTimeToken(kind="jti", value="n-0123456789", expires_at=expires))


def test_status_list_index_is_used_once(services, world):
    with services.session() as s:
        status_list = StatusList(issuer_id=world["issuer"], purpose="revocation")
        credentials = [credential(world, learner, 0) for learner in world["learners"]]
        s.add(status_list)
        s.add_all(credentials)
        s.flush()
        list_id, credential_ids = status_list.id, [c.id for c in credentials]
    outcomes = race(services, lambda i: StatusListSlot(status_list_id=list_id, index=42, credential_id=credential_ids[i]))
    assert exactly_one_won(outcomes), outcomes
    # and a credential holds one index per list
    with pytest.raises(IntegrityError):
        with services.session() as s:
            winner = s.scalars(select(StatusListSlot.credential_id).where(StatusListSlot.index == 42)).one()
            s.add(StatusListSlot(status_list_id=list_id, index=43, credential_id=winner))


def test_pass_evidence_is_recorded_once_per_source_and_dedup_key(services, world):
    def evidence(i: int) -> PassEvidence:
        return PassEvidence(definition_id=world["definition"], learner_id=world["learners"][0], source="ags",
                            dedup_key="lineitem-7:learner-0:attempt-1", passed=True, score=0.9 + i / 100)
    outcomes = race(services, evidence)
    assert exactly_one_won(outcomes), outcomes
