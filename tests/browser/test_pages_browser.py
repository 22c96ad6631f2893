"""The learner's, the credential, the verification, the upload and the issuer pages in
headless Chromium at 320, 390 and 1280 px, in English and French: no horizontal scrolling, no
string left untranslated (checked against the catalogue), no accessibility violation of
any impact (axe-core). And the badge: Chromium's drawing of the SVG is the PNG.

Screenshots: test-artifacts/screenshots/test_every_page_*-<page>-<lang>-<width>.png
"""
from __future__ import annotations

import base64
import io
import re

import pytest
from babel.messages.pofile import read_po
from PIL import Image, ImageChops, ImageStat
from selenium.webdriver.common.by import By

from plugin.delivery.access import make_access_token
from plugin.issuance import service as issuance
from plugin.storage.models import CredentialDefinition, IssuedCredential, IssuerPlatform, Learner, PassEvidence

from tests.conftest import REPO
from tests.engine_helpers import make_world
from tests.web.helpers import launch, make_platform
from tests.web.learner_support import POLICY, learner_launch
# the tool's public address is the live server's, so the pages' badge pictures load
from tests.browser.test_learner_browser import live_server, settings, tool_port  # noqa: F401

PO = REPO / "plugin" / "translations" / "fr" / "LC_MESSAGES" / "messages.po"
WIDTHS = (320, 390, 1280)
ALL_IMPACTS = ("minor", "moderate", "serious", "critical")


def _english_msgids() -> list[re.Pattern]:
    """Every English message whose French differs, as a pattern over a whole text node."""
    patterns = []
    for m in read_po(PO.open("rb"), locale="fr"):
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        for msgid in ids:
            if not msgid or not any(strings) or msgid in strings or len(msgid) < 4:
                continue
            parts = re.split(r"%\(\w+\)[sd]", msgid)
            if not re.search(r"[^\W\d_]{2}", "".join(parts)):
                continue  # placeholders and punctuation only ("%(field)s: %(problem)s"): any text matches
            # The spaces around a placeholder stay word boundaries: "%(name)s (%(sub)s on %(host)s)"
            # must not match any French text with "on" inside a word ("mon nom").
            patterns.append(re.compile(r"\s*" + r".+?".join(r"\s+".join(map(re.escape, p.split(" "))) for p in parts)
                                       + r"[\s.:]*$"))
    return patterns


VISIBLE_TEXT = """
const out = [];
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
while (walker.nextNode()) {
  const n = walker.currentNode, p = n.parentElement;
  if (!p || p.closest('script,style,code,pre,textarea,[lang]:not(html)') ) continue;
  const t = n.textContent.replace(/\\s+/g, ' ').trim();
  if (t) out.push(t);
}
for (const el of document.querySelectorAll('[alt],[aria-label],[title],input[placeholder]')) {
  for (const a of ['alt', 'aria-label', 'title', 'placeholder']) { const v = el.getAttribute(a); if (v) out.push(v.trim()); }
}
return out;
"""


@pytest.fixture
def pages(services, live_server):
    world = make_world(services)
    platform_id = make_platform(services)
    with services.session() as s:
        s.add(IssuerPlatform(issuer_id=world.issuer_id, platform_id=platform_id))
        row, _ = issuance.award(s, services, definition_id=world.definition_id, learner_id=world.learner_id,
                                evidence_id=world.evidence_id, display_name="Éloïse Lefèvre-Œuvray", actor="test")
        public_id = row.public_id
        learner = s.get(Learner, world.learner_id)
        learner_public_id = learner.public_id
    token = make_access_token(services.settings.secret_key, learner_public_id)
    admin = launch(services, ["admin"], platform_id=platform_id, sub="admin-1")
    learner_lid = learner_launch(services, world)
    # the learner's page in its other states: claimed (with the badge), and not yet passed
    claimed = make_world(services, slug="acme-claimed", learner_sub="learner-claimed")
    failed = make_world(services, slug="acme-failed", learner_sub="learner-failed")
    with services.session() as s:
        row, _ = issuance.award(s, services, definition_id=claimed.definition_id, learner_id=claimed.learner_id,
                                evidence_id=claimed.evidence_id, display_name="Éloïse Lefèvre-Œuvray", actor="test")
        s.get(IssuedCredential, row.id).claimed_at = row.issued_at
        s.get(CredentialDefinition, failed.definition_id).policy = POLICY  # pass mark 50
        evidence = s.get(PassEvidence, failed.evidence_id)
        evidence.source, evidence.passed, evidence.score = "ags", False, 41.0
    return {
        "learner": f"{live_server}/learner/?launch={learner_lid}",
        "learner-claimed": f"{live_server}/learner/?launch={learner_launch(services, claimed)}",
        "learner-not-passed": f"{live_server}/learner/?launch={learner_launch(services, failed)}",
        "credentials": f"{live_server}/learner/credentials?access={token}",
        "credential": f"{live_server}/learner/credentials/{public_id}?access={token}",
        "verify": f"{live_server}/verify/{public_id}",
        "upload": f"{live_server}/verify",
        "issuer": f"{live_server}/issuers/acme/about",
        "designer": f"{live_server}/admin/issuers/{world.issuer_id}/design?launch={admin}",
    }


def _viewport(browser, width: int) -> None:
    browser.set_window_size(width, 900)
    inner = browser.execute_script("return window.innerWidth")
    if inner != width and 0 < width + (width - inner) < 2 * width:  # the frame: make the page `width` wide
        browser.set_window_size(width + (width - inner), 900)


def _shot(browser, request, name: str, width: int) -> None:
    from tests.browser.conftest import SCREENSHOTS
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(browser.get_window_size()["width"], min(int(height) + 120, 8000))
    browser.save_screenshot(str(SCREENSHOTS / f"{request.node.name}-{name}.png"))
    _viewport(browser, width)


def test_every_page_in_both_languages_at_390_and_1280_px(browser, pages, request, axe_check):
    english = _english_msgids()
    problems = []
    for name, url in pages.items():
        for lang in ("en", "fr"):
            sep = "&" if "?" in url else "?"
            for width in WIDTHS:
                _viewport(browser, width)
                browser.get(f"{url}{sep}lang={lang}")
                assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang, (name, lang)
                overflow = browser.execute_script(
                    "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
                if overflow > 0:
                    wide = browser.execute_script(
                        "const w = document.documentElement.clientWidth; return [...document.querySelectorAll('body *')]"
                        ".filter(e => e.getBoundingClientRect().right > w + 1).slice(0, 5)"
                        ".map(e => e.tagName + '.' + e.className + '#' + e.id)")
                    problems.append(f"{name} {lang} {width}px: {overflow}px of horizontal scroll ({wide})")
                result = axe_check(impacts=())  # collect, then fail below with every page's findings
                for v in result["violations"]:
                    problems.append(f"{name} {lang} {width}px: axe {v['id']} ({v['impact']}): "
                                    f"{[n['target'] for n in v['nodes']][:3]}")
                if lang == "fr":
                    for text in browser.execute_script(VISIBLE_TEXT):
                        if any(p.match(text) for p in english):
                            problems.append(f"{name} fr {width}px: untranslated “{text}”")
                _shot(browser, request, f"{name}-{lang}-{width}", width)
    assert not problems, "\n".join(sorted(set(problems)))


def test_chromium_draws_the_badge_svg_as_the_png(browser, live_server):
    from plugin.delivery.badge_image import render_png, render_svg
    from plugin.domain.branding import BadgeDesign
    args = ("Εισαγωγή στην επιστήμη δεδομένων για δημόσιες πολιτικές", "Софийски университет „Св. Климент Охридски“", 7)
    design = BadgeDesign(shape="shield", background="#7a1f2b", accent="#e8e8e8")
    svg = render_svg(*args, design=design)
    png = Image.open(io.BytesIO(render_png(*args, design=design, size=600))).convert("RGBA")
    _viewport(browser, 600)
    browser.get("data:text/html;base64," + base64.b64encode(
        f'<html><body style="margin:0;background:#fff"><img id="b" width="600" height="600" '
        f'src="data:image/svg+xml;base64,{base64.b64encode(svg.encode()).decode()}"></body></html>'.encode()).decode())
    shot = Image.open(io.BytesIO(browser.find_element(By.ID, "b").screenshot_as_png)).convert("RGB")
    on_white = Image.new("RGBA", png.size, "white")
    on_white.alpha_composite(png)
    diff = ImageChops.difference(shot.resize(png.size), on_white.convert("RGB")).convert("L")
    mean = ImageStat.Stat(diff).mean[0]
    far = sum(diff.histogram()[64:]) / (png.width * png.height)
    assert mean < 6 and far < 0.03, (mean, far)  # only anti-aliasing at the edges differs
