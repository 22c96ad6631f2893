"""The badge designer: an admin sets shape, colours, ribbon, logo and signatory; bad input
is refused with a sentence; the badge every credential links to changes at once."""
from __future__ import annotations

import html as htmllib
import io

from PIL import Image
from sqlalchemy import select

from plugin.issuance import service as issuance
from plugin.storage.models import Issuer, IssuerBranding, IssuerPlatform, IssuedCredential

from tests.engine_helpers import make_world
from tests.web.helpers import launch, make_platform
from tests.web.learner_support import csrf_token


def _admin(services):
    world = make_world(services)
    platform_id = make_platform(services)
    with services.session() as s:
        s.add(IssuerPlatform(issuer_id=world.issuer_id, platform_id=platform_id))
        row, _ = issuance.award(s, services, definition_id=world.definition_id, learner_id=world.learner_id,
                                evidence_id=world.evidence_id, display_name="Ada King", actor="test")
        public_id = row.public_id
    return world, launch(services, ["admin"], platform_id=platform_id), public_id


def _png(size=(120, 80), colour=(200, 30, 30), fmt="PNG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, fmt)
    return buf.getvalue()


def _form(page, lid, **changes):
    data = {"csrf_token": csrf_token(page), "launch": lid, "shape": "circle", "background": "#003399",
            "accent": "#ffcc00", "text": "#ffffff", "ribbon": "y", "show_logo": "y", "signatory_name": "",
            "signatory_role": ""}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_the_design_saved_changes_every_credentials_badge_at_once(client, services):
    world, lid, public_id = _admin(services)
    url = f"/admin/issuers/{world.issuer_id}/design?launch={lid}"
    page = client.get(url)
    assert page.status_code == 200 and 'id="badge-preview"' in page.text
    before = client.get(f"/credentials/{public_id}/image.png")
    resp = client.post(url, data=_form(page.text, lid, shape="rounded", background="#0d5c3a", accent="#e8e8e8",
                                       ribbon=None, signatory_name="Dr Marie Curie",
                                       signatory_role="Vice-president for lifelong learning",
                                       logo=(io.BytesIO(_png()), "logo.png"),
                                       signature=(io.BytesIO(_png((300, 90), (20, 20, 20), "JPEG")), "sig.jpg")),
                       content_type="multipart/form-data")
    assert resp.status_code == 303, resp.text[:500]
    with services.session() as s:
        row = s.scalars(select(IssuerBranding)).one()
        assert row.settings["design"]["shape"] == "rounded" and row.settings["design"]["ribbon"] is False
        assert row.settings["signatory_name"] == "Dr Marie Curie" and row.signature.startswith(b"\x89PNG")
        issuer = s.get(Issuer, world.issuer_id)
        assert issuer.profile["logo"].startswith("data:image/png;base64,") and issuer.logo_mime == "image/png"
    after = client.get(f"/credentials/{public_id}/image.png")
    assert after.headers["ETag"] != before.headers["ETag"]
    img = Image.open(io.BytesIO(after.data)).convert("RGB")
    assert img.getpixel((360, 300)) == (0x0d, 0x5c, 0x3a) and img.getpixel((40, 40)) == (0xe8, 0xe8, 0xe8)
    # the signature picture is shown back to the admin, re-encoded
    sig = client.get(f"/admin/issuers/{world.issuer_id}/design/signature.png?launch={lid}")
    assert sig.mimetype == "image/png" and Image.open(io.BytesIO(sig.data)).size == (300, 90)
    # the instructor's preview uses the design too
    svg = client.get(f"/admin/issuers/{world.issuer_id}/design/preview.svg?launch={lid}").text
    assert "#0d5c3a" in svg


def test_unreadable_colours_and_bad_pictures_are_refused_with_a_reason(client, services):
    world, lid, _ = _admin(services)
    url = f"/admin/issuers/{world.issuer_id}/design?launch={lid}"
    page = client.get(url).text
    low = client.post(url, data=_form(page, lid, background="#ffcc00", text="#ffffff"))
    assert low.status_code == 400 and "does not stand out from the badge colour" in htmllib.unescape(low.text)
    cases = [
        ((io.BytesIO(b"GIF89a" + b"\0" * 100), "logo.gif"), "must be a PNG or JPEG image"),
        ((io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"\0" * 100), "logo.png"), "damaged or not an image"),
        ((io.BytesIO(_png((10, 10))), "tiny.png"), "too small (10 × 10 pixels)"),
        ((io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"\0" * 600_000), "big.png"), "larger than 512 KB"),
    ]
    for upload, message in cases:
        resp = client.post(url, data=_form(page, lid, logo=upload), content_type="multipart/form-data")
        assert resp.status_code == 400 and message in htmllib.unescape(resp.text), message
    role_only = client.post(url, data=_form(page, lid, signatory_role="Dean"))
    assert role_only.status_code == 400 and "give the signatory's name" in htmllib.unescape(role_only.text)
    with services.session() as s:
        assert s.scalars(select(IssuerBranding)).first() is None  # nothing saved
    french = client.post(url + "&lang=fr", data=_form(page, lid, background="#ffcc00", text="#ffffff"))
    assert "ne se détache pas" in htmllib.unescape(french.text)


def test_the_live_preview_draws_what_the_form_says_and_only_admins_open_it(client, services):
    world, lid, _ = _admin(services)
    base = f"/admin/issuers/{world.issuer_id}/design/preview.svg?launch={lid}"
    svg = client.get(base + "&shape=hexagon&background=%23112233&accent=%23eeeeee&text=%23ffffff&ribbon=y"
                            "&title=Une+tr%C3%A8s+longue+formation").text
    assert "#112233" in svg and "<title>Une très longue formation</title>" in svg and "<polygon" in svg
    # an unreadable combination keeps drawing the saved design, never an error picture
    assert "#003399" in client.get(base + "&shape=circle&background=%23ffcc00&text=%23ffffff").text
    learner = launch(services, ["learner"], sub="someone")
    assert client.get(f"/admin/issuers/{world.issuer_id}/design?launch={learner}").status_code == 403
    assert client.get(f"/admin/issuers/{world.issuer_id}/design").status_code == 401
