"""Pathway pages: an admin defines, enables and reviews; a learner sees "2 of 3 done, 10 of 15
ECTS" and where to take what is left; the instructor sees the pathways of their credential."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from plugin.cli.admin import create_admin
from plugin.issuance import pathways
from plugin.issuance import service as issuance
from plugin.storage.models import IssuedCredential, Pathway
from tests.pathway_helpers import award_part, make_pathway_world
from tests.web.learner_support import csrf_token, learner_launch


@pytest.fixture
def admin_client(client, services):
    create_admin(services, "root", "a very long password")
    page = client.get("/admin/login").get_data(as_text=True)
    client.post("/admin/login", data={"csrf_token": csrf_token(page), "username": "root",
                                      "password": "a very long password"})
    return client


def test_admin_defines_a_pathway_that_awards_when_its_parts_are_earned(admin_client, services):
    world = make_pathway_world(services, enabled=False)
    form = admin_client.get("/admin/pathways/new")
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    for pid in world.definition_public_ids:
        assert pid in html  # every enabled credential is offered as a part
    data = {"csrf_token": csrf_token(html), "name": "Data stewardship", "issuer": str(world.issuer_id),
            "kind": "at_least", "at_least": "2", "parts": world.definition_public_ids, "min_ects": "10",
            "outcomes": "Steward a public dataset"}
    bad = admin_client.post("/admin/pathways/new", data={**data, "at_least": "5"})
    assert bad.status_code == 400 and "at least N of" in bad.get_data(as_text=True)
    ok = admin_client.post("/admin/pathways/new", data=data)
    assert ok.status_code == 302
    with services.session() as s:
        pathway = s.scalars(select(Pathway).order_by(Pathway.id.desc())).first()
        rules = pathways.current_rules(s, pathway)
        assert rules.requirements == {"at_least": 2, "of": [{"credential": p} for p in world.definition_public_ids]}
        public_id = pathway.public_id
    listing = admin_client.get("/admin/pathways").get_data(as_text=True)
    enable = admin_client.post(f"/admin/pathways/{public_id}/enable", data={"csrf_token": csrf_token(listing)})
    assert enable.status_code == 302
    award_part(services, world, 0)
    award_part(services, world, 1)
    with services.session() as s:
        pathway = s.scalars(select(Pathway).where(Pathway.public_id == public_id)).one()
        [target] = s.scalars(select(IssuedCredential).where(
            IssuedCredential.definition_id == pathway.target_definition_id)).all()
        assert target.document["credentialSubject"]["achievement"]["name"] == "Data stewardship"
    page = admin_client.get(f"/pathways/{public_id}")
    assert page.status_code == 200 and "At least 2 of these credentials are needed" in page.get_data(as_text=True)


def test_learner_sees_progress_and_what_is_left(client, services):
    world = make_pathway_world(services)
    ids = [award_part(services, world, i)[0] for i in range(2)]
    launch = learner_launch(services, _world_view(world))
    page = client.get(f"/learner/credentials/{ids[0]}?launch={launch}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "2 of 3 done, 10 of 15 ECTS" in html
    assert "Still to earn" in html and "Policy briefs" in html
    fr = client.get(f"/learner/credentials/{ids[0]}?launch={learner_launch(services, _world_view(world), locale='fr')}")
    assert "2 sur 3 obtenus, 10 sur 15 ECTS" in fr.get_data(as_text=True)


def test_admin_reviews_a_pathway_credential_after_a_part_is_revoked(admin_client, services):
    world = make_pathway_world(services)
    ids = [award_part(services, world, i)[0] for i in range(3)]
    with services.session() as s:
        part = s.scalars(select(IssuedCredential).where(IssuedCredential.public_id == ids[2])).one()
        issuance.revoke(s, part, "plagiarism", "admin:root")
    listing = admin_client.get("/admin/pathways").get_data(as_text=True)
    assert "Pathway credentials to review" in listing and "plagiarism" in listing
    award_id = re.search(r'id="review-(\d+)"', listing).group(1)
    refused = admin_client.post(f"/admin/pathways/reviews/{award_id}",
                                data={"csrf_token": csrf_token(listing), "decision": "revoke"})
    assert refused.status_code == 303
    done = admin_client.post(f"/admin/pathways/reviews/{award_id}", data={
        "csrf_token": csrf_token(listing), "decision": "revoke", "reason": "a required part was plagiarised"})
    assert done.status_code == 302
    with services.session() as s:
        assert pathways.awards_needing_review(s) == []
        target = s.scalars(select(IssuedCredential).where(
            IssuedCredential.definition_id == world.target_definition_id)).one()
        assert target.status == "revoked"


def test_other_people_cannot_reach_the_admin_pages(client, services):
    make_pathway_world(services)
    assert client.get("/admin/pathways").status_code == 401
    assert client.get("/pathways/not-a-pathway").status_code == 404


class _world_view:
    """The learner-launch helper wants ``definition_id`` and ``learner_id``."""
    def __init__(self, world):
        self.definition_id, self.learner_id = world.definitions[0], world.learner_id


def test_learner_links_an_account_on_a_second_platform_and_the_pathway_is_awarded(client, services):
    world = make_pathway_world(services)
    first = [award_part(services, world, i)[0] for i in range(2)]
    # the same person, on another platform, earned the third part
    other_id = _third_part_elsewhere(services, world, "grace-2")
    with services.session() as s:
        assert s.scalars(select(IssuedCredential).where(
            IssuedCredential.definition_id == world.target_definition_id)).all() == []
    # Nothing links without the learner: a launch of the other account offers nothing yet.
    second = learner_launch(services, _view(world.definitions[2], other_id))
    assert 'id="link-offer"' not in client.get(f"/learner/?launch={second}").get_data(as_text=True)
    launch = learner_launch(services, _world_view(world))
    page = client.get(f"/learner/credentials/{first[0]}?launch={launch}").get_data(as_text=True)
    started = client.post("/learner/link/start", data={"csrf_token": csrf_token(page), "launch": launch,
                                                      "credential": first[0]})
    assert started.status_code == 302
    home = client.get(f"/learner/?launch={second}").get_data(as_text=True)
    assert 'id="link-offer"' in home
    done = client.post(f"/learner/link/confirm?launch={second}", data={"csrf_token": csrf_token(home),
                                                                       "decision": "link"})
    assert done.status_code == 302
    with services.session() as s:
        [target] = s.scalars(select(IssuedCredential).where(
            IssuedCredential.definition_id == world.target_definition_id)).all()
        assert target.learner_id == world.learner_id  # awarded to the identity the link started from
        assert pathways.identities(s, other_id) == [world.learner_id, other_id]
    assert client.post(f"/learner/link/confirm?launch={second}", data={"csrf_token": csrf_token(home),
                                                                       "decision": "link"}).status_code == 400


class _view:
    def __init__(self, definition_id, learner_id):
        self.definition_id, self.learner_id = definition_id, learner_id


def test_learner_downloads_the_signed_record(client, services):
    import json as _json

    from plugin.verification.resolver import tool_resolver
    from plugin.verification.verify import verify
    world = make_pathway_world(services)
    ids = [award_part(services, world, i)[0] for i in range(3)]
    launch = learner_launch(services, _world_view(world))
    page = client.get(f"/learner/credentials/{ids[0]}?launch={launch}").get_data(as_text=True)
    assert 'id="dl-clr"' in page
    resp = client.get(f"/learner/record.json?launch={launch}")
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    record = _json.loads(resp.get_data(as_text=True))
    assert len(record["credentialSubject"]["verifiableCredential"]) == 4  # three parts and the pathway
    from tests.clr_schema import assert_valid_clr
    assert_valid_clr(record)  # the official 1EdTech CLR 2.0 schema
    assert verify(record, tool_resolver(services)).status == "valid"
    assert client.get("/learner/record.json").status_code == 401


def test_learner_links_accounts_with_a_code_sent_to_the_other_accounts_email(client, services, settings):
    world = make_pathway_world(services)
    first = [award_part(services, world, i)[0] for i in range(2)]
    _third_part_elsewhere(services, world, "ada-2", email="Ada.Other@Example.org")
    launch = learner_launch(services, _world_view(world))
    page = client.get(f"/learner/credentials/{first[0]}?launch={launch}").get_data(as_text=True)
    token = csrf_token(page)
    mail_dir = settings.instance_dir / "mail"
    # An address no other account uses: the same answer, and no mail.
    client.post("/learner/link/email", data={"csrf_token": token, "launch": launch, "email": "nobody@example.org"})
    assert not mail_dir.exists() or not list(mail_dir.iterdir())
    client.post("/learner/link/email", data={"csrf_token": token, "launch": launch, "email": "ada.other@example.org"})
    [mail] = list(mail_dir.iterdir())
    code = re.search(r"link your accounts: (\d{6})", mail.read_text()).group(1)
    wrong = client.post("/learner/link/code", data={"csrf_token": token, "launch": launch,
                                                    "code": "000000" if code != "000000" else "111111"})
    assert wrong.status_code == 303
    ok = client.post("/learner/link/code", data={"csrf_token": token, "launch": launch, "code": code})
    assert ok.status_code == 302
    with services.session() as s:
        assert len(s.scalars(select(IssuedCredential).where(
            IssuedCredential.definition_id == world.target_definition_id)).all()) == 1
    # The code is used once.
    assert client.post("/learner/link/code", data={"csrf_token": token, "launch": launch,
                                                   "code": code}).status_code == 303


def _third_part_elsewhere(services, world, sub: str, email: str | None = None) -> int:
    """Another identity (a second platform) of the learner, holding the pathway's third part."""
    from datetime import datetime, timezone

    from plugin.storage.models import Learner, PassEvidence
    with services.session() as s:
        other = Learner(platform_issuer="https://lms2.example", sub=sub, name="Ada", email=email)
        s.add(other)
        s.flush()
        ev = PassEvidence(definition_id=world.definitions[2], learner_id=other.id, source="test",
                          dedup_key=f"t:{sub}", passed=True, score=90, details={},
                          observed_at=datetime(2026, 5, 3, tzinfo=timezone.utc))
        s.add(ev)
        s.flush()
        issuance.award(s, services, definition_id=world.definitions[2], learner_id=other.id, evidence_id=ev.id)
        return other.id


def _backlog_jobs(services, pathway_id: int) -> list[int]:
    from plugin.storage.models import Job
    with services.session() as s:
        return [j.id for j in s.scalars(select(Job).where(Job.kind == "pathway_backlog").order_by(Job.id))
                if j.payload.get("pathway_id") == pathway_id]


def test_relaxing_an_enabled_pathway_awards_who_now_meets_it_once(admin_client, services):
    """The admin changes "all of 3" into "at least 2 of 3": the learner holding 2 parts gets the
    pathway credential (the backlog job the save queued), once, with its audit entry; saving
    the same rules again queues nothing."""
    from plugin.jobs import queue as jobs
    from plugin.storage.models import AuditLog, Job
    world = make_pathway_world(services, enabled=True)
    award_part(services, world, 0)
    award_part(services, world, 1)
    with services.session() as s:
        pathway = s.get(Pathway, world.pathway_id)
        assert pathways.learner_progress(s, pathway, world.learner_id)[0].satisfied is False
    assert _backlog_jobs(services, world.pathway_id) == []
    url = f"/admin/pathways/{world.pathway_public_id}/edit"
    html = admin_client.get(url).get_data(as_text=True)
    data = {"csrf_token": csrf_token(html), "name": "Certificate in Public Data", "issuer": str(world.issuer_id),
            "kind": "at_least", "at_least": "2", "parts": world.definition_public_ids, "min_ects": "10"}
    assert admin_client.post(url, data=data).status_code == 302
    assert "are being awarded its credential" in admin_client.get("/admin/pathways").get_data(as_text=True)
    [job_id] = _backlog_jobs(services, world.pathway_id)
    assert jobs.execute_job(services, job_id) == "done"
    with services.session() as s:
        held = s.scalars(select(IssuedCredential).where(
            IssuedCredential.definition_id == world.target_definition_id)).all()
        assert [c.learner_id for c in held] == [world.learner_id]
        awards = s.scalars(select(AuditLog).where(AuditLog.action == "pathway.award",
                                                  AuditLog.target_id == world.pathway_public_id)).all()
        assert [a.details["credential"] for a in awards] == [held[0].public_id]
        assert s.get(Job, job_id).result["awarded"] == 1
    # The same rules saved again: no new version, no job, still one pathway credential.
    html = admin_client.get(url).get_data(as_text=True)
    assert admin_client.post(url, data={**data, "csrf_token": csrf_token(html)}).status_code == 302
    listing = admin_client.get("/admin/pathways").get_data(as_text=True)
    assert "Pathway saved." in listing and "are being awarded" not in listing
    assert _backlog_jobs(services, world.pathway_id) == [job_id]
    with services.session() as s:
        assert s.get(Pathway, world.pathway_id).current_version == 2
        assert len(s.scalars(select(IssuedCredential).where(
            IssuedCredential.definition_id == world.target_definition_id)).all()) == 1


def test_new_rules_of_a_disabled_pathway_queue_nothing(admin_client, services):
    world = make_pathway_world(services, enabled=False)
    url = f"/admin/pathways/{world.pathway_public_id}/edit"
    html = admin_client.get(url).get_data(as_text=True)
    data = {"csrf_token": csrf_token(html), "name": "Certificate in Public Data", "issuer": str(world.issuer_id),
            "kind": "at_least", "at_least": "2", "parts": world.definition_public_ids, "min_ects": "10"}
    assert admin_client.post(url, data=data).status_code == 302
    assert _backlog_jobs(services, world.pathway_id) == []  # enabling it later queues the backlog
