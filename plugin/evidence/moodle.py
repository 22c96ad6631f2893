"""Moodle web services: completion and grades, pulled with a token the admin configured.

Calls ``{site}/webservice/rest/server.php?wstoken=...&wsfunction=...&moodlewsrestformat=json``
(POST, parameters form-encoded as Moodle expects). Moodle answers errors with HTTP 200
and an envelope ``{"exception": ..., "errorcode": ..., "message": ...}``; each one
becomes a :class:`MoodleError` whose message says what to fix.

Functions used (enable them in the admin's external service):
``core_completion_get_course_completion_status`` (completion, with each criterion),
``gradereport_user_get_grade_items`` (every grade item and the course total, raw grade
between grademin and grademax; without ``userid`` it lists everyone in the course),
``gradereport_user_get_grades_table`` (the user report as a table: since Moodle 4.0, MDL-70874,
the course total's grade cell carries the class ``gradepass`` or ``gradefail``, Moodle's own
``grade_grade::is_passed`` against the course total's *grade to pass*),
``gradereport_overview_get_course_grades`` (the course grade, used to test the connection).

The course total's grade to pass: no web-service function of Moodle 3.x or 4.x (checked up to
4.3) returns the number. ``gradereport_user_get_grade_items`` never had a ``gradepass`` field,
``core_grades_get_gradeitems`` returns ids and names only, and ``core_course_get_course_module``
gives the grade to pass of an activity, not of the course total. Moodle's verdict against it
is in ``gradereport_user_get_grades_table`` from 4.0 on; before 4.0 nothing says it, and
"course passed" is decided by course completion alone.

Moodle's answers when something is switched off: web services or the REST protocol off,
``webservice/rest/server.php`` answers HTTP 403 with an empty body (before reading the
token); completion tracking off in the course or on the site,
``core_completion_get_course_completion_status`` raises ``cannotviewreport`` (4.3; the same
error as a token user without ``report/completion:view``).

Moodle's LTI 1.3 launches carry the Moodle user id as ``sub`` and the course id as the
context id, so a learner and a course map directly to Moodle's ids.
"""
from __future__ import annotations

import html
import re
from typing import Any, Iterator

import requests

from plugin.domain.i18n import N_, Msg
from plugin.domain.policy import CoursePolicy, Observation
from plugin.evidence.base import BridgeError, BridgeNotConfigured, LearnerResult, PullSource, bridge_settings
from plugin.evidence.bridge_config import open_secret
from plugin.net import AddressRefused, OutboundPolicy, describe_error, outbound_session
from plugin.storage.models import Course, Learner, Platform

FUNCTIONS = ("core_completion_get_course_completion_status", "gradereport_user_get_grade_items",
             "gradereport_user_get_grades_table", "gradereport_overview_get_course_grades")
# Errors that mean "Moodle tracks no completion for this course": "course passed" then
# goes by the course total's grade to pass alone.
NO_COMPLETION = ("nocriteriaset", "completionnotenabled", "cannotviewreport")

# errorcode -> what the admin or instructor should do (%(function)s, %(courseid)s filled in when raised)
_HINTS = {
    "invalidtoken": N_("the Moodle web-service token is wrong or was deleted: create a new one "
                       "(Site administration > Server > Web services > Manage tokens) and run microcred bridge set"),
    "accessexception": N_("the token's web service does not allow this function, or its user lacks the capability: "
                          "add %(function)s to the external service and check the token user's role"),
    "servicerequireslogin": N_("the web service is disabled for this token's user"),
    "invalidrecord": N_("Moodle does not know this course or user (course id %(courseid)s)"),
    "requireloginerror": N_("the token's user cannot access this course (enrol it or give it a system role)"),
    "nocriteriaset": N_("completion tracking has no criteria in this course: set course completion criteria in Moodle"),
    "completionnotenabled": N_("completion tracking is not enabled for this course in Moodle"),
    "cannotviewreport": N_("Moodle will not show this course's completion: completion tracking is off in the course "
                           "(Course settings > Completion tracking) or on the site (Site administration > Advanced "
                           "features), or the token's user lacks report/completion:view"),
    "invalidparameter": N_("Moodle refused the parameters (course or user id not valid)"),
    "webservicesnotenabled": N_("web services are disabled on this Moodle site (Site administration > Advanced features)"),
    "enablewsdescription": N_("web services are disabled on this Moodle site (Site administration > Advanced features)"),
    "protocolnotenabled": N_("the REST protocol is disabled on this Moodle site (Site administration > Server > Web services > Manage protocols)"),
}


class MoodleError(BridgeError):
    def __init__(self, message: str, *, errorcode: str = "moodle_error", exception: str | None = None,
                 retryable: bool = False):
        super().__init__(message, code=errorcode, retryable=retryable)
        self.errorcode = errorcode
        self.exception = exception


class MoodleClient:
    def __init__(self, site_url: str, token: str, *, http: requests.Session | None = None, timeout: float = 20.0):
        self.site_url = site_url.rstrip("/")
        self.token = token
        self.http = http or outbound_session(OutboundPolicy())  # public addresses only, unless given
        self.timeout = timeout

    @property
    def endpoint(self) -> str:
        return f"{self.site_url}/webservice/rest/server.php"

    def call(self, function: str, **params: Any) -> Any:
        query = {"wstoken": self.token, "wsfunction": function, "moodlewsrestformat": "json"}
        try:
            resp = self.http.post(self.endpoint, params=query, data=_flatten(params), timeout=self.timeout)
        except requests.RequestException as exc:
            raise MoodleError(N_("Moodle at %(url)s could not be reached: %(error)s",
                                 url=self.site_url, error=describe_error(exc)),
                              errorcode="unreachable", retryable=not isinstance(exc, AddressRefused)) from None
        if resp.status_code == 403 and not resp.content.strip():
            # server.php: `if (!webservice_protocol_is_enabled('rest')) { header 403; die; }`
            raise MoodleError(N_("Moodle answered HTTP 403 with an empty body for %(function)s: web services or the "
                                 "REST protocol are disabled on this Moodle site (Site administration > Advanced "
                                 "features > Enable web services; Site administration > Server > Web services > "
                                 "Manage protocols > REST)", function=function),
                              errorcode="webservicesnotenabled")
        if resp.status_code != 200:
            raise MoodleError(N_("Moodle answered HTTP %(status)s for %(function)s (is %(endpoint)s the Moodle "
                                 "site root?)", status=resp.status_code, function=function, endpoint=self.endpoint),
                              errorcode="http_error",
                              retryable=resp.status_code >= 500)
        try:
            body = resp.json()
        except ValueError:
            raise MoodleError(N_("Moodle did not answer JSON for %(function)s: is the REST protocol enabled?",
                                 function=function),
                              errorcode="not_json") from None
        if isinstance(body, dict) and "exception" in body:
            code = body.get("errorcode") or "moodle_error"
            hint = _HINTS.get(code)
            if hint:
                hint = Msg(hint.msgid, {"function": function, "courseid": params.get("courseid", "?")})
            text = html.unescape(str(body.get("message") or code))
            raise MoodleError(N_("Moodle refused %(function)s: %(text)s (%(code)s); %(hint)s", function=function,
                                 text=text, code=code, hint=hint) if hint else
                              N_("Moodle refused %(function)s: %(text)s (%(code)s)", function=function, text=text,
                                 code=code),
                              errorcode=code, exception=body.get("exception"))
        return body

    def completion_status(self, courseid: int | str, userid: int | str) -> dict[str, Any]:
        return self.call("core_completion_get_course_completion_status", courseid=int(courseid),
                         userid=int(userid))["completionstatus"]

    def grade_items(self, courseid: int | str, userid: int | str | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"courseid": int(courseid)}
        if userid is not None:
            params["userid"] = int(userid)
        return self.call("gradereport_user_get_grade_items", **params).get("usergrades", [])

    def grades_table(self, courseid: int | str, userid: int | str | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"courseid": int(courseid)}
        if userid is not None:
            params["userid"] = int(userid)
        return self.call("gradereport_user_get_grades_table", **params).get("tables", [])

    def course_grades(self, userid: int | str | None = None) -> list[dict[str, Any]]:
        params = {"userid": int(userid)} if userid is not None else {}
        return self.call("gradereport_overview_get_course_grades", **params).get("grades", [])


def _flatten(params: dict[str, Any]) -> dict[str, Any]:
    """Moodle's REST form encoding: lists as name[0]=..., dicts as name[key]=..."""
    flat: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}[{k}]", v)
        elif isinstance(value, (list, tuple)):
            for i, v in enumerate(value):
                walk(f"{prefix}[{i}]", v)
        elif isinstance(value, bool):
            flat[prefix] = int(value)
        elif value is not None:
            flat[prefix] = value
    for key, value in params.items():
        walk(key, value)
    return flat


def _percent(item: dict[str, Any], value_key: str = "graderaw") -> float | None:
    raw, lo, hi = item.get(value_key), item.get("grademin"), item.get("grademax")
    if raw is None or lo is None or hi is None or float(hi) <= float(lo):
        return None
    return round((float(raw) - float(lo)) * 100.0 / (float(hi) - float(lo)), 4)


def _has_grade_to_pass(item: dict[str, Any]) -> bool:
    """Moodle's ``grade_grade::is_passed``: no grade to pass when it is unset or equals the minimum."""
    gradepass, lo = item.get("gradepass"), item.get("grademin")
    return gradepass is not None and float(gradepass) > float(lo or 0)


def _strip_tags(text: str | None) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text or "")).strip()


_COURSE_ITEM = re.compile(r'class="courseitem[\s"]')


def course_total_verdicts(tables: list[dict[str, Any]]) -> dict[str, bool | None]:
    """Moodle's verdict on each user's course total, from ``gradereport_user_get_grades_table``:
    ``True``/``False`` when the grade cell of the course total row has the class
    ``gradepass``/``gradefail``, ``None`` when it has neither (no grade to pass set, no grade
    yet, the grade hidden, or Moodle before 4.0). Keyed by user id as a string."""
    verdicts: dict[str, bool | None] = {}
    for table in tables:
        verdict = None
        for row in table.get("tabledata") or []:
            if not isinstance(row, dict):
                continue
            name = row.get("itemname") or {}
            if not _COURSE_ITEM.search(str(name.get("content") or "")):
                continue
            classes = str((row.get("grade") or {}).get("class") or "").split()
            verdict = True if "gradepass" in classes else False if "gradefail" in classes else None
        verdicts[str(table.get("userid"))] = verdict
    return verdicts


def observation_from_grades(usergrade: dict[str, Any], completion: dict[str, Any] | None = None,
                            verdict: bool | None = None) -> Observation:
    """One learner's grade items (and completion) as an observation. Scores in percent.

    ``verdict``: Moodle's pass/fail on the course total (:func:`course_total_verdicts`); it
    decides "passed" when given, before a pass mark or completion."""
    score = pass_mark = None
    assessments: dict[str, float | None] = {}
    pass_marks: dict[str, float | None] = {}
    for item in usergrade.get("gradeitems", []):
        pct = _percent(item)
        gradepass = _percent(item, "gradepass") if _has_grade_to_pass(item) else None
        if item.get("itemtype") == "course":
            score, pass_mark = pct, gradepass
            continue
        if item.get("itemtype") == "category":
            continue
        for name in {_strip_tags(item.get("itemname")), (item.get("idnumber") or "").strip()} - {""}:
            assessments[name] = pct
            pass_marks[name] = gradepass
    details: dict[str, Any] = {"via": "moodle_webservice", "moodle_userid": usergrade.get("userid"),
                               "moodle_courseid": usergrade.get("courseid")}
    completed = None
    if completion is not None:
        completed = bool(completion.get("completed"))
        missing = [f"{_strip_tags(c.get('title'))}: {_strip_tags((c.get('details') or {}).get('criteria'))}".rstrip(": ")
                   for c in completion.get("completions", []) if not c.get("complete")]
        details["missing_criteria"] = missing
    passed = None
    if verdict is not None:
        passed = verdict
        details["course_total_verdict"] = "gradepass" if verdict else "gradefail"
    elif score is not None and pass_mark is not None:
        passed = score >= pass_mark
    elif completed is not None:
        passed = completed
    return Observation(source="moodle", passed=passed, score=score, pass_mark=pass_mark, completed=completed,
                       assessments=assessments, assessment_pass_marks=pass_marks, details=details)


class MoodleSource(PullSource):
    source = "moodle"

    def __init__(self, client: MoodleClient, *, share_names: bool = False):
        self.client = client
        # Names from web services only when the admin opted in (microcred bridge set --moodle-names):
        # a platform whose tool privacy is "Never" withholds them from launches on purpose.
        self.share_names = share_names

    @classmethod
    def for_platform(cls, services, platform: Platform, *, http: requests.Session | None = None) -> "MoodleSource":
        conf = bridge_settings(platform, "moodle")
        if not (conf.get("url") and conf.get("token_sealed")):
            raise BridgeNotConfigured(N_("Moodle web services are not configured for %(platform)s "
                                         "(microcred bridge set --moodle-url URL --moodle-token T)",
                                         platform=platform.issuer))
        token = open_secret(services, platform, "moodle", "token_sealed")
        return cls(MoodleClient(conf["url"], token, http=http or services.http()),
                   share_names=bool(conf.get("share_names")))

    def _needs_completion(self, policy: CoursePolicy) -> bool:
        return policy.rule in ("completion", "course_passed")

    def _completion_or_none(self, courseid, userid, policy: CoursePolicy) -> dict[str, Any] | None:
        if not self._needs_completion(policy):
            return None
        try:
            return self.client.completion_status(courseid, userid)
        except MoodleError as exc:
            # "course passed" can still be decided from the course total and its grade to pass.
            if policy.rule == "course_passed" and exc.errorcode in NO_COMPLETION:
                return None
            raise

    def _verdicts(self, courseid, policy: CoursePolicy, userid=None) -> dict[str, bool | None]:
        if policy.rule != "course_passed":
            return {}
        return course_total_verdicts(self.client.grades_table(courseid, userid))

    def observe_learner(self, course: Course, learner: Learner, policy: CoursePolicy) -> Observation:
        usergrades = self.client.grade_items(course.context_id, learner.sub)
        usergrade = usergrades[0] if usergrades else {"gradeitems": [], "userid": learner.sub}
        verdict = self._verdicts(course.context_id, policy, learner.sub).get(str(learner.sub))
        return observation_from_grades(usergrade, self._completion_or_none(course.context_id, learner.sub, policy),
                                       verdict)

    def observe_course(self, course: Course, policy: CoursePolicy) -> Iterator[LearnerResult]:
        verdicts = self._verdicts(course.context_id, policy)
        for usergrade in self.client.grade_items(course.context_id):
            userid = usergrade.get("userid")
            completion = self._completion_or_none(course.context_id, userid, policy)
            yield LearnerResult(observation=observation_from_grades(usergrade, completion, verdicts.get(str(userid))),
                                sub=str(userid),
                                name=(usergrade.get("userfullname") or None) if self.share_names else None)

    def check(self, course_id: str | None = None) -> str:
        if course_id:
            users = self.client.grade_items(course_id)
            return N_("Moodle web services OK: course %(course)s readable (%(count)s learners with grades)",
                      course=course_id, count=len(users))
        self.client.course_grades()
        return N_("Moodle web services OK: %(url)s accepted the token", url=self.client.site_url)
