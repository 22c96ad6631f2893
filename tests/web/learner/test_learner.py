import io
import json
import re

from pypdf import PdfReader
from sqlalchemy import select

from plugin.delivery.access import make_access_token
from plugin.issuance import service as issuance
from plugin.storage.models import IssuedCredential
from plugin.verification.verify import verify

from tests.web.learner_support import csrf_token, story


def _claim(client, st, *, identify="name", name="Ada King", consent="y"):
    page = client.get(f"/learner/?launch={st.launch}")
    assert page.status_code == 200
    data = {"csrf_token": csrf_token(page.text), "launch": st.launch, "definition": st.definition_public_id,
            "identify": identify, "display_name": name}
    if consent:
        data["consent"] = consent
    return client.post("/learner/claim", data=data)


def test_status_page_offers_the_claim_and_the_claim_issues_at_once(client, services):
    st = story(services)
    page = client.get(f"/learner/?launch={st.launch}")
    assert 'data-state="ready"' in page.text and 'name="launch"' in page.text
    resp = _claim(client, st)
    assert resp.status_code == 303
    with services.session() as s:
        row = s.scalars(select(IssuedCredential)).one()
        assert row.claimed_at and row.consent_at and row.display_name == "Ada King"
        assert row.document["credentialSubject"]["name"] == "Ada King"
        public_id = row.public_id
    assert f"/learner/credentials/{public_id}" in resp.headers["Location"]
    again = client.get(f"/learner/?launch={st.launch}")
    assert 'data-state="claimed"' in again.text


def test_claim_without_consent_or_csrf_is_refused(client, services):
    st = story(services)
    resp = _claim(client, st, consent=None)
    assert resp.status_code == 303
    with services.session() as s:
        assert s.scalars(select(IssuedCredential)).first() is None
    no_csrf = client.post("/learner/claim", data={"launch": st.launch, "definition": st.definition_public_id,
                                                  "identify": "name", "display_name": "X", "consent": "y"})
    assert no_csrf.status_code == 400


def test_hashed_only_claim_keeps_the_name_out_of_the_credential(client, services):
    st = story(services)
    _claim(client, st, identify="hashed", name="Ada King")
    with services.session() as s:
        doc = s.scalars(select(IssuedCredential)).one().document
    assert "Ada King" not in json.dumps(doc) and "Ada Lovelace" not in json.dumps(doc)
    assert any(i.get("hashed") and i["identityType"] == "emailAddress"
               for i in doc["credentialSubject"]["identifier"])


def test_the_status_page_needs_a_learner_launch(client, services):
    st = story(services)
    assert client.get("/learner/").status_code == 401
    assert client.get("/learner/?launch=forged").status_code == 401


def _claimed(client, services):
    st = story(services)
    _claim(client, st)
    with services.session() as s:
        row = s.scalars(select(IssuedCredential)).one()
        return st, row.public_id


def test_credential_page_by_access_link_shows_every_annex_i_element_and_the_share_links(client, services, app):
    st, public_id = _claimed(client, services)
    token = make_access_token(app.config["SECRET_KEY"], st.learner_public_id)
    page = client.get(f"/learner/credentials/{public_id}?access={token}")
    assert page.status_code == 200
    for key in ("learner", "title", "country", "awarding_body", "issued", "learning_outcomes", "workload",
                "level", "assessment", "participation", "quality_assurance"):
        assert f'data-key="{key}"' in page.text, key
    assert "not stated" not in page.text
    assert "https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME" in page.text
    assert f"certUrl=http%3A%2F%2Ftool.test%2Fverify%2F{public_id}" in page.text
    assert f"/verify/{public_id}" in page.text


def test_someone_elses_or_a_forged_link_opens_nothing(client, services, app):
    st, public_id = _claimed(client, services)
    other = make_access_token(app.config["SECRET_KEY"], "someone-else")
    assert client.get(f"/learner/credentials/{public_id}?access={other}").status_code == 401
    assert client.get(f"/learner/credentials/{public_id}?access=forged").status_code == 403
    assert client.get(f"/learner/credentials/{public_id}").status_code == 401


def test_every_download_verifies_with_the_engine(client, services, app):
    st, public_id = _claimed(client, services)
    for kind, mime in (("json", "application/ld+json"), ("jwt", "application/jwt"), ("png", "image/png"),
                       ("svg", "image/svg+xml")):
        resp = client.get(f"/learner/credentials/{public_id}/download/{kind}?launch={st.launch}")
        assert resp.status_code == 200 and resp.mimetype == mime, kind
        assert "attachment" in resp.headers["Content-Disposition"]
        with app.app_context():
            from plugin.web.verify.routes import _resolver
            report = verify(resp.data, _resolver())
        assert report.ok and report.status == "valid", (kind, report.summary())
    pdf = client.get(f"/learner/credentials/{public_id}/download/pdf?launch={st.launch}")
    assert pdf.mimetype == "application/pdf"
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages).split())
    assert "Ada King" in text and f"/verify/{public_id}" in text


def test_list_shows_all_credentials_and_a_revoked_one_says_so(client, services, app):
    st, public_id = _claimed(client, services)
    with services.session() as s:
        row = s.scalars(select(IssuedCredential)).one()
        issuance.revoke(s, row, "academic misconduct", actor="test")
    token = make_access_token(app.config["SECRET_KEY"], st.learner_public_id)
    listing = client.get(f"/learner/credentials?access={token}")
    assert "REVOKED on" in listing.text and 'data-status="revoked"' in listing.text
    page = client.get(f"/learner/credentials/{public_id}?access={token}")
    assert "Revoked: no longer valid" in page.text and "academic misconduct" in page.text
    assert 'id="dl-pdf"' not in page.text  # no sharing of a revoked credential
    status = client.get(f"/learner/?launch={st.launch}")
    assert "revoked" in status.text.lower()


def test_name_change_reissues_and_supersedes(client, services, app):
    st, public_id = _claimed(client, services)
    token = make_access_token(app.config["SECRET_KEY"], st.learner_public_id)
    form = client.get(f"/learner/credentials/{public_id}/reissue?access={token}")
    resp = client.post(f"/learner/credentials/{public_id}/reissue?access={token}",
                       data={"csrf_token": csrf_token(form.text), "access": token, "identify": "name",
                             "display_name": "Ada Byron"})
    assert resp.status_code == 303
    with services.session() as s:
        rows = {r.public_id: r for r in s.scalars(select(IssuedCredential))}
        assert rows[public_id].status == "superseded"
        new = next(r for r in rows.values() if r.public_id != public_id)
        assert new.status == "active" and new.document["credentialSubject"]["name"] == "Ada Byron"
    old_page = client.get(f"/learner/credentials/{public_id}?access={token}")
    assert "Replaced by a newer version" in old_page.text and new.public_id in old_page.text
    assert re.search(rf'<a id="open-replacement" href="[^"]*{new.public_id}', old_page.text)


def test_french_status_page(client, services):
    st = story(services, locale="fr")
    page = client.get(f"/learner/?launch={st.launch}")
    assert '<html lang="fr">' in page.text


def test_not_yet_passed_says_why(client, services):
    from plugin.storage.models import PassEvidence
    st = story(services)
    with services.session() as s:
        s.get(PassEvidence, st.world.evidence_id).score = 41.0
    page = client.get(f"/learner/?launch={st.launch}")
    assert 'data-state="not_passed"' in page.text and "claim-form" not in page.text
    assert "41" in page.text and "50" in page.text
    assert client.post("/learner/claim", data={"launch": st.launch}).status_code in (303, 400)


def test_not_yet_passed_says_why_in_french(client, services):
    from plugin.storage.models import PassEvidence
    st = story(services, locale="fr")
    with services.session() as s:
        s.get(PassEvidence, st.world.evidence_id).score = 41.0
    page = client.get(f"/learner/?launch={st.launch}")
    assert 'data-state="not_passed"' in page.text
    assert re.search(r"Votre note de cours est de 41 %( ; la note de passage est de 50 %)?", page.text), page.text
    assert "Your course grade" not in page.text


def _linkedin_query(html):
    import html as htmllib
    from urllib.parse import parse_qs, urlsplit
    href = htmllib.unescape(re.search(r'id="linkedin" href="([^"]+)"', html).group(1))
    return {k: v[0] for k, v in parse_qs(urlsplit(href).query).items()}


def test_add_to_linkedin_names_the_issuers_linkedin_page_once_the_admin_set_its_id(client, services, app):
    from plugin.domain.issuer import IssuerProfile
    from plugin.storage.models import Issuer
    st, public_id = _claimed(client, services)
    token = make_access_token(app.config["SECRET_KEY"], st.learner_public_id)
    before = _linkedin_query(client.get(f"/learner/credentials/{public_id}?access={token}").text)
    assert before["organizationName"] and "organizationId" not in before
    with services.session() as s:
        issuer = s.scalars(select(Issuer)).one()
        profile = IssuerProfile.from_json(issuer.profile).model_copy(update={"linkedin_organization_id": "12345678"})
        issuance.update_issuer_profile(s, issuer, profile, actor="test")
    after = _linkedin_query(client.get(f"/learner/credentials/{public_id}?access={token}").text)
    assert after["organizationId"] == "12345678" and "organizationName" not in after
    assert after["certId"] == public_id and after["startTask"] == "CERTIFICATION_NAME"


def _issued_on_the_pass(services, st):
    """The credential a bridge issues when the learner passes (before any claim)."""
    from plugin.issuance.pending import award_or_defer
    with services.session() as s:
        attempt = award_or_defer(s, services, definition_id=st.world.definition_id, learner_id=st.world.learner_id,
                                 evidence_id=st.world.evidence_id, origin="test")
        assert attempt.result == "issued"
        return attempt.credential.public_id


def test_claiming_under_the_platforms_name_delivers_the_credential_issued_on_the_pass(client, services):
    st = story(services)
    issued_on_pass = _issued_on_the_pass(services, st)
    page = client.get(f"/learner/?launch={st.launch}")
    assert 'value="Ada Lovelace"' in page.text  # the form proposes the name already in the credential
    resp = _claim(client, st, name="Ada Lovelace")
    assert resp.status_code == 303 and issued_on_pass in resp.headers["Location"]
    with services.session() as s:
        [row] = s.scalars(select(IssuedCredential)).all()  # no re-issue: the same credential, claimed
        assert row.public_id == issued_on_pass and row.status == "active" and row.claimed_at and row.consent_at


def test_correcting_the_name_on_claim_issues_a_new_credential_and_supersedes_the_first(client, services):
    st = story(services)
    issued_on_pass = _issued_on_the_pass(services, st)
    _claim(client, st, name="Ada King")
    with services.session() as s:
        rows = {r.public_id: r for r in s.scalars(select(IssuedCredential))}
    assert rows[issued_on_pass].status == "superseded" and len(rows) == 2
    new = next(r for r in rows.values() if r.public_id != issued_on_pass)
    assert new.status == "active" and new.document["credentialSubject"]["name"] == "Ada King"
