"""``GET /metrics``: Prometheus metrics (:mod:`plugin.metrics`), for the monitoring system only.

Off (404) unless ``MICROCRED_METRICS_TOKEN`` (the scraper sends ``Authorization: Bearer
<token>``) or ``MICROCRED_METRICS_ALLOW`` (client addresses or networks; behind a proxy the
address ``MICROCRED_TRUSTED_PROXIES`` resolves) is set; with both, either is enough.
The counts name no learner, course or credential.
"""
from __future__ import annotations

import hmac
import ipaddress

from flask import Blueprint, Response, make_response, request
from flask_babel import gettext as _

from plugin.metrics import exposition
from plugin.web.context import services
from plugin.web.errors import error_response

bp = Blueprint("metrics", __name__)


def _allowed_address(allow: list[str]) -> bool:
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(item, strict=False) for item in allow)


def _bearer_matches(token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


@bp.get("/metrics")
def metrics():
    settings = services().settings
    token, allow = settings.metrics_token, settings.metrics_allow
    if not token and not allow:
        return error_response(404, _("Not found"), _("Metrics are off: set MICROCRED_METRICS_TOKEN or "
                                                     "MICROCRED_METRICS_ALLOW to publish them."))
    if not ((token and _bearer_matches(token)) or (allow and _allowed_address(allow))):
        if token:
            resp = make_response(error_response(401, _("Unauthorized"),
                                                _("Send the metrics token as 'Authorization: Bearer <token>'.")))
            resp.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return resp
        return error_response(403, _("Forbidden"), _("This address may not read the metrics."))
    body, content_type = exposition(services())
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})
