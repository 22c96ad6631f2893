"""A credential for people: its Annex I elements grouped as the Recommendation reads them,
and its description (Markdown) as safe HTML. Pure code, no Flask; used by the learner's
page, the public verification page and the PDF transcript.
"""
from __future__ import annotations

from dataclasses import dataclass

from plugin.delivery.present import CredentialSummary, Descriptor


def _l(s: str) -> str:
    return s


# After the learner, title, awarding body, country and date (Annex I 1-5, shown first on
# every page): what was learnt (6), how much and at what level, how it was assessed and
# assured (7-11), then the optional elements (12-16) and what else the credential states.
GROUPS = [
    ("learning", _l("What the learner can do"), ("learning_outcomes", "skills")),
    ("level", _l("Workload, level and assessment"),
     ("workload", "level", "assessment", "participation", "supervision", "grade", "pass_mark")),
    ("quality", _l("Quality assurance"), ("quality_assurance",)),
    ("more", _l("Prerequisites and what comes next"),
     ("prerequisites", "stackability", "further_information", "valid_until", "field_of_study", "language")),
]
SHOWN_FIRST = ("learner", "title", "country", "awarding_body", "issued")
TECHNICAL = ("credential_id",)
ANNEX_MARKER = "## Micro-credential (EU Council Recommendation"


@dataclass
class Group:
    key: str
    title: str
    items: list[Descriptor]


def annex_groups(summary: CredentialSummary, gettext=lambda s: s) -> list[Group]:
    """The present descriptors, grouped; an empty optional element is left out, and an
    issuer's own extra terms come last."""
    groups = []
    placed = set(SHOWN_FIRST) | set(TECHNICAL)
    for key, title, keys in GROUPS:
        items = [d for k in keys if (d := summary.get(k)) is not None and d.present]
        placed |= set(keys)
        if items:
            groups.append(Group(key, gettext(title), items))
    extra = [d for d in summary.descriptors if d.key not in placed and d.present]
    if extra:
        if groups and groups[-1].key == "more":
            groups[-1].items.extend(extra)
        else:
            groups.append(Group("more", gettext(GROUPS[-1][1]), extra))
    return groups


def missing_mandatory(summary: CredentialSummary) -> list[Descriptor]:
    """Mandatory Annex I elements the credential does not state (a foreign or forged file)."""
    return [d for d in summary.descriptors if d.mandatory and not d.present]


def course_description(description: str) -> str:
    """The course's own description: without the Annex I block our credentials append in
    English for wallets that show only ``description`` (every page lists those elements,
    translated)."""
    text = description or ""
    cut = text.find(ANNEX_MARKER)
    return (text[:cut] if cut >= 0 else text).strip()


def _markdown():
    from markdown_it import MarkdownIt
    # CommonMark without raw HTML (written out as text), links only to safe schemes
    # (markdown-it refuses javascript:, vbscript:, file: and data: other than images).
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).disable("image")


def markdown_html(text: str) -> str:
    """``text`` (Markdown from an issuer or a credential) as HTML that is safe to show."""
    return _markdown().render(text or "")
