"""Signed, expiring links that let a learner reach their credentials outside the LMS.

The notification e-mail and the iframe carry ``/learner/credentials/<id>?access=<token>``;
the token names the learner (their public id, never the LMS user id), is signed with the
application's secret key (itsdangerous) and expires after :data:`ACCESS_MAX_AGE`.
Pure code: the bridges' notifications call :func:`credential_access_url` without Flask.
"""
from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

ACCESS_MAX_AGE = 60 * 60 * 24 * 90  # 90 days: long enough to find the e-mail again
SALT = "microcred.learner-access.v1"


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=SALT)


def make_access_token(secret_key: str, learner_public_id: str) -> str:
    return _serializer(secret_key).dumps({"l": learner_public_id})


def read_access_token(secret_key: str, token: str, max_age: int = ACCESS_MAX_AGE) -> str | None:
    """The learner's public id, or None when the token is forged, altered or expired."""
    if not token or len(token) > 512:
        return None
    try:
        data = _serializer(secret_key).loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature):
        return None
    value = data.get("l") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def credential_access_url(base_url: str, secret_key: str, credential_public_id: str,
                          learner_public_id: str) -> str:
    """The learner's own link to a credential page (for e-mails and the iframe)."""
    token = make_access_token(secret_key, learner_public_id)
    return f"{base_url.rstrip('/')}/learner/credentials/{credential_public_id}?access={token}"


def verification_url(base_url: str, credential_public_id: str) -> str:
    """The public verification page of a credential (what QR codes and LinkedIn point to)."""
    return f"{base_url.rstrip('/')}/verify/{credential_public_id}"
