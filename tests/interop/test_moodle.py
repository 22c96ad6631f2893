"""Dynamic Registration with a Moodle-shaped site, then launches over real HTTP.

The tool listens on a real socket; the Moodle stand-in (``moodle_platform``) answers every
request the way ``mod/lti`` does and signs with its own RSA key. Done-when of issue 4:
registration completes and the registered tool then launches (login → auth → launch).
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from lti import CLAIM_AGS, CLAIM_NRPS, SCOPE_LINEITEM
from lti.ags import AgsClient
from lti.errors import ScopeNotGranted
from lti.launch import stored_launch_claims
from lti.nrps import NrpsClient
from plugin.storage.models import CredentialDefinition, Learner, Platform
from tests.interop.harness import Browser, ToolServer
from tests.interop.moodle_platform import MoodleSite


@pytest.fixture
def moodle():
    site = MoodleSite().start()
    yield site
    site.stop()


@pytest.fixture
def tool(database_url, tmp_path):
    server = ToolServer(database_url, tmp_path / "instance")
    yield server
    server.stop()


def _launch_id(response) -> str:
    from urllib.parse import parse_qs, urlsplit
    values = parse_qs(urlsplit(response.url).query).get("launch")
    assert values, f"no launch id in {response.url} (HTTP {response.status_code}): {response.text[:400]}"
    return values[0]


def test_dynamic_registration_then_deep_linking_and_launches(moodle, tool):
    admin = Browser()
    done = admin.get(moodle.registration_url(tool.url("/lti/register")))
    assert done.status_code == 200, done.text
    (tool_type,) = moodle.types.values()
    # The admin activates the pending tool and keeps grade sync only (Moodle's "may only grant
    # lineitem.readonly": no line item creation).
    moodle.activate(tool_type.id, gradesync=1)

    # The teacher adds the tool to the course through deep linking (contentitem.php).
    teacher = Browser()
    teacher.get(f"{moodle.wwwroot}/login/index.php?userid=3")
    start = teacher.get(f"{moodle.wwwroot}/mod/lti/contentitem.php?id={tool_type.id}&course=2")
    auth_form = teacher.submit(start)  # POST to the tool's login, redirected to Moodle's auth.php
    assert auth_form.url.startswith(f"{moodle.wwwroot}/mod/lti/auth.php"), auth_form.text[:300]
    select_page = teacher.submit(auth_form)  # id_token posted to the tool
    assert select_page.status_code == 200, select_page.text[:500]
    assert "Micro-credentials 101" in select_page.text
    autopost = teacher.submit(select_page)  # "Add to course"
    returned = teacher.submit(autopost)  # JWT posted back to contentitem_return.php
    assert returned.status_code == 200, returned.text
    (activity,) = moodle.last_deep_link["activities"]
    assert activity.toolurl == tool.url("/lti/launch")
    definition_id = activity.custom["microcred_definition"]
    with tool.services.session() as s:
        definition = s.scalars(select(CredentialDefinition)
                               .where(CredentialDefinition.public_id == definition_id)).one()
        assert definition.course.context_id == "2"
        assert definition.course.platform_issuer == moodle.wwwroot

    # A student launches the saved activity.
    student = Browser()
    student.get(f"{moodle.wwwroot}/login/index.php?userid=4")
    start = student.get(f"{moodle.wwwroot}/mod/lti/launch.php?id={activity.cmid}")
    page = student.submit(student.submit(start))
    assert page.status_code == 200, page.text[:500]
    launch_id = _launch_id(page)
    with tool.services.session() as s:
        learner = s.scalars(select(Learner).where(Learner.sub == "4")).one()
        assert (learner.platform_issuer, learner.name, learner.email) == (moodle.wwwroot, "Léa Martin",
                                                                          "student1@moodle.test")
        claims = stored_launch_claims(s, launch_id)
        platform_id = s.scalars(select(Platform.id)).one()
    assert claims["https://purl.imsglobal.org/spec/lti/claim/custom"]["microcred_definition"] == definition_id
    assert claims["https://purl.imsglobal.org/spec/lti/claim/deployment_id"] == str(tool_type.id)

    # AGS with Moodle's "grade sync only" scopes: read the activity's column, score, results.
    ags = AgsClient(tool.services, platform_id, claims[CLAIM_AGS])
    item = ags.line_item(claims[CLAIM_AGS]["lineitem"])
    assert item["label"] == activity.name and "?type_id=" in item["id"]
    ags.post_score(item["id"], user_id="4", score_given=85, score_maximum=100)
    results = ags.results(item["id"])
    assert [(r["userId"], r["resultScore"]) for r in results] == [("4", 85)]
    with pytest.raises(ScopeNotGranted, match=SCOPE_LINEITEM.rsplit("/", 1)[1]):
        ags.create_line_item(label="Another column", score_maximum=10)
    token_posts = [p for m, p, _ in moodle.requests if p == "/mod/lti/token.php"]
    assert len(token_posts) == 1  # one token, cached, served every call

    # NRPS: the course's members with the names Moodle shares.
    members = NrpsClient(tool.services, platform_id, claims[CLAIM_NRPS]).members()
    assert {m["user_id"]: m.get("name") for m in members} == {"3": "Terry Teacher", "4": "Léa Martin",
                                                              "5": "Sam Novak"}


def test_a_pending_tool_cannot_launch_until_activated(moodle, tool):
    assert Browser().get(moodle.registration_url(tool.url("/lti/register"))).status_code == 200
    (tool_type,) = moodle.types.values()
    activity = moodle.add_activity(tool_type.id, "Earn the credential")
    student = Browser()
    student.get(f"{moodle.wwwroot}/login/index.php?userid=5")
    assert "pending" in student.get(f"{moodle.wwwroot}/mod/lti/launch.php?id={activity.cmid}").text
    moodle.activate(tool_type.id)
    start = student.get(f"{moodle.wwwroot}/mod/lti/launch.php?id={activity.cmid}")
    page = student.submit(student.submit(start))
    assert page.status_code == 200, page.text[:500]
    _launch_id(page)


def _register_and_deep_link(moodle, tool, *, teacher_id=3):
    assert Browser().get(moodle.registration_url(tool.url("/lti/register"))).status_code == 200
    (tool_type,) = moodle.types.values()
    teacher = Browser()
    teacher.get(f"{moodle.wwwroot}/login/index.php?userid={teacher_id}")
    return tool_type, teacher


def _deep_link(moodle, teacher, tool_type):
    start = teacher.get(f"{moodle.wwwroot}/mod/lti/contentitem.php?id={tool_type.id}&course=2")
    select_page = teacher.submit(teacher.submit(start))
    returned = teacher.submit(teacher.submit(select_page))
    assert returned.status_code == 200, returned.text
    (activity,) = moodle.last_deep_link["activities"]
    return activity


def test_deep_linking_gives_the_activity_a_grade_column_and_ags_rules(moodle, tool):
    """Issue 13, defect 1: without a lineItem Moodle 4.3 saves grade=0 and AGS cannot work."""
    tool_type, teacher = _register_and_deep_link(moodle, tool)
    moodle.activate(tool_type.id)
    activity = _deep_link(moodle, teacher, tool_type)
    item = moodle.last_deep_link["claims"]["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"][0]
    assert item["lineItem"]["scoreMaximum"] == 100 and item["lineItem"]["tag"] == "microcred"
    assert activity.lineitem_id is not None  # Moodle created the grade item
    column = moodle.lineitems[activity.lineitem_id]
    assert (column.score_maximum, column.resource_id) == (100, activity.custom["microcred_definition"])
    with tool.services.session() as s:
        definition = s.scalars(select(CredentialDefinition)).one()
        definition.policy = {"source": "ags", "rule": "course_grade", "threshold": 50, "issuance": "on_claim"}
    # A learner's launch of the credential's own link records the column (no instructor relaunch needed).
    student = Browser()
    student.get(f"{moodle.wwwroot}/login/index.php?userid=4")
    page = student.submit(student.submit(student.get(f"{moodle.wwwroot}/mod/lti/launch.php?id={activity.cmid}")))
    assert page.status_code == 200, page.text[:400]
    with tool.services.session() as s:
        assert s.scalars(select(CredentialDefinition)).one().policy["ags_lineitem"] == moodle.lineitem_url(column)


def test_without_a_line_item_moodle_makes_no_grade_column(moodle, tool):
    """What the tool avoids: the reproduction of defect 1 on the Moodle-shaped platform."""
    tool_type, _teacher = _register_and_deep_link(moodle, tool)
    moodle.activate(tool_type.id)
    status, _ = moodle.deep_linking_return(tool_type.id, "not-a-jwt")
    assert status == 400
    activity = moodle.add_activity(tool_type.id, "No column", graded=False)
    student = Browser()
    student.get(f"{moodle.wwwroot}/login/index.php?userid=4")
    page = student.submit(student.submit(student.get(f"{moodle.wwwroot}/mod/lti/launch.php?id={activity.cmid}")))
    with tool.services.session() as s:
        claims = stored_launch_claims(s, _launch_id(page))
    assert "lineitem" not in claims[CLAIM_AGS] and claims[CLAIM_AGS]["lineitems"]


def test_privacy_never_is_respected(moodle, tool):
    """Issue 13, defect 6: with "Never", launches carry no name, e-mail or username, and the
    claim form does not promise a hashed e-mail address it cannot have."""
    tool_type, teacher = _register_and_deep_link(moodle, tool)
    moodle.activate(tool_type.id, sendname=False, sendemail=False)
    activity = _deep_link(moodle, teacher, tool_type)
    student = Browser()
    student.get(f"{moodle.wwwroot}/login/index.php?userid=4")
    page = student.submit(student.submit(student.get(f"{moodle.wwwroot}/mod/lti/launch.php?id={activity.cmid}")))
    with tool.services.session() as s:
        claims = stored_launch_claims(s, _launch_id(page))
        learner = s.scalars(select(Learner).where(Learner.sub == "4")).one()
        assert (learner.name, learner.email) == (None, None)
    assert not {"name", "given_name", "family_name", "email"} & set(claims)
    assert "user_username" not in claims["https://purl.imsglobal.org/spec/lti/claim/ext"]


def test_a_site_admin_reaches_the_admin_area_and_the_launch_locale_is_used(moodle, tool):
    """Issue 13, defect 7: the admin's launch lands on the instructor page, in the user's language."""
    moodle.users[2].lang = "fr"
    tool_type, admin = _register_and_deep_link(moodle, tool, teacher_id=2)
    moodle.activate(tool_type.id)
    activity = _deep_link(moodle, admin, tool_type)
    page = admin.submit(admin.submit(admin.get(f"{moodle.wwwroot}/mod/lti/launch.php?id={activity.cmid}")))
    assert page.status_code == 200, page.text[:400]
    assert 'lang="fr"' in page.text
    launch = _launch_id(page)
    assert f"/admin/?launch={launch}" in page.text or f"/admin?launch={launch}" in page.text
    admin_page = admin.get(tool.url(f"/admin/?launch={launch}"))
    assert admin_page.status_code == 200 and f"launch={launch}" in admin_page.text
