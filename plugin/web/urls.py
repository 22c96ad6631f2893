"""Absolute URLs on the tool's public base URL (``MICROCRED_BASE_URL``), not on the Host header.

Links that leave the page (QR codes, LinkedIn, wallets, e-mails, OpenGraph) must use the
configured public address: behind a proxy or in a platform iframe the request host may differ.
"""
from __future__ import annotations

from flask import url_for

from plugin.web.context import services


def public_url(endpoint: str, **values) -> str:
    return services().settings.base_url.rstrip("/") + url_for(endpoint, **values)
