"""The whole story, over HTTP, as people click it: what ``microcred demo --headless`` runs.

sandbox platform -> the instructor launches and enables the credential -> the learner passes
(the platform records a grade; the tool's AGS bridge reads it and issues) -> the learner
launches, confirms the name and claims -> downloads every file -> an employer opens the
public verification page.

Each person is a ``requests.Session`` following the same redirects and submitting the same
HTML forms as a browser (the platform's auto-submitted id_token form included), so the
story exercises the real LTI 1.3 launch, CSRF-protected forms and pages. Two steps an
administrator and an instructor do through forms with many fields (creating the awarding
body, describing every Annex I element) use the same service calls those forms make.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
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
    platform = handle.platform
    if public == local:
        return
    with platform.lock:
        platform.tool = public
        for link in platform.links.values():
            if link.get("url", "").startswith(local):
                link["url"] = public + link["url"][len(local):]

    def tool_jwks() -> dict:
        r = requests.get(local + "/lti/jwks", timeout=10)
        r.raise_for_status()
        return r.json()
    platform.tool_jwks = tool_jwks


def lti_launch(session: requests.Session, platform_url: str, user: str, link: str = LINK) -> requests.Response:
    """Open the course link as ``user``: OIDC login, the platform's id_token form, the launch."""
    resp = _ok(session.get(f"{platform_url}/start", params={"user": user, "link": link}, timeout=30),
               f"{user} opens the link")
    form = find_form(resp, lambda f: f.attrs.get("id") == "f", f"{user}'s id_token form")
    return _ok(session.post(form.action, data=form.fields, timeout=60), f"{user}'s launch")


def launch_id(resp: requests.Response) -> str:
    values = parse_qs(urlsplit(resp.url).query).get("launch")
    if not values:
        raise StoryError(f"the launch did not land on a tool page with a launch id ({resp.url})")
    return values[0]


def run_story(handle, out_dir: Path, echo: Callable[[str], None] = print) -> dict:
    """Run every step against a started demo (:func:`plugin.sandbox.demo.start_demo`)."""
    from sqlalchemy import select

    from plugin.issuance import service as issuance
    from plugin.issuance.demo_data import DEMO_SLUG, demo_definition, demo_profile
    from plugin.storage.models import Course, CredentialDefinition, IssuedCredential, IssuerPlatform, Platform

    services, platform = handle.services, handle.platform
    tool, lms = services.settings.base_url.rstrip("/"), handle.platform_url
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary: dict = {"tool": tool, "platform": lms, "steps": []}

    def step(text: str, url: str | None = None) -> None:
        summary["steps"].append({"step": text, "url": url})
        echo(f"{len(summary['steps']):>2}. {text}" + (f"\n      {url}" if url else ""))

    # 1. The administrator's awarding body, allowed for the sandbox platform.
    with services.session() as s:
        issuer = issuance.issuer_by_slug(s, DEMO_SLUG) or issuance.create_issuer(
            s, services, DEMO_SLUG, demo_profile(), actor="admin:demo")
        platform_row = s.scalars(select(Platform).where(Platform.issuer == platform.issuer)).one()
        if not s.scalars(select(IssuerPlatform).where(IssuerPlatform.issuer_id == issuer.id,
                                                      IssuerPlatform.platform_id == platform_row.id)).first():
            s.add(IssuerPlatform(issuer_id=issuer.id, platform_id=platform_row.id))
        issuer_id, issuer_slug = issuer.id, issuer.slug
    step(f"admin: awarding body {issuer_slug} configured and allowed for the sandbox platform",
         f"{tool}/issuers/{issuer_slug}/about")

    # 2. The instructor opens the tool from the course.
    instructor = person(tool, handle.tool_url)
    home = lti_launch(instructor, lms, INSTRUCTOR)
    step("instructor launches the tool from the course (LTI 1.3)", home.url)

    # 3. The instructor describes the credential (every Annex I element) and what "passed" means:
    #    the platform's grade column, 50 % to pass, issued automatically.
    item = platform.add_line_item({"label": "Final exam", "scoreMaximum": 100, "resourceLinkId": LINK})
    with services.session() as s:
        course = s.scalars(select(Course).where(Course.platform_issuer == platform.issuer,
                                                Course.context_id == platform.course["id"])).one()
        policy = {"source": "ags", "rule": "course_grade", "threshold": 50, "issuance": "automatic",
                  "ags_lineitem": item["id"]}
        version = issuance.save_definition(s, course, demo_definition(), f"lti:{platform.issuer}|{INSTRUCTOR}",
                                           s.get(type(issuer), issuer_id), policy=policy)
        course_id, definition_id = course.id, version.definition.id
    launch = launch_id(home)
    preview = _ok(instructor.get(f"{tool}/instructor/preview", params={"launch": launch}, timeout=60),
                  "instructor previews the credential")
    step("instructor describes the credential and previews it", preview.url)

    # 4. ... and enables it.
    enable = find_form(preview, lambda f: "/instructor/enable" in f.action, "the enable button")
    _ok(instructor.post(enable.action, data=enable.fields, timeout=60), "instructor enables the credential")
    with services.session() as s:
        if not s.get(CredentialDefinition, definition_id).enabled:
            raise StoryError("the instructor pressed Enable but the credential is not enabled")
    step("instructor enables the credential", f"{tool}/instructor/?launch={launch}")

    # 5. The learner passes: the platform records 82/100; the tool's AGS bridge reads it and issues.
    platform.add_score(item["id"].rsplit("/", 1)[-1], {
        "userId": LEARNER, "scoreGiven": 82, "scoreMaximum": 100, "activityProgress": "Completed",
        "gradingProgress": "FullyGraded", "timestamp": datetime.now(timezone.utc).isoformat()})
    step("learner passes: the platform records 82/100 on the final exam", f"{lms}/")
    learner = person(tool, handle.tool_url)
    first = lti_launch(learner, lms, LEARNER)  # the learner becomes known to the tool
    # What the grade bridge's sync does for one learner, with the AGS read outside any database
    # transaction (sync_course reads inside one, which SQLite's BEGIN IMMEDIATE cannot share
    # with the AGS client's own token session).
    from plugin.evidence.lti_ags import observation_from_result, results_reader
    from plugin.issuance.auto import process_observation
    from plugin.storage.models import Learner
    with services.session() as s:
        platform_row = s.scalars(select(Platform).where(Platform.issuer == platform.issuer)).one()
        s.expunge(platform_row)
    rows = results_reader(services, platform_row).results(item["id"], user_id=LEARNER)
    row = next((r for r in rows if str(r.get("userId")) == LEARNER), None)
    if row is None:
        raise StoryError("the platform's AGS results do not show the learner's grade")
    with services.session() as s:
        outcome = process_observation(
            s, services, definition=s.get(CredentialDefinition, definition_id),
            learner=s.scalars(select(Learner).where(Learner.platform_issuer == platform.issuer,
                                                    Learner.sub == LEARNER)).one(),
            observation=observation_from_result(row, item["id"]))
    with services.session() as s:
        issued = s.scalars(select(IssuedCredential).where(IssuedCredential.definition_id == definition_id)).all()
    if len(issued) != 1:
        raise StoryError(f"the grade bridge issued {len(issued)} credentials ({outcome.reason})")
    step("the grade bridge reads 82/100 over AGS and issues the credential automatically")

    # 6. The learner claims: confirms the name, consents.
    page = _ok(learner.get(first.url, timeout=60), "learner status page")
    claim = find_form(page, lambda f: f.attrs.get("id") == "claim-form", "the claim form")
    claim.fields.update({"identify": "name", "display_name": "Grace Hopper", "consent": "y"})
    credential_page = _ok(learner.post(claim.action, data=claim.fields, timeout=60), "learner claims")
    if "/learner/credentials/" not in credential_page.url:
        raise StoryError(f"the claim did not open the credential page ({credential_page.url})")
    public_id = urlsplit(credential_page.url).path.rsplit("/", 1)[-1]
    step("learner claims the credential under the name they confirmed", credential_page.url)

    # 7. Every download.
    files = []
    for kind, ext in (("json", "json"), ("jwt", "jwt"), ("png", "png"), ("svg", "svg"), ("pdf", "pdf")):
        resp = _ok(learner.get(f"{tool}/learner/credentials/{public_id}/download/{kind}",
                               params={"launch": launch_id(first)}, timeout=60), f"download {kind}")
        path = out / f"{public_id}.{ext}"
        path.write_bytes(resp.content)
        files.append(str(path))
    from plugin.verification.resolver import documents_for
    with services.session() as s:
        doc = s.scalars(select(IssuedCredential).where(IssuedCredential.public_id == public_id)).one().document
        documents = documents_for(s, services, [doc])
    (out / "documents.json").write_text(json.dumps(documents, indent=2, ensure_ascii=False))
    files.append(str(out / "documents.json"))
    step(f"learner downloads JSON, VC-JWT, baked PNG and SVG, PDF certificate into {out} "
         "(documents.json: the issuer's DID document and status list, to verify offline)")

    # 8. An employer opens the public verification link.
    employer = person(tool, handle.tool_url)
    verification = _ok(employer.get(f"{tool}/verify/{public_id}", headers={"Accept": "application/json"},
                                    timeout=60), "public verification")
    body = verification.json()
    (out / "verification.json").write_text(json.dumps({k: v for k, v in body.items() if k != "credential"},
                                                      indent=2, ensure_ascii=False))
    if not (body.get("ok") and body.get("status") == "valid"):
        raise StoryError(f"the public verification says {body.get('status')}")
    step("employer opens the public verification page: authentic and valid", f"{tool}/verify/{public_id}")
    summary.update(credential=public_id, files=files, verification=body["status"])
    return summary
