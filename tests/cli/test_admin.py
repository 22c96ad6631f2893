from click.testing import CliRunner
from sqlalchemy import select

from plugin.cli import cli
from plugin.storage.models import AdminUser, AuditLog


def test_admin_create_hashes_with_argon2_and_audits(services):
    result = CliRunner().invoke(cli, ["admin", "create", "alice", "--password-stdin"],
                                input="correct horse battery\n")
    assert result.exit_code == 0, result.output
    assert "created" in result.output
    with services.session() as s:
        user = s.scalar(select(AdminUser).where(AdminUser.username == "alice"))
        assert user.password_hash.startswith("$argon2id$")
        assert "correct horse" not in user.password_hash
        assert s.scalar(select(AuditLog).where(AuditLog.action == "admin.created")).target_id == "alice"


def test_admin_create_prompts_and_refuses_short_passwords(services):
    result = CliRunner().invoke(cli, ["admin", "create", "bob"], input="short\nshort\n")
    assert result.exit_code == 1
    assert "at least 12 characters" in result.output
    assert "Traceback" not in result.output
    ok = CliRunner().invoke(cli, ["admin", "create", "bob"], input="a long enough pass\na long enough pass\n")
    assert ok.exit_code == 0, ok.output


def test_admin_create_again_resets_the_password(services):
    runner = CliRunner()
    runner.invoke(cli, ["admin", "create", "carol", "--password-stdin"], input="first password 1\n")
    result = runner.invoke(cli, ["admin", "create", "carol", "--password-stdin"], input="second password 2\n")
    assert result.exit_code == 0 and "updated" in result.output
    from plugin.cli.admin import verify_password
    with services.session() as s:
        user = s.scalar(select(AdminUser).where(AdminUser.username == "carol"))
        assert verify_password(user.password_hash, "second password 2")
        assert not verify_password(user.password_hash, "first password 1")
