"""The badge picture: every EU script drawn with the shipped fonts, long titles fitted,
the awarding body's design and logo, and one layout for SVG and PNG."""
import base64
import io
import xml.etree.ElementTree as ET

import pytest
from PIL import Image, ImageChops, ImageFont

from plugin.delivery import badge_image
from plugin.delivery.badge_image import FONT_FILES, SIZE, layout, missing_glyphs, render_png, render_svg
from plugin.domain.branding import BadgeDesign

# Titles and awarding bodies in the languages the issue names (and the harder letters of a few more).
EU_TEXTS = {
    "fr": ("Analyse de données : œuvre, façade, Ça ira « déjà »", "Université Démo de Lille — Hauts-de-France"),
    "pl": ("Podstawy analizy danych: źdźbło, gęślą jaźń, Łódź", "Uniwersytet Łódzki, Wydział Zarządzania"),
    "el": ("Εισαγωγή στην επιστήμη δεδομένων: ΐ ΰ ς Ώ", "Εθνικό και Καποδιστριακό Πανεπιστήμιο Αθηνών"),
    "bg": ("Основи на анализа на данни: Щастие, ѝ, Ъгъл", "Софийски университет „Св. Климент Охридски“"),
    "ro-hu-cs-mt-lv": ("Știință, Țară, Árvíztűrő tükörfúrógép, Příliš žluťoučký, Ħ ġ ċ ż, Ķ ļ ņ ģ ū", "Ōō Ŗŗ"),
}


def _notdef_bitmap(pil_font):
    """How the font draws a character it does not have (its "missing" box)."""
    return _bitmap(pil_font, "\ue000")


def _bitmap(pil_font, char):
    box = pil_font.getbbox(char)
    img = Image.new("L", (max(1, box[2] - box[0]) + 4, max(1, box[3] - box[1]) + 4), 0)
    Image.Image  # noqa: B018
    from PIL import ImageDraw
    ImageDraw.Draw(img).text((2 - box[0], 2 - box[1]), char, font=pil_font, fill=255)
    return img


@pytest.mark.parametrize("lang", sorted(EU_TEXTS))
@pytest.mark.parametrize("weight", ["bold", "regular"])
def test_every_glyph_of_titles_and_awarding_bodies_in_eu_languages_is_drawn(lang, weight):
    title, issuer = EU_TEXTS[lang]
    assert missing_glyphs(title + issuer, weight) == []
    pil_font = ImageFont.truetype(str(FONT_FILES[weight]), 64, layout_engine=ImageFont.Layout.BASIC)
    notdef = _notdef_bitmap(pil_font)
    assert notdef.getbbox() is not None  # the missing box is something visible: the check below can fail
    for char in set(title + issuer) - {" "}:
        drawn = _bitmap(pil_font, char)
        assert drawn.getbbox() is not None, f"{char!r} draws nothing"
        same = drawn.size == notdef.size and ImageChops.difference(drawn, notdef).getbbox() is None
        assert not same, f"{char!r} ({lang}) is drawn as the font's missing-glyph box"


def test_the_check_finds_a_letter_the_fonts_do_not_have():
    assert missing_glyphs("Data ✓ ش", "bold") == ["✓", "ش"]


@pytest.mark.parametrize("lang", sorted(EU_TEXTS))
def test_the_badge_png_of_each_eu_language_is_the_layout_of_its_own_glyphs(lang):
    title, issuer = EU_TEXTS[lang]
    lay = layout(title, issuer, 6)
    drawn = " ".join(t["text"] for t in lay.texts)
    for word in (title + " " + issuer).split():
        assert word.strip("…") in drawn or drawn.endswith("…")  # every word placed (or the cut title ends in …)
    png = render_png(title, issuer, 6)
    assert Image.open(io.BytesIO(png)).size == (720, 720)


def test_svg_is_outlines_with_an_accessible_name_and_escaped_metadata():
    svg = render_svg("Data & <Science>", "Université de Test", 6)
    root = ET.fromstring(svg.split("\n", 1)[1])
    ns = "{http://www.w3.org/2000/svg}"
    assert root.get("viewBox") == f"0 0 {SIZE} {SIZE}" and root.get("role") == "img"
    assert root.get("aria-label") == "Data & <Science> · Université de Test"
    assert root.find(f"{ns}title").text == "Data & <Science>" and root.find(f"{ns}desc").text == "Université de Test"
    assert root.find(f".//{ns}text") is None  # no font needed to show it: the text is glyph outlines
    assert len(root.findall(f"{ns}path")) == len(layout("Data & <Science>", "Université de Test", 6).texts)


def test_png_is_large_and_anti_aliased():
    img = Image.open(io.BytesIO(render_png("Introduction to statistics for data journalism", "FUN MOOC", 7)))
    assert img.size == (720, 720) and img.mode == "RGBA"
    rgb = img.convert("RGB")
    # smooth edges: the border of the seal is a gradient of many colours, not two
    edge = rgb.crop((0, 340, 60, 380)).getcolors(720 * 720)
    assert len(edge) > 20
    # the title is drawn in the text colour on the badge colour
    colours = {c for _n, c in rgb.crop((120, 200, 600, 420)).getcolors(720 * 720)}
    assert (255, 255, 255) in colours and (0, 51, 153) in colours
    assert render_png("Another course", "FUN MOOC", 7) != render_png("Introduction to statistics", "FUN MOOC", 7)


def test_long_titles_wrap_and_shrink_and_never_leave_the_badge():
    short = layout("Data literacy", "Acme", 6)
    long_title = ("Advanced methods for the quantitative evaluation of public policies using administrative "
                  "microdata, causal inference and reproducible open-source statistical software")
    long = layout(long_title, "Université Démo de Lille, Faculté des sciences économiques, sociales et des territoires", 6)
    title_short = [t for t in short.texts if t["weight"] == "bold" and not t["text"].startswith("EQF")]
    title_long = [t for t in long.texts if t["weight"] == "bold" and not t["text"].startswith("EQF")]
    assert len(title_short) == 1 and len(title_long) <= 4
    assert title_long[0]["size"] < title_short[0]["size"]
    absurd = layout("Datenwissenschaftsgrundlagenvertiefungsmodul " * 12, "X", None)
    assert absurd.texts[-2]["text"].endswith("…") or absurd.texts[-1]["text"].endswith("…") or \
        any(t["text"].endswith("…") for t in absurd.texts)
    for lay in (short, long, absurd):
        for t in lay.texts:
            width = badge_image.font(t["weight"]).width(t["text"], t["size"])
            assert 60 <= t["x"] and t["x"] + width <= SIZE - 60, t
            assert 60 <= t["y"] <= SIZE - 60, t


def _png(**kwargs):
    return Image.open(io.BytesIO(render_png("Data literacy", "Acme", 6, **kwargs))).convert("RGBA")


def test_the_design_changes_colours_shape_and_ribbon():
    plain = _png()
    green = _png(design=BadgeDesign(background="#0d5c3a", accent="#e8e8e8"))
    assert green.getpixel((360, 250))[:3] == (0x0d, 0x5c, 0x3a) and plain.getpixel((360, 250))[:3] == (0, 51, 153)
    # a round seal leaves the corners transparent, a rounded square fills close to them
    assert plain.getpixel((30, 30))[3] == 0
    assert _png(design=BadgeDesign(shape="rounded")).getpixel((40, 40))[3] == 255
    assert _png(design=BadgeDesign(shape="hexagon")).tobytes() != plain.tobytes()
    assert _png(design=BadgeDesign(shape="shield")).getpixel((360, 715))[3] == 0  # the shield ends in a point
    # the ribbon (accent colour, across the lower part) only with a level and when wanted
    assert plain.getpixel((240, 598))[:3] == (255, 204, 0)
    assert _png(design=BadgeDesign(ribbon=False)).getpixel((240, 598))[:3] != (255, 204, 0)
    no_level = Image.open(io.BytesIO(render_png("Data literacy", "Acme", None))).convert("RGBA")
    assert no_level.getpixel((240, 598))[:3] != (255, 204, 0)


def _logo_uri(colour=(200, 30, 30)):
    buf = io.BytesIO()
    Image.new("RGB", (200, 100), colour).save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def test_the_logo_sits_on_a_white_plate_and_is_the_same_in_svg():
    with_logo = _png(logo=_logo_uri())
    assert with_logo.getpixel((360, 170))[:3] == (200, 30, 30)
    assert with_logo.getpixel((360, 108))[:3] == (255, 255, 255)  # the plate above the logo
    assert _png(logo=_logo_uri(), design=BadgeDesign(show_logo=False)).getpixel((360, 170))[:3] != (200, 30, 30)
    svg = render_svg("Data literacy", "Acme", 6, logo=_logo_uri())
    image = ET.fromstring(svg.split("\n", 1)[1]).find("{http://www.w3.org/2000/svg}image")
    assert image is not None and image.get("href").startswith("data:image/png;base64,")
    # a logo that is not a picture is left out of both, never an error
    assert _png(logo="data:image/png;base64,bm90IGFuIGltYWdl").tobytes() == _png().tobytes()
    assert "<image" not in render_svg("Data literacy", "Acme", 6, logo="data:image/svg+xml;base64,PHN2Zy8+")


def test_the_design_rejects_unreadable_text():
    with pytest.raises(ValueError, match="contrast"):
        BadgeDesign(background="#ffcc00", text="#ffffff")
    with pytest.raises(ValueError, match="colour such as"):
        BadgeDesign(background="blue")
    assert BadgeDesign(background="#FFF", text="#000").background == "#ffffff"
