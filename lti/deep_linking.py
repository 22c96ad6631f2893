"""Deep linking: answer an ``LtiDeepLinkingRequest`` with one ``ltiResourceLink`` content item.

The item's ``custom`` parameters carry ``microcred_definition`` (the public id of the
course's credential definition, created disabled if the course had none) so every later
launch of the saved link finds that definition whatever the platform does with contexts.
The response JWT is signed RS256 with the tool key (its ``kid`` is in ``/lti/jwks``) and
posted back by an auto-submitting form, using pylti1p3's :class:`~pylti1p3.deep_link.DeepLink`.
"""
from __future__ import annotations

import html
import typing as t

from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource

from lti import CLAIM_DL_DATA, CLAIM_DL_SETTINGS
from lti.config import DBRegistration

CUSTOM_DEFINITION = "microcred_definition"


def content_item(launch_url: str, definition_public_id: str, *, title: str, text: str | None = None) -> DeepLinkResource:
    resource = DeepLinkResource()
    resource.set_type("ltiResourceLink").set_title(title[:255]).set_url(launch_url)
    resource.set_custom_params({CUSTOM_DEFINITION: definition_public_id})
    resource.set_target("iframe")
    return resource


def response_jwt(registration: DBRegistration, deployment_id: str, settings: dict,
                 resources: t.Sequence[DeepLinkResource], *, text: str | None = None) -> tuple[str, dict]:
    """The signed ``LtiDeepLinkingResponse`` and its claims."""
    link = DeepLink(registration, deployment_id, settings)
    message = link.get_message_jwt(resources)
    if settings.get("data") is None:
        message.pop(CLAIM_DL_DATA, None)  # echo ``data`` only when the platform sent it
    if text:
        message["https://purl.imsglobal.org/spec/lti-dl/claim/msg"] = text[:255]
    return link.encode_jwt(message), message


def autosubmit_form(return_url: str, token: str) -> str:
    """A minimal page that posts ``JWT`` back to the platform (works inside the platform iframe)."""
    action = html.escape(return_url, quote=True)
    value = html.escape(token, quote=True)
    return ("<!doctype html><html><head><meta charset=\"utf-8\"><title>microcred</title></head><body>"
            f"<form id=\"dl\" action=\"{action}\" method=\"post\">"
            f"<input type=\"hidden\" name=\"JWT\" value=\"{value}\">"
            "<noscript><button type=\"submit\">Continue</button></noscript></form>"
            "<script>document.getElementById('dl').submit();</script></body></html>")


def settings_from_claims(claims: dict) -> dict:
    settings = claims.get(CLAIM_DL_SETTINGS)
    return settings if isinstance(settings, dict) else {}
