"""The printable PDF: a certificate page and a transcript with every Annex I element.

fpdf2 writes the PDF; segno draws the QR code to the public verification page.
fpdf2 bundles no Unicode font (its core fonts are Latin-1 only, so "œ", "Ł" or "Ω" in a
learner's name would fail), so the tool ships Liberation Sans (SIL OFL 1.1,
``plugin/data/fonts/LICENSE-OFL.txt``), which fpdf2 embeds as a subset.
Pure code: no Flask; labels come translated through the ``gettext`` passed in.
"""
from __future__ import annotations

import io
from datetime import datetime, timezone
from typing import Callable

import segno
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from plugin.delivery.present import CredentialSummary
from plugin.paths import DATA_DIR

FONT_DIR = DATA_DIR / "fonts"
FONT = "LiberationSans"


def _identity(s: str) -> str:
    return s


def qr_png(url: str, scale: int = 6) -> bytes:
    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="png", scale=scale, border=2)
    return buf.getvalue()


class _Doc(FPDF):
    footer_text = ""

    def footer(self):
        self.set_y(-14)
        self.set_font(FONT, "", 8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, self.footer_text, align="L")
        self.cell(0, 5, f"{self.page_no()}/{{nb}}", align="R")


def certificate_pdf(summary: CredentialSummary, *, verify_url: str, status_note: str | None = None,
                    gettext: Callable[[str], str] = _identity, generated_at: datetime | None = None) -> bytes:
    """A certificate page then a transcript of every descriptor; returns the PDF bytes.

    ``status_note`` (e.g. "Revoked on ...") is printed in red on both pages so a printed
    copy of a revoked credential says so.
    """
    _ = gettext
    pdf = _Doc(orientation="P", unit="mm", format="A4")
    pdf.add_font(FONT, "", str(FONT_DIR / "LiberationSans-Regular.ttf"))
    pdf.add_font(FONT, "B", str(FONT_DIR / "LiberationSans-Bold.ttf"))
    pdf.set_title(summary.title or _("Micro-credential"))
    pdf.set_author(summary.issuer_name)
    pdf.set_subject(_("Micro-credential certificate and transcript"))
    pdf.set_creator("microcred")
    pdf.set_lang("fr" if _("Date of issuing") != "Date of issuing" else "en")
    pdf.alias_nb_pages()
    pdf.set_auto_page_break(True, margin=20)
    pdf.footer_text = _("Verify at %(url)s") % {"url": verify_url}
    width = pdf.w - pdf.l_margin - pdf.r_margin

    # ------------------------------------------------------------ certificate page
    pdf.add_page()
    pdf.set_draw_color(30, 60, 110)
    pdf.set_line_width(1.2)
    pdf.rect(8, 8, pdf.w - 16, pdf.h - 16)
    pdf.set_y(28)
    pdf.set_font(FONT, "B", 12)
    pdf.set_text_color(30, 60, 110)
    pdf.multi_cell(width, 7, _("Micro-credential").upper(), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(FONT, "", 12)
    pdf.multi_cell(width, 7, _("This certifies that"), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.set_font(FONT, "B", 22)
    pdf.multi_cell(width, 11, summary.learner or "-", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.set_font(FONT, "", 12)
    pdf.multi_cell(width, 7, _("has been awarded the micro-credential"), align="C",
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.set_font(FONT, "B", 18)
    pdf.multi_cell(width, 9, summary.title or "-", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    pdf.set_font(FONT, "", 12)
    by = _("by %(issuer)s") % {"issuer": summary.issuer_name or summary.issuer_id}
    if summary.issuer_country:
        by += f" ({summary.issuer_country})"
    pdf.multi_cell(width, 7, by, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if summary.issued:
        pdf.multi_cell(width, 7, _("on %(date)s") % {"date": summary.issued.date().isoformat()}, align="C",
                       new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    key_rows = [d for d in summary.descriptors if d.key in ("workload", "level", "assessment", "participation")
                and d.present]
    pdf.set_font(FONT, "", 10)
    for d in key_rows:
        pdf.multi_cell(width, 6, f"{d.label}: {d.text}", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if status_note:
        pdf.ln(4)
        pdf.set_font(FONT, "B", 14)
        pdf.set_text_color(170, 0, 0)
        pdf.multi_cell(width, 8, status_note, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)
    qr_size = 38
    y = max(pdf.get_y() + 6, pdf.h - 30 - qr_size - 10)
    pdf.image(io.BytesIO(qr_png(verify_url)), x=(pdf.w - qr_size) / 2, y=y, w=qr_size, h=qr_size)
    pdf.set_y(y + qr_size + 1)
    pdf.set_font(FONT, "", 9)
    pdf.multi_cell(width, 5, _("Scan to verify this credential online:"), align="C",
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.multi_cell(width, 5, verify_url, align="C", link=verify_url, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    # ------------------------------------------------------------ transcript
    pdf.add_page()
    pdf.set_font(FONT, "B", 16)
    pdf.set_text_color(30, 60, 110)
    pdf.multi_cell(width, 9, _("Transcript"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(FONT, "", 10)
    pdf.multi_cell(width, 6, summary.title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if status_note:
        pdf.set_font(FONT, "B", 11)
        pdf.set_text_color(170, 0, 0)
        pdf.multi_cell(width, 6, status_note, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)
    pdf.ln(3)
    pdf.set_font(FONT, "", 9.5)
    with pdf.table(col_widths=(32, 68), text_align=("LEFT", "LEFT"), line_height=5.2,
                   first_row_as_headings=True, borders_layout="HORIZONTAL_LINES") as table:
        head = table.row()
        head.cell(_("Element"))
        head.cell(_("Value"))
        for d in summary.descriptors:
            row = table.row()
            row.cell(d.label + (" *" if d.mandatory else ""))
            row.cell(d.text if d.present else _("not stated"))
    pdf.ln(3)
    pdf.set_font(FONT, "", 8)
    pdf.multi_cell(width, 4.5, _("* Mandatory element of the EU Council Recommendation on micro-credentials "
                                 "(2022), Annex I."), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if summary.issuer_identifiers:
        pdf.ln(2)
        pdf.set_font(FONT, "B", 9)
        pdf.multi_cell(width, 5, _("Legal identity of the awarding body"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(FONT, "", 9)
        for kind, value in summary.issuer_identifiers:
            pdf.multi_cell(width, 5, f"{kind}: {value}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if summary.description:
        pdf.ln(2)
        pdf.set_font(FONT, "B", 9)
        pdf.multi_cell(width, 5, _("Description"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(FONT, "", 9)
        pdf.multi_cell(width, 4.5, summary.description.replace("**", ""), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.set_font(FONT, "", 8)
    when = (generated_at or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M UTC")
    pdf.multi_cell(width, 4.5, _("Printed on %(when)s. The signed credential, not this printout, is the "
                                 "authoritative record: verify it at the address below.") % {"when": when},
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())
