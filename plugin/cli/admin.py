"""``microcred admin``: local administrator accounts (for the admin area outside any LMS)."""
from __future__ import annotations

import sys

import click
from sqlalchemy import select

from plugin.cli import pass_ctx

MIN_PASSWORD = 12


def hash_password(password: str) -> str:
    from argon2 import PasswordHasher
    return PasswordHasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError
    try:
        return PasswordHasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_admin(services, username: str, password: str) -> None:
    """Create (or reset the password of) a local admin account."""
    from plugin.storage.models import AdminUser, AuditLog
    username = username.strip()
    if not username or len(username) > 150 or any(c.isspace() for c in username):
        raise click.ClickException("USERNAME must be 1 to 150 characters without spaces")
    if len(password) < MIN_PASSWORD:
        raise click.ClickException(f"the password must have at least {MIN_PASSWORD} characters")
    with services.session() as s:
        user = s.scalar(select(AdminUser).where(AdminUser.username == username))
        action = "admin.password_reset" if user else "admin.created"
        if user is None:
            user = AdminUser(username=username, password_hash="")
            s.add(user)
        user.password_hash = hash_password(password)
        s.add(AuditLog(actor="cli", action=action, target_type="admin_user", target_id=username))
    return action


@click.group()
def admin():
    """Local administrator accounts for the admin area (/admin/login)."""


@admin.command("create")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@pass_ctx
def create(ctx, username, password_stdin):
    """Create USERNAME (or set a new password if it exists). The password is prompted for."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    action = create_admin(ctx.services(), username, password)
    click.echo(f"admin account {username} {'created' if action == 'admin.created' else 'updated'}")
