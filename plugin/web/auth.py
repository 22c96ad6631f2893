"""Who is asking: an LTI launch (instructor, learner, administrator) or a local admin account.

Launch state lives on the server, keyed by an unguessable launch id that pages carry
in their URLs (``?launch=...``) and forms carry in a hidden field, because platform
iframes often lose third-party cookies. The local admin account uses the Flask
session cookie (it is used outside iframes).

Contract used by every blueprint:

* ``store_launch(session, actor) -> launch_id`` after a validated LTI launch;
* ``current_actor()`` -> :class:`Actor` or ``None``;
* ``@require_roles("instructor")`` etc. on views (403 page otherwise, 401 if nobody);
* ``launch_url(endpoint, **values)``: ``url_for`` that keeps the launch id.
"""
from __future__ import annotations

import functools
import re
import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from flask import abort, g, request, session, url_for
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from plugin.storage.models import KeyValue

LAUNCH_TTL = timedelta(hours=8)
ROLES = ("instructor", "learner", "admin")


@dataclass
class Actor:
    kind: str  # "lti" or "admin"
    roles: list[str] = field(default_factory=list)  # subset of ROLES
    launch_id: str | None = None
    # LTI identity and context (kind == "lti")
    platform_id: int | None = None
    platform_issuer: str | None = None
    client_id: str | None = None
    deployment_id: str | None = None
    sub: str | None = None
    learner_id: int | None = None  # plugin.storage.models.Learner.id
    course_id: int | None = None  # plugin.storage.models.Course.id
    context_id: str | None = None
    context_title: str | None = None
    resource_link_id: str | None = None
    definition_public_id: str | None = None  # from the deep-linked item's custom parameters
    name: str | None = None
    email: str | None = None
    locale: str | None = None
    message_type: str | None = None
    # Services the platform offered in this launch (AGS, NRPS, deep linking settings)
    services: dict[str, Any] = field(default_factory=dict)
    # Local admin account (kind == "admin")
    admin_username: str | None = None

    def has(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)

    @property
    def label(self) -> str:
        """Who, for the audit log."""
        if self.kind == "admin":
            return f"admin:{self.admin_username}"
        return f"lti:{self.platform_issuer}|{self.sub}"


_LAUNCH_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


def store_launch(db: Session, actor: Actor) -> str:
    """Keep a validated launch on the server; returns the launch id pages carry."""
    launch_id = actor.launch_id or secrets.token_urlsafe(32)
    actor.launch_id = launch_id
    # Launch ids are fresh random values: one INSERT with the session's next flush (batched
    # with the launch's claims), nothing read first. Expired launches are purged by the
    # worker's maintenance (plugin.jobs.maintenance).
    db.add(KeyValue(key=f"launch:{launch_id}", value=asdict(actor),
                    expires_at=datetime.now(timezone.utc) + LAUNCH_TTL))
    return launch_id


def load_launch(db: Session, launch_id: str) -> Actor | None:
    """The stored launch ``launch_id`` names; None when it is unknown, expired or could not be
    one (a launch id is URL-safe base64: anything else is never looked up)."""
    if not isinstance(launch_id, str) or not _LAUNCH_ID.fullmatch(launch_id):
        return None
    row = db.get(KeyValue, f"launch:{launch_id}")
    if row is None or row.expires_at < datetime.now(timezone.utc):
        return None
    return Actor(**row.value)


def form_launch_id() -> str | None:
    """The launch id posted in a form, or ``None`` (also when the body is too large to read)."""
    try:
        return request.form.get("launch")
    except HTTPException:
        # The body is over MAX_CONTENT_LENGTH (or unreadable): werkzeug raises on every read of
        # the form, including while the 413 page itself is rendered; that page has no launch.
        return None


def _launch_id_from_request() -> str | None:
    return (request.args.get("launch") or form_launch_id()
            or request.headers.get("X-Microcred-Launch"))


def current_actor() -> Actor | None:
    if "actor" in g:
        return g.actor
    from plugin.web.context import db
    actor = None
    launch_id = _launch_id_from_request()
    if launch_id:
        actor = load_launch(db(), launch_id)
    if actor is None and session.get("admin_username"):
        actor = Actor(kind="admin", roles=["admin"], admin_username=session["admin_username"])
    g.actor = actor
    return actor


def require_roles(*roles: str):
    """Let the view run only for an actor holding one of ``roles``."""
    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            actor = current_actor()
            if actor is None:
                abort(401, description="Open this page from your course (LTI launch) or sign in as an administrator.")
            if not actor.has(*roles):
                abort(403, description="Your role in this course does not give access to this page.")
            return view(*args, **kwargs)
        return wrapped
    return decorator


def launch_url(endpoint: str, **values) -> str:
    actor = current_actor()
    if actor is not None and actor.launch_id and "launch" not in values:
        values["launch"] = actor.launch_id
    return url_for(endpoint, **values)
