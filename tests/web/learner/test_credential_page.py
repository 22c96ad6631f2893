"""The learner's credential page and the public verification page as people read them:
the verdict, the badge in link previews, sharing, the learner's choice to hide their name,
verifying by link or id, and uploads that are empty, unreadable or tampered."""
from __future__ import annotations

import html as htmllib
import io
import json
import re

from sqlalchemy import select

from plugin.delivery.access import make_access_token
from plugin.issuance import service as issuance
from plugin.storage.models import IssuedCredential, Learner

from tests.engine_helpers import make_world
from tests.web.learner_support import csrf_token


def _issued(services, display_name="Ada King"):
    world = make_world(services)
    with services.session() as s:
        row, _ = issuance.award(s, services, definition_id=world.definition_id, learner_id=world.learner_id,
                                evidence_id=world.evidence_id, display_name=display_name, actor="test")
        learner = s.get(Learner, world.learner_id)
        return row.public_id, row.document, learner.public_id


def _text(page: str) -> str:
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", htmllib.unescape(page))).strip()


def test_public_page_says_who_issued_it_to_whom_and_when_and_previews_with_the_badge(client, services):
    public_id, document, _ = _issued(services)
    page = client.get(f"/verify/{public_id}").text
    text = _text(page)
    assert "Verified: valid and authentic" in text
    assert re.search(r"Issued by Université Démo de Lille to Ada King on \w+ \d+, \d{4}\.", text)
    image = f"http://tool.test/credentials/{public_id}/image.png"
    assert f'<meta property="og:image" content="{image}">' in page
    assert f'<meta name="twitter:image" content="{image}">' in page and 'name="twitter:card"' in page
    assert f'<img class="cred-badge" src="/credentials/{public_id}/image.png"' in page
    # the earner and the title come before the verdict and anything technical
    assert page.index('id="earner"') < page.index('id="cred-title"') < page.index('id="verdict"') \
        < page.index('id="technical"')
    # jargon stays in the technical details
    main, technical = page.split('id="technical"', 1)
    assert "did:web" not in main and "Data Integrity" not in main and "ext:SIREN" not in page
    assert "did:web" in technical and 'data-check="proof"' in technical
    assert "SIREN" in main and "not stated" not in page


def test_french_public_page_reads_in_french_with_french_vocabulary_and_dates(client, services):
    public_id, _, _ = _issued(services)
    text = _text(client.get(f"/verify/{public_id}?lang=fr").text)
    assert "Vérifiée\u00a0: valide et authentique" in text
    assert re.search(r"Délivrée par Université Démo de Lille à Ada King le \d+ \w+ \d{4}\.", text)
    for french in ("Niveau 6 du CEC", "En ligne", "Premier cycle (licence)", "Surveillé en ligne",
                   "Ce que l’apprenant sait faire", "Détails techniques", "Seuil de réussite"):
        assert french in text, french
    for english in ("EQF level 6", "Online", "First cycle (Bachelor)", "Pass mark", "Technical details"):
        assert english not in text, english



def test_french_page_shows_the_vocabulary_labels_of_the_data_files_and_the_demo_uses_only_labelled_values(
        client, services):
    from plugin.domain import vocab
    from plugin.domain.vocab_labels import concept_of, labels_of
    public_id, document, _ = _issued(services)
    text = _text(client.get(f"/verify/{public_id}?lang=fr").text)
    eqf, field, french = vocab.eqf_uri(6), vocab.isced_f_uri("0542"), vocab.language_uri("fr")
    online = vocab.PARTICIPATION["online"][0]
    for uri in (eqf, field, french, vocab.language_uri("en"), online):
        assert labels_of(uri)["fr"] in text, uri
    assert "Statistiques" in text and "Statistics" not in text and "Anglais" in text
    # every concept the demo credential names has an English and a French label in the data
    found = set(re.findall(r'"((?:http://data\.europa\.eu/snb/|http://publications\.europa\.eu/resource/authority/'
                           r'|https://w3id\.org/microcred/vocab#)[^"]+)"', json.dumps(document)))
    concepts = {u for u in found if "/25831c2" not in u and concept_of(u)}
    assert {eqf, field, french, online} <= concepts
    unlabelled = sorted(u for u in found - concepts if "/25831c2" not in u and "/model/" not in u)
    assert not unlabelled, unlabelled
    for uri in concepts:
        assert {"en", "fr"} <= set(labels_of(uri)), uri

def test_learner_page_shares_by_linkedin_email_link_qr_and_embed(client, services, app):
    public_id, _, learner_public_id = _issued(services)
    token = make_access_token(app.config["SECRET_KEY"], learner_public_id)
    page = client.get(f"/learner/credentials/{public_id}?access={token}").text
    verify_url = f"http://tool.test/verify/{public_id}"
    post = htmllib.unescape(re.search(r'id="linkedin-post" href="([^"]+)"', page).group(1))
    assert post == "https://www.linkedin.com/sharing/share-offsite/?url=" + verify_url.replace(":", "%3A").replace("/", "%2F")
    mail = htmllib.unescape(re.search(r'id="share-email" href="([^"]+)"', page).group(1))
    assert mail.startswith("mailto:?subject=") and "Data%20Analysis%20for%20Public%20Policy" in mail
    assert verify_url.replace(":", "%3A").replace("/", "%2F") in mail
    embed = htmllib.unescape(re.search(r'<textarea id="embed-code" readonly rows="4">(.*?)</textarea>', page, re.S).group(1))
    assert embed.startswith(f'<a href="{verify_url}"') and f'src="http://tool.test/credentials/{public_id}/image.png"' in embed
    assert 'alt="Badge: Data Analysis for Public Policy, awarded by Université Démo de Lille"' in embed
    assert 'id="public-link"' in page and 'class="qr"' in page
    # seven buttons no longer fill the first screen: two actions, the rest are links
    share = page.split('id="share"', 1)[1].split("</section>", 1)[0]
    assert share.count('class="button') == 2
    # the slot another branch fills with "Add to an EU wallet"
    assert 'id="downloads"' in page


def test_hiding_the_name_hides_it_from_the_public_page_and_its_json(client, services, app):
    public_id, document, learner_public_id = _issued(services)
    token = make_access_token(app.config["SECRET_KEY"], learner_public_id)
    page = client.get(f"/learner/credentials/{public_id}?access={token}")
    resp = client.post(f"/learner/credentials/{public_id}/visibility?access={token}",
                       data={"csrf_token": csrf_token(page.text), "access": token, "public_name": "hide"})
    assert resp.status_code == 303 and "#share" in resp.headers["Location"]
    public = client.get(f"/verify/{public_id}").text
    assert "Ada King" not in public and "Name not shown by the holder" in public
    assert "a learner who chose not to show their name here" in _text(public)
    body = client.get(f"/verify/{public_id}?format=json").get_json()
    assert "Ada King" not in json.dumps(body) and body["authentic"] is True and body["name_hidden"] is True
    assert client.get(f"/credentials/{public_id}").status_code == 404
    # the learner still sees their name, and the signed credential is unchanged
    assert "Ada King" in client.get(f"/learner/credentials/{public_id}?access={token}").text
    with services.session() as s:
        row = s.scalars(select(IssuedCredential)).one()
        assert row.document == document and row.public_name is False
    # a re-issue keeps the choice
    page = client.get(f"/learner/credentials/{public_id}/reissue?access={token}")
    client.post(f"/learner/credentials/{public_id}/reissue?access={token}",
                data={"csrf_token": csrf_token(page.text), "access": token, "identify": "name",
                      "display_name": "Ada Byron"})
    with services.session() as s:
        new = s.scalars(select(IssuedCredential).where(IssuedCredential.status == "active")).one()
        assert new.public_name is False
    page = client.get(f"/learner/credentials/{new.public_id}?access={token}")
    client.post(f"/learner/credentials/{new.public_id}/visibility?access={token}",
                data={"csrf_token": csrf_token(page.text), "access": token, "public_name": "show"})
    assert "Ada Byron" in client.get(f"/verify/{new.public_id}").text
    bad = client.post(f"/learner/credentials/{new.public_id}/visibility?access={token}",
                      data={"csrf_token": csrf_token(page.text), "access": token, "public_name": "maybe"})
    assert bad.status_code == 400


def test_nobody_else_can_change_the_choice(client, services):
    public_id, _, _ = _issued(services)
    page = client.get("/verify")
    resp = client.post(f"/learner/credentials/{public_id}/visibility",
                       data={"csrf_token": csrf_token(page.text), "public_name": "hide"})
    assert resp.status_code == 401


def test_verify_by_link_or_id(client, services):
    public_id, _, _ = _issued(services)
    for ref in (f"http://tool.test/verify/{public_id}", f"http://tool.test/credentials/{public_id}",
                public_id, public_id.upper(), f"urn:uuid:{public_id}", f"  http://tool.test/verify/{public_id}?x=1 "):
        resp = client.get("/verify", query_string={"ref": ref})
        assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/verify/{public_id}"), ref
    cases = {
        "": "Give the verification link",
        "https://elsewhere.example/verify/" + public_id: "not a verification page of this service (tool.test)",
        "http://tool.test/issuers/acme": "does not point to a credential",
        "00000000-0000-4000-8000-000000000000": "No credential of this service has the identifier",
        "hello": "neither a verification link nor a credential identifier",
    }
    for ref, message in cases.items():
        resp = client.get("/verify", query_string={"ref": ref})
        assert resp.status_code == 400 and message in htmllib.unescape(resp.text), ref
        assert 'id="error-summary"' in resp.text and 'aria-invalid="true"' in resp.text


def test_upload_says_what_is_wrong_with_nothing_an_empty_file_or_an_unreadable_one(client):
    token = csrf_token(client.get("/verify").text)
    nothing = client.post("/verify", data={"csrf_token": token})
    assert nothing.status_code == 400
    assert "Choose a credential file, paste its content, or give its verification link." in nothing.text
    assert "The file is empty" not in nothing.text
    empty = client.post("/verify", data={"csrf_token": token, "file": (io.BytesIO(b""), "badge.png")},
                        content_type="multipart/form-data")
    assert empty.status_code == 400 and "The file “badge.png” is empty." in htmllib.unescape(empty.text)
    junk = client.post("/verify", data={"csrf_token": token, "file": (io.BytesIO(b"\x00\x01garbage"), "cv.pdf")},
                       content_type="multipart/form-data")
    assert junk.status_code == 400 and "“cv.pdf”: No credential could be read from this file" in htmllib.unescape(junk.text)
    french = client.post("/verify?lang=fr", data={"csrf_token": token})
    assert "Choisissez un fichier de certification" in french.text and "Il y a un problème" in french.text


def test_a_tampered_file_never_shows_its_claimed_title_as_the_heading(client, services):
    public_id, document, _ = _issued(services)
    forged = json.loads(json.dumps(document))
    forged["credentialSubject"]["achievement"]["name"] = "Doctor of Medicine"
    token = csrf_token(client.get("/verify").text)
    resp = client.post("/verify", data={"csrf_token": token, "text": json.dumps(forged)})
    page = resp.text
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S).group(1)
    assert "Doctor of Medicine" not in heading and "Not authentic" in heading
    assert 'data-authentic="false"' in page
    assert "Doctor of Medicine" in page.split('id="claims-h"', 1)[1]  # only as a claim, labelled unverified
    assert 'property="og:' not in page and "cred-badge" not in page
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    assert "Doctor of Medicine" not in title


def test_a_revoked_credential_says_so_plainly_with_the_reason_on_the_learner_page(client, services, app):
    public_id, _, learner_public_id = _issued(services)
    with services.session() as s:
        issuance.revoke(s, s.scalars(select(IssuedCredential)).one(), "academic misconduct", actor="test")
    text = _text(client.get(f"/verify/{public_id}").text)
    assert "Revoked: no longer valid" in text and "The awarding body has revoked this credential." in text
    token = make_access_token(app.config["SECRET_KEY"], learner_public_id)
    mine = _text(client.get(f"/learner/credentials/{public_id}?access={token}").text)
    assert "Revoked: no longer valid" in mine and "Reason: academic misconduct" in mine


def test_pdf_in_letter_and_a4_with_the_signatory(client, services, app):
    from pypdf import PdfReader

    from plugin.domain.branding import Branding
    from plugin.storage.branding import save_branding
    public_id, _, learner_public_id = _issued(services)
    with services.session() as s:
        row = s.scalars(select(IssuedCredential)).one()
        save_branding(s, row.issuer_id, Branding(signatory_name="Dr Marie Curie", signatory_role="Rectrice"),
                      actor="test")
    token = make_access_token(app.config["SECRET_KEY"], learner_public_id)
    sizes = {}
    for paper in ("a4", "letter"):
        resp = client.get(f"/learner/credentials/{public_id}/download/pdf?access={token}&paper={paper}")
        reader = PdfReader(io.BytesIO(resp.data))
        box = reader.pages[0].mediabox
        sizes[paper] = (round(float(box.width)), round(float(box.height)))
        text = " ".join(reader.pages[0].extract_text().split())
        assert "Dr Marie Curie" in text and "Rectrice" in text
    assert sizes == {"a4": (595, 842), "letter": (612, 792)}
    us = client.get(f"/learner/credentials/{public_id}/download/pdf?access={token}",
                    headers={"Accept-Language": "en-US"})
    assert round(float(PdfReader(io.BytesIO(us.data)).pages[0].mediabox.height)) == 792
