"""E-mail to the learner when a credential is ready, sent as a background job.

Backends (``MICROCRED_MAIL_BACKEND``): ``smtp`` (the ``MICROCRED_SMTP_HOST`` ... settings; the production
default), ``file`` (one ``.eml`` file per message in ``<instance>/mail/``; the embedded
default, so a demo can show what would have been sent) and ``console`` (the message on
stderr). A failing SMTP server makes the job fail and be retried with backoff.
"""
from __future__ import annotations

import logging
import smtplib
import sys
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

from plugin.logging import log_event
from plugin.settings import Settings

log = logging.getLogger("microcred.mail")


class MailError(RuntimeError):
    pass


def build_message(settings: Settings, *, to: str, subject: str, text: str, html: str | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now(timezone.utc))
    msg["Message-ID"] = make_msgid(domain=settings.mail_from.rpartition("@")[2] or "microcred.local")
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    return msg


def send_message(settings: Settings, msg: EmailMessage) -> str:
    """Send with the configured backend; returns where it went (file path, 'console', 'smtp:host')."""
    backend = settings.mail_backend
    if backend == "console":
        sys.stderr.write(msg.as_string() + "\n")
        return "console"
    if backend == "file":
        folder = Path(settings.instance_dir) / "mail"
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
        msgid = msg["Message-ID"].strip("<>").split("@")[0]
        path = folder / f"{stamp}-{msgid}.eml"
        path.write_bytes(bytes(msg))
        return str(path)
    if backend == "smtp":
        try:
            with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
                if settings.smtp_starttls:
                    smtp.starttls()
                if settings.smtp_user:
                    smtp.login(settings.smtp_user, settings.smtp_password or "")
                smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"SMTP {settings.smtp_host}:{settings.smtp_port} failed: {type(exc).__name__}: {exc}") from None
        return f"smtp:{settings.smtp_host}"
    raise MailError(f"unknown mail backend {backend!r}")


def credential_url(settings: Settings, credential) -> str:
    """Where the learner sees the credential (the learner pages serve it)."""
    return f"{settings.base_url}/credentials/{credential.public_id}"


def _title(credential, locale: str | None = None) -> str:
    version = getattr(credential, "version", None)
    data = getattr(version, "data", None) or {}
    from plugin.domain.i18n import language_of
    language = language_of(locale)
    for key in ("title", "name"):
        value = data.get(key)
        if isinstance(value, dict):  # a language map: the learner's language, else English, else any
            value = value.get(language) or value.get("en") or next(iter(value.values()), None)
        if value:
            return str(value)
    course = getattr(getattr(credential, "definition", None), "course", None)
    return getattr(course, "title", None) or "your micro-credential"


def credential_ready_message(settings: Settings, credential, learner) -> EmailMessage:
    """The e-mail that a credential is ready, in the learner's language when the platform told it
    (``learner.locale``, from the launch), else in English."""
    from plugin.domain.i18n import N_, gettext_for
    locale = getattr(learner, "locale", None)
    tr = gettext_for(locale)
    title = _title(credential, locale)
    name = learner.given_name or learner.name
    greeting = (N_("Hello %(name)s,", name=name) if name else N_("Hello,")).translate(tr)
    text = (f"{greeting}\n\n"
            + N_("Your micro-credential \u201c%(title)s\u201d is ready.", title=title).translate(tr) + "\n\n"
            + N_("Open it to download it, add it to a wallet or share it:").translate(tr)
            + f"\n{credential_url(settings, credential)}\n\n"
            + N_("You can also open the credential tool from your course.").translate(tr) + "\n")
    subject = N_("Your micro-credential is ready: %(title)s", title=title).translate(tr)
    return build_message(settings, to=learner.email, subject=subject, text=text)


def run_notify_job(services, payload: dict[str, Any], ctx) -> dict[str, Any]:
    """Job ``notify_credential_ready``: ``{"credential_id": int}``."""
    from plugin.storage.models import IssuedCredential
    with services.session() as s:
        credential = s.get(IssuedCredential, int(payload["credential_id"]))
        if credential is None:
            return {"sent": False, "why": "credential not found"}
        learner = credential.learner
        if not learner.email:
            return {"sent": False, "why": "the learner has no e-mail address"}
        if credential.status not in ("active", "suspended"):
            return {"sent": False, "why": f"credential is {credential.status}"}
        msg = credential_ready_message(services.settings, credential, learner)
    where = send_message(services.settings, msg)
    log_event(log, "credential-ready e-mail sent", credential_id=payload["credential_id"],
              backend=services.settings.mail_backend)
    return {"sent": True, "to": msg["To"], "via": where if services.settings.mail_backend != "file" else "file",
            "file": where if services.settings.mail_backend == "file" else None}


def claim_reminder_message(settings: Settings, *, learner, title: str | None, credential=None,
                           locale: str | None = None) -> EmailMessage:
    """The instructor's reminder to a learner who passed and has not claimed their credential, in
    the learner's language when the platform told it (``learner.locale``), else in ``locale`` (the
    language of the instructor's request that sent it)."""
    from plugin.domain.i18n import N_, gettext_for
    tr = gettext_for(getattr(learner, "locale", None) or locale)
    title = title or N_("your micro-credential").translate(tr)
    name = learner.given_name or learner.name
    greeting = (N_("Hello %(name)s,", name=name) if name else N_("Hello,")).translate(tr)
    where = (N_("Open it to claim it, download it, add it to a wallet or share it:").translate(tr)
             + f"\n{credential_url(settings, credential)}\n\n" if credential is not None else "")
    text = (f"{greeting}\n\n"
            + N_("You passed \u201c%(title)s\u201d and your micro-credential is waiting for you.", title=title).translate(tr)
            + f"\n\n{where}"
            + N_("Open the credential tool from your course, confirm the name to appear on it, and it is yours.").translate(tr)
            + "\n")
    subject = N_("Your micro-credential is waiting: %(title)s", title=title).translate(tr)
    return build_message(settings, to=learner.email, subject=subject, text=text)


def run_claim_reminder_job(services, payload: dict[str, Any], ctx) -> dict[str, Any]:
    """Job ``notify_claim_reminder``: ``{"definition_id": int, "learner_id": int, "locale": str}`` (the
    language of the instructor who sent it, used when the learner's is not known); nothing is sent
    to a learner who claimed in the meantime or has no e-mail address."""
    from sqlalchemy import select

    from plugin.storage.models import CURRENT_STATUSES, CredentialDefinition, IssuedCredential, Learner
    with services.session() as s:
        learner = s.get(Learner, int(payload["learner_id"]))
        definition = s.get(CredentialDefinition, int(payload["definition_id"]))
        if learner is None or definition is None:
            return {"sent": False, "why": "learner or credential not found"}
        if not learner.email:
            return {"sent": False, "why": "the learner has no e-mail address"}
        credential = s.scalars(select(IssuedCredential).where(
            IssuedCredential.definition_id == definition.id, IssuedCredential.learner_id == learner.id,
            IssuedCredential.status.in_(CURRENT_STATUSES))).first()
        if credential is not None and credential.claimed_at is not None:
            return {"sent": False, "why": "already claimed"}
        version = definition.versions[-1].data if definition.versions else {}
        title = _title(credential) if credential is not None else (
            version.get("title") or getattr(definition.course, "title", None))
        msg = claim_reminder_message(services.settings, learner=learner, title=str(title) if title else None,
                                     credential=credential, locale=payload.get("locale"))
    where = send_message(services.settings, msg)
    log_event(log, "claim reminder e-mail sent", learner_id=payload["learner_id"],
              backend=services.settings.mail_backend)
    return {"sent": True, "to": msg["To"], "file": where if services.settings.mail_backend == "file" else None}
