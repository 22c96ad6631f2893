"""The badge picture: a round seal showing the title, the issuer and the EQF level.

Two renderings of the same layout: SVG text (for ``<id>.svg``) and a PNG drawn with
Pillow (for ``<id>.png``). Pillow >= 10.1 ships a scalable default font
(``ImageFont.load_default(size=...)``), so no font file is bundled.
"""
from __future__ import annotations

import io
import textwrap
from xml.sax.saxutils import escape

SIZE = 512
NAVY = (0, 51, 153)      # EU blue
GOLD = (255, 204, 0)     # EU yellow
WHITE = (255, 255, 255)


def _lines(title: str, width: int = 22, max_lines: int = 3) -> list[str]:
    lines = textwrap.wrap(" ".join((title or "").split()), width=width) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: width - 1].rstrip() + "…"
    return lines


def _short(text: str, limit: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _eqf_label(eqf_level: int | None) -> str:
    return f"EQF {eqf_level}" if eqf_level else "MICRO-CREDENTIAL"


def render_svg(title: str, issuer: str, eqf_level: int | None = None) -> str:
    lines = _lines(title)
    top = 230 - (len(lines) - 1) * 20
    title_tspans = "".join(
        f'<tspan x="256" y="{top + i * 40}">{escape(line)}</tspan>' for i, line in enumerate(lines))
    hex_navy = "#%02x%02x%02x" % NAVY
    hex_gold = "#%02x%02x%02x" % GOLD
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}" viewBox="0 0 {SIZE} {SIZE}" '
        f'role="img" aria-label="{escape(_short(title, 120), {chr(34): "&quot;"})}">'
        f'<title>{escape(title or "")}</title>'
        f'<circle cx="256" cy="256" r="248" fill="{hex_navy}"/>'
        f'<circle cx="256" cy="256" r="222" fill="none" stroke="{hex_gold}" stroke-width="6"/>'
        f'<text x="256" y="110" text-anchor="middle" font-family="DejaVu Sans, Arial, sans-serif" '
        f'font-size="28" font-weight="bold" fill="{hex_gold}">{escape(_eqf_label(eqf_level))}</text>'
        f'<text text-anchor="middle" font-family="DejaVu Sans, Arial, sans-serif" font-size="32" '
        f'font-weight="bold" fill="#ffffff">{title_tspans}</text>'
        f'<text x="256" y="400" text-anchor="middle" font-family="DejaVu Sans, Arial, sans-serif" '
        f'font-size="22" fill="#ffffff">{escape(_short(issuer, 34))}</text>'
        '</svg>\n'
    )


def render_png(title: str, issuer: str, eqf_level: int | None = None) -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    draw.ellipse((8, 8, SIZE - 8, SIZE - 8), fill=NAVY)
    draw.ellipse((34, 34, SIZE - 34, SIZE - 34), outline=GOLD, width=6)

    def font(size):
        return ImageFont.load_default(size=size)

    def centred(text, y, size, fill):
        f = font(size)
        draw.text((SIZE / 2, y), text, font=f, fill=fill, anchor="ms")

    centred(_eqf_label(eqf_level), 110, 28, GOLD)
    lines = _lines(title)
    top = 230 - (len(lines) - 1) * 20
    for i, line in enumerate(lines):
        centred(line, top + i * 40, 32, WHITE)
    centred(_short(issuer, 34), 400, 22, WHITE)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()
