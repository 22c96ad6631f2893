"""Pathways: a larger credential earned by stacking smaller ones (pure domain, no Flask).

A pathway names a **target** credential (a full Annex I definition of its own, issued by the
engine like any other) and a **requirement tree** over credential definitions (their public
ids), built from junctions in the manner of Badgr's open pathways:

* ``{"credential": "<definition public id>"}``: a leaf, met when the learner holds a
  current credential of that definition;
* ``{"all": [...]}``: every child met;
* ``{"any": [...]}``: at least one child met;
* ``{"at_least": N, "of": [...]}``: at least N children met.

On top of the tree, optionally: a minimum total of ECTS credits over the distinct parts the
learner holds, and a time window (only parts issued within ``[window_start, window_end]``
count). A pathway is versioned like a definition: every save makes a new immutable
:class:`PathwayRules` version.

:func:`progress` is the evaluator the tool uses: besides *whether* the tree is met, it says how
far the learner is along the cheapest way to meet it ("2 of 3 done") and which parts are
left on that way. :func:`satisfied_plain` is the definition read literally (used by the
property-based tests as the oracle).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Iterable, Mapping

from pydantic import BaseModel, Field, ValidationError

from plugin.domain.i18n import N_

MAX_DEPTH = 6
MAX_LEAVES = 200


class PathwayError(ValueError):
    """The pathway cannot be saved as given; the message says why in plain words."""


# --------------------------------------------------------------------------- the tree
@dataclass(frozen=True)
class Leaf:
    definition: str


@dataclass(frozen=True)
class Junction:
    kind: str  # all | any | at_least
    children: tuple["Node", ...]
    n: int = 0  # at_least only

    @property
    def needed(self) -> int:
        """How many children must be met."""
        if self.kind == "all":
            return len(self.children)
        if self.kind == "any":
            return 1
        return self.n


Node = Leaf | Junction


def parse_tree(data: Any, *, depth: int = 0) -> Node:
    """The tree from its JSON form; :class:`PathwayError` with a readable message otherwise."""
    if depth > MAX_DEPTH:
        raise PathwayError(N_("the requirements are nested too deeply (at most %(n)s levels)", n=MAX_DEPTH))
    if not isinstance(data, Mapping):
        raise PathwayError(N_("each requirement must be a credential or a group (all, any, at least N)"))
    if "credential" in data:
        ref = data["credential"]
        if not isinstance(ref, str) or not ref.strip():
            raise PathwayError(N_("a requirement names no credential"))
        return Leaf(ref.strip())
    for kind in ("all", "any"):
        if kind in data:
            return Junction(kind, _children(data[kind], depth))
    if "at_least" in data:
        children = _children(data.get("of"), depth)
        n = data["at_least"]
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= len(children):
            raise PathwayError(N_("“at least N of” needs N between 1 and the number of its parts (%(count)s)",
                                  count=len(children)))
        return Junction("at_least", children, n)
    raise PathwayError(N_("each requirement must be a credential or a group (all, any, at least N)"))


def _children(items: Any, depth: int) -> tuple[Node, ...]:
    if not isinstance(items, list) or not items:
        raise PathwayError(N_("a group of requirements must contain at least one part"))
    return tuple(parse_tree(item, depth=depth + 1) for item in items)


def tree_json(node: Node) -> dict[str, Any]:
    if isinstance(node, Leaf):
        return {"credential": node.definition}
    children = [tree_json(c) for c in node.children]
    if node.kind == "at_least":
        return {"at_least": node.n, "of": children}
    return {node.kind: children}


def leaves(node: Node) -> list[str]:
    """Every definition the tree names, in order, without repeats."""
    out: list[str] = []

    def walk(n: Node) -> None:
        if isinstance(n, Leaf):
            if n.definition not in out:
                out.append(n.definition)
        else:
            for c in n.children:
                walk(c)
    walk(node)
    return out


# --------------------------------------------------------------------------- evaluation
def satisfied_plain(node: Node, earned: set[str]) -> bool:
    """The junction logic read literally (the oracle of the property-based tests)."""
    if isinstance(node, Leaf):
        return node.definition in earned
    met = [satisfied_plain(c, earned) for c in node.children]
    if node.kind == "all":
        return all(met)
    if node.kind == "any":
        return any(met)
    return sum(met) >= node.n


@dataclass(frozen=True)
class TreeProgress:
    """Along the cheapest way to meet a (sub)tree: how many parts it takes, how many the
    learner has, and the parts still missing on that way."""
    needed: int
    done: int
    missing: tuple[str, ...]

    @property
    def remaining(self) -> int:
        return self.needed - self.done


def tree_progress(node: Node, earned: set[str]) -> TreeProgress:
    """Cheapest completion of ``node`` given the ``earned`` definitions.

    A leaf needs 1 (done when earned); ``all`` adds its children; ``any`` and ``at least N``
    take the N children with the fewest parts left (ties: the most already done, then the
    order given). A missing part shared by two branches is counted in each, so ``needed``
    is an upper bound when branches repeat a credential; ``remaining == 0`` exactly when the
    tree is met."""
    if isinstance(node, Leaf):
        has = node.definition in earned
        return TreeProgress(1, 1 if has else 0, () if has else (node.definition,))
    parts = [tree_progress(c, earned) for c in node.children]
    if node.kind != "all":
        order = sorted(range(len(parts)), key=lambda i: (parts[i].remaining, -parts[i].done, i))
        parts = [parts[i] for i in sorted(order[:node.needed])]
    missing: list[str] = []
    for p in parts:
        missing += [m for m in p.missing if m not in missing]
    return TreeProgress(sum(p.needed for p in parts), sum(p.done for p in parts), tuple(missing))


@dataclass(frozen=True)
class EarnedPart:
    """A credential the learner holds that may count towards a pathway."""
    definition: str
    issued_at: datetime
    ects: float | None = None
    credential: str = ""  # the credential's public id


class PathwayRules(BaseModel):
    """One version of a pathway: its requirement tree and conditions (stored as JSON)."""
    name: str = Field(min_length=1, max_length=255)
    requirements: dict[str, Any]
    min_ects: float | None = Field(default=None, gt=0, le=600)
    window_start: date | None = None
    window_end: date | None = None
    # Awarding bodies (issuer slugs) besides the pathway's own whose credentials may count.
    accepted_issuers: list[str] = Field(default_factory=list)

    @property
    def tree(self) -> Node:
        return parse_tree(self.requirements)

    def parts(self) -> list[str]:
        return leaves(self.tree)

    def in_window(self, when: datetime) -> bool:
        day = (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).astimezone(timezone.utc).date()
        if self.window_start and day < self.window_start:
            return False
        if self.window_end and day > self.window_end:
            return False
        return True

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "PathwayRules":
        return cls.model_validate(data)


def parse_rules(data: Mapping[str, Any]) -> PathwayRules:
    """Validate a pathway version (from a form, a file or the database); :class:`PathwayError`
    with one readable sentence when it cannot be saved."""
    try:
        rules = PathwayRules.model_validate(dict(data))
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err.get("loc", ())) or "pathway"
        raise PathwayError(N_("%(field)s: %(problem)s", field=where, problem=err.get("msg", ""))) from None
    tree = parse_tree(rules.requirements)
    if len(leaves(tree)) > MAX_LEAVES:
        raise PathwayError(N_("a pathway may name at most %(n)s credentials", n=MAX_LEAVES))
    if rules.window_start and rules.window_end and rules.window_end < rules.window_start:
        raise PathwayError(N_("the time window ends before it starts"))
    rules.name = rules.name.strip()
    rules.accepted_issuers = sorted({s.strip().lower() for s in rules.accepted_issuers if s.strip()})
    rules.requirements = tree_json(tree)
    return rules


@dataclass(frozen=True)
class Progress:
    """Where a learner stands on a pathway ("2 of 3 done, 10 of 15 ECTS")."""
    satisfied: bool
    tree_met: bool
    done: int
    needed: int
    missing: tuple[str, ...]
    ects_earned: float
    ects_required: float | None
    counted: tuple[EarnedPart, ...] = field(default=())  # the parts that count (in the window)
    outside_window: tuple[EarnedPart, ...] = field(default=())

    @property
    def ects_met(self) -> bool:
        return self.ects_required is None or self.ects_earned + 1e-9 >= self.ects_required


def progress(rules: PathwayRules, earned: Iterable[EarnedPart]) -> Progress:
    """Evaluate a pathway for a learner's credentials (only the pathway's parts matter)."""
    names = set(rules.parts())
    counted: dict[str, EarnedPart] = {}
    outside: list[EarnedPart] = []
    for part in sorted(earned, key=lambda p: (p.issued_at, p.credential)):
        if part.definition not in names:
            continue
        if not rules.in_window(part.issued_at):
            outside.append(part)
            continue
        counted.setdefault(part.definition, part)  # the earliest credential of each definition
    tp = tree_progress(rules.tree, set(counted))
    ects = sum(p.ects or 0 for p in counted.values())
    tree_met = tp.remaining == 0
    ects_ok = rules.min_ects is None or ects + 1e-9 >= rules.min_ects
    return Progress(satisfied=tree_met and ects_ok, tree_met=tree_met, done=tp.done, needed=tp.needed,
                    missing=tp.missing, ects_earned=ects, ects_required=rules.min_ects,
                    counted=tuple(counted.values()), outside_window=tuple(outside))


def check_acyclic(target: str, parts_of: Mapping[str, Iterable[str]]) -> None:
    """Refuse a pathway whose target would (transitively) be one of its own parts.

    ``parts_of`` maps each pathway's target definition to the definitions its tree names,
    the new pathway included."""
    stack, seen = list(parts_of.get(target, ())), set()
    while stack:
        d = stack.pop()
        if d == target:
            raise PathwayError(N_("a pathway cannot require its own credential, even through another pathway"))
        if d in seen:
            continue
        seen.add(d)
        stack.extend(parts_of.get(d, ()))


def target_from_parts(parts: list[Any], *, title: str, description: str = "", outcomes: list[str] | None = None,
                      eqf_level: int | None = None, ects: float | None = None, quality_assurance: str = "") -> Any:
    """The pathway credential's Annex I definition, what an admin does not type taken from its
    parts (``DefinitionData`` of each part, in the pathway's order): workload and credits
    add up (unless ``ects`` is given), the outcomes are the parts' unless ``outcomes`` are
    typed, languages are the parts' together, and the way of assessing says the parts are
    each assessed. The admin edits the result like any definition."""
    from plugin.domain.definition import DefinitionData, LearningOutcome
    first = parts[0] if parts else DefinitionData()
    texts = [o.strip() for o in (outcomes or []) if o.strip()]
    if texts:
        learning = [LearningOutcome(text=t) for t in texts]
    else:
        learning, seen = [], set()
        for p in parts:
            for lo in p.learning_outcomes:
                if lo.text not in seen:
                    seen.add(lo.text)
                    learning.append(lo)
    hours = sum(p.workload_hours or 0 for p in parts) or None
    credits = ects if ects is not None else (sum(p.ects_credits or 0 for p in parts) or None)
    languages: list[str] = []
    for p in parts:
        languages += [c for c in p.languages if c not in languages]
    names = "; ".join(p.title for p in parts)
    return DefinitionData(
        title=title.strip(), description=description.strip(), learning_outcomes=learning,
        workload_hours=hours, ects_credits=credits,
        eqf_level=eqf_level if eqf_level else first.eqf_level, eqf_not_applicable=first.eqf_not_applicable and not eqf_level,
        qf_ehea_cycle=first.qf_ehea_cycle,
        assessment_type=f"Each part assessed separately: {names}"[:1000],
        participation=first.participation, quality_assurance=(quality_assurance or first.quality_assurance)[:2000],
        supervision=first.supervision, grading_scheme="Pass (every required part passed)", pass_mark="",
        stackability="stackable", stackable_towards=first.stackable_towards, languages=languages,
        field_of_study=first.field_of_study, field_of_study_label=first.field_of_study_label,
        criteria=f"Earn the credentials this pathway requires: {names}."[:5000])
