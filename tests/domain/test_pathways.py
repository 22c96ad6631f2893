"""Pathway requirement trees: the evaluator against the literal definition (Hypothesis),
progress figures, conditions (ECTS, time window) and the refusals a user sees."""
from __future__ import annotations

from datetime import date, datetime, timezone
from itertools import combinations

import pytest
from hypothesis import given, settings, strategies as st

from plugin.domain.pathways import (EarnedPart, Junction, Leaf, PathwayError, check_acyclic, leaves, parse_rules,
                                    parse_tree, progress, satisfied_plain, tree_json, tree_progress)

NAMES = [f"d{i}" for i in range(6)]


def trees(max_leaves: int = 12):
    leaf = st.sampled_from(NAMES).map(Leaf)

    def extend(children):
        kids = st.lists(children, min_size=1, max_size=4).map(tuple)
        return st.one_of(
            kids.map(lambda c: Junction("all", c)),
            kids.map(lambda c: Junction("any", c)),
            kids.flatmap(lambda c: st.integers(1, len(c)).map(lambda n: Junction("at_least", c, n))))
    return st.recursive(leaf, extend, max_leaves=max_leaves)


@settings(max_examples=400, deadline=None)
@given(tree=trees(), earned=st.sets(st.sampled_from(NAMES)))
def test_progress_agrees_with_the_literal_definition(tree, earned):
    tp = tree_progress(tree, earned)
    assert (tp.remaining == 0) == satisfied_plain(tree, earned)
    assert 0 <= tp.done <= tp.needed
    # Earning every part the progress says is missing meets the tree.
    assert satisfied_plain(tree, earned | set(tp.missing))
    assert set(tp.missing) <= set(leaves(tree)) - earned


@settings(max_examples=200, deadline=None)
@given(tree=trees(), earned=st.sets(st.sampled_from(NAMES)), extra=st.sampled_from(NAMES))
def test_earning_more_never_undoes_a_met_tree(tree, earned, extra):
    if satisfied_plain(tree, earned):
        assert tree_progress(tree, earned | {extra}).remaining == 0


@settings(max_examples=200, deadline=None)
@given(tree=trees(max_leaves=8))
def test_json_form_round_trips(tree):
    assert parse_tree(tree_json(tree)) == tree


def _rules(**kw):
    data = {"name": "Data steward certificate",
            "requirements": {"all": [{"credential": "a"}, {"credential": "b"}, {"credential": "c"}]}}
    data.update(kw)
    return parse_rules(data)


def _part(name, ects=5, day=10):
    return EarnedPart(name, datetime(2026, 3, day, tzinfo=timezone.utc), ects, f"cred-{name}")


def test_progress_counts_parts_and_ects():
    p = progress(_rules(min_ects=15), [_part("a"), _part("b"), _part("z", ects=30)])
    assert (p.done, p.needed, p.missing) == (2, 3, ("c",))
    assert p.ects_earned == 10 and p.ects_required == 15  # "z" is no part of the pathway
    assert not p.satisfied
    p = progress(_rules(min_ects=15), [_part("a"), _part("b"), _part("c")])
    assert p.satisfied and p.done == 3 and p.ects_met


def test_tree_met_but_too_few_ects_is_not_satisfied():
    p = progress(_rules(min_ects=20), [_part("a"), _part("b"), _part("c")])
    assert p.tree_met and not p.ects_met and not p.satisfied


def test_parts_outside_the_window_do_not_count():
    rules = _rules(window_start="2026-03-05", window_end="2026-03-31")
    p = progress(rules, [_part("a", day=1), _part("b"), _part("c")])
    assert not p.satisfied and p.missing == ("a",)
    assert [x.definition for x in p.outside_window] == ["a"]


def test_at_least_picks_the_cheapest_branch():
    rules = parse_rules({"name": "x", "requirements": {"at_least": 2, "of": [
        {"all": [{"credential": "a"}, {"credential": "b"}]}, {"credential": "c"}, {"credential": "d"}]}})
    p = progress(rules, [_part("c")])
    assert (p.done, p.needed, p.missing) == (1, 2, ("d",))


@pytest.mark.parametrize("requirements, words", [
    ({"at_least": 3, "of": [{"credential": "a"}, {"credential": "b"}]}, "at least N of"),
    ({"all": []}, "at least one part"),
    ({"credential": "  "}, "names no credential"),
    ({"every": [{"credential": "a"}]}, "credential or a group"),
])
def test_malformed_trees_are_refused_in_words(requirements, words):
    with pytest.raises(PathwayError, match=words):
        parse_rules({"name": "x", "requirements": requirements})


def test_window_must_not_end_before_it_starts():
    with pytest.raises(PathwayError, match="ends before it starts"):
        _rules(window_start=date(2026, 5, 1).isoformat(), window_end="2026-04-01")


def test_a_pathway_cannot_require_its_own_target():
    check_acyclic("t", {"t": ["a", "b"], "b": ["c"]})
    with pytest.raises(PathwayError, match="its own credential"):
        check_acyclic("t", {"t": ["a", "b"], "b": ["t"]})


def test_brute_force_small_trees_exhaustively():
    tree = parse_tree({"any": [{"at_least": 2, "of": [{"credential": "a"}, {"credential": "b"},
                                                      {"credential": "c"}]},
                               {"all": [{"credential": "d"}, {"credential": "a"}]}]})
    for k in range(5):
        for earned in combinations("abcd", k):
            assert (tree_progress(tree, set(earned)).remaining == 0) == satisfied_plain(tree, set(earned))


def test_the_pathway_credential_definition_is_complete_from_its_parts():
    from plugin.domain.pathways import target_from_parts
    from plugin.issuance.demo_data import demo_definition
    parts = [demo_definition().model_copy(update={"title": t}) for t in ("A", "B", "C")]
    target = target_from_parts(parts, title=" Certificate ", outcomes=["", "Lead a data project"])
    assert target.missing_elements() == []
    assert (target.title, target.ects_credits, target.workload_hours) == ("Certificate", 15, 375)
    assert [lo.text for lo in target.learning_outcomes] == ["Lead a data project"]
    assert "A; B; C" in target.assessment_type
    assert target_from_parts(parts, title="x", ects=12).ects_credits == 12
