import io

from pypdf import PdfReader

from plugin.delivery.pdf import certificate_pdf
from plugin.delivery.present import summarize

from tests.delivery.sample import sample


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(p.extract_text() for p in reader.pages)


def test_pdf_shows_every_annex_i_element_with_accents_and_the_verification_url():
    s = summarize(sample(), locale="fr")
    pdf = certificate_pdf(s, verify_url="https://tool.test/verify/abc")
    text = " ".join(_text(pdf).split())
    assert pdf.startswith(b"%PDF")
    for d in s.annex:
        assert d.label in text, d.key
        for v in d.values:
            assert " ".join(v.split()) in text, (d.key, v)
    assert "Éloïse Lefèvre-Œuvray" in text
    assert "https://tool.test/verify/abc" in text


def test_pdf_embeds_a_qr_image_and_a_unicode_font():
    pdf = certificate_pdf(summarize(sample()), verify_url="https://tool.test/verify/abc")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 2
    assert len(reader.pages[0].images) == 1
    fonts = {f["/BaseFont"] for p in reader.pages for f in p["/Resources"]["/Font"].values()}
    assert any("LiberationSans" in str(f) for f in fonts)


def test_a_revoked_credential_says_so_on_paper():
    pdf = certificate_pdf(summarize(sample()), verify_url="https://tool.test/verify/abc",
                          status_note="REVOKED on 2026-04-01")
    assert _text(pdf).count("REVOKED on 2026-04-01") == 2


def test_long_unbroken_text_wraps_inside_the_page():
    """A 2,000-character word (a pasted URL, a missing space) is broken across lines, not drawn off the page."""
    import copy
    doc = sample()
    word = "Statistique" * 180
    achievement = copy.deepcopy(doc["credentialSubject"]["achievement"])
    achievement.update(name=word[:250], description=word, assessmentType=word[:900])
    doc = sample(name=word[:250], credentialSubject={**doc["credentialSubject"], "achievement": achievement})
    pdf = certificate_pdf(summarize(doc, locale="fr"), verify_url="https://tool.test/verify/abc")
    reader = PdfReader(io.BytesIO(pdf))
    runs = []
    for page in reader.pages:
        page.extract_text(visitor_text=lambda text, cm, tm, font, size: runs.append(text))
    assert "".join(runs).count("Statistique") >= 180 + 22  # all of it is printed
    pieces = [r.strip() for r in runs if "Statistique" in r]
    widest = max(len(p) for p in pieces)
    # broken into lines a page wide (at 8 pt an A4 line holds ~130 characters), not one 2,000-character run
    assert len(pieces) > 30 and widest < 140, (len(pieces), widest)
