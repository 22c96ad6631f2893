"""Why issuing failed, in plain words: real failures of the real engine, named by their cause."""
from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlalchemy.exc import OperationalError

from plugin.domain.i18n import Msg
from plugin.issuance import service
from plugin.issuance.failures import describe_failure, reason_from_json
from plugin.storage.models import IssuerKey, Learner
from tests.bridges_support import make_definition
from tests.issuance.failure_support import break_signing_key, refuse_context


def _definition_and_learner(services) -> Exception:
    with services.session() as s:
        definition = make_definition(s, services=services, policy={"source": "moodle", "issuance": "automatic"})
        learner = Learner(platform_issuer="https://lms.example.org", sub="s1", email="ada@example.org", external_ids={})
        s.add(learner)
        s.flush()
        ids = definition.id, learner.id, definition.issuer_id
    return ids


def _raise(services, ids):
    with pytest.raises(Exception) as info:
        with services.session() as s:
            service.award(s, services, definition_id=ids[0], learner_id=ids[1])
    return info.value


def test_a_refused_json_ld_context_is_a_signing_failure_naming_the_context(services):
    ids = _definition_and_learner(services)
    with refuse_context(services) as url:
        failure = describe_failure(_raise(services, ids))
    assert failure.code == "signing"
    assert str(failure.reason).startswith(f"the credential could not be signed: JSON-LD context {url} is not pinned")
    assert "\n" not in str(failure.reason)


def test_an_issuer_key_sealed_with_another_kek_is_named_with_the_setting_to_check(services):
    ids = _definition_and_learner(services)
    break_signing_key(services, ids[2])
    failure = describe_failure(_raise(services, ids))
    assert failure.code == "signing_key"
    assert str(failure.reason).startswith("the issuer's signing key could not be used: a stored secret was sealed "
                                          "with key-encryption key")
    assert "MICROCRED_KEK" in str(failure.reason)


def test_an_issuer_without_an_active_key_says_how_to_make_one(services):
    ids = _definition_and_learner(services)
    with services.session() as s:
        s.execute(update(IssuerKey).values(retired_at=IssuerKey.created_at))
    failure = describe_failure(_raise(services, ids))
    assert failure.code == "signing_key" and "microcred keys rotate" in str(failure.reason)


def test_database_errors_are_named_by_type_only_never_by_their_sql_or_values():
    exc = OperationalError("INSERT INTO learner (email) VALUES (?)", ("ada@example.org",), Exception("disk I/O error"))
    failure = describe_failure(exc)
    assert failure.code == "database" and str(failure.reason) == "the database did not answer (Exception)"
    assert "ada@example.org" not in str(failure.reason) + failure.detail


def test_anything_else_is_unexpected_and_points_to_the_log():
    failure = describe_failure(ZeroDivisionError("division by zero"))
    assert failure.code == "unexpected" and "ZeroDivisionError" in str(failure.reason)
    assert "log" in str(failure.reason)


def test_a_stored_reason_reads_back_as_a_translatable_message():
    failure = describe_failure(ZeroDivisionError("x"))
    back = reason_from_json(failure.reason_json())
    assert isinstance(back, Msg) and back == failure.reason and back.msgid == failure.reason.msgid
    french = back.translate(lambda msgid: {failure.reason.msgid: "erreur inattendue (%(detail)s)"}.get(msgid, msgid))
    assert french == "erreur inattendue (ZeroDivisionError)"
    assert str(reason_from_json(None)).startswith("an unexpected error")  # a damaged row still reads
