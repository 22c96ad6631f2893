"""Deep linking: answer an ``LtiDeepLinkingRequest`` with one ``ltiResourceLink`` content item.

The item's ``custom`` parameters carry ``microcred_definition`` (the public id of the
course's credential definition, created disabled if the course had none) so every later
launch of the saved link finds that definition whatever the platform does with contexts.
The item asks for a grade column (``lineItem``: 0 to 100, labelled with the title, tagged
``microcred``, ``resourceId`` = the definition's public id) unless the platform said it
accepts none (``accept_lineitem: false``): Moodle 4.3, whose dynamically registered tools
"accept grades as specified in the deep-linking definition", creates the activity's grade
item only when the item carries one, and the AGS source needs that column (its launches then
carry ``lineitem``). The response JWT is signed RS256 with the tool key (its ``kid`` is in ``/lti/jwks``) and
posted back by an auto-submitting form, using pylti1p3's :class:`~pylti1p3.deep_link.DeepLink`.
"""
from __future__ import annotations

import html
import typing as t

from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.lineitem import LineItem

from lti import CLAIM_DL_DATA, CLAIM_DL_SETTINGS
from lti.config import DBRegistration

CUSTOM_DEFINITION = "microcred_definition"
LINEITEM_TAG = "microcred"
SCORE_MAXIMUM = 100


def content_item(launch_url: str, definition_public_id: str, *, title: str, text: str | None = None,
                 line_item: bool = True) -> DeepLinkResource:
    resource = DeepLinkResource()
    resource.set_type("ltiResourceLink").set_title(title[:255]).set_url(launch_url)
    resource.set_custom_params({CUSTOM_DEFINITION: definition_public_id})
    resource.set_target("iframe")
    if line_item:
        resource.set_lineitem(LineItem().set_score_maximum(SCORE_MAXIMUM).set_label(title[:255])
                              .set_resource_id(definition_public_id).set_tag(LINEITEM_TAG))
    return resource


def accepts_line_item(settings: dict) -> bool:
    """Whether the deep-linking request lets the tool ask for a grade column (absent means yes)."""
    return settings.get("accept_lineitem") is not False


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
