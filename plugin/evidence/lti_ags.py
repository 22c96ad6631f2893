"""AGS: the score on the tool's *own* line item (the only one AGS shows a tool).

Two ways in:

* **pull** (:class:`AgsSource`): read the line item's results (``GET {lineitem}/results``)
  for one learner or everyone, for catch-up and claim-time checks;
* **push** (:func:`record_score`): when the tool itself learns a score for its line
  item (it posted it, or the LTI layer received it), record it at once.

What this module needs from the LTI layer (``lti/ags.py``), and nothing more:

``results_reader(services, platform) -> AgsResultsReader`` where the reader has
``results(lineitem_url: str, user_id: str | None = None) -> list[dict]`` returning AGS
Result objects as the platform sent them (``userId``, ``resultScore``,
``resultMaximum``, optional ``comment``), having obtained a token with the scope
``https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly``. The line item URL is
recorded in the policy (``ags_lineitem``) from the instructor's launch (AGS claim ``lineitem``).
"""
from __future__ import annotations

from typing import Any, Iterator, Protocol

from plugin.domain.policy import CoursePolicy, Observation
from plugin.evidence.base import BridgeError, LearnerResult, PullSource
from plugin.storage.models import Course, Learner, Platform

RESULT_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"


class AgsResultsReader(Protocol):
    def results(self, lineitem_url: str, user_id: str | None = None) -> list[dict[str, Any]]: ...


class _LtiResultsReader:
    """The LTI layer's AGS client, made on first use (it opens database sessions of its own,
    for the registration and the token cache, so it must not be built inside a transaction
    on SQLite), with the LTI layer's errors turned into bridge errors a person can read."""

    def __init__(self, services, platform_id: int):
        self.services, self.platform_id = services, platform_id
        self._client = None

    def results(self, lineitem_url: str, user_id: str | None = None) -> list[dict[str, Any]]:
        from lti.errors import LtiError
        try:
            if self._client is None:
                from lti.ags import results_reader as lti_results_reader  # the LTI layer (lti/ags.py)
                self._client = lti_results_reader(self.services, self.platform_id)
            return self._client.results(lineitem_url, user_id=user_id)
        except LtiError as exc:
            raise BridgeError(f"AGS results: {exc.message}", code=exc.code, retryable=exc.status >= 500) from None


def results_reader(services, platform: Platform) -> AgsResultsReader:
    try:
        import lti.ags  # noqa: F401 - the LTI layer is installed
    except ImportError:
        raise BridgeError("the LTI layer's AGS client (lti.ags.results_reader) is not installed",
                          code="not_configured") from None
    return _LtiResultsReader(services, platform.id)


def observation_from_result(result: dict[str, Any], lineitem_url: str | None = None) -> Observation:
    score, maximum = result.get("resultScore"), result.get("resultMaximum")
    percent = None
    if score is not None:
        maximum = float(maximum) if maximum not in (None, 0) else 1.0  # AGS: resultMaximum defaults to 1
        percent = round(float(score) * 100.0 / maximum, 4)
    details = {"lineitem": lineitem_url, "userId": result.get("userId")}
    if result.get("comment"):
        details["comment"] = result["comment"]
    return Observation(source="ags", score=percent, details=details)


def record_score(session, services, *, definition, learner: Learner, score_given: float, score_maximum: float,
                 lineitem_url: str | None = None, timestamp: str | None = None):
    """Push: the tool learnt a score for its own line item; decide and issue at once."""
    from plugin.issuance.auto import process_observation
    obs = observation_from_result({"userId": learner.sub, "resultScore": score_given,
                                   "resultMaximum": score_maximum}, lineitem_url)
    if timestamp:
        obs.details["timestamp"] = timestamp
    return process_observation(session, services, definition=definition, learner=learner, observation=obs)


class AgsSource(PullSource):
    source = "ags"

    def __init__(self, reader: AgsResultsReader):
        self.reader = reader

    def _lineitem(self, policy: CoursePolicy) -> str:
        if not policy.ags_lineitem:
            raise BridgeError("this credential does not know its grade column yet: launch the tool once as "
                              "instructor from a link with grades enabled", code="no_lineitem")
        return policy.ags_lineitem

    def observe_learner(self, course: Course, learner: Learner, policy: CoursePolicy) -> Observation:
        url = self._lineitem(policy)
        rows = self.reader.results(url, user_id=learner.sub)
        row = next((r for r in rows if str(r.get("userId")) == learner.sub), None)
        return observation_from_result(row or {"userId": learner.sub}, url)

    def observe_course(self, course: Course, policy: CoursePolicy) -> Iterator[LearnerResult]:
        url = self._lineitem(policy)
        for row in self.reader.results(url):
            yield LearnerResult(observation=observation_from_result(row, url), sub=str(row.get("userId")))

    def check(self, course_id: str | None = None) -> str:
        return "AGS results are read with the LTI layer's client; they need a launch with the AGS claim"
