"""The whole story, over HTTP, as people click it: what ``microcred demo --headless`` runs.

sandbox platform -> the instructor adds the tool to the course (deep linking), opens the
new link and enables the credential -> the learner opens the link -> the learner passes:
the platform sends the signed course-passing webhook (as the microcred Open edX plugin
does) and the tool issues the credential automatically -> the learner claims it under
the name they confirm -> the files -> an employer opens the public verification page.

Each person is a ``requests.Session`` following the same redirects and submitting the same
HTML forms as a browser (the platform's auto-submitted id_token and deep-linking forms
included), so the story exercises the real LTI 1.3 launches, CSRF-protected forms and
pages, and the real webhook. What an administrator and an instructor set up beforehand
through forms with many fields (the awarding body, every Annex I element of the
credential, the platform's webhook key) is :func:`plugin.sandbox.demo.prepare_demo`.
"""
from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
import requests.adapters

INSTRUCTOR = "sandbox-instructor"
LEARNER = "sandbox-learner-1"
LINK = "sandbox-link-1"


class StoryError(RuntimeError):
    """A step of the story did not go as a person would expect; the message says which."""


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    attrs: dict[str, str] = field(default_factory=dict)


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[Form] = []
        self._current: Form | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self._current = Form(a.get("action", ""), a.get("method", "get").lower(), {}, a)
            self.forms.append(self._current)
        elif self._current is not None and tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._current.fields[a["name"]] = a.get("value", "on")
            elif kind not in ("submit", "button", "file"):
                self._current.fields[a["name"]] = a.get("value", "")
        elif self._current is not None and tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self._current.fields[a["name"]] = ""

    def handle_data(self, data):
        if self._current is not None and self._textarea:
            self._current.fields[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._current = None


def forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def find_form(resp: requests.Response, predicate: Callable[[Form], bool], what: str) -> Form:
    for form in forms(resp.text):
        if predicate(form):
            form.action = urljoin(resp.url, form.action or resp.url)
            return form
    raise StoryError(f"{what}: no such form on {resp.url} (HTTP {resp.status_code})")


def not_issued_message(result: dict, *, retries: bool = True) -> str | None:
    """One line saying why a pass the tool recorded did not lead to a credential (the tool's
    webhook result ``pending`` or ``failed``), or ``None`` when it did not fail. ``retries``:
    add what happens next (the sandbox page; the headless demo stops instead)."""
    action = result.get("action")
    if action not in ("pending", "failed"):
        return None
    reason = result.get("issue_error") or "issuing failed"
    if not retries:
        return f"the pass did not lead to a credential: {reason}"
    retry = ("the tool retries automatically" if action == "pending"
             else "automatic retries have stopped; staff must fix the cause and press Retry")
    return f"the pass is recorded, but {reason} ({retry})"


def _ok(resp: requests.Response, what: str) -> requests.Response:
    if resp.status_code >= 400:
        raise StoryError(f"{what}: HTTP {resp.status_code} at {resp.url}")
    return resp


class _ToolAddress(requests.adapters.HTTPAdapter):
    """Send requests for the tool's public base URL to where the demo actually listens.

    The headless demo keeps the configured ``MICROCRED_BASE_URL`` as the tool's identity (so
    the credentials it issues verify later from the same database) while serving on a free
    loopback port; a browser behind a reverse proxy sees exactly this.
    """

    def __init__(self, public: str, local: str):
        super().__init__()
        self.public, self.local = public.rstrip("/"), local.rstrip("/")

    def send(self, request, **kwargs):
        if request.url.startswith(self.public + "/") or request.url == self.public:
            request.url = self.local + request.url[len(self.public):]
        return super().send(request, **kwargs)


def person(public_url: str, local_url: str) -> requests.Session:
    """A browser-like session that reaches the tool at its public URL."""
    session = requests.Session()
    if public_url.rstrip("/") != local_url.rstrip("/"):
        adapter = _ToolAddress(public_url, local_url)
        scheme = public_url.split(":", 1)[0] + "://"
        session.mount(scheme, adapter)
    return session


def behind_public_url(handle) -> None:
    """Make the sandbox platform address the tool by its public URL (as a real LMS does), while
    its server-to-server calls (the tool's JWKS) still reach the port the demo listens on."""
    public, local = handle.services.settings.base_url.rstrip("/"), handle.tool_url.rstrip("/")
    if public == local:
        return
    for platform in (handle.platform, getattr(handle, "second_platform", None)):
        if platform is None:
            continue
        with platform.lock:
            platform.tool = public
            platform.tool_local = local  # the tool's JWKS and the webhook: server to server
            for link in platform.links.values():
                if link.get("url", "").startswith(local):
                    link["url"] = public + link["url"][len(local):]


def lti_launch(session: requests.Session, platform_url: str, user: str, link: str = LINK,
               deep_link: bool = False) -> requests.Response:
    """Open the course link as ``user``: OIDC login, the platform's id_token form, the launch."""
    params = {"user": user, "deep_link": "1"} if deep_link else {"user": user, "link": link}
    resp = _ok(session.get(f"{platform_url}/start", params=params, timeout=30),
               f"{user} opens the link")
    form = find_form(resp, lambda f: f.attrs.get("id") == "f", f"{user}'s id_token form")
    return _ok(session.post(form.action, data=form.fields, timeout=60), f"{user}'s launch")


def pass_course(session: requests.Session, platform_url: str, user: str, expected=("issued",)) -> list[dict]:
    """The platform marks ``user`` as passing (its signed course-passing webhook); the tool's results."""
    passed = _ok(session.post(f"{platform_url}/pass", data={"user": user}, headers={"Accept": "application/json"},
                              timeout=60), "the platform marks the learner as passing")
    event = passed.json()
    response = event.get("response") or {}
    results = response.get("results") or []
    if event.get("status") != 200:
        raise StoryError(f"the tool answered the pass webhook with HTTP {event.get('status')}: "
                         f"{response.get('message') or response.get('error') or response}")
    problems = [m for m in (not_issued_message(r, retries=False) for r in results) if m]
    if problems:  # the cause, in one line (e.g. the credential could not be signed: JSON-LD context ...)
        raise StoryError(problems[0])
    if len(results) != 1 or results[0].get("action") not in expected:
        raise StoryError(f"the pass webhook did not issue the credential: {response}")
    return results


def claim(session: requests.Session, status_url: str, name: str) -> requests.Response:
    """On the status page, the learner claims under the name they confirm: the credential page."""
    page = _ok(session.get(status_url, timeout=60), "learner status page")
    form = find_form(page, lambda f: f.attrs.get("id") == "claim-form", "the claim form")
    form.fields.update({"identify": "name", "display_name": name, "consent": "y"})
    credential_page = _ok(session.post(form.action, data=form.fields, timeout=60), "learner claims")
    if "/learner/credentials/" not in credential_page.url:
        raise StoryError(f"the claim did not open the credential page ({credential_page.url})")
    return credential_page


def launch_id(resp: requests.Response) -> str:
    values = parse_qs(urlsplit(resp.url).query).get("launch")
    if not values:
        raise StoryError(f"the launch did not land on a tool page with a launch id ({resp.url})")
    return values[0]


def run_story(handle, out_dir: Path, echo: Callable[[str], None] = print) -> dict:
    """Run every step against a started demo (:func:`plugin.sandbox.demo.start_demo`)."""
    import re

    from sqlalchemy import select

    from plugin.delivery.export import write_credential_files
    from plugin.evidence.base import find_course
    from plugin.issuance import service as issuance
    from plugin.issuance.demo_data import DEMO_SLUG
    from plugin.storage.models import IssuedCredential
    from plugin.verification.resolver import documents_for

    services, platform = handle.services, handle.platform
    tool, lms = services.settings.base_url.rstrip("/"), handle.platform_url
    out = Path(out_dir)
    summary: dict = {"tool": tool, "platform": lms, "steps": []}

    def step(text: str, url: str | None = None) -> None:
        local = handle.tool_url.rstrip("/")
        if url and url.startswith(local + "/"):  # the address people see: the tool's public URL
            url = tool + url[len(local):]
        summary["steps"].append({"step": text, "url": url})
        echo(f"{len(summary['steps']):>2}. {text}" + (f"\n      {url}" if url else ""))

    step(f"admin: awarding body {DEMO_SLUG} allowed for the sandbox platform; the platform's webhook key "
         "registered as its Open edX bridge key", f"{tool}/issuers/{DEMO_SLUG}/about")

    # 1. The instructor adds the tool to the course (deep linking): a new link, validated by the platform.
    instructor = person(tool, handle.tool_url)
    select_page = lti_launch(instructor, lms, INSTRUCTOR, deep_link=True)
    add = find_form(select_page, lambda f: "/lti/deep-link/respond" in f.action, "the 'Add to course' button")
    returned = _ok(instructor.post(add.action, data=add.fields, timeout=60), "instructor adds the tool")
    to_platform = find_form(returned, lambda f: "JWT" in f.fields, "the deep-linking response")
    added = _ok(instructor.post(to_platform.action, data=to_platform.fields, timeout=60),
                "the platform saves the new link")
    found = re.search(r"link=(sandbox-link-[0-9a-f]+)", added.text)
    if not found:
        raise StoryError("the platform did not show the link the tool added")
    link = found.group(1)
    step("instructor adds the tool to the course (LTI deep linking)", select_page.url)

    # 2. The instructor opens the new link, reviews the prefilled credential and enables it.
    home = lti_launch(instructor, lms, INSTRUCTOR, link)
    launch = launch_id(home)
    preview = _ok(instructor.get(f"{tool}/instructor/preview", params={"launch": launch}, timeout=60),
                  "instructor previews the credential")
    enable = find_form(preview, lambda f: "/instructor/enable" in f.action, "the enable button")
    _ok(instructor.post(enable.action, data=enable.fields, timeout=60), "instructor enables the credential")
    with services.session() as s:
        course = find_course(s, platform.issuer, platform.course["id"])
        definition = issuance.definition_for_course(s, course) if course else None
        if definition is None or not definition.enabled:
            raise StoryError("the instructor pressed Enable but the credential is not enabled")
        definition_id = definition.id
    step("instructor opens the link, previews the credential and enables it", preview.url)

    # 3. The learner opens the link: not passed yet.
    learner = person(tool, handle.tool_url)
    first = lti_launch(learner, lms, LEARNER, link)
    step("learner opens the link from the course", first.url)

    # 3b. The pathway's course on the second sandbox platform (its own issuer, keys and port): the
    # learner opens it there, passes (that platform's signed webhook: the tool issues the credential),
    # claims it, and links that account to her account on the first platform (her own action).
    pathway_info = (getattr(handle, "prepared", None) or {}).get("pathway")
    second_lms = getattr(handle, "second_platform_url", None)
    if pathway_info and second_lms:
        from plugin.sandbox.pathway_demo import PATHWAY_NAME, link_accounts
        second_user = pathway_info["second_learner"]
        elsewhere = lti_launch(learner, second_lms, second_user, "sandbox-link-1")
        step(f"learner opens her course \"{handle.second_platform.course['title']}\" on the second sandbox platform "
             f"(issuer {handle.second_platform.issuer})", f"{second_lms}/start?user={second_user}&link=sandbox-link-1")
        pass_course(learner, second_lms, second_user, expected=("issued", "already_issued"))
        step("learner passes there: the second platform sends its own signed course-passing webhook and the tool "
             "issues that credential", f"{second_lms}/")
        held_there = claim(learner, elsewhere.url, "Grace Hopper")
        linked = link_accounts(services, learner, held_there, lti_launch, lms, link, pathway_info)
        step(f"learner claims it, then links that account to her account on the first sandbox platform ({linked}): "
             f"the pathway \"{PATHWAY_NAME}\" now counts it, and one from another sandbox course",
             f"{tool}/pathways/{pathway_info['pathway_public_id']}")

    # 4. The learner passes: the platform sends the signed course-passing webhook; the tool issues.
    pass_course(learner, lms, LEARNER)
    with services.session() as s:
        issued = s.scalars(select(IssuedCredential).where(IssuedCredential.definition_id == definition_id)).all()
    if len(issued) != 1:
        raise StoryError(f"the pass webhook issued {len(issued)} credentials")
    step("learner passes (82 %): the platform sends the signed course-passing webhook and the tool issues "
         "the credential automatically", f"{lms}/")
    pathway_row = None
    if pathway_info:
        from plugin.issuance import pathways as pathway_engine
        with services.session() as s:
            learner_row = s.scalars(select(IssuedCredential.learner_id).where(
                IssuedCredential.definition_id == definition_id)).one()
            pathway_row = issuance.current_credential(s, pathway_info["pathway_definition_id"],
                                                      pathway_engine.primary_of(s, learner_row))
            if pathway_row is None:
                raise StoryError("the third part was issued but the pathway credential was not awarded")
            pathway_public_id = pathway_row.public_id

    # 5. The learner claims: confirms the name to appear, consents.
    credential_page = claim(learner, first.url, "Grace Hopper")
    public_id = urlsplit(credential_page.url).path.rsplit("/", 1)[-1]
    if public_id != issued[0].public_id:  # the platform's name was confirmed: nothing is re-issued
        raise StoryError("claiming under the platform's name issued a second credential")
    step("learner claims the credential under the name they confirmed", credential_page.url)

    # 6. The files: JSON (Data Integrity), VC-JWT, baked PNG and SVG, and documents.json to verify offline.
    with services.session() as s:
        row = s.scalars(select(IssuedCredential).where(IssuedCredential.public_id == public_id)).one()
        files = [str(p) for p in write_credential_files(out, [row], documents_for(s, services, [row.document]))]
        from plugin.issuance.edc import write_edc_files
        files += [str(p) for p in write_edc_files(s, services, out, [row])]
    if pathway_row is not None:
        # The learner downloads her learner record from her credential page (CLR 2.0: every
        # credential of both accounts, the pathway's parts related to it, signed).
        found = re.search(r'id="dl-clr" href="([^"]+)"', credential_page.text)
        if not found:
            raise StoryError("the credential page offers no learner record to download")
        download = _ok(learner.get(urljoin(credential_page.url, html.unescape(found.group(1))), timeout=60),
                       "learner downloads her learner record")
        try:
            record = download.json()
        except ValueError:
            raise StoryError("the learner record download is not JSON") from None
        with services.session() as s:
            prow = s.scalars(select(IssuedCredential).where(IssuedCredential.public_id == pathway_public_id)).one()
            held = (record.get("credentialSubject") or {}).get("verifiableCredential") or []
            documents = documents_for(s, services, [prow.document, record, *held])
            files += [str(p) for p in write_credential_files(out / "pathway", [prow], documents)]
        record_file = out / "pathway" / "learner-record.json"
        record_file.write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")
        files.append(str(record_file))
    step(f"the credential's files in {out} (JSON, VC-JWT, baked PNG and SVG; documents.json: the issuer's "
         "DID document and status list, to verify offline; the European Digital Credential, bare and sealed, "
         "and the demo seal's trust anchor)")

    # 7. An employer opens the public verification link.
    employer = person(tool, handle.tool_url)
    verification = _ok(employer.get(f"{tool}/verify/{public_id}", headers={"Accept": "application/json"},
                                    timeout=60), "public verification")
    body = verification.json()
    if not (body.get("ok") and body.get("status") == "valid"):
        raise StoryError(f"the public verification says {body.get('status')}")
    step("employer opens the public verification page: authentic and valid", f"{tool}/verify/{public_id}")

    # 8. A wallet shows the badge picture the credential names (achievement.image).
    achievement = ((body.get("credential") or {}).get("credentialSubject") or {}).get("achievement") or {}
    picture_url = (achievement.get("image") or {}).get("id")
    if not picture_url:
        raise StoryError("the credential names no badge picture (achievement.image)")
    picture = _ok(employer.get(picture_url, timeout=60), "the badge picture")
    if picture.headers.get("Content-Type") != "image/png" or not picture.content.startswith(b"\x89PNG"):
        raise StoryError(f"the badge picture at {picture_url} is not a PNG image")
    step("a wallet shows the badge picture the credential names (achievement.image)", picture_url)
    if pathway_row is not None:
        step(f"the third part completed the pathway: the tool awarded its credential at the same moment, citing the "
             f"three parts (ids and SHA-256 digests); its files in {out / 'pathway'}, with the learner record "
             "(CLR 2.0) she downloaded: learner-record.json", f"{tool}/verify/{pathway_public_id}")
    summary.update(credential=public_id, files=files, verification=body["status"], link=link,
                   pathway_credential=pathway_row and pathway_public_id)
    return summary
