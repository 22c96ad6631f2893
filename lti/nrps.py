"""LTI Names and Role Provisioning Services client: the members of a course.

Names and emails are present only when the platform shares them (Open edX: when the
course allows PII sharing). Pages are followed through ``Link: <…>; rel="next"``.
"""
from __future__ import annotations

from lti import SCOPE_NRPS
from lti.errors import ServiceError
from lti.service import PlatformConnector

MEMBERSHIPS = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"


class NrpsClient:
    def __init__(self, services, platform_id: int, claim: dict | None, *, http=None, offered_scopes=None):
        if not isinstance(claim, dict) or not isinstance(claim.get("context_memberships_url"), str):
            raise ServiceError("this launch offers no Names and Role Provisioning Services", status=409)
        self.url = claim["context_memberships_url"]
        self.connector = PlatformConnector(services, platform_id, offered_scopes=offered_scopes, http=http)

    def members(self, *, role: str | None = None, limit: int | None = None) -> list[dict]:
        """Every member (``user_id``, ``roles``, ``status`` and, when shared, ``name``, ``email``…)."""
        self.connector.checked(self.url, "NRPS memberships")
        scopes = self.connector.require((SCOPE_NRPS,), "listing course members")
        url = self.url
        params = {k: v for k, v in (("role", role), ("limit", limit)) if v}
        if params:
            from urllib.parse import urlencode
            url += ("&" if "?" in url else "?") + urlencode(params)
        members: list[dict] = []
        for page in self.connector.paginated(scopes, url, accept=MEMBERSHIPS):
            body = page["body"]
            if not isinstance(body, dict) or not isinstance(body.get("members"), list):
                raise ServiceError(f"the platform's membership reply at {url} has no members list")
            members.extend(m for m in body["members"] if isinstance(m, dict) and m.get("user_id"))
        return members
