"""LTI Assignment and Grade Services client: the tool's own line items, their results, scores.

AGS shows a tool only the line items it created (or that were created for its links), so
this reads *our* line items and their results and posts scores; it never sees the
course's other grades (brief §5). No Flask: usable from views, jobs and the CLI.

    client = AgsClient(services, platform_id, launch_claims[CLAIM_AGS])
    item = client.find_or_create_line_item(label="Micro-credential", score_maximum=100, tag="microcred")
    client.post_score(item["id"], user_id=sub, score_given=80, score_maximum=100)
    client.results(item["id"])
"""
from __future__ import annotations

import json
import typing as t
from datetime import datetime, timezone
from urllib.parse import urlsplit, urlunsplit

from lti import SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_RESULT_READONLY, SCOPE_SCORE
from lti.errors import ServiceError
from lti.service import PlatformConnector

LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEMS = "application/vnd.ims.lis.v2.lineitemcontainer+json"
RESULTS = "application/vnd.ims.lis.v2.resultcontainer+json"
SCORE = "application/vnd.ims.lis.v1.score+json"

READ_ITEMS = (SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY)


def sub_url(lineitem_url: str, suffix: str) -> str:
    """``…/lineitems/7?x=1`` + ``/scores`` -> ``…/lineitems/7/scores?x=1`` (the AGS rule)."""
    parts = urlsplit(lineitem_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + suffix))


class AgsClient:
    def __init__(self, services, platform_id: int, endpoint: dict | None, *, http=None):
        if not isinstance(endpoint, dict):
            raise ServiceError("this launch offers no Assignment and Grade Services", status=409)
        self.endpoint = endpoint
        offered = endpoint.get("scope") if isinstance(endpoint.get("scope"), list) else None
        self.connector = PlatformConnector(services, platform_id, offered_scopes=offered, http=http)

    @property
    def lineitems_url(self) -> str:
        url = self.endpoint.get("lineitems")
        if not isinstance(url, str) or not url:
            raise ServiceError("the platform gave no line items URL for this context", status=409)
        return url

    def line_items(self, *, tag: str | None = None, resource_id: str | None = None,
                   resource_link_id: str | None = None) -> list[dict]:
        url = self.connector.checked(self.lineitems_url, "AGS line items")
        scopes = self.connector.require(READ_ITEMS, "reading line items")
        params = {k: v for k, v in (("tag", tag), ("resource_id", resource_id),
                                    ("resource_link_id", resource_link_id)) if v}
        if params:
            from urllib.parse import urlencode
            url += ("&" if "?" in url else "?") + urlencode(params)
        items: list[dict] = []
        for page in self.connector.paginated(scopes, url, accept=LINEITEMS):
            body = page["body"]
            if not isinstance(body, list):
                raise ServiceError(f"the platform's line items at {url} are not a JSON list")
            items.extend(i for i in body if isinstance(i, dict))
        return items

    def line_item(self, lineitem_url: str) -> dict:
        self.connector.checked(lineitem_url, "AGS line item")
        scopes = self.connector.require(READ_ITEMS, "reading a line item")
        body = self.connector.request(scopes, lineitem_url, accept=LINEITEM)["body"]
        if not isinstance(body, dict):
            raise ServiceError(f"the platform's line item at {lineitem_url} is not a JSON object")
        return body

    def create_line_item(self, *, label: str, score_maximum: float, tag: str | None = None,
                         resource_id: str | None = None, resource_link_id: str | None = None) -> dict:
        self.connector.checked(self.lineitems_url, "AGS line items")
        scopes = self.connector.require((SCOPE_LINEITEM,), "creating a line item")
        item: dict[str, t.Any] = {"label": label, "scoreMaximum": score_maximum}
        if tag:
            item["tag"] = tag
        if resource_id:
            item["resourceId"] = resource_id
        if resource_link_id:
            item["resourceLinkId"] = resource_link_id
        body = self.connector.request(scopes, self.lineitems_url, is_post=True, data=json.dumps(item),
                                      content_type=LINEITEM, accept=LINEITEM)["body"]
        if not isinstance(body, dict) or not body.get("id"):
            raise ServiceError("the platform did not return the created line item")
        return body

    def find_or_create_line_item(self, *, label: str, score_maximum: float, tag: str | None = None,
                                 resource_id: str | None = None, resource_link_id: str | None = None) -> dict:
        """The tool's line item matching ``tag``/``resource_id``/``resource_link_id``, created if missing.

        Open edX refuses a created line item with neither ``resourceId`` nor ``resourceLinkId``,
        and publishes to its gradebook only scores on the item whose ``resourceLinkId`` is the
        launch's resource link: pass ``resource_link_id`` there.
        """
        wanted = {"tag": tag, "resourceId": resource_id, "resourceLinkId": resource_link_id}
        for item in self.line_items(tag=tag, resource_id=resource_id, resource_link_id=resource_link_id):
            if all(v is None or item.get(k) == v for k, v in wanted.items()):
                return item
        # The launch's own line item (a platform may have created one for the link).
        own = self.endpoint.get("lineitem")
        if isinstance(own, str) and own and not any(wanted.values()):
            return self.line_item(own)
        return self.create_line_item(label=label, score_maximum=score_maximum, tag=tag, resource_id=resource_id,
                                     resource_link_id=resource_link_id)

    def results(self, lineitem_url: str, *, user_id: str | None = None) -> list[dict]:
        self.connector.checked(lineitem_url, "AGS line item")
        scopes = self.connector.require((SCOPE_RESULT_READONLY,), "reading results")
        url = sub_url(lineitem_url, "/results")
        if user_id:
            from urllib.parse import urlencode
            url += ("&" if "?" in url else "?") + urlencode({"user_id": user_id})
        results: list[dict] = []
        for page in self.connector.paginated(scopes, url, accept=RESULTS):
            body = page["body"]
            if not isinstance(body, list):
                raise ServiceError(f"the platform's results at {url} are not a JSON list")
            results.extend(r for r in body if isinstance(r, dict))
        return results

    def post_score(self, lineitem_url: str, *, user_id: str, score_given: float | None, score_maximum: float,
                   activity_progress: str = "Completed", grading_progress: str = "FullyGraded",
                   comment: str | None = None, timestamp: datetime | None = None) -> None:
        self.connector.checked(lineitem_url, "AGS line item")
        scopes = self.connector.require((SCOPE_SCORE,), "posting a score")
        score: dict[str, t.Any] = {
            "userId": user_id,
            "scoreMaximum": score_maximum,
            "activityProgress": activity_progress,
            "gradingProgress": grading_progress,
            "timestamp": (timestamp or datetime.now(timezone.utc)).isoformat(timespec="milliseconds"),
        }
        if score_given is not None:
            score["scoreGiven"] = score_given
        if comment:
            score["comment"] = comment
        self.connector.request(scopes, sub_url(lineitem_url, "/scores"), is_post=True, data=json.dumps(score),
                               content_type=SCORE, accept="application/json")


def results_reader(services, platform) -> AgsClient:
    """What the grade bridge (``plugin.evidence.lti_ags``) reads results with, outside a launch.

    Only ``results()`` of a known line item URL is used, so no launch's endpoint claim is
    needed; the platform grants (or refuses) the result scope when the token is asked for.
    """
    return AgsClient(services, platform.id, {"scope": [SCOPE_RESULT_READONLY, SCOPE_LINEITEM_READONLY]})


def results_reader(services, platform) -> AgsClient:
    """The AGS client the bridges' AGS evidence source reads results with.

    ``platform`` is a :class:`~plugin.storage.models.Platform` row or its id. Only the
    ``result.readonly`` scope is asked for (the line item URL comes from the credential's
    policy, recorded from an instructor's launch), so no launch claim is needed.
    """
    platform_id = platform if isinstance(platform, int) else platform.id
    return AgsClient(services, platform_id, {"scope": [SCOPE_RESULT_READONLY]})
