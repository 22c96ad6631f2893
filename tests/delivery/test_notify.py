import email
import email.header
from pathlib import Path

import pytest

from plugin.delivery import notify
from plugin.jobs import queue as jobs
from plugin.jobs.worker import EmbeddedWorker
from plugin.storage.models import Job, Learner
from tests.bridges_support import make_definition, make_issued_credential
from tests.delivery.smtp_sink import SmtpSink


@pytest.fixture
def credential_id(services):
    with services.session() as s:
        definition = make_definition(s, policy={"source": "moodle", "rule": "completion"})
        learner = Learner(platform_issuer="https://lms.example.org", sub="s1", name="Ada Lovelace",
                          given_name="Ada", email="ada@example.org", external_ids={})
        s.add(learner)
        s.flush()
        return make_issued_credential(s, definition=definition, learner=learner).id


def _run(services, credential_id):
    job_id = jobs.enqueue(services, "notify_credential_ready", {"credential_id": credential_id})
    EmbeddedWorker(services).run_once()
    with services.session() as s:
        return s.get(Job, job_id)


def test_file_backend_writes_an_eml_in_the_instance_mail_folder(services, credential_id):
    job = _run(services, credential_id)
    assert job.status == "done" and job.result["sent"] is True
    files = list((Path(services.settings.instance_dir) / "mail").glob("*.eml"))
    assert len(files) == 1
    msg = email.message_from_bytes(files[0].read_bytes())
    assert msg["To"] == "ada@example.org" and "Data Literacy" in msg["Subject"]
    body = msg.get_payload(decode=True).decode()
    assert "Hello Ada," in body and "http://tool.test/credentials/" in body


def test_console_backend_prints_the_message(services, credential_id, capsys):
    services.settings.mail_backend = "console"
    assert _run(services, credential_id).status == "done"
    assert "Subject: Your micro-credential is ready: Data Literacy" in capsys.readouterr().err


def test_smtp_backend_delivers_to_the_server(services, credential_id):
    sink = SmtpSink()
    try:
        services.settings.mail_backend = "smtp"
        services.settings.smtp_host, services.settings.smtp_port = "127.0.0.1", sink.port
        assert _run(services, credential_id).status == "done"
        assert sink.messages[0]["to"] == ["<ada@example.org>"]
        assert "Data Literacy" in sink.messages[0]["data"]
    finally:
        sink.close()


def test_smtp_outage_is_retried_later(services, credential_id):
    services.settings.mail_backend = "smtp"
    services.settings.smtp_host, services.settings.smtp_port = "127.0.0.1", 9
    job = _run(services, credential_id)
    assert job.status == "queued" and job.attempts == 1
    assert "SMTP 127.0.0.1:9 failed" in job.last_error


def test_the_ready_e_mail_is_in_the_learners_language(services, credential_id):
    """A learner whose platform said French reads the e-mail in French; the link is the same."""
    with services.session() as s:
        s.query(Learner).filter_by(sub="s1").one().locale = "fr-FR"
    assert _run(services, credential_id).status == "done"
    msg = email.message_from_bytes(next((Path(services.settings.instance_dir) / "mail").glob("*.eml")).read_bytes())
    body = msg.get_payload(decode=True).decode()
    assert str(email.header.make_header(email.header.decode_header(msg["Subject"]))) == \
        "Votre micro-certification est prête : Data Literacy"
    assert "Bonjour Ada," in body and "« Data Literacy » est prête" in body
    assert "Your micro-credential" not in body and "http://tool.test/credentials/" in body
