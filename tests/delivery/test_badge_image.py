import io

from PIL import Image

from plugin.delivery.badge_image import render_png, render_svg


def test_svg_shows_title_issuer_and_level_escaped():
    svg = render_svg("Data & <Science>", "Université de Test", 6)
    assert "EQF 6" in svg and "Data &amp; &lt;Science&gt;" in svg and "Université de Test" in svg
    import xml.etree.ElementTree as ET
    ET.fromstring(svg.split("\n", 1)[1])  # well-formed


def test_png_is_a_drawn_image():
    png = render_png("Introduction to statistics for data journalism", "FUN MOOC", 7)
    img = Image.open(io.BytesIO(png))
    assert img.size == (512, 512)
    # The title is drawn in white on blue: white pixels exist around the title row.
    px = img.convert("RGB").crop((60, 180, 452, 280)).getcolors(512 * 512)
    assert any(color == (255, 255, 255) for _count, color in px)
    # Different titles draw different pictures.
    assert render_png("Another course", "FUN MOOC", 7) != png
