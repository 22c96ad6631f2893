"""Run as a separate process (like the LMS): emit the real Open edX signal, print what happened.

Usage: python emit_signal.py [--signal passing|ccx|certificate] [--failing] [--concurrent N]
Emits the signal with openedx-events' own data classes (``CoursePassingStatusData``,
``CcxCoursePassingStatusData`` + ``CcxCourseData``, ``CertificateData``) and prints one JSON
object: receiver responses, the JWKS the plugin serves, and (with --concurrent) the outcomes
of N concurrent deliveries of one signed token.
"""
import importlib.util
import json
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # lms_settings, lms_urls
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lms_settings")

import django  # noqa: E402

django.setup()

from django.test import Client  # noqa: E402
from edx_django_utils.plugins import connect_plugin_receivers  # noqa: E402
from ccx_keys.locator import CCXLocator  # noqa: E402
from opaque_keys.edx.keys import CourseKey  # noqa: E402
from openedx_events.learning.data import (CcxCourseData, CcxCoursePassingStatusData, CertificateData,  # noqa: E402
                                          CourseData, CoursePassingStatusData, UserData, UserPersonalData)
from openedx_events.learning.signals import (CCX_COURSE_PASSING_STATUS_UPDATED, CERTIFICATE_CREATED,  # noqa: E402
                                             COURSE_PASSING_STATUS_UPDATED)

from microcred_openedx import webhook  # noqa: E402


def main(argv):
    connect_plugin_receivers("lms.djangoapp")
    out = {}
    user = UserData(id=42, is_active=True, pii=UserPersonalData(username="ada", email="ada@example.org",
                                                                 name="Ada Lovelace"))
    course_key = CourseKey.from_string(os.environ["TEST_COURSE_KEY"])
    kind = argv.get("signal", "passing")
    if kind == "passing":
        status = CoursePassingStatusData(
            is_passing=argv.get("passing", True), user=user,
            course=CourseData(course_key=course_key, display_name="Micro-credentials 101"))
        responses = COURSE_PASSING_STATUS_UPDATED.send_event(course_passing_status=status)
    elif kind == "ccx":
        ccx = CcxCourseData(ccx_course_key=CCXLocator.from_course_locator(course_key, "7"),
                            master_course_key=course_key, display_name="Micro-credentials 101 (coached)",
                            coach_email="coach@example.org")
        status = CcxCoursePassingStatusData(is_passing=argv.get("passing", True), user=user, course=ccx)
        responses = CCX_COURSE_PASSING_STATUS_UPDATED.send_event(course_passing_status=status)
    else:
        certificate = CertificateData(
            user=user, course=CourseData(course_key=course_key, display_name="Micro-credentials 101"),
            mode="verified", grade="0.87", download_url="", name="Ada Lovelace",
            current_status="notpassing" if argv.get("passing") is False else "downloadable")
        responses = CERTIFICATE_CREATED.send_event(certificate=certificate)
    out["responses"] = [(getattr(r, "__name__", str(r)), repr(v) if isinstance(v, Exception) else v)
                        for r, v in responses]
    out["jwks"] = json.loads(Client().get("/microcred/webhook-jwks.json").content)
    n = argv.get("concurrent")
    if n:
        token = webhook.build_token({"is_passing": True, "course_key": os.environ["TEST_COURSE_KEY"],
                                     "user": {"external_id": "ext-43", "username": "grace"}, "grade": None})
        results = [None] * n
        barrier = threading.Barrier(n)

        def send(i):
            barrier.wait()
            results[i] = webhook.deliver(token, attempts=1)
        threads = [threading.Thread(target=send, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        out["concurrent"] = results
    if argv.get("deliver"):  # one token delivered with up to N attempts; the waits are recorded, not slept
        token = webhook.build_token({"is_passing": True, "course_key": os.environ["TEST_COURSE_KEY"],
                                     "user": {"external_id": "ext-44", "username": "alan"}, "grade": None})
        slept = []
        out["delivered"] = webhook.deliver(token, attempts=argv["deliver"], sleep=slept.append)
        out["slept"] = slept
    # The plugin must stay dependency-light inside edx-platform: no Flask, no SQLAlchemy, and
    # none of the tool's generic top-level packages on the LMS's path.
    out["heavy_modules"] = sorted(m for m in ("flask", "sqlalchemy", "plugin", "lti") if m in sys.modules)
    out["importable"] = sorted(m for m in ("flask", "sqlalchemy", "gunicorn", "plugin", "lti")
                               if importlib.util.find_spec(m) is not None)
    print(json.dumps(out))


if __name__ == "__main__":
    args = {}
    if "--concurrent" in sys.argv:
        args["concurrent"] = int(sys.argv[sys.argv.index("--concurrent") + 1])
    if "--deliver" in sys.argv:
        args["deliver"] = int(sys.argv[sys.argv.index("--deliver") + 1])
    if "--signal" in sys.argv:
        args["signal"] = sys.argv[sys.argv.index("--signal") + 1]
    if "--failing" in sys.argv:
        args["passing"] = False
    main(args)
