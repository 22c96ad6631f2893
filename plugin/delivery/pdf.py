"""The printable PDF: a designed certificate page, then transcript pages with every element.

The certificate page shows the awarding body's logo, the badge picture (drawn in the
awarding body's design), the learner's name, the title, the date, the awarding body and
its region, its signatory (name, role, optional signature picture, set in the badge
designer) and a QR code to the public verification page. The transcript lists the Annex I
elements grouped as on the web pages (:mod:`plugin.delivery.readable`), then the course's
description rendered from its Markdown. Everything is in the learner's language (the
``gettext`` and the summary passed in), left-aligned; A4 or US Letter.

fpdf2 writes the PDF; segno draws the QR code. fpdf2's core fonts are Latin-1 only, so the
tool ships Liberation Sans (SIL OFL 1.1, ``plugin/data/fonts/LICENSE-OFL.txt``), embedded
as a subset: every EU language's letters, Greek and Cyrillic print.
Pure code: no Flask; labels come translated through the ``gettext`` passed in.
"""
from __future__ import annotations

import base64
import io
import re
from datetime import datetime, timezone
from typing import Callable

import segno
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from plugin.delivery.present import CredentialSummary
from plugin.delivery.readable import SHOWN_FIRST, Group, annex_groups, course_description, markdown_html
from plugin.paths import DATA_DIR

FONT_DIR = DATA_DIR / "fonts"
FONT = "LiberationSans"
PAPERS = {"a4": "A4", "letter": "Letter"}
INK = (27, 31, 36)
MUTED = (87, 96, 106)


def _identity(s: str) -> str:
    return s


def qr_png(url: str, scale: int = 6) -> bytes:
    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="png", scale=scale, border=2)
    return buf.getvalue()


def _data_uri_bytes(uri: str | None) -> bytes | None:
    m = re.match(r"^data:image/(png|jpeg);base64,(.+)$", (uri or "").strip(), re.S)
    if not m:
        return None
    try:
        return base64.b64decode(m.group(2))
    except ValueError:
        return None


def _hex(colour: str) -> tuple[int, int, int]:
    c = colour.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


class _Doc(FPDF):
    footer_text = ""

    def footer(self):
        self.set_y(-14)
        self.set_font(FONT, "", 8)
        self.set_text_color(*MUTED)
        self.cell(0, 5, self.footer_text, align="L")
        self.cell(0, 5, f"{self.page_no()}/{{nb}}", align="R")


def _image_box(pdf: FPDF, data: bytes, x: float, y: float, w: float, h: float, *, centre: bool = True) -> float:
    """Place a picture inside (w × h) keeping its proportions; returns the width used."""
    from PIL import Image
    with Image.open(io.BytesIO(data)) as im:
        iw, ih = im.size
    scale = min(w / iw, h / ih)
    dw, dh = iw * scale, ih * scale
    pdf.image(io.BytesIO(data), x=x + ((w - dw) / 2 if centre else 0), y=y + (h - dh) / 2, w=dw, h=dh)
    return dw


def certificate_pdf(summary: CredentialSummary, *, verify_url: str, status_note: str | None = None,
                    gettext: Callable[[str], str] = _identity, generated_at: datetime | None = None,
                    paper: str = "a4", badge_png: bytes | None = None, logo: str | None = None,
                    signatory_name: str = "", signatory_role: str = "", signature_png: bytes | None = None,
                    accent: str = "#003399", locale: str = "en") -> bytes:
    """A certificate page then transcript pages; returns the PDF bytes.

    ``status_note`` (e.g. "Revoked on ...") is printed in red on both, so a printed copy of
    a revoked credential says so.
    """
    _ = gettext
    colour = _hex(accent)
    pdf = _Doc(orientation="P", unit="mm", format=PAPERS.get(paper, "A4"))
    for style, name in (("", "Regular"), ("B", "Bold"), ("I", "Regular"), ("BI", "Bold")):
        pdf.add_font(FONT, style, str(FONT_DIR / f"LiberationSans-{name}.ttf"))
    pdf.set_title(summary.title or _("Micro-credential"))
    pdf.set_author(summary.issuer_name)
    pdf.set_subject(_("Micro-credential certificate and transcript"))
    pdf.set_creator("microcred")
    pdf.set_lang(locale)
    pdf.alias_nb_pages()
    pdf.set_auto_page_break(True, margin=20)
    pdf.set_margins(18, 18, 18)
    pdf.footer_text = _("Verify at %(url)s") % {"url": verify_url}
    width = pdf.w - pdf.l_margin - pdf.r_margin

    def line(text: str, size: float, style: str = "", h: float | None = None, rgb=INK, align: str = "C"):
        pdf.set_font(FONT, style, size)
        pdf.set_text_color(*rgb)
        pdf.multi_cell(width, h or size * 0.5, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    # ------------------------------------------------------------ certificate page
    pdf.add_page()
    pdf.set_auto_page_break(False)
    pdf.set_draw_color(*colour)
    pdf.set_line_width(1.4)
    pdf.rect(8, 8, pdf.w - 16, pdf.h - 16)
    pdf.set_line_width(0.3)
    pdf.rect(10.5, 10.5, pdf.w - 21, pdf.h - 21)
    logo_bytes = _data_uri_bytes(logo)

    def middle(top: float) -> None:
        """Logo, badge, the award in words: drawn from ``top``."""
        if logo_bytes:
            _image_box(pdf, logo_bytes, pdf.w / 2 - 30, top, 60, 18)
            top += 24
        if badge_png:
            size = 60 if pdf.h > 280 else 52
            pdf.image(io.BytesIO(badge_png), x=(pdf.w - size) / 2, y=top, w=size, h=size)
            top += size + 4
        pdf.set_y(top)
        pdf.set_char_spacing(1.5)
        line(_("Micro-credential").upper(), 11, "B", 6, colour)
        pdf.set_char_spacing(0)
        pdf.ln(4)
        line(_("This certifies that"), 12, "", 6, MUTED)
        pdf.ln(2)
        line(summary.learner or "-", 26 if len(summary.learner or "") < 40 else 18, "B", 12)
        pdf.ln(2)
        line(_("has been awarded the micro-credential"), 12, "", 6, MUTED)
        pdf.ln(2)
        line(summary.title or "-", 20 if len(summary.title or "") < 70 else 15, "B", 9.5, colour)
        pdf.ln(3)
        by = _("by %(issuer)s") % {"issuer": summary.issuer_name or summary.issuer_id}
        if summary.issuer_country:
            by += f" ({summary.issuer_country})"
        line(by, 12, "", 6)
        if summary.issued:
            when = summary.get("issued").text if summary.get("issued") else summary.issued.date().isoformat()
            line(_("on %(date)s") % {"date": when}, 12, "", 6)
        facts = [d.text for key in ("workload", "level") if (d := summary.get(key)) is not None and d.present]
        if facts:
            pdf.ln(3)
            line(" · ".join(facts), 10, "", 5, MUTED)
        if status_note:
            pdf.ln(4)
            line(status_note, 14, "B", 7, (170, 0, 0))

    # centre the middle block between the frame's top and the signature/QR band
    band = 48.0
    with pdf.offset_rendering() as dummy:
        middle(0)
        height = dummy.get_y()
    start = max(20.0, (pdf.h - band - height) / 2)
    middle(start)

    # bottom band: signatory on the left, QR code on the right
    qr_size = 30
    bottom = pdf.h - 22
    band_top = max(pdf.get_y() + 6, bottom - qr_size - 12)
    pdf.image(io.BytesIO(qr_png(verify_url)), x=pdf.w - pdf.r_margin - qr_size, y=band_top, w=qr_size, h=qr_size)
    pdf.set_xy(pdf.w - pdf.r_margin - 62, band_top + qr_size + 1)
    pdf.set_font(FONT, "", 8)
    pdf.set_text_color(*MUTED)
    pdf.multi_cell(62, 4, _("Scan to verify this credential online"), align="R")
    if signatory_name:
        sig_w, x0 = 70, pdf.l_margin
        y = band_top + 2
        if signature_png:
            _image_box(pdf, signature_png, x0, y, sig_w, 16, centre=False)
        y += 18
        pdf.set_draw_color(*MUTED)
        pdf.set_line_width(0.3)
        pdf.line(x0, y, x0 + sig_w, y)
        pdf.set_xy(x0, y + 1.5)
        pdf.set_font(FONT, "B", 10)
        pdf.set_text_color(*INK)
        pdf.multi_cell(sig_w, 5, signatory_name, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if signatory_role:
            pdf.set_x(x0)
            pdf.set_font(FONT, "", 9)
            pdf.set_text_color(*MUTED)
            pdf.multi_cell(sig_w, 4.5, signatory_role, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.set_x(x0)
            pdf.multi_cell(sig_w, 4.5, summary.issuer_name, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_auto_page_break(True, margin=20)

    # ------------------------------------------------------------ transcript
    pdf.add_page()
    line(_("Transcript"), 16, "B", 9, colour, align="L")
    line(summary.title, 11, "B", 6, align="L")
    line(_("Awarded to %(learner)s by %(issuer)s on %(date)s.") % {
        "learner": summary.learner or "-", "issuer": summary.issuer_name or summary.issuer_id,
        "date": summary.get("issued").text if summary.get("issued") else ""}, 10, "", 5, MUTED, align="L")
    if status_note:
        line(status_note, 11, "B", 6, (170, 0, 0), align="L")
    pdf.ln(3)
    identity = [d for key in SHOWN_FIRST if (d := summary.get(key)) is not None and d.present]
    groups = ([Group("identity", _("The award"), identity)] if identity else []) + annex_groups(summary, _)
    for group in groups:
        pdf.set_font(FONT, "B", 11)
        if pdf.get_y() > pdf.h - 45:
            pdf.add_page()
        line(group.title, 11.5, "B", 6.5, colour, align="L")
        pdf.set_font(FONT, "", 9.5)
        pdf.set_text_color(*INK)
        with pdf.table(col_widths=(34, 66), text_align=("LEFT", "LEFT"), line_height=5, first_row_as_headings=False,
                       borders_layout="HORIZONTAL_LINES", padding=1.2) as table:
            for d in group.items:
                row = table.row()
                row.cell(d.label)
                bullets = len(d.values) > 1 and d.key in ("learning_outcomes", "skills")
                row.cell("\n".join(("• " + v) if bullets else v for v in d.values))
        pdf.ln(3)
    pdf.set_font(FONT, "", 8)
    pdf.set_text_color(*MUTED)
    pdf.multi_cell(width, 4.2, _("Every element the EU Council Recommendation on micro-credentials (2022, Annex I) "
                                 "asks for is listed above when the credential states it."),
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if summary.issuer_identifiers:
        pdf.ln(2)
        line(_("Legal identity of the awarding body"), 10, "B", 5, align="L")
        for kind, value in summary.issuer_identifiers:
            line(f"{kind} {value}", 9.5, "", 5, align="L")
    about = course_description(summary.description)
    if about:
        pdf.ln(3)
        line(_("About this micro-credential"), 11.5, "B", 6.5, colour, align="L")
        pdf.set_font(FONT, "", 9.5)
        pdf.set_text_color(*INK)
        html = re.sub(r"</?code>", "", markdown_html(about))  # fpdf2 sets code in a Latin-1 core font
        pdf.write_html(html, font_family=FONT, tag_styles=None)
        pdf.ln(2)
    pdf.ln(3)
    pdf.set_font(FONT, "", 8)
    pdf.set_text_color(*MUTED)
    when = (generated_at or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M UTC")
    pdf.multi_cell(width, 4.2, _("Printed on %(when)s. The signed credential, not this printout, is the "
                                 "authoritative record: verify it at the address below.") % {"when": when},
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())
