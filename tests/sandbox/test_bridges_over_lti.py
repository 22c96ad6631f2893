"""The bridges wired to real LTI launches: tool and sandbox platform on loopback sockets.

A gated-launch credential is issued by the learner's launch itself; an AGS credential
learns its line item from the instructor's launch and is issued from the score the
platform holds on that line item (read back over AGS by the catch-up sync).
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from plugin.evidence.sync import sync_course
from plugin.storage.models import CredentialDefinition, Learner, PassEvidence
from tests.bridges_support import Issued, make_definition

LEARNER = "sandbox-learner-1"


def _definition(live, policy):
    with live.services.session() as s:
        definition = make_definition(s, services=live.services, policy=policy, issuer=live.platform.issuer,
                                     context_id=live.platform.course["id"], platform_id=live.platform_id)
        return definition.id, definition.course_id


def test_gated_launch_policy_issues_on_the_learners_launch(live):
    definition_id, _course = _definition(live, {"source": "gated_launch", "gated_launch_acknowledged": True,
                                                "issuance": "automatic"})
    issued = Issued(live.services)
    instructor = live.browser().launch(live.platform, "sandbox-instructor")
    assert instructor.status_code == 200
    assert issued.all() == []  # an instructor's launch is never evidence

    page = live.browser().launch(live.platform, LEARNER)
    assert page.status_code == 200, page.text[:300]
    (credential,) = issued.all()
    assert credential["definition_id"] == definition_id
    json_report, jwt_report = issued.verify(credential)
    assert json_report.ok and jwt_report.ok, json_report.summary()
    assert credential["document"]["evidence"][0]["assessmentSource"].startswith("the launch itself")
    # it carries the name the platform gave (claiming under that name delivers this credential)
    assert credential["display_name"] == "Grace Hopper"

    live.browser().launch(live.platform, LEARNER)  # launching again issues nothing more
    assert len(issued.all()) == 1


def test_ags_score_on_the_tools_line_item_yields_evidence_and_issuance(live):
    platform = live.platform
    item = platform.add_line_item({"label": "Final exam", "scoreMaximum": 100, "resourceLinkId": "sandbox-link-1"})
    item_id = item["id"].rsplit("/", 1)[-1]
    with platform.lock:
        platform.links["sandbox-link-1"]["lineitem"] = item_id  # the launch's AGS claim names it
    definition_id, course_id = _definition(live, {"source": "ags", "rule": "course_grade", "threshold": 60,
                                                  "issuance": "automatic"})
    issued = Issued(live.services)

    assert live.browser().launch(platform, "sandbox-instructor").status_code == 200
    with live.services.session() as s:
        assert s.get(CredentialDefinition, definition_id).policy["ags_lineitem"] == item["id"]
    assert live.browser().launch(platform, LEARNER).status_code == 200  # the learner becomes known
    assert issued.all() == []

    platform.add_score(item_id, {"userId": LEARNER, "scoreGiven": 75, "scoreMaximum": 100,
                                 "activityProgress": "Completed", "gradingProgress": "FullyGraded",
                                 "timestamp": datetime.now(timezone.utc).isoformat()})
    report = sync_course(live.services, course_id)
    assert (report.issued, report.errors) == (1, []), report.as_dict()

    (credential,) = issued.all()
    with live.services.session() as s:
        learner = s.scalar(select(Learner).where(Learner.sub == LEARNER))
        assert credential["learner_id"] == learner.id
    json_report, jwt_report = issued.verify(credential)
    assert json_report.ok and jwt_report.ok, json_report.summary()
    (evidence,) = credential["document"]["evidence"]
    assert evidence["assessmentScore"] == "75/100"
    assert "LTI Assignment and Grade Services" in evidence["assessmentSource"]
    assert "Score: 75 % (pass mark 60 %)." in evidence["narrative"]
    assert any(e["event"] == "token" for e in platform.events)  # read with a real client-credentials token

    again = sync_course(live.services, course_id)
    assert (again.issued, again.already_issued) == (0, 1) and len(issued.all()) == 1


def test_learner_page_asks_ags_for_the_score_at_claim_time(live):
    """Opening the learner page reads the learner's score over AGS (its own token, cached in the
    database) and records it: on the SQLite file too, where an open transaction would lock it out."""
    platform = live.platform
    item = platform.add_line_item({"label": "Quiz", "scoreMaximum": 20, "resourceLinkId": "sandbox-link-1"})
    item_id = item["id"].rsplit("/", 1)[-1]
    with platform.lock:
        platform.links["sandbox-link-1"]["lineitem"] = item_id
    definition_id, _course = _definition(live, {"source": "ags", "rule": "course_grade", "threshold": 60,
                                                "issuance": "on_claim"})
    issued = Issued(live.services)
    assert live.browser().launch(platform, "sandbox-instructor").status_code == 200
    browser = live.browser()
    page = browser.launch(platform, LEARNER)
    assert page.status_code == 200 and "No course grade has been reported for you yet" in page.text, page.text[page.text.find("<main"):][:1500]

    platform.add_score(item_id, {"userId": LEARNER, "scoreGiven": 16, "scoreMaximum": 20,
                                 "activityProgress": "Completed", "gradingProgress": "FullyGraded",
                                 "timestamp": datetime.now(timezone.utc).isoformat()})
    page = browser.get(page.url)  # the learner opens the page again: no sync has run
    assert page.status_code == 200, page.text[:500]
    assert 'data-state="ready"' in page.text and "ready to claim" in page.text, page.text[:2000]
    assert issued.all() == []  # on_claim: ready, not issued
    with live.services.session() as s:
        learner = s.scalar(select(Learner).where(Learner.sub == LEARNER))
        (evidence,) = s.scalars(select(PassEvidence).where(PassEvidence.learner_id == learner.id,
                                                           PassEvidence.definition_id == definition_id,
                                                           PassEvidence.passed.is_(True)))
        assert evidence.score == 80

    claimed = browser.submit(page, identify="name", display_name="Ada Learner", consent="y")
    assert claimed.status_code == 200, claimed.text[:500]
    (credential,) = issued.all()
    assert credential["display_name"] == "Ada Learner"
