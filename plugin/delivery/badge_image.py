"""The badge picture: a round seal showing the title, the issuer and the EQF level.

Two renderings of the same layout: SVG text (for ``<id>.svg``) and a PNG drawn with
Pillow (for ``<id>.png``). Pillow >= 10.1 ships a scalable default font
(``ImageFont.load_default(size=...)``), so no font file is bundled.

Every credential names its picture in ``achievement.image``: the PNG drawn from the
signed credential itself (:func:`badge_facts`), served at ``/credentials/<id>/image.png``
(:mod:`plugin.web.public`). The picture can therefore never show another title or
issuer than the credential it belongs to.
"""
from __future__ import annotations

import hashlib
import io
import textwrap
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape

SIZE = 512
EQF_PREFIX = "http://data.europa.eu/snb/eqf/"
# Part of the picture's ETag: change it when the drawing changes, so caches fetch it again.
RENDERING = "seal-1"
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


def badge_facts(document: dict[str, Any]) -> tuple[str, str, int | None]:
    """(title, issuer name, EQF level) read from a credential, for its picture."""
    subject = document.get("credentialSubject") or {}
    if isinstance(subject, list):
        subject = subject[0] if subject else {}
    achievement = subject.get("achievement") if isinstance(subject, dict) else None
    achievement = achievement if isinstance(achievement, dict) else {}
    title = achievement.get("name") or document.get("name") or "Micro-credential"
    issuer = document.get("issuer")
    issuer_name = issuer.get("name", "") if isinstance(issuer, dict) else ""
    level = None
    for alignment in achievement.get("alignment") or []:
        url = (alignment or {}).get("targetUrl", "") if isinstance(alignment, dict) else ""
        if isinstance(url, str) and url.startswith(EQF_PREFIX) and url[len(EQF_PREFIX):].isdigit():
            level = int(url[len(EQF_PREFIX):])
    return str(title), str(issuer_name), level


def picture_etag(facts: tuple[str, str, int | None]) -> str:
    """A strong validator of the PNG drawn from ``facts``, known without drawing it."""
    return hashlib.sha256(repr((RENDERING, *facts)).encode("utf-8")).hexdigest()[:32]


@lru_cache(maxsize=512)
def picture_png(facts: tuple[str, str, int | None]) -> bytes:
    """The PNG of ``(title, issuer, level)``; drawn once per process for each achievement
    (every learner's credential of a course shows the same picture)."""
    return render_png(*facts)
