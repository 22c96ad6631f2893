"""Local HTTP servers answering exactly as Moodle's REST server and Open edX's grades API do
(same paths, parameters, bodies and error envelopes), bound to 127.0.0.1."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit


def loopback_http():
    """An outbound session allowed to call these servers (loopback), as MICROCRED_OUTBOUND_ALLOW would."""
    from plugin.net import OutboundPolicy, outbound_session, parse_allow_list
    return outbound_session(OutboundPolicy(allow=parse_allow_list("127.0.0.0/8")))


class _Server:
    def __init__(self, answer):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _handle(self):
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[-1] for k, v in parse_qs(self.rfile.read(length).decode()).items()} if length else {}
                outer.requests.append((self.command, parts.path, query, form))
                status, body = answer(self.command, parts.path, query, form, self.headers)
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _handle

        self.requests: list = []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


# --------------------------------------------------------------------------- Moodle
def _moodle_error(exception, errorcode, message, debuginfo=None):
    body = {"exception": exception, "errorcode": errorcode, "message": message}
    if debuginfo:
        body["debuginfo"] = debuginfo
    return 200, body  # Moodle's REST server reports errors with HTTP 200


def grade_item(name, raw, *, itemtype="mod", grademax=100.0, idnumber="", item_id=1):
    return {"id": item_id, "itemname": name, "itemtype": itemtype, "itemmodule": "quiz" if itemtype == "mod" else None,
            "iteminstance": item_id, "itemnumber": 0, "idnumber": idnumber, "categoryid": 1, "outcomeid": None,
            "scaleid": None, "locked": False, "cmid": 10 + item_id, "weightraw": 1, "weightformatted": "100.00 %",
            "status": "", "graderaw": raw, "gradedatesubmitted": None, "gradedategraded": 1763769600,
            "gradehiddenbydate": False, "gradeneedsupdate": False, "gradeishidden": False, "gradeislocked": False,
            "gradeisoverridden": False, "gradeformatted": "-" if raw is None else f"{raw:.2f}",
            "grademin": 0.0, "grademax": grademax, "rangeformatted": f"0&ndash;{grademax:.0f}",
            "percentageformatted": "-" if raw is None else f"{raw * 100 / grademax:.2f} %",
            "feedback": "", "feedbackformat": 0}


def _grades_table(courseid, userid, fullname, items, gradepass):
    """``gradereport_user_get_grades_table``'s table for one user, as Moodle 4.3's user report
    builds it: the course total row's name is ``<div class="courseitem ...">`` and, when the
    course total has a grade to pass (above its minimum) and a grade, its grade cell's class
    ends with ``gradepass`` or ``gradefail`` (MDL-70874, Moodle 4.0)."""
    rows = []
    for item in items:
        kind = "courseitem" if item["itemtype"] == "course" else "item"
        status = ""
        if item["itemtype"] == "course" and gradepass is not None and gradepass > item["grademin"] \
                and item["graderaw"] is not None:
            status = "gradepass" if item["graderaw"] >= gradepass else "gradefail"
        name = item["itemname"] or "Course total"
        rows.append({
            "itemname": {"class": "level1 levelodd item b1b", "colspan": 1, "id": f"row_{item['id']}_{userid}",
                         "content": f'<div class="{kind} d-flex align-items-center"><div class="mr-1"></div>'
                                    f'<div><span class="d-block text-uppercase small dimmed_text">'
                                    f'{"Course total" if kind == "courseitem" else "Quiz"}</span>{name}</div></div>',
                         "celltype": "th"},
            "grade": {"class": f"level1 levelodd item b1b itemcenter  {status}".rstrip(),
                      "content": item["gradeformatted"], "headers": f"row_{item['id']}_{userid} grade{userid}"},
        })
    return {"courseid": courseid, "userid": userid, "userfullname": fullname, "maxdepth": 2, "tabledata": rows}


class FakeMoodle(_Server):
    TOKEN = "0123456789abcdef0123456789abcdef"

    def __init__(self):
        self.enabled = {"core_completion_get_course_completion_status", "gradereport_user_get_grade_items",
                        "gradereport_user_get_grades_table", "gradereport_overview_get_course_grades"}
        # courseid -> userid -> {"fullname", "items": [...], "completion": {...} or None (no criteria)}
        self.courses: dict[int, dict[int, dict]] = {}
        # Site administration switches: web services, the REST protocol; per course: completion tracking.
        self.webservices_enabled = True
        self.rest_enabled = True
        self.completion_disabled: set[int] = set()
        # courseid -> the course total's grade to pass (raw points), which no function returns as a number
        self.course_gradepass: dict[int, float] = {}
        super().__init__(self.answer)

    def add_learner(self, courseid, userid, fullname, items, completed=None, missing=()):
        completion = None
        if completed is not None:
            completion = {"completed": completed, "aggregation": 1, "completions": [
                {"type": 4, "title": "Activity completion", "status": "No" if m in missing else "Yes",
                 "complete": m not in missing, "timecompleted": None,
                 "details": {"type": "Activity completion", "criteria": f'<a href="https://moodle.test/mod/quiz/view.php?id=11">{m}</a>',
                             "requirement": "Marking yourself complete", "status": ""}}
                for m in ["Final exam", *missing] if m]}
        self.courses.setdefault(courseid, {})[userid] = {"fullname": fullname, "items": items, "completion": completion}

    def answer(self, method, path, query, form, headers):
        if path != "/webservice/rest/server.php":
            return 404, {"error": "not found"}
        if not (self.webservices_enabled and self.rest_enabled):
            return 403, None  # server.php: header("HTTP/1.0 403 Forbidden"); die; (empty body)
        params = {**query, **form}
        if params.get("wstoken") != self.TOKEN:
            return _moodle_error("moodle_exception", "invalidtoken", "Invalid token - token not found")
        function = params.get("wsfunction")
        if function not in self.enabled:
            return _moodle_error("webservice_access_exception", "accessexception", "Access control exception")
        if function == "gradereport_overview_get_course_grades":
            return 200, {"grades": [], "warnings": []}
        try:
            courseid = int(params["courseid"])
        except (KeyError, ValueError):
            return _moodle_error("invalid_parameter_exception", "invalidparameter",
                                 "Invalid parameter value detected", "courseid => Invalid parameter value detected")
        if courseid not in self.courses:
            return _moodle_error("dml_missing_record_exception", "invalidrecord",
                                 "Can't find data record in database table course.")
        users = self.courses[courseid]
        userid = int(params["userid"]) if params.get("userid") not in (None, "", "0") else None
        if function == "gradereport_user_get_grades_table":
            chosen = [userid] if userid is not None else sorted(users)
            if userid is not None and userid not in users:
                return _moodle_error("moodle_exception", "notenrolled", "User is not enrolled in this course")
            return 200, {"tables": [_grades_table(courseid, u, users[u]["fullname"], users[u]["items"],
                                                  self.course_gradepass.get(courseid)) for u in chosen],
                         "warnings": []}
        if function == "gradereport_user_get_grade_items":
            chosen = [userid] if userid is not None else sorted(users)
            if userid is not None and userid not in users:
                return _moodle_error("moodle_exception", "notenrolled", "User is not enrolled in this course")
            return 200, {"usergrades": [
                {"courseid": courseid, "courseidnumber": "", "userid": u, "userfullname": users[u]["fullname"],
                 "useridnumber": "", "maxdepth": 2, "gradeitems": users[u]["items"]} for u in chosen],
                "warnings": []}
        # core_completion_get_course_completion_status
        if courseid in self.completion_disabled:  # completion_can_view_data() is false (4.3)
            return _moodle_error("moodle_exception", "cannotviewreport", "You cannot view this report")
        if userid not in users:
            return _moodle_error("moodle_exception", "notenrolled", "User is not enrolled in this course")
        completion = users[userid]["completion"]
        if completion is None:
            return _moodle_error("moodle_exception", "nocriteriaset", "No completion criteria set for this course")
        return 200, {"completionstatus": completion, "warnings": []}


# --------------------------------------------------------------------------- Open edX
class FakeOpenEdx(_Server):
    CLIENT_ID = "microcred-grades"
    CLIENT_SECRET = "s3cret-value"

    def __init__(self):
        self.courses: dict[str, list[dict]] = {}
        self.tokens: set[str] = set()
        super().__init__(self.answer)

    def add_grade(self, course_id, username, percent, passed, letter_grade=None, email=""):
        self.courses.setdefault(course_id, []).append(
            {"username": username, "email": email, "course_id": course_id, "passed": passed,
             "percent": percent, "letter_grade": letter_grade})

    def answer(self, method, path, query, form, headers):
        if path == "/oauth2/access_token" and method == "POST":
            if form.get("grant_type") != "client_credentials":
                return 400, {"error": "unsupported_grant_type"}
            if form.get("client_id") != self.CLIENT_ID or form.get("client_secret") != self.CLIENT_SECRET:
                return 401, {"error": "invalid_client", "error_description": "Client authentication failed."}
            token = f"tok{len(self.tokens)}"
            self.tokens.add(token)
            return 200, {"access_token": token, "expires_in": 36000, "token_type": "JWT", "scope": "read write email profile"}
        prefix = "/api/grades/v1/courses/"
        if not path.startswith(prefix):
            return 404, {"detail": "Not found."}
        auth = headers.get("Authorization", "")
        if auth.split(" ")[-1] not in self.tokens:
            return 401, {"detail": "Authentication credentials were not provided."}
        course_id = path[len(prefix):].rstrip("/")
        if course_id not in self.courses:
            return 404, {"error_code": "course_does_not_exist", "developer_message": "The requested course does not exist."}
        rows = self.courses[course_id]
        if "username" in query:
            found = [r for r in rows if r["username"] == query["username"]]
            if not found:
                return 404, {"error_code": "user_not_enrolled",
                             "developer_message": f"The user {query['username']} is not enrolled in the course {course_id}."}
            return 200, found
        size = int(query.get("page_size", 10))
        start = int(query.get("cursor", 0))
        page = rows[start:start + size]
        nxt = None
        if start + size < len(rows):
            nxt = f"{self.url}{path}?{urlencode({'cursor': start + size, 'page_size': size})}"
        return 200, {"next": nxt, "previous": None, "results": page}
