"""The badge picture: the title, the awarding body, its logo and the EQF level, in the
awarding body's design (:class:`plugin.domain.branding.BadgeDesign`).

One layout, two renderings that match: :func:`layout` places every element once (shape,
logo, each line of text with each glyph's position), then :func:`render_svg` writes it as
SVG and :func:`render_png` draws it with Pillow. The text is the glyphs of the shipped
fonts (Liberation Sans, SIL OFL, ``plugin/data/fonts``; Latin with every EU language's
accents, Greek and Cyrillic): written as outlines in the SVG (no font needed to view it,
so it looks the same everywhere) and drawn by FreeType from the same font file in the PNG,
at the same positions. Shapes are polygons and circles drawn the same way by both.
The PNG is drawn at three times its size and scaled down: smooth edges.

Long titles wrap and shrink (:func:`fit_text`) and are cut with "…" only when even the
smallest size does not fit; nothing is drawn outside the badge.

Every credential names its picture in ``achievement.image``: the PNG drawn from the signed
credential itself (:func:`badge_facts`), served at ``/credentials/<id>/image.png``
(:mod:`plugin.web.verify.public`). The picture can therefore never show another title or awarding
body than the credential it belongs to; the design is the awarding body's current one.
"""
from __future__ import annotations

import base64
import hashlib
import io
import math
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape

from plugin.domain.branding import DEFAULT_DESIGN, BadgeDesign, rgb
from plugin.paths import DATA_DIR

SIZE = 600          # layout units (the SVG's viewBox)
PNG_SIZE = 720      # pixels of the PNG
SUPERSAMPLE = 3     # drawn at 3x, then scaled down (anti-aliasing)
EQF_PREFIX = "http://data.europa.eu/snb/eqf/"
# Part of the picture's ETag: change it when the drawing changes, so caches fetch it again.
RENDERING = "design-2"
FONT_DIR = DATA_DIR / "fonts"
FONT_FILES = {"regular": FONT_DIR / "LiberationSans-Regular.ttf", "bold": FONT_DIR / "LiberationSans-Bold.ttf"}
MAX_LOGO_PIXELS = 4096 * 4096
ELLIPSIS = "…"


# ---------------------------------------------------------------------------------- fonts
class Font:
    """One shipped TrueType font: glyph outlines (fontTools) and advance widths."""

    def __init__(self, path):
        from fontTools.ttLib import TTFont
        self.path = str(path)
        self._tt = TTFont(self.path, lazy=True)
        self.upm = self._tt["head"].unitsPerEm
        self.cmap = self._tt.getBestCmap()
        self._hmtx = self._tt["hmtx"]
        self._glyphs = self._tt.getGlyphSet()
        self.ascent = self._tt["hhea"].ascent

    def has(self, char: str) -> bool:
        return ord(char) in self.cmap

    def glyph_name(self, char: str) -> str:
        return self.cmap.get(ord(char), ".notdef")

    def advance(self, char: str, size: float) -> float:
        return self._hmtx[self.glyph_name(char)][0] * size / self.upm

    def width(self, text: str, size: float) -> float:
        return sum(self.advance(c, size) for c in text)

    def outline(self, char: str, x: float, baseline: float, size: float) -> str:
        """The glyph's outline as SVG path data, placed with its origin at (x, baseline)."""
        from fontTools.pens.svgPathPen import SVGPathPen
        from fontTools.pens.transformPen import TransformPen
        pen = SVGPathPen(self._glyphs, ntos=_num)
        scale = size / self.upm
        self._glyphs[self.glyph_name(char)].draw(TransformPen(pen, (scale, 0, 0, -scale, x, baseline)))
        return pen.getCommands()


def _num(v: float) -> str:
    text = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@lru_cache(maxsize=None)
def font(weight: str = "regular") -> Font:
    return Font(FONT_FILES[weight])


def missing_glyphs(text: str, weight: str = "regular") -> list[str]:
    """The characters of ``text`` the shipped font cannot draw (spaces and controls aside)."""
    f = font(weight)
    return [c for c in unicodedata.normalize("NFC", text) if not c.isspace() and c.isprintable() and not f.has(c)]


# ---------------------------------------------------------------------------------- text fitting
@dataclass
class TextBlock:
    lines: list[str]
    size: float
    line_height: float

    @property
    def height(self) -> float:
        return self.line_height * len(self.lines)


def _clean(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text or "").split())


def _wrap(f: Font, text: str, size: float, width: float) -> list[str]:
    """Greedy word wrap; a word wider than the line is broken with a hyphen."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if f.width(candidate, size) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = word
        while f.width(current, size) > width and len(current) > 1:  # one very long word
            cut = len(current) - 1
            while cut > 1 and f.width(current[:cut] + "-", size) > width:
                cut -= 1
            lines.append(current[:cut] + "-")
            current = current[cut:]
    if current:
        lines.append(current)
    return lines or [""]


def _ellipsize(f: Font, line: str, size: float, width: float) -> str:
    line = line.rstrip(" -")
    while line and f.width(line + ELLIPSIS, size) > width:
        line = line[:-1].rstrip(" -")
    return line + ELLIPSIS


def fit_text(text: str, *, weight: str, width: float, height: float, max_size: float, min_size: float,
             max_lines: int, line_spacing: float = 1.16) -> TextBlock:
    """The largest size (down to ``min_size``) at which ``text`` wraps into at most
    ``max_lines`` lines of at most ``width`` within ``height``; at the smallest size what
    does not fit is cut with "…"."""
    f = font(weight)
    text = _clean(text)
    size = max_size
    while True:
        lines = _wrap(f, text, size, width)
        line_height = size * line_spacing
        fits = len(lines) <= max_lines and line_height * len(lines) <= height + 0.01
        if fits or size - 1 < min_size:
            break
        size -= 1
    if not fits:
        keep = max(1, min(max_lines, int((height + 0.01) // line_height)))
        if len(lines) > keep:
            lines = lines[:keep - 1] + [_ellipsize(f, lines[keep - 1], size, width)]
    return TextBlock(lines=lines, size=size, line_height=line_height)


# ---------------------------------------------------------------------------------- shapes
def _regular_polygon(n: int, radius: float, rotation: float) -> list[tuple[float, float]]:
    c = SIZE / 2
    return [(c + radius * math.cos(rotation + 2 * math.pi * i / n), c + radius * math.sin(rotation + 2 * math.pi * i / n))
            for i in range(n)]


def _rounded_square(half: float, radius: float, steps: int = 10) -> list[tuple[float, float]]:
    c = SIZE / 2
    points = []
    corners = [(c + half - radius, c - half + radius, -90), (c + half - radius, c + half - radius, 0),
               (c - half + radius, c + half - radius, 90), (c - half + radius, c - half + radius, 180)]
    for cx, cy, start in corners:
        for i in range(steps + 1):
            a = math.radians(start + 90 * i / steps)
            points.append((cx + radius * math.cos(a), cy + radius * math.sin(a)))
    return points


def _shield(scale: float, steps: int = 24) -> list[tuple[float, float]]:
    """A heater shield: flat top with rounded corners, straight sides, curved to a point."""
    c = SIZE / 2
    top, side, shoulder, tip = c - 282 * scale, 262 * scale, c + 20 * scale, c + 290 * scale
    r = 36 * scale
    points = []
    for i in range(steps // 2 + 1):  # top-left corner
        a = math.radians(180 + 90 * i / (steps // 2))
        points.append((c - side + r + r * math.cos(a), top + r + r * math.sin(a)))
    for i in range(steps // 2 + 1):  # top-right corner
        a = math.radians(270 + 90 * i / (steps // 2))
        points.append((c + side - r + r * math.cos(a), top + r + r * math.sin(a)))
    for i in range(steps + 1):  # right side curving down to the tip (quadratic Bézier)
        t = i / steps
        p0, p1, p2 = (c + side, shoulder), (c + side, c + 200 * scale), (c, tip)
        points.append(((1 - t) ** 2 * p0[0] + 2 * (1 - t) * t * p1[0] + t * t * p2[0],
                       (1 - t) ** 2 * p0[1] + 2 * (1 - t) * t * p1[1] + t * t * p2[1]))
    for i in range(1, steps + 1):  # and back up the left side
        t = i / steps
        p0, p1, p2 = (c, tip), (c - side, c + 200 * scale), (c - side, shoulder)
        points.append(((1 - t) ** 2 * p0[0] + 2 * (1 - t) * t * p1[0] + t * t * p2[0],
                       (1 - t) ** 2 * p0[1] + 2 * (1 - t) * t * p1[1] + t * t * p2[1]))
    return points


def shape_outline(shape: str, inset: float) -> dict:
    """The badge's outline ``inset`` units inside its outer edge: a circle or a polygon."""
    if shape == "circle":
        return {"kind": "circle", "r": SIZE / 2 - 8 - inset}
    if shape == "hexagon":
        return {"kind": "polygon", "points": _regular_polygon(6, SIZE / 2 - 6 - inset * 1.15, -math.pi / 2)}
    if shape == "rounded":
        return {"kind": "polygon", "points": _rounded_square(SIZE / 2 - 12 - inset, max(8.0, 64 - inset))}
    return {"kind": "polygon", "points": _shield(1 - inset / 290)}


# Room for the title on each shape (width, and the band it is centred in).
TITLE_WIDTH = {"circle": 400, "shield": 400, "hexagon": 380, "rounded": 440}


# ---------------------------------------------------------------------------------- layout
@dataclass
class Layout:
    design: BadgeDesign
    shapes: list[tuple[dict, str]] = field(default_factory=list)       # (outline, colour)
    texts: list[dict] = field(default_factory=list)                    # each line: weight, size, x, y, text, colour
    logo: tuple[bytes, tuple[float, float, float, float]] | None = None  # PNG bytes, (x, y, w, h)
    title: str = ""
    description: str = ""


def _decode_logo(logo: str | bytes | None) -> bytes | None:
    """A logo (data URI or bytes) as PNG bytes, or None when absent or not a readable raster image."""
    if not logo:
        return None
    if isinstance(logo, str):
        m = re.match(r"^data:image/(png|jpeg|gif|webp);base64,(.+)$", logo.strip(), re.S)
        if not m:
            return None
        try:
            logo = base64.b64decode(m.group(2), validate=False)
        except ValueError:
            return None
    try:
        from PIL import Image
        with Image.open(io.BytesIO(logo)) as im:
            if im.width * im.height > MAX_LOGO_PIXELS:
                return None
            im = im.convert("RGBA")
            im.thumbnail((480, 480))
            out = io.BytesIO()
            im.save(out, format="PNG", optimize=True)
            return out.getvalue()
    except Exception:
        return None


def _ribbon(y: float, height: float) -> list[tuple[float, float]]:
    left, right, notch = 70.0, SIZE - 70.0, 18.0
    return [(left, y), (right, y), (right - notch, y + height / 2), (right, y + height), (left, y + height),
            (left + notch, y + height / 2)]


def layout(title: str, issuer: str, eqf_level: int | None = None, *, design: BadgeDesign | None = None,
           logo: str | bytes | None = None) -> Layout:
    design = design or DEFAULT_DESIGN
    out = Layout(design=design, title=_clean(title), description=_clean(issuer))
    out.shapes = [(shape_outline(design.shape, 0), design.accent),
                  (shape_outline(design.shape, 12), design.background),
                  (shape_outline(design.shape, 22), design.accent),
                  (shape_outline(design.shape, 26), design.background)]
    logo_png = _decode_logo(logo) if design.show_logo else None
    top = 92.0
    if logo_png is not None:
        from PIL import Image
        with Image.open(io.BytesIO(logo_png)) as im:
            w, h = im.size
        plate = {"kind": "circle", "r": 62.0, "cy": 142.0}
        out.shapes.append((plate, "#ffffff"))
        box = 84.0
        scale = min(box / w, box / h)
        lw, lh = w * scale, h * scale
        out.logo = (logo_png, (SIZE / 2 - lw / 2, 142 - lh / 2, lw, lh))
        top = 220.0
    ribbon = bool(design.ribbon and eqf_level)
    bottom = 440.0 if ribbon else 470.0
    issuer_block = fit_text(issuer or "", weight="regular", width=340, height=56, max_size=24, min_size=15,
                            max_lines=2, line_spacing=1.18)
    title_bottom = bottom - issuer_block.height - 18
    title_block = fit_text(title or "", weight="bold", width=TITLE_WIDTH[design.shape],
                           height=title_bottom - top, max_size=48, min_size=22,
                           max_lines=4, line_spacing=1.12)
    # centre the title in its band; the awarding body sits under it
    y = top + (title_bottom - top - title_block.height) / 2
    for line in title_block.lines:
        y += title_block.line_height
        out.texts.append({"weight": "bold", "size": title_block.size, "y": y - title_block.line_height * 0.22,
                          "text": line, "colour": design.text})
    y += 18
    for line in issuer_block.lines:
        y += issuer_block.line_height
        out.texts.append({"weight": "regular", "size": issuer_block.size, "y": y - issuer_block.line_height * 0.22,
                          "text": line, "colour": design.text})
    if ribbon:
        out.shapes.append(({"kind": "polygon", "points": _ribbon(468, 60)}, design.accent))
        out.texts.append({"weight": "bold", "size": 30, "y": 509, "text": f"EQF {int(eqf_level)}",
                          "colour": design.ribbon_text_colour})
    for t in out.texts:  # centre each line
        t["x"] = SIZE / 2 - font(t["weight"]).width(t["text"], t["size"]) / 2
    return out


# ---------------------------------------------------------------------------------- SVG
def _svg_shape(outline: dict, colour: str) -> str:
    if outline["kind"] == "circle":
        return (f'<circle cx="{_num(outline.get("cx", SIZE / 2))}" cy="{_num(outline.get("cy", SIZE / 2))}" '
                f'r="{_num(outline["r"])}" fill="{colour}"/>')
    points = " ".join(f"{_num(x)},{_num(y)}" for x, y in outline["points"])
    return f'<polygon points="{points}" fill="{colour}"/>'


def _svg_text(t: dict) -> str:
    f = font(t["weight"])
    x, parts = t["x"], []
    for char in t["text"]:
        if not char.isspace():
            parts.append(f.outline(char, x, t["y"], t["size"]))
        x += f.advance(char, t["size"])
    return f'<path fill="{t["colour"]}" d="{"".join(parts)}"/>'


def render_layout_svg(lay: Layout) -> str:
    label = lay.title + (f" · {lay.description}" if lay.description else "")
    body = [_svg_shape(o, c) for o, c in lay.shapes]
    if lay.logo is not None:
        data, (x, y, w, h) = lay.logo
        body.append(f'<image x="{_num(x)}" y="{_num(y)}" width="{_num(w)}" height="{_num(h)}" '
                    f'href="data:image/png;base64,{base64.b64encode(data).decode()}"/>')
    body += [_svg_text(t) for t in lay.texts]
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}" viewBox="0 0 {SIZE} {SIZE}" '
        f'role="img" aria-label="{escape(label[:300], {chr(34): "&quot;"})}">'
        f'<title>{escape(lay.title)}</title><desc>{escape(lay.description)}</desc>'
        + "".join(body) + "</svg>\n")


def render_svg(title: str, issuer: str, eqf_level: int | None = None, *, design: BadgeDesign | None = None,
               logo: str | bytes | None = None) -> str:
    return render_layout_svg(layout(title, issuer, eqf_level, design=design, logo=logo))


# ---------------------------------------------------------------------------------- PNG
@lru_cache(maxsize=64)
def _pil_font(weight: str, size: float):
    from PIL import ImageFont
    return ImageFont.truetype(FONT_FILES[weight], size=size, layout_engine=ImageFont.Layout.BASIC)


def render_layout_png(lay: Layout, size: int = PNG_SIZE) -> bytes:
    from PIL import Image, ImageDraw
    k = size * SUPERSAMPLE / SIZE
    img = Image.new("RGBA", (size * SUPERSAMPLE,) * 2, (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    for outline, colour in lay.shapes:
        fill = rgb(colour)
        if outline["kind"] == "circle":
            cx, cy, r = outline.get("cx", SIZE / 2) * k, outline.get("cy", SIZE / 2) * k, outline["r"] * k
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill)
        else:
            draw.polygon([(x * k, y * k) for x, y in outline["points"]], fill=fill)
    if lay.logo is not None:
        data, (x, y, w, h) = lay.logo
        with Image.open(io.BytesIO(data)) as logo:
            logo = logo.convert("RGBA").resize((max(1, round(w * k)), max(1, round(h * k))), Image.LANCZOS)
            img.alpha_composite(logo, (round(x * k), round(y * k)))
    for t in lay.texts:
        f = font(t["weight"])
        pil = _pil_font(t["weight"], t["size"] * k)
        x = t["x"]
        for char in t["text"]:
            if not char.isspace():
                draw.text((x * k, t["y"] * k), char, font=pil, fill=rgb(t["colour"]), anchor="ls")
            x += f.advance(char, t["size"])
    img = img.resize((size, size), Image.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def render_png(title: str, issuer: str, eqf_level: int | None = None, *, design: BadgeDesign | None = None,
               logo: str | bytes | None = None, size: int = PNG_SIZE) -> bytes:
    return render_layout_png(layout(title, issuer, eqf_level, design=design, logo=logo), size)


# ---------------------------------------------------------------------------------- from a credential
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


def badge_logo(document: dict[str, Any]) -> str | None:
    """The awarding body's logo a credential carries (``issuer.image``, a data URI), if any."""
    issuer = document.get("issuer")
    image = issuer.get("image") if isinstance(issuer, dict) else None
    image = image.get("id") if isinstance(image, dict) else image
    return image if isinstance(image, str) and image.startswith("data:image/") else None


def picture_etag(facts: tuple[str, str, int | None], design: BadgeDesign | None = None,
                 logo: str | None = None) -> str:
    """A strong validator of the PNG drawn from ``facts`` in ``design``, known without drawing it."""
    design = design or DEFAULT_DESIGN
    logo_hash = hashlib.sha256(logo.encode()).hexdigest() if logo else ""
    return hashlib.sha256(repr((RENDERING, *facts, design.model_dump_json(), logo_hash)).encode("utf-8")
                          ).hexdigest()[:32]


@lru_cache(maxsize=256)
def picture_png(facts: tuple[str, str, int | None], design: BadgeDesign | None = None,
                logo: str | None = None) -> bytes:
    """The PNG of ``(title, issuer, level)``; drawn once per process for each achievement
    and design (every learner's credential of a course shows the same picture)."""
    return render_png(*facts, design=design, logo=logo)
