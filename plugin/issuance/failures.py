"""Why issuing a credential failed, in plain words (no Flask).

:func:`describe_failure` turns whatever the engine raised (a JSON-LD context the store
refuses, an issuer key that is missing or does not open with the configured KEK, the
database going away...) into a :class:`Failure`: a stable ``code`` for pages and
monitoring, a translatable one-line ``reason`` for people (instructors, admins, the
demo's output), and the technical ``detail`` for the tool's operators.

The reason never contains personal data: database errors are named by their type only
(their text may quote SQL parameters such as a learner's e-mail).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from plugin.domain.i18n import Msg, N_

# code -> what went wrong, as people read it (the detail, in English, follows after a colon)
REASONS = {
    "signing": N_("the credential could not be signed: %(detail)s"),
    "signing_key": N_("the issuer's signing key could not be used: %(detail)s"),
    "composition": N_("the credential could not be composed: %(detail)s"),
    "status_list": N_("no revocation-list entry could be reserved for the credential: %(detail)s"),
    "refused": N_("the credential could not be issued: %(detail)s"),
    "database": N_("the database did not answer (%(detail)s)"),
    "unexpected": N_("an unexpected error stopped the issuance (%(detail)s); the tool's log has the details"),
}
# the msgids above, for looking a stored reason back up
_MSGIDS = {code: msg.msgid for code, msg in REASONS.items()}


@dataclass(frozen=True)
class Failure:
    code: str
    reason: Msg
    detail: str

    def reason_json(self) -> dict[str, Any]:
        return reason_to_json(self.reason)


def reason_to_json(reason: Msg) -> dict[str, Any]:
    return {"msgid": reason.msgid, "params": {k: str(v) for k, v in reason.params.items()}}


def reason_from_json(data: dict[str, Any] | None) -> Msg:
    """The stored reason as a message the web layer can translate."""
    data = data or {}
    msgid = data.get("msgid") or _MSGIDS["unexpected"]
    params = data.get("params") or {}
    if msgid == _MSGIDS["unexpected"]:
        params.setdefault("detail", "?")
    return Msg(msgid, params)


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and what caused it, outermost first."""
    seen: list[BaseException] = []
    while exc is not None and exc not in seen and len(seen) < 10:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def _strip(message: str) -> str:
    prefix = "cannot issue this credential: "
    message = " ".join(str(message).split())
    return message[len(prefix):] if message.startswith(prefix) else message


def _make(code: str, detail: str) -> Failure:
    detail = detail[:500]
    return Failure(code=code, reason=Msg(_MSGIDS[code], {"detail": detail}), detail=detail)


def describe_failure(exc: BaseException) -> Failure:
    """The plain-words account of an exception raised while issuing."""
    from sqlalchemy.exc import DBAPIError, SQLAlchemyError

    from plugin.composition.credential import CompositionError
    from plugin.issuance.keys import IssuerKeyError
    from plugin.signing.contexts import ContextError
    from plugin.signing.data_integrity import SigningError
    from plugin.signing.jwt import JwtError
    from plugin.signing.keys import KeyFormatError
    from plugin.status.service import StatusError
    from plugin.storage.secrets import KeyEncryptionError

    chain = _chain(exc)
    for e in chain:  # the most specific cause wins, wherever it is in the chain
        if isinstance(e, (DBAPIError, SQLAlchemyError)):
            return _make("database", type(getattr(e, "orig", None) or e).__name__)
        if isinstance(e, KeyEncryptionError):
            message = str(e)
            return _make("signing_key", message if "MICROCRED_KEK" in message else f"{message} (check MICROCRED_KEK)")
        if isinstance(e, (IssuerKeyError, KeyFormatError)):
            return _make("signing_key", str(e))
    for e in chain:
        if isinstance(e, (ContextError, SigningError, JwtError)):
            return _make("signing", _strip(str(e)))
        if isinstance(e, CompositionError):
            return _make("composition", _strip(str(e)))
        if isinstance(e, StatusError):
            return _make("status_list", str(e))
    from plugin.issuance.service import IssuanceError
    if isinstance(exc, IssuanceError):
        return _make("refused", _strip(str(exc)))
    return _make("unexpected", type(exc).__name__)
