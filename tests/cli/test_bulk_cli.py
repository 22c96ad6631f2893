"""``microcred bulk-issue``: the instructor's CSV from the command line, queued or run here."""
from sqlalchemy import func, select

from plugin.storage.models import IssuedCredential, Job
from tests.bridges_support import make_definition


def _definition(services):
    with services.session() as s:
        d = make_definition(s, services=services, policy={"source": "openedx_webhook", "issuance": "automatic"})
        return d.public_id


def test_bulk_issue_runs_the_file_here_and_again_issues_nothing_twice(run, services, tmp_path):
    public_id = _definition(services)
    path = tmp_path / "passed.csv"
    path.write_text("sub,name\n" + "".join(f"cli-{i},Learner {i}\n" for i in range(5)) + ",\n")
    result = run("bulk-issue", public_id, path, "--run")
    assert result.exit_code == 0, result.output
    assert "5 issued, 0 skipped, 0 failed, 0 pending" in result.output
    result = run("bulk-issue", public_id, path, "--run")
    assert "0 issued, 5 skipped" in result.output
    with services.session() as s:
        assert s.scalar(select(func.count()).select_from(IssuedCredential)) == 5


def test_bulk_issue_queues_for_the_workers_by_default(run, services, tmp_path):
    public_id = _definition(services)
    path = tmp_path / "passed.csv"
    path.write_text("email\nada@example.org\n")
    result = run("bulk-issue", public_id, path)
    assert result.exit_code == 0 and "queued: job" in result.output and "1 learner(s)" in result.output
    with services.session() as s:
        assert s.scalar(select(Job.status).where(Job.kind == "bulk_issue")) == "queued"


def test_bulk_issue_refuses_an_unusable_file_in_one_line(run, services, tmp_path):
    public_id = _definition(services)
    path = tmp_path / "wrong.csv"
    path.write_text("first,last\nAda,Lovelace\n")
    result = run("bulk-issue", public_id, path)
    assert result.exit_code == 1 and "“email” or “sub”" in result.output and "Traceback" not in result.output
    assert run("bulk-issue", "no-such-definition", path).exit_code == 1
