"""The instructor's definition form: every Annex I element, the pass policy, the issuer, the labels.

The form only collects; the domain models decide: :class:`DefinitionData` (Annex I),
:class:`CoursePolicy` (what "passed" means) and the label profiles. Their errors are
put back next to the field they concern, so nothing is saved until all of them agree.
"""
from __future__ import annotations

import json
from functools import lru_cache

from babel.numbers import NumberFormatError, format_decimal, parse_decimal
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from pydantic import ValidationError as PydanticError
from wtforms import (BooleanField, Field, FieldList, Form, FormField, HiddenField, IntegerField, SelectField,
                     SelectMultipleField, StringField, TextAreaField)
from wtforms.validators import NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget, TextInput

from plugin.domain import assessment_methods, nqf
from plugin.domain import policy as pol
from plugin.domain import vocab
from plugin.domain.definition import DefinitionData
from plugin.paths import DATA_DIR

# Type of assessment: the EU's "Assessment type" list (plugin.domain.assessment_methods; the select's
# value is the concept URI, the definition stores its English label, which the credential shows), then
# microcred's own choices (ASSESSMENT_TYPES, stored as their English wording), which say what the EU
# list does not: whether the assessment is summative (labels such as GRADEO require it), plus details.
ASSESSMENT_TYPES = {
    "summative-proctored-exam": ("Summative: proctored final exam", _l("Summative: proctored final exam")),
    "summative-online-exam": ("Summative: online final exam", _l("Summative: online final exam")),
    "summative-project": ("Summative: project or assignment graded by the teaching team",
                          _l("Summative: project or assignment graded by the teaching team")),
    "summative-continuous": ("Summative: continuous assessment (graded quizzes and assignments)",
                             _l("Summative: continuous assessment (graded quizzes and assignments)")),
    "summative-peer": ("Summative: peer-graded assignments", _l("Summative: peer-graded assignments")),
    "formative": ("Formative: quizzes and exercises without a final grade",
                  _l("Formative: quizzes and exercises without a final grade")),
    "completion": ("Completion of the learning activities, without assessment",
                   _l("Completion of the learning activities, without assessment")),
}
DETAILS_SEPARATOR = assessment_methods.DETAILS_SEPARATOR
# Any other wording (an older definition, an import, the API) is kept whole as "other": the
# select says so and the details field holds the text, so a save gives back what was stored.
OTHER_ASSESSMENT = "other"

PARTICIPATION = [("online", _l("Online")), ("onsite", _l("Onsite (in person)")), ("blended", _l("Blended (online and onsite)"))]
SUPERVISION = [
    ("unsupervised-no-id", _l("Unsupervised, with no identity verification")),
    ("supervised-no-id", _l("Supervised, with no identity verification")),
    ("supervised-online-id", _l("Supervised online, with identity verification")),
    ("supervised-onsite-id", _l("Supervised onsite, with identity verification")),
]
STACKABILITY = [
    ("stand-alone", _l("Stand-alone: not part of another credential")),
    ("integrated", _l("Integrated into another credential")),
    ("stackable", _l("Stackable towards another credential")),
]
CYCLES = [("short", _l("Short cycle")), ("first", _l("First cycle (Bachelor)")),
          ("second", _l("Second cycle (Master)")), ("third", _l("Third cycle (Doctorate)"))]
EQF = [(str(n), _l("EQF level %(n)s", n=n)) for n in range(1, 9)] + [("na", _l("No EQF level applies"))]

SOURCES = [
    ("openedx_webhook", _l("Open edX tells the tool when a learner passes the course (microcred plugin installed)")),
    ("openedx_grades", _l("The tool reads the course grades from Open edX's grades API")),
    ("moodle", _l("The tool reads completion and grades from Moodle's web services")),
    ("ags", _l("The grade on this tool's own column in the gradebook (LTI Assignment and Grade Services)")),
    ("gated_launch", _l("Gated launch: the platform only shows the tool's link to learners who passed")),
]
RULES = [
    ("course_passed", _l("The platform says the learner passed the course")),
    ("course_grade", _l("The course grade reaches the pass mark")),
    ("assessment_grade", _l("The grade of one named assessment reaches the pass mark")),
    ("completion", _l("The learner completed the course")),
]
ISSUANCE = [("automatic", _l("Automatically, as soon as the learner passes")),
            ("on_claim", _l("When the learner claims it (they accept what the credential will show)"))]



def language_choices(locale: str) -> list[tuple[str, str]]:
    """Every language a definition may name (plugin/data/language-codes.json), in the
    reader's language (Unicode CLDR): the 24 official EU languages first, then the others."""
    from babel import Locale
    try:
        names = Locale.parse(locale.replace("-", "_")).languages
    except (ValueError, TypeError):
        names = Locale("en").languages

    def name(code):
        n = names.get(code) or vocab.LANGUAGES[code][1]
        return n[:1].upper() + n[1:]
    eu = sorted(vocab.EU_LANGUAGES, key=lambda c: name(c).casefold())
    rest = sorted((c for c in vocab.LANGUAGES if c not in vocab.EU_LANGUAGES), key=lambda c: name(c).casefold())
    return [(c, name(c)) for c in eu + rest]


@lru_cache(maxsize=1)
def isced_fields() -> list[dict]:
    return json.loads((DATA_DIR / "isced_f.json").read_text(encoding="utf-8"))["fields"]


def isced_choices(locale: str) -> list[tuple[str, str]]:
    """Every ISCED-F 2013 field, broad (2 digits), narrow (3) and detailed (4), indented by level."""
    out = [("", _l("Choose a field of study"))]
    for f in isced_fields():
        indent = "\u2003" * (len(f["code"]) - 2)
        out.append((f["code"], f"{indent}{f['code']} {f.get(locale) or f.get(locale[:2]) or f['en']}"))
    return out


def keep_stored_choice(field, value, label) -> None:
    """A stored value the list does not know (an older vocabulary, an import) stays selectable,
    so showing and saving the form never drops it."""
    if value and value not in {str(c[0]) for c in field.choices}:
        field.choices = list(field.choices) + [(value, label)]


def isced_label(code: str | None) -> str:
    for f in isced_fields():
        if f["code"] == code:
            return f["en"]
    return ""


def _locale() -> str:
    return str(get_locale() or "en")


class MaxLength:
    """At most ``max`` characters, said with the count when exceeded. Unlike WTForms' ``Length`` it
    sets no HTML ``maxlength``: browsers silently cut pasted text at it (6,000 characters became
    5,000 without a word). The field shows a character counter instead (``charlimit`` flag)."""

    def __init__(self, max: int):
        self.max = max
        self.field_flags = {"charlimit": max}

    def __call__(self, form, field):
        length = len(field.data or "")
        if length > self.max:
            from flask_babel import gettext
            raise ValidationError(gettext("At most %(max)s characters: this text has %(length)s (%(over)s too many).",
                                          max=self.max, length=length, over=length - self.max))


# Numbers are typed in text inputs with a numeric keyboard on phones (GOV.UK Design System:
# type=number rounds, scrolls and rejects "4,5"); the unit is written after the input.
DECIMAL_INPUT = {"inputmode": "decimal", "autocomplete": "off", "spellcheck": "false"}
INTEGER_INPUT = {"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"}


class LocalizedDecimalField(Field):
    """A number typed the way the learner's locale writes it ("4,5" in French), shown the same way."""
    widget = TextInput()

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        return format_decimal(self.data, locale=_locale(), group_separator=False)

    def process_formdata(self, valuelist):
        self.data = None
        if valuelist and valuelist[0].strip():
            text = valuelist[0].strip().replace("\u202f", "").replace("\u00a0", "").replace(" ", "")
            try:
                self.data = float(parse_decimal(text, locale=_locale(), strict=False))
            except (NumberFormatError, ValueError):
                from flask_babel import gettext
                raise ValueError(gettext("Not a valid number.")) from None


class OutcomeForm(Form):
    text = TextAreaField(_l("Learning outcome"), validators=[Optional(), MaxLength(2000)],
                         render_kw={"rows": 2})
    esco_uri = StringField(_l("ESCO skill (optional)"), validators=[Optional(), MaxLength(512)],
                           description=_l("The skill's ESCO address, e.g. http://data.europa.eu/esco/skill/…"))


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class DefinitionForm(FlaskForm):
    launch = HiddenField()
    # -- what learners earn
    title = StringField(_l("Title"), validators=[MaxLength(255)],
                        description=_l("The name of the micro-credential, as learners and employers will read it."))
    description = TextAreaField(_l("Short description"), validators=[Optional(), MaxLength(5000)],
                                description=_l("One or two sentences on what this credential certifies."))
    learning_outcomes = FieldList(FormField(OutcomeForm), min_entries=1, max_entries=50)
    criteria = TextAreaField(_l("How learners earn it"), validators=[Optional(), MaxLength(5000)],
                             description=_l("In plain words, e.g. “Pass the final exam with at least 70 %”."))
    # -- level and workload
    workload_hours = LocalizedDecimalField(_l("Workload"), validators=[Optional(), NumberRange(min=0.5, max=10000)],
                                           render_kw=DECIMAL_INPUT,
                                           description=_l("The notional study time a typical learner needs, in hours."))
    ects_credits = LocalizedDecimalField(_l("ECTS credits"), validators=[Optional(), NumberRange(min=0.5, max=300)],
                                         render_kw=DECIMAL_INPUT,
                                         description=_l("One ECTS credit is 25 to 30 hours of study. Leave empty if the course awards no credit."))
    eqf_level = SelectField(_l("EQF level"), choices=[("", _l("Choose a level"))] + EQF,
                            description=_l("The European Qualifications Framework level: 5 is short-cycle higher education, 6 Bachelor, 7 Master."))
    qf_ehea_cycle = SelectField(_l("QF-EHEA cycle (higher education only)"),
                                choices=[("", _l("Not applicable"))] + CYCLES)
    # default "": a client that does not send them (older scripts, a page without them) means "none"
    nqf_framework = SelectField(_l("National qualifications framework (optional)"), choices=[], default="",
                                description=_l("Only if the credential has a level in your country's framework, "
                                               "e.g. a certification registered in France's RNCP."))
    nqf_level = SelectField(_l("Level in the national framework"), choices=[], default="",
                            description=_l("The level the certification is registered at; each level matches the EQF level of the same number."))
    field_of_study = SelectField(_l("Field of study (ISCED-F)"), choices=[])
    languages = SelectMultipleField(_l("Language(s) of the course and assessment"), choices=[],
                                    render_kw={"size": 8},
                                    description=_l("Choose one or more languages (Ctrl or Cmd + click to choose several)."))
    # -- assessment
    assessment_kind = SelectField(_l("Type of assessment"), choices=[],
                                  description=_l("First the European Union's list of assessment types (Europass), then ours, "
                                                 "which say whether the assessment is summative (it counts towards the result) "
                                                 "or formative. Say more in the details below, e.g. whether it is proctored."))
    assessment_details = StringField(_l("Assessment details (optional)"), validators=[Optional(), MaxLength(1000)],
                                     description=_l("e.g. “2-hour exam, 40 multiple-choice questions”."))
    participation = SelectField(_l("Form of participation"), choices=[("", _l("Choose"))] + PARTICIPATION)
    supervision = SelectField(_l("Supervision and identity verification during the assessment"),
                              choices=[("", _l("Not stated"))] + SUPERVISION,
                              description=_l("Was the assessment watched, and was the learner's identity checked?"))
    grading_scheme = StringField(_l("Grading scheme (optional)"), validators=[Optional(), MaxLength(1000)],
                                 description=_l("e.g. “Percentage, 0 to 100”."))
    # One pass mark: the policy's (in percent) when passing is decided by a grade, otherwise this text.
    pass_mark = StringField(_l("Pass mark shown on the credential (optional)"), validators=[Optional(), MaxLength(255)],
                            description=_l("e.g. “50/100” or “Grade C”."))
    # -- quality and context
    quality_assurance = TextAreaField(_l("Type of quality assurance"), validators=[Optional(), MaxLength(2000)],
                                      description=_l("How the quality of this course and its assessment is assured, e.g. “Reviewed by the faculty's pedagogical board”."))
    prerequisites = TextAreaField(_l("Prerequisites (optional)"), validators=[Optional(), MaxLength(2000)])
    stackability = SelectField(_l("Integration and stackability (optional)"), choices=[("", _l("Not stated"))] + STACKABILITY)
    stackable_towards = StringField(_l("Stacks towards or is integrated into"), validators=[Optional(), MaxLength(1000)],
                                    description=_l("The larger credential, e.g. “Master in Data Science, University of Lille”."))
    validity_months = IntegerField(_l("Validity (optional)"), validators=[Optional(), NumberRange(min=1, max=1200)],
                                   widget=TextInput(), render_kw=INTEGER_INPUT,
                                   description=_l("Leave empty if the credential does not expire."))
    further_information = TextAreaField(_l("Further information (optional)"), validators=[Optional(), MaxLength(5000)])
    further_information_url = StringField(_l("Link to more information (optional)"), validators=[Optional(), MaxLength(1024)])
    # -- awarding body
    issuer = SelectField(_l("Awarding body"), choices=[], coerce=str,
                         description=_l("The institution whose name and signature the credential carries. "
                                        "Your platform administrator chooses which ones you may use."))
    # -- pass policy
    policy_source = SelectField(_l("Who tells the tool that a learner passed"), choices=SOURCES)
    policy_rule = SelectField(_l("What counts as passing"), choices=RULES)
    policy_threshold = LocalizedDecimalField(_l("Pass mark"), validators=[Optional(), NumberRange(min=0, max=100)],
                                             render_kw=DECIMAL_INPUT,
                                             description=_l("In percent of the maximum grade; it is also the pass mark the credential states."))
    policy_assessment = StringField(_l("Name of the assessment"), validators=[Optional(), MaxLength(255)],
                                    description=_l("For “one named assessment”: its name or ID number in the gradebook."))
    policy_issuance = SelectField(_l("When the credential is issued"), choices=ISSUANCE)
    policy_gated_ack = BooleanField(_l("I have read the warning about gated launch and the link is restricted to learners who passed"))
    # -- labels
    labels = MultiCheckboxField(_l("Labels this credential claims"), choices=[], validate_choice=False,
                                description=_l("The tool checks the credential against each label's rules before it can be enabled."))

    _stored_isced_label = ""
    nqf_applies = False
    _stored_languages: list[str] = []
    _stored_pass_mark = ""
    _stored_threshold = None

    def setup(self, *, issuers, profiles, locale: str, stored: DefinitionData | None = None,
              stored_policy: dict | None = None):
        """Choices in the reader's language; ``stored`` (the saved definition) keeps its values selectable."""
        self.issuer.choices = [("", _l("Choose the awarding body"))] + [(str(i.id), i.name) for i in issuers]
        self.field_of_study.choices = isced_choices(locale)
        self.languages.choices = language_choices(locale)
        self.assessment_kind.choices = assessment_choices(locale)
        self.nqf_framework.choices = [("", _l("None"))] + [(f.key, f.name(locale)) for f in nqf.frameworks().values()]
        self.nqf_level.choices = [("", _l("Choose a level"))] + nqf_level_choices(locale)
        countries = {((getattr(i, "profile", None) or {}).get("country_code") or "").upper() for i in issuers}
        # the national framework fields only where one applies: an awarding body of a country that has
        # one, or a definition that already gives one
        self.nqf_applies = bool(countries & {f.country for f in nqf.frameworks().values()}) or \
            bool(stored is not None and stored.nqf_framework)
        # each source names the rules it can decide (the page disables the others)
        self.policy_source.choices = [(key, label, {"data-rules": " ".join(pol.SOURCE_RULES[key])}) for key, label in SOURCES]
        self._stored_languages = list(stored.languages) if stored is not None else []
        self._stored_pass_mark = stored.pass_mark if stored is not None else ""
        self._stored_threshold = (stored_policy or {}).get("threshold")
        if stored is not None and stored.field_of_study:
            self._stored_isced_label = stored.field_of_study_label
            keep_stored_choice(self.field_of_study, stored.field_of_study,
                               f"{stored.field_of_study} {stored.field_of_study_label}".strip())
        self.labels.choices = [(p.id, p.display_name(locale)) for p in profiles.values()]
        return self

    # ------------------------------------------------------------------ conversion
    def fill(self, data: DefinitionData, policy: dict, issuer_id, labels: list[str]) -> None:
        self.title.data, self.description.data, self.criteria.data = data.title, data.description, data.criteria
        while len(self.learning_outcomes.entries):
            self.learning_outcomes.pop_entry()
        for lo in data.learning_outcomes or []:
            self.learning_outcomes.append_entry({"text": lo.text, "esco_uri": lo.esco_uri or ""})
        if not self.learning_outcomes.entries:
            self.learning_outcomes.append_entry()
        self.workload_hours.data, self.ects_credits.data = data.workload_hours, data.ects_credits
        self.eqf_level.data = "na" if data.eqf_not_applicable else (str(data.eqf_level) if data.eqf_level else "")
        self.qf_ehea_cycle.data = data.qf_ehea_cycle or ""
        self.nqf_framework.data = data.nqf_framework or ""
        self.nqf_level.data = str(data.nqf_level) if data.nqf_level else ""
        self.field_of_study.data = data.field_of_study or ""
        self.languages.data = list(data.languages)
        kind, details = split_assessment(data.assessment_type)
        self.assessment_kind.data, self.assessment_details.data = kind, details
        self.participation.data = data.participation or ""
        self.supervision.data = data.supervision or ""
        self.grading_scheme.data, self.pass_mark.data = data.grading_scheme, data.pass_mark
        self.quality_assurance.data, self.prerequisites.data = data.quality_assurance, data.prerequisites
        self.stackability.data, self.stackable_towards.data = data.stackability or "", data.stackable_towards
        self.validity_months.data = data.validity_months
        self.further_information.data = data.further_information
        self.further_information_url.data = data.further_information_url or ""
        self.issuer.data = str(issuer_id) if issuer_id else ""
        p = policy or {}
        self.policy_source.data = p.get("source", "openedx_webhook")
        self.policy_rule.data = p.get("rule", "course_passed")
        self.policy_threshold.data = p.get("threshold")
        self.policy_assessment.data = p.get("assessment") or ""
        self.policy_issuance.data = p.get("issuance", "on_claim")
        self.policy_gated_ack.data = bool(p.get("gated_launch_acknowledged"))
        self.labels.data = list(labels or [])

    def _pass_mark(self) -> str:
        """One pass mark: when a grade decides, the policy's threshold is the one the credential states
        (a stored wording of the same mark, such as "50/100", is kept); otherwise the typed text."""
        text = (self.pass_mark.data or "").strip()
        threshold = self.policy_threshold.data
        if self.policy_rule.data not in GRADE_RULES or threshold is None:
            return text
        if text != (self._stored_pass_mark or ""):
            return text or f"{threshold:g}%"  # typed by the person (the field shows when scripts are off)
        stored = self._stored_threshold
        if text and stored is not None and float(stored) == threshold:
            return text
        return f"{threshold:g}%"

    def error_list(self) -> list[tuple[str | None, str]]:
        """Every bad field as (id of its input, "Label: message"), in the page's order (the error summary)."""
        out = []
        for name in PAGE_ORDER:
            field = getattr(self, name)
            if name == "learning_outcomes":
                for i, entry in enumerate(field.entries):
                    for sub in entry.form:
                        if sub.errors:
                            out.append((sub.id, f"{sub.label.text} {i + 1}: {' '.join(sub.errors)}"))
                continue
            if field.errors:
                target = f"{field.id}-0" if isinstance(field, MultiCheckboxField) else field.id
                out.append((target, f"{field.label.text}: {' '.join(str(e) for e in field.errors)}"))
        if self.csrf_token.errors if hasattr(self, "csrf_token") else False:
            out.append((None, " ".join(self.csrf_token.errors)))
        return out

    def place_missing(self, missing: list[tuple[str, str]]) -> None:
        """Missing Annex I elements (:meth:`DefinitionData.missing_by_element`, translated) on their fields."""
        for element, message in missing:
            if element == "learning_outcomes":
                self.learning_outcomes.entries[0].form.text.errors.append(message)
            else:
                self._place((element,), message, [])

    def _languages_in_stored_order(self) -> list[str]:
        """A multiple choice comes back in the list's order: keep the order the definition had."""
        chosen = list(self.languages.data or [])
        return [c for c in self._stored_languages if c in chosen] + [c for c in chosen if c not in self._stored_languages]

    def outcome_rows(self) -> list[dict]:
        return [{"text": (e.form.text.data or "").strip(), "esco_uri": (e.form.esco_uri.data or "").strip() or None}
                for e in self.learning_outcomes.entries]

    def to_domain(self) -> tuple[DefinitionData | None, pol.CoursePolicy | None]:
        """Build the domain objects; their errors go next to the fields. (None, None) if any failed."""
        raw, outcome_index = self.raw_definition()
        data = policy = None
        nqf_missing = bool(raw["nqf_framework"]) and raw["nqf_level"] is None
        if nqf_missing and not self.nqf_level.errors:
            from flask_babel import gettext
            self.nqf_level.errors.append(gettext("Choose the level in the national framework, or “None” as the framework."))
        try:
            data = DefinitionData.model_validate(raw)
        except PydanticError as exc:
            for err in exc.errors():
                self._place(err["loc"], _clean(err["msg"]), outcome_index)
        policy_raw = {"source": self.policy_source.data, "rule": self.policy_rule.data,
                      "threshold": self.policy_threshold.data,
                      "assessment": (self.policy_assessment.data or "").strip() or None,
                      "issuance": self.policy_issuance.data,
                      "gated_launch_acknowledged": bool(self.policy_gated_ack.data)}
        try:
            policy = pol.CoursePolicy.model_validate(policy_raw)
        except PydanticError as exc:
            for err in exc.errors():
                self._place_policy(err, policy_raw)
        if data is None or policy is None or nqf_missing:
            return None, None
        return data, policy

    def raw_definition(self) -> tuple[dict, list[int]]:
        """What the form says, as :class:`DefinitionData` fields (not validated), and for each
        outcome sent, its row in the form (empty rows are dropped)."""
        outcome_index = []
        outcomes = []
        for i, row in enumerate(self.outcome_rows()):
            if row["text"] or row["esco_uri"]:
                outcome_index.append(i)
                outcomes.append(row)
        kind = self.assessment_kind.data or ""
        if kind in assessment_methods.methods():
            assessment = assessment_methods.english(kind)
        else:
            assessment = ASSESSMENT_TYPES[kind][0] if kind in ASSESSMENT_TYPES else ""  # "other": the details alone
        if self.assessment_details.data and self.assessment_details.data.strip():
            assessment = (assessment + DETAILS_SEPARATOR if assessment else "") + self.assessment_details.data.strip()
        raw = {
            "title": (self.title.data or "").strip(), "description": (self.description.data or "").strip(),
            "learning_outcomes": outcomes, "criteria": (self.criteria.data or "").strip(),
            "workload_hours": self.workload_hours.data, "ects_credits": self.ects_credits.data,
            "eqf_level": int(self.eqf_level.data) if (self.eqf_level.data or "").isdigit() else None,
            "eqf_not_applicable": self.eqf_level.data == "na",
            "qf_ehea_cycle": self.qf_ehea_cycle.data or None,
            "nqf_framework": (self.nqf_framework.data or None) if self.nqf_applies else None,
            "nqf_level": (int(self.nqf_level.data) if (self.nqf_level.data or "").isdigit() and self.nqf_framework.data
                          and self.nqf_applies else None),
            "field_of_study": self.field_of_study.data or None,
            "field_of_study_label": isced_label(self.field_of_study.data) or self._stored_isced_label,
            "languages": self._languages_in_stored_order(),
            "assessment_type": assessment,
            "participation": self.participation.data or None, "supervision": self.supervision.data or None,
            "grading_scheme": (self.grading_scheme.data or "").strip(), "pass_mark": self._pass_mark(),
            "quality_assurance": (self.quality_assurance.data or "").strip(),
            "prerequisites": (self.prerequisites.data or "").strip(),
            "stackability": self.stackability.data or None,
            "stackable_towards": (self.stackable_towards.data or "").strip(),
            "validity_months": self.validity_months.data,
            "further_information": (self.further_information.data or "").strip(),
            "further_information_url": (self.further_information_url.data or "").strip() or None,
        }
        return raw, outcome_index

    def _place(self, loc, message, outcome_index):
        name = loc[0] if loc else ""
        if name == "learning_outcomes" and len(loc) >= 2 and isinstance(loc[1], int):
            row = outcome_index[loc[1]] if loc[1] < len(outcome_index) else 0
            sub = loc[2] if len(loc) > 2 else "text"
            getattr(self.learning_outcomes.entries[row].form, sub).errors.append(message)
            return
        target = {"eqf_not_applicable": "eqf_level", "assessment_type": "assessment_kind",
                  "field_of_study_label": "field_of_study"}.get(name, name)
        field = getattr(self, target, None) if target else None
        if field is not None and field.errors:
            return  # the form's own check already said what is wrong with this field
        (field.errors if field is not None else self.form_errors).append(message)

    def _place_policy(self, err, raw):
        message = _clean(err["msg"])
        loc = err["loc"]
        if loc:
            field = getattr(self, "policy_" + {"gated_launch_acknowledged": "gated_ack"}.get(loc[0], loc[0]),
                            self.policy_source)
            if not field.errors:
                field.errors.append(message)
            return
        # model-level rules of CoursePolicy: attach to the field the sentence is about
        if "gated launch" in message:
            self.policy_gated_ack.errors.append(message)
        elif "pass mark" in message:
            self.policy_threshold.errors.append(message)
        elif "name of the assessment" in message:
            self.policy_assessment.errors.append(message)
        else:
            self.policy_rule.errors.append(message)


GRADE_RULES = ("course_grade", "assessment_grade")
# The fields in the order the page shows them (the error summary lists them so).
PAGE_ORDER = ("title", "description", "learning_outcomes", "criteria", "workload_hours", "ects_credits", "eqf_level",
              "qf_ehea_cycle", "nqf_framework", "nqf_level", "field_of_study", "languages", "assessment_kind", "assessment_details", "participation",
              "supervision", "grading_scheme", "quality_assurance", "prerequisites", "stackability",
              "stackable_towards", "validity_months", "further_information", "further_information_url", "issuer",
              "policy_source", "policy_gated_ack", "policy_rule", "policy_threshold", "pass_mark",
              "policy_assessment", "policy_issuance", "labels")


def _clean(msg: str) -> str:
    """Pydantic prefixes custom messages with "Value error, "; people do not need it."""
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            return msg[len(prefix):]
    return msg


def split_assessment(text: str) -> tuple[str, str]:
    """The stored assessment wording back into (controlled choice, details); any other wording is
    ("other", the whole text), which :meth:`DefinitionForm.to_domain` turns back into the same text."""
    text = text or ""
    uri, details = assessment_methods.split(text)
    if uri is not None:
        return uri, details
    for key, (english, _label) in ASSESSMENT_TYPES.items():
        if text == english:
            return key, ""
        if text.startswith(english + DETAILS_SEPARATOR):
            return key, text[len(english) + len(DETAILS_SEPARATOR):]
    return (OTHER_ASSESSMENT if text.strip() else ""), text


def assessment_shown(text: str) -> str:
    """The stored assessment wording in the reader's language (the controlled part translated)."""
    kind, details = split_assessment(text)
    if kind in assessment_methods.methods():
        return assessment_methods.label(kind, _locale()) + (DETAILS_SEPARATOR + details if details else "")
    if kind in ASSESSMENT_TYPES:
        return str(ASSESSMENT_TYPES[kind][1]) + (DETAILS_SEPARATOR + details if details else "")
    return text or ""


def assessment_choices(locale: str) -> list:
    """The EU's assessment types in the reader's language (alphabetical), then microcred's summative
    and formative ones, then "other"."""
    eu = sorted(((uri, assessment_methods.label(uri, locale)) for uri in assessment_methods.methods()),
                key=lambda c: c[1].casefold())
    ours = [(k, v[1]) for k, v in ASSESSMENT_TYPES.items()]
    return [("", _l("Choose a type"))] + eu + ours + [(OTHER_ASSESSMENT, _l("Other: described in the details below"))]


def nqf_level_choices(locale: str) -> list[tuple[str, str]]:
    """Every level of the national frameworks, in plain words: "Level 6 — e.g. licence, BUT — EQF level 6"."""
    from flask_babel import gettext
    out = []
    for f in nqf.frameworks().values():
        for n, lv in f.levels.items():
            text = gettext("Level %(n)s", n=n)
            if lv.hint(locale):
                text += " — " + lv.hint(locale)
            if lv.eqf:
                text += " — " + gettext("EQF level %(n)s", n=lv.eqf)
            out.append((str(n), text))
    return out


def nqf_shown(data: DefinitionData) -> str:
    """The national framework level in the reader's language, '' when none."""
    level = data.nqf
    if level is None:
        return ""
    return level.label(_locale())
