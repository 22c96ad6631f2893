"""Per-request access to the services and a database session bound to the request."""
from __future__ import annotations

from flask import current_app, g
from sqlalchemy.orm import Session

from plugin.services import Services


def services() -> Services:
    return current_app.extensions["microcred"]


def db() -> Session:
    """The request's session; committed by the view (``db().commit()``), closed at teardown."""
    if "db_session" not in g:
        g.db_session = services().sessions()
    return g.db_session


def close_db(_exc=None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
