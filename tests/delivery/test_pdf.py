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
