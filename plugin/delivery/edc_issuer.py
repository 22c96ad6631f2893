"""Client of an institution's EDC Issuer (the Commission's open-source European Digital
Credentials issuer, installed by the institution) public API.

Endpoints (relative to the address the admin gives, e.g. ``https://edci.univ.example``):

* ``POST /api/v1/public/credentials/seal``: seal one credential; the answer is the sealed
  JAdES document;
* ``POST /api/v1/public/credentials/seal_and_send``: seal and deliver it to the learner's
  Europass wallet (``deliveryDetails.deliveryAddress``);
* ``POST /api/v1/public/credentials/seal_batch``: seal several at once.

Each request is ``multipart/form-data`` with the credential file in the ``_file`` part,
in the EDC Issuer's upload format ``{"credential": <EDC>}`` (plus ``deliveryDetails`` to
send; a JSON array of those for a batch). The keystore password of the institution's seal
goes in the ``password`` query parameter, as the EDC Issuer's local sealing asks; a
bearer token, when the admin set one, in ``Authorization``.

Answers: 200 with the sealed document; 202 accepted (``seal_and_send``: queued for
delivery; ``seal``: not sealed yet, asked again later); 408, 429 and 5xx, or no answer,
are worth retrying; any other 4xx is refused for good (bad document, wrong password) and
the message says so.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

SEAL = "/api/v1/public/credentials/seal"
SEAL_AND_SEND = "/api/v1/public/credentials/seal_and_send"
SEAL_BATCH = "/api/v1/public/credentials/seal_batch"
RETRYABLE = {408, 425, 429}
TIMEOUT = 60.0
MAX_ANSWER = 20 * 1024 * 1024


class EdcIssuerError(Exception):
    """The EDC Issuer did not seal: ``retryable`` says whether asking again may help."""

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = True):
        super().__init__(message)
        self.status = status
        self.retryable = retryable


@dataclass
class Answer:
    status: int
    body: bytes


class EdcIssuerClient:
    def __init__(self, base_url: str, *, password: str | None = None, token: str | None = None,
                 timeout: float = TIMEOUT, http=None):
        if not base_url or not base_url.startswith(("https://", "http://")):
            raise EdcIssuerError("the EDC Issuer address must be an http(s) URL", retryable=False)
        self.base_url = base_url.rstrip("/")
        self.password = password
        self.token = token
        self.timeout = timeout
        self.http = http

    def _post(self, path: str, upload: Any) -> Answer:
        import requests
        http = self.http or requests
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        params = {"password": self.password} if self.password else None
        body = json.dumps(upload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        try:
            resp = http.post(self.base_url + path, params=params, headers=headers, timeout=self.timeout,
                             files={"_file": ("credential.json", body, "application/json")})
            data = resp.content
        except requests.RequestException as exc:
            from plugin.net import AddressRefused, describe_error
            if isinstance(exc, AddressRefused):  # retrying cannot help until an admin allows it
                raise EdcIssuerError(f"the EDC Issuer at {self.base_url} cannot be called: {describe_error(exc)}",
                                     retryable=False) from None
            raise EdcIssuerError(f"the EDC Issuer at {self.base_url} did not answer: {type(exc).__name__}") from None
        if len(data) > MAX_ANSWER:
            raise EdcIssuerError("the EDC Issuer's answer is larger than 20 MB", status=resp.status_code,
                                 retryable=False)
        if resp.status_code in (200, 201, 202):
            return Answer(resp.status_code, data)
        detail = _detail(data)
        retryable = resp.status_code >= 500 or resp.status_code in RETRYABLE
        what = "refused the credential" if not retryable else "failed"
        raise EdcIssuerError(f"the EDC Issuer {what} (HTTP {resp.status_code})" + (f": {detail}" if detail else ""),
                             status=resp.status_code, retryable=retryable)

    def seal(self, edc: dict[str, Any]) -> str:
        """The sealed document, as the text the EDC Issuer returned."""
        answer = self._post(SEAL, {"credential": edc})
        if answer.status == 202 or not answer.body.strip():
            raise EdcIssuerError("the EDC Issuer accepted the credential but has not sealed it yet",
                                 status=answer.status, retryable=True)
        return _sealed_text(answer.body)

    def seal_and_send(self, edc: dict[str, Any], address: str) -> str | None:
        """Seal and deliver to the Europass wallet of ``address``; the sealed text when returned."""
        answer = self._post(SEAL_AND_SEND, {"credential": edc, "deliveryDetails": {"deliveryAddress": [address]}})
        if answer.status == 202 or not answer.body.strip():
            return None
        try:
            return _sealed_text(answer.body)
        except EdcIssuerError:
            return None  # delivered; the answer is a receipt, not the document

    def seal_batch(self, edcs: list[dict[str, Any]]) -> list[str]:
        answer = self._post(SEAL_BATCH, [{"credential": e} for e in edcs])
        try:
            items = json.loads(answer.body)
        except ValueError:
            raise EdcIssuerError("the EDC Issuer's batch answer is not JSON", status=answer.status) from None
        if not isinstance(items, list) or len(items) != len(edcs):
            raise EdcIssuerError("the EDC Issuer's batch answer does not hold one sealed credential per credential sent",
                                 status=answer.status)
        return [_sealed_text(json.dumps(i, ensure_ascii=False).encode("utf-8")) for i in items]


def _sealed_text(body: bytes) -> str:
    from plugin.signing.jades import is_jades
    try:
        text = body.decode("utf-8")
        data = json.loads(text)
    except (UnicodeDecodeError, ValueError):
        raise EdcIssuerError("the EDC Issuer's answer is not JSON", retryable=False) from None
    if not is_jades(data):
        raise EdcIssuerError("the EDC Issuer's answer is not a sealed credential (JAdES JSON)", retryable=False)
    return text


def _detail(data: bytes) -> str:
    try:
        obj = json.loads(data)
    except ValueError:
        return " ".join(data.decode("utf-8", "replace").split())[:300]
    if isinstance(obj, dict):
        for key in ("message", "detail", "error", "title"):
            if isinstance(obj.get(key), str):
                return obj[key][:300]
    return ""
