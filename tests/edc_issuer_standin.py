"""A stand-in for an institution's EDC Issuer, following its published public API.

``POST /api/v1/public/credentials/{seal,seal_and_send,seal_batch}``, ``multipart/form-data``
with the credential file in ``_file`` (the EDC Issuer's upload format ``{"credential": ...}``,
``deliveryDetails.deliveryAddress`` to send, a JSON array for a batch), the seal's keystore
password in the ``password`` query parameter. It seals for real (JAdES, with its own test
certificate) and answers 200; a missing ``_file`` is a 400, a wrong password a 401. Tests
script failures with :attr:`StandIn.script`: the next statuses to answer instead (202, 4xx,
5xx), one per request.
"""
from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from plugin.signing import jades
from tests.edc_support import make_seal

PASSWORD = "s3al-passw0rd"


@dataclass
class StandIn:
    url: str = ""
    script: list[int] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)
    delivered: list[dict] = field(default_factory=list)

    def __post_init__(self):
        self.material = make_seal("rsa", org_id="VATFR-99999999999", ca_name="Stand-in EDC Issuer CA")
        self._server = None

    # ---------------------------------------------------------------- WSGI
    def __call__(self, environ, start_response):
        return self.handle(Request(environ))(environ, start_response)

    def handle(self, request: Request) -> Response:
        path = request.path
        record = {"path": path, "password": request.args.get("password"),
                  "authorization": request.headers.get("Authorization"),
                  "content_type": request.mimetype, "files": list(request.files)}
        self.requests.append(record)
        if request.method != "POST" or not path.startswith("/api/v1/public/credentials/"):
            return self._json(404, {"message": "Not Found"})
        if "_file" not in request.files:
            return self._json(400, {"message": "Required request part '_file' is not present"})
        if request.args.get("password") != PASSWORD:
            return self._json(401, {"message": "Invalid certificate password"})
        if self.script:
            status = self.script.pop(0)
            if status != 200:
                return self._json(status, {"message": f"scripted answer {status}"} if status != 202 else {})
        try:
            upload = json.loads(request.files["_file"].read())
        except ValueError:
            return self._json(400, {"message": "The file is not JSON"})
        record["upload"] = upload
        key, chain = self.material.key, self.material.chain
        if path.endswith("/seal_batch"):
            return self._json(200, [jades.seal(u["credential"], key, chain) for u in upload])
        if path.endswith("/seal_and_send"):
            self.delivered.append({"address": upload["deliveryDetails"]["deliveryAddress"],
                                   "id": upload["credential"]["id"]})
            return self._json(202, {})
        if path.endswith("/seal"):
            # Like the EDC Issuer: the sealed credential gets an id of its own.
            credential = dict(upload["credential"], id=f"urn:credential:{uuid.uuid4()}")
            return self._json(200, jades.seal(credential, key, chain))
        return self._json(404, {"message": "Not Found"})

    @staticmethod
    def _json(status: int, body) -> Response:
        return Response(json.dumps(body), status=status, mimetype="application/json")

    # ---------------------------------------------------------------- server
    def start(self) -> "StandIn":
        self._server = make_server("127.0.0.1", 0, self, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
