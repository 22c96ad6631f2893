"""A course's pass policy: which source says "passed", the rule, and when to issue.

Pure domain code (pydantic v2, no Flask, no database). The instructor sets the policy;
it is stored as JSON in ``CredentialDefinition.policy``. Every source of pass evidence
(:mod:`plugin.evidence`) turns what it saw into an :class:`Observation`; :func:`evaluate`
applies the policy to it and returns a :class:`Decision` whose ``reason`` is written for
the learner ("Your course grade is 62 %; the pass mark is 70 %.").

Scores are percentages (0 to 100) everywhere in this module; sources convert what their
platform reports (Open edX: a 0..1 fraction; Moodle: raw points between a min and a max).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, InstanceOf, model_validator

from plugin.domain.i18n import N_

Source = Literal["openedx_webhook", "openedx_grades", "moodle", "ags", "gated_launch"]
Rule = Literal["course_passed", "course_grade", "assessment_grade", "completion"]
Issuance = Literal["automatic", "on_claim"]

SOURCES: tuple[str, ...] = ("openedx_webhook", "openedx_grades", "moodle", "ags", "gated_launch")
RULES: tuple[str, ...] = ("course_passed", "course_grade", "assessment_grade", "completion")

SOURCE_LABELS = {
    "openedx_webhook": N_("Open edX (course passing event, pushed by the microcred Open edX plugin)"),
    "openedx_grades": N_("Open edX grades API (pulled by the tool)"),
    "moodle": N_("Moodle web services (pulled by the tool)"),
    "ags": N_("the grade posted on this tool's own grade column (LTI Assignment and Grade Services)"),
    "gated_launch": N_("the launch itself (the platform only shows the link to learners who passed)"),
}

# Which rules each source can decide. Open edX's passing event carries is_passing and,
# from our plugin, the course grade when edx-platform knows it; the grades API gives the
# course grade and the passed flag; Moodle gives completion, the course total and every
# grade item; AGS gives only the score on the tool's own line item; a gated launch says
# only "the platform let this learner in".
SOURCE_RULES: dict[str, tuple[str, ...]] = {
    "openedx_webhook": ("course_passed", "course_grade"),
    "openedx_grades": ("course_passed", "course_grade"),
    "moodle": ("course_passed", "course_grade", "assessment_grade", "completion"),
    "ags": ("course_grade",),
    "gated_launch": ("course_passed",),
}

PUSH_SOURCES = ("openedx_webhook", "gated_launch", "ags")

GATED_LAUNCH_WARNING = N_(
    "Gated launch trusts the learning platform's access rules, not a grade. Every learner "
    "who can open this tool's link from the course is treated as having passed and will "
    "get the credential. Only enable it if the link is hidden behind a restriction that "
    "the platform itself enforces and that only a passing learner can meet (for example "
    "Moodle's \"Restrict access: grade of the final exam at least 70 %\", or an Open edX "
    "unit gated by a prerequisite with a minimum score). Anyone who can edit the course "
    "(and any platform administrator) can change that restriction, and the credential "
    "will record only that the launch happened, with no score.")


class PolicyError(ValueError):
    """The policy cannot be used as written; the message says what to change."""


class CoursePolicy(BaseModel):
    """What "passed" means for one credential definition."""

    model_config = ConfigDict(extra="forbid")

    source: Source = "openedx_webhook"
    rule: Rule = "course_passed"
    # Pass mark in percent for course_grade and assessment_grade.
    threshold: float | None = Field(default=None, ge=0, le=100)
    # The named assessment (Moodle grade item name or idnumber) for assessment_grade.
    assessment: str | None = Field(default=None, max_length=255)
    issuance: Issuance = "on_claim"
    # AGS: the tool's own line item (recorded from the instructor's launch).
    ags_lineitem: str | None = Field(default=None, max_length=1024)
    # Gated launch is dangerous: the instructor must have seen the warning.
    gated_launch_acknowledged: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> "CoursePolicy":
        allowed = SOURCE_RULES[self.source]
        if self.rule not in allowed:
            raise ValueError(
                f"the source {self.source!r} cannot decide the rule {self.rule!r}; "
                f"it can decide: {', '.join(allowed)}")
        if self.rule in ("course_grade", "assessment_grade") and self.threshold is None:
            raise ValueError(f"the rule {self.rule!r} needs a pass mark (threshold, in percent)")
        if self.rule == "assessment_grade" and not (self.assessment or "").strip():
            raise ValueError("the rule 'assessment_grade' needs the name of the assessment")
        if self.source == "gated_launch" and not self.gated_launch_acknowledged:
            raise ValueError("gated launch must be acknowledged: " + GATED_LAUNCH_WARNING)
        return self

    def describe(self) -> str:
        """One sentence for people: what the learner must do."""
        if self.rule == "course_passed":
            what = N_("pass the course")
        elif self.rule == "course_grade":
            what = N_("reach a course grade of at least %(mark)s", mark=_pct(self.threshold))
        elif self.rule == "assessment_grade":
            what = N_("reach at least %(mark)s in \u201c%(assessment)s\u201d", mark=_pct(self.threshold),
                      assessment=self.assessment)
        else:
            what = N_("complete the course")
        when = (N_("the credential is issued automatically") if self.issuance == "automatic"
                else N_("the learner then claims the credential"))
        return N_("Learners must %(what)s, as reported by %(source)s; %(when)s.",
                  what=what, source=SOURCE_LABELS[self.source], when=when)


def parse_policy(data: dict[str, Any] | None) -> CoursePolicy | None:
    """The policy stored on a definition, or ``None`` when none is set."""
    if not data:
        return None
    try:
        return CoursePolicy.model_validate(data)
    except Exception as exc:
        raise PolicyError(f"the stored pass policy is not valid: {exc}") from None


def enable_warnings(policy: CoursePolicy | dict[str, Any]) -> list[str]:
    """Plain warnings to show the instructor before saving a policy (empty when none)."""
    source = policy["source"] if isinstance(policy, dict) else policy.source
    return [GATED_LAUNCH_WARNING] if source == "gated_launch" else []


def gated_launch_warning() -> str:
    return GATED_LAUNCH_WARNING


class Observation(BaseModel):
    """What one source saw about one learner in one course, at one time."""

    source: Source
    # The platform's own verdict, when it gives one (Open edX is_passing / passed).
    passed: bool | None = None
    # Course grade in percent, and the platform's own pass mark in percent if it has one.
    score: float | None = None
    pass_mark: float | None = None
    completed: bool | None = None
    # Named assessments: name -> percent (None when the learner has no grade yet).
    assessments: dict[str, float | None] = Field(default_factory=dict)
    # Per-assessment pass marks from the platform (Moodle gradepass), in percent.
    assessment_pass_marks: dict[str, float | None] = Field(default_factory=dict)
    observed_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))
    details: dict[str, Any] = Field(default_factory=dict)


class Decision(BaseModel):
    passed: bool
    reason: InstanceOf[str]  # kept as is: a plugin.domain.i18n.Msg, which the web layer translates
    score: float | None = None
    pass_mark: float | None = None


def _pct(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:.2f}".rstrip("0").rstrip(".") + " %"


def _find_assessment(obs: Observation, name: str) -> tuple[str | None, float | None, float | None]:
    wanted = name.strip().casefold()
    for key, value in obs.assessments.items():
        if key.strip().casefold() == wanted:
            return key, value, obs.assessment_pass_marks.get(key)
    return None, None, None


def evaluate(policy: CoursePolicy, obs: Observation) -> Decision:
    """Apply the policy to what a source saw; the reason speaks to the learner."""
    label = SOURCE_LABELS[obs.source]
    if obs.source != policy.source:
        return Decision(passed=False, reason=(
            N_("This result comes from %(label)s, but this credential listens to %(expected)s.",
               label=label, expected=SOURCE_LABELS[policy.source])))
    rule = policy.rule
    if rule == "course_passed":
        if obs.passed is True:
            return Decision(passed=True, reason=N_("You passed the course."), score=obs.score, pass_mark=obs.pass_mark)
        if obs.passed is None:
            # A source without a verdict can still decide with its own pass mark.
            if obs.score is not None and obs.pass_mark is not None:
                ok = obs.score >= obs.pass_mark
                return Decision(passed=ok, score=obs.score, pass_mark=obs.pass_mark, reason=(
                    N_("You passed the course.") if ok else
                    N_("Your course grade is %(score)s; the pass mark is %(mark)s.",
                       score=_pct(obs.score), mark=_pct(obs.pass_mark))))
            return Decision(passed=False, reason=N_("Your platform has not reported whether you passed the course yet."))
        if obs.score is not None and obs.pass_mark is not None:
            reason = N_("Your course grade is %(score)s; the pass mark is %(mark)s.",
                        score=_pct(obs.score), mark=_pct(obs.pass_mark))
        elif obs.score is not None:
            reason = N_("Your course grade is %(score)s, which is not a passing grade yet.", score=_pct(obs.score))
        else:
            reason = N_("Your platform reports that you have not passed the course yet.")
        return Decision(passed=False, reason=reason, score=obs.score, pass_mark=obs.pass_mark)
    if rule == "course_grade":
        if obs.score is None:
            return Decision(passed=False, pass_mark=policy.threshold, reason=(
                N_("No course grade has been reported for you yet; the pass mark is %(mark)s.",
                   mark=_pct(policy.threshold))))
        ok = obs.score >= policy.threshold
        return Decision(passed=ok, score=obs.score, pass_mark=policy.threshold, reason=(
            N_("Your course grade is %(score)s; the pass mark is %(mark)s.",
               score=_pct(obs.score), mark=_pct(policy.threshold)) if ok else
            N_("Your course grade is %(score)s; the pass mark is %(mark)s. You need %(gap)s more.",
               score=_pct(obs.score), mark=_pct(policy.threshold), gap=_pct(policy.threshold - obs.score))))
    if rule == "assessment_grade":
        key, value, _ = _find_assessment(obs, policy.assessment or "")
        if key is None:
            return Decision(passed=False, pass_mark=policy.threshold, reason=(
                N_("The assessment \u201c%(assessment)s\u201d was not found in your grades.",
                   assessment=policy.assessment)))
        if value is None:
            return Decision(passed=False, pass_mark=policy.threshold, reason=(
                N_("\u201c%(assessment)s\u201d has not been graded yet; the pass mark is %(mark)s.",
                   assessment=key, mark=_pct(policy.threshold))))
        ok = value >= policy.threshold
        return Decision(passed=ok, score=value, pass_mark=policy.threshold, reason=(
            N_("Your grade in \u201c%(assessment)s\u201d is %(score)s; the pass mark is %(mark)s.",
               assessment=key, score=_pct(value), mark=_pct(policy.threshold))))
    # completion
    if obs.completed is True:
        return Decision(passed=True, reason=N_("You completed the course."), score=obs.score)
    missing = obs.details.get("missing_criteria") or []
    if missing:
        return Decision(passed=False, reason=N_("You have not completed the course yet. Still to do: %(todo)s.",
                                                todo=[str(m) for m in missing]))
    return Decision(passed=False, reason=N_("You have not completed the course yet."))
