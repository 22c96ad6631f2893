"""Fast RDFC-1.0 canonical N-Quads for documents that share a shape (what the issuer signs).

Why this exists: pyld is the canonicalizer (its output is the reference, and the
tests compare with it), but it re-processes the OB 3.0 type-scoped contexts and
re-expands the whole document for every credential: ~85% of a signature's time.
Credentials of one definition differ only in their string values, so:

1. **Shape template.** Every string value of the document (except ``@context`` and
   ``type``) is replaced by a unique absolute-IRI placeholder; the result (the
   *shape*) is expanded by pyld once, with the safety checks of
   :func:`plugin.signing.data_integrity.expand_checked`, and turned into RDF quads
   once. Each placeholder lands either in a literal (its datatype and language come
   from the context, never from the value) or in an IRI position.
2. **Substitution.** For a new document of the same shape the real strings are put
   back: literals are escaped exactly as pyld does; a value in an IRI position must
   be an absolute IRI that pyld would leave unchanged (scheme not a context term, no
   ``_:``), otherwise the document takes the plain pyld path.
3. **Canonical labels.** RDFC-1.0 issues blank-node labels in the order of their
   first-degree hashes; when every hash is unique (the "simple" case, which is every
   credential we compose) this is done here on pre-serialised strings; any tie falls
   back to pyld's full URDNA2015 (n-degree hashing), given the RDF dataset itself (the
   template's pyld terms with the real values put back), never N-Quads text: pyld's
   N-Quads parser unescapes ``\\n`` as a backslash and a newline, which signed
   ``C:\\new folder`` as something other verifiers do not read.

``tests/signing/test_fastcanon.py`` checks byte equality with ``jsonld.normalize`` on
generated credentials, ties and shape changes included. No library offers this:
pyld has no template API, and pyoxigraph labels blank nodes differently from the
JavaScript reference on some credentials (brief §4).
"""
from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import OrderedDict
from typing import Any

from pyld import jsonld
from pyld.canon import URDNA2015
from pyld.nquads import escape

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
PLACEHOLDER = "urn:x-microcred-ph:"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FORBIDDEN_IRI = set('<>"{}|^`\\ \t\n\r')


_NEEDS_ESCAPE = re.compile(r'[\\\t\n\r"]')


def _escape(value: str) -> str:
    """pyld's N-Quads literal escaping, skipped when nothing needs it."""
    return escape(value) if _NEEDS_ESCAPE.search(value) else value


class NotTemplatable(Exception):
    """This document (or value) must take the plain pyld path."""


# --------------------------------------------------------------------------- shape
def _skeleton(node: Any, values: list[str], top: bool = True) -> Any:
    if isinstance(node, str):
        if _CONTROL.search(node):
            raise NotTemplatable("control character")  # the plain path names it
        values.append(node)
        return PLACEHOLDER + str(len(values) - 1)
    if isinstance(node, list):
        return [_skeleton(x, values, False) for x in node]
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k == "@context":
                if not top:
                    raise NotTemplatable("nested @context")
                out[k] = v
            elif k in ("type", "@type"):
                out[k] = v
            else:
                out[k] = _skeleton(v, values, False)
        return out
    return node  # numbers, booleans, null: part of the shape


def _context_terms(contexts: Any, store) -> frozenset[str]:
    terms: set[str] = set()

    def walk(c):
        if isinstance(c, str):
            walk(store.get(c).get("@context", {}))
        elif isinstance(c, list):
            for x in c:
                walk(x)
        elif isinstance(c, dict):
            for k, v in c.items():
                if not k.startswith("@"):
                    terms.add(k)
                if isinstance(v, dict) and "@context" in v:
                    walk(v["@context"])
    walk(contexts)
    return frozenset(terms)


class _Template:
    """Quads of a shape: each component is a constant string or a placeholder index.

    ``first_degree`` holds, for each blank node, the lines of its first-degree hash input
    (RDFC-1.0 4.6), where everything but a substituted value is fixed by the shape: a
    constant line, or ``(quad index, position, prefix, suffix)``.
    """
    __slots__ = ("quads", "terms_rdf", "iri_slots", "terms", "first_degree", "bnode_positions", "iri_memo",
                 "lit_memo", "fd_specs", "const_lines")

    def __init__(self, quads, iri_slots, terms, terms_rdf=None):
        self.quads = quads          # list of (s, p, o) where each is str | ("iri", i) | ("lit", i, suffix)
        self.terms_rdf = terms_rdf  # the same quads as pyld's term dicts (placeholders in "value")
        self.iri_slots = iri_slots  # placeholder indexes used as IRIs
        self.terms = terms
        self.iri_memo: dict[str, bool] = {}  # value -> usable as an IRI here
        self.lit_memo: dict[str, str] = {}   # value -> its quoted, escaped literal
        self.first_degree: dict[str, list] | None = {}
        self.bnode_positions = [(isinstance(q[0], str) and q[0].startswith("_:"),
                                 isinstance(q[2], str) and q[2].startswith("_:")) for q in quads]
        for i, ((s, p, o), (sb, ob)) in enumerate(zip(quads, self.bnode_positions)):
            if sb and ob and s == o:
                self.first_degree = None  # self-reference: leave it to pyld
                return
            for b, is_s in ((s, True), (o, False)):
                if not (sb if is_s else ob):
                    continue
                other, other_is_bnode = (o, ob) if is_s else (s, sb)
                if other_is_bnode:
                    line = f"_:a {p} _:z .\n" if is_s else f"_:z {p} _:a .\n"
                    spec: Any = line
                elif type(other) is str:
                    spec = f"_:a {p} {other} .\n" if is_s else f"{other} {p} _:a .\n"
                else:
                    spec = (i, 2, f"_:a {p} ", " .\n") if is_s else (i, 0, "", f" {p} _:a .\n")
                self.first_degree.setdefault(b, []).append(spec)
        self._prepare()

    def _prepare(self) -> None:
        """Split each blank node's hash input into its constant lines (hashed once, when it has
        no substituted line) and the substituted ones, and keep the lines of the quads without
        a blank node or a value (the same in every document of this shape)."""
        self.fd_specs = []
        for b, specs in (self.first_degree or {}).items():
            const = [x for x in specs if type(x) is str]
            var = tuple(x for x in specs if type(x) is not str)
            fixed = None if var else hashlib.sha256("".join(sorted(const)).encode("utf-8")).hexdigest()
            self.fd_specs.append((b, fixed, const, var, {}))
        self.const_lines = [f"{s} {p} {o} .\n" if type(s) is str and type(o) is str and not sb and not ob else None
                            for (s, p, o), (sb, ob) in zip(self.quads, self.bnode_positions)]

    def canonical(self, quads: list[tuple[str, str, str]]) -> str | None:
        """RDFC-1.0 of the substituted quads (same order as ``self.quads``); ``None`` on a tie.

        A blank node's first-degree hash is a function of its substituted lines only: it is
        remembered per blank node, keyed by those values (a batch's credentials share most)."""
        if self.first_degree is None:
            return None
        sha256 = hashlib.sha256
        by_hash: dict[str, str] = {}
        for b, fixed, const, var, memo in self.fd_specs:
            if fixed is not None:
                h = fixed
            else:
                key = tuple([quads[x[0]][x[1]] for x in var])
                h = memo.get(key)
                if h is None:
                    lines = const + [x[2] + quads[x[0]][x[1]] + x[3] for x in var]
                    lines.sort()
                    h = sha256("".join(lines).encode("utf-8")).hexdigest()
                    if len(memo) > _MEMO_MAX:
                        memo.clear()
                    memo[key] = h
            if h in by_hash:
                return None
            by_hash[h] = b
        labels = {b: f"_:c14n{i}" for i, (_, b) in enumerate(sorted(by_hash.items()))}
        out = []
        append = out.append
        for (s, p, o), (sb, ob), line in zip(quads, self.bnode_positions, self.const_lines):
            if line is None:
                line = f"{labels[s] if sb else s} {p} {labels[o] if ob else o} .\n"
            append(line)
        out.sort()
        return "".join(out)


def _term(component: dict) -> Any:
    kind, value = component["type"], component["value"]
    if kind == "IRI":
        if value.startswith(PLACEHOLDER):
            return ("iri", int(value[len(PLACEHOLDER):]))
        if PLACEHOLDER in value:
            raise NotTemplatable("placeholder inside an IRI")
        return "<" + value + ">"
    if kind == "blank node":
        return value
    dt = component.get("datatype")
    if dt == RDF_LANGSTRING:
        suffix = "@" + component["language"] if component.get("language") else ""
    elif dt != XSD_STRING:
        suffix = "^^<" + dt + ">"
    else:
        suffix = ""
    if value.startswith(PLACEHOLDER) and value[len(PLACEHOLDER):].isdigit():
        return ("lit", int(value[len(PLACEHOLDER):]), suffix)
    if PLACEHOLDER in value:
        raise NotTemplatable("placeholder inside a literal")
    return '"' + escape(value) + '"' + suffix


def build_template(skeleton: dict, n_values: int, expanded: list, store) -> _Template:
    from plugin.signing.data_integrity import _dataset
    dataset = _dataset(expanded)
    quads = []
    terms_rdf = []
    iri_slots: set[int] = set()
    lit_slots: set[int] = set()
    for graph_name, triples in dataset.items():
        if graph_name != "@default":
            raise NotTemplatable("named graphs")
        for t in triples:
            s, p, o = _term(t["subject"]), _term(t["predicate"]), _term(t["object"])
            if not isinstance(p, str):
                raise NotTemplatable("placeholder as a predicate")
            for c in (s, o):
                if isinstance(c, tuple):
                    (iri_slots if c[0] == "iri" else lit_slots).add(c[1])
            quads.append((s, p, o))
            terms_rdf.append((t["subject"], t["predicate"], t["object"]))
    if iri_slots & lit_slots:
        raise NotTemplatable("a value is both a literal and an IRI")
    # Values that vanish in expansion (e.g. under @json or null-mapped terms) are not supported.
    if len(iri_slots | lit_slots) != n_values:
        raise NotTemplatable("some values do not reach the RDF dataset")
    return _Template(quads, frozenset(iri_slots), _context_terms(skeleton.get("@context"), store), terms_rdf)


# --------------------------------------------------------------------------- canonical labels
def canonical_simple(quads: list[tuple[str, str, str]]) -> str | None:
    """RDFC-1.0 when every blank node has a unique first-degree hash; ``None`` on a tie."""
    mentions: dict[str, list] = {}
    for q in quads:
        if q[0] == q[2] and q[0].startswith("_:"):
            return None  # a blank node that refers to itself: leave it to pyld
        for c in (q[0], q[2]):
            if c.startswith("_:"):
                lst = mentions.setdefault(c, [])
                if not lst or lst[-1] is not q:
                    lst.append(q)
    hashes: dict[str, str] = {}
    for b, qs in mentions.items():
        lines = []
        for q in qs:
            s = q[0] if not q[0].startswith("_:") else ("_:a" if q[0] == b else "_:z")
            o = q[2] if not q[2].startswith("_:") else ("_:a" if q[2] == b else "_:z")
            lines.append(f"{s} {q[1]} {o} .\n")
        lines.sort()
        h = hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()
        if h in hashes:
            return None
        hashes[h] = b
    labels = {b: f"_:c14n{i}" for i, (_, b) in enumerate(sorted(hashes.items()))}
    out = []
    for s, p, o in quads:
        if s.startswith("_:"):
            s = labels[s]
        if o.startswith("_:"):
            o = labels[o]
        out.append(f"{s} {p} {o} .\n")
    out.sort()
    return "".join(out)


def _filled(term: dict, spec: Any, values: list[str]) -> dict:
    """pyld's term dict with the placeholder's real value (constants as they are)."""
    if type(spec) is str:
        return dict(term)
    return {**term, "value": values[spec[1]]}


def canonical_from_template(template: _Template, quads: list[tuple[str, str, str]], values: list[str]) -> str:
    """RDFC-1.0 of the substituted template, for any blank-node structure.

    ``quads`` are the serialised quads in template order. Quads that serialise alike are
    one quad (pyld merges nodes that two placeholders named the same). The simple labelling
    is tried first; on a tie, pyld's URDNA2015 runs on the RDF dataset built from the
    template's terms, so no value is ever re-parsed from N-Quads text.
    """
    unique: dict[tuple[str, str, str], int] = {}
    for i, q in enumerate(quads):
        unique.setdefault(q, i)
    result = canonical_simple(list(unique))
    if result is not None:
        return result
    triples = []
    for q, i in unique.items():
        (ts, tp, to), (ss, so) = template.terms_rdf[i], (template.quads[i][0], template.quads[i][2])
        triples.append({"subject": _filled(ts, ss, values), "predicate": dict(tp),
                        "object": _filled(to, so, values)})
    return URDNA2015().main({"@default": triples}, {"format": "application/n-quads"})


# --------------------------------------------------------------------------- shape key
_CTX = object()  # marks an @context / type value in a shape key (never equal to a JSON value)
_SCALARS = (int, float, bool, type(None))


def _shape_key(node: Any, values: list[str], key: list, top: bool = True) -> None:
    """Collect the string values of ``node`` (in :func:`_skeleton`'s order) and a key that
    identifies its skeleton: a dict adds the tuple of its member names, a list its length, a
    string ``None``, a number/boolean/null ``(its type, its repr)``, an ``@context`` or
    ``type`` value ``(_CTX, repr)``. Each token kind has a distinct Python type, and ``repr``
    is injective on JSON values, so two documents share a key only if they share a skeleton
    (the skeleton itself, a JSON dump of a copy, is built only for a new key)."""
    t = type(node)
    if t is str:
        values.append(node)
        key.append(None)
    elif t is dict:
        key.append(tuple(node))
        for k, v in node.items():
            if k == "@context":
                if not top:
                    raise NotTemplatable("nested @context")
                key.append((_CTX, repr(v)))
            elif k == "type" or k == "@type":
                key.append((_CTX, repr(v)))
            else:
                _shape_key(v, values, key, False)
    elif t is list:
        key.append(len(node))
        for x in node:
            _shape_key(x, values, key, False)
    elif t in _SCALARS:
        key.append((t, repr(node)))  # repr: 0.0 == -0.0 in Python, not in N-Quads
    else:
        raise NotTemplatable("not a JSON value")  # json.dumps would refuse it: the plain path


_MEMO_MAX = 8192  # values remembered per template (the same achievement text recurs in a batch)


# --------------------------------------------------------------------------- cache
class TemplateCache:
    def __init__(self, maxsize: int = 256):
        self.maxsize = maxsize
        self._items: OrderedDict[str, _Template | None] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def canonicalize(self, document: dict, store, expand_checked) -> str | None:
        """Canonical N-Quads via the shape template, or ``None`` when the plain path must be used.

        Raises what ``expand_checked`` raises (undefined terms, relative IRIs...) for a new shape.
        """
        values: list[str] = []
        shape: list = []
        try:
            _shape_key(document, values, shape)
            if values and _CONTROL.search("".join(values)):
                return None  # the plain path names the control character
            key = tuple(shape)
            hash(key)
        except (NotTemplatable, TypeError, ValueError, RecursionError):
            return None
        with self._lock:
            template = self._items.get(key)
            found = key in self._items
            if found:
                self._items.move_to_end(key)
        if not found:
            self.misses += 1
            skeleton_values: list[str] = []
            try:
                skeleton = _skeleton(document, skeleton_values)
                json.dumps(skeleton, separators=(",", ":"), ensure_ascii=False)
            except (NotTemplatable, TypeError, ValueError):
                return None
            if skeleton_values != values:  # cannot happen (same walk); never sign on a doubt
                return None
            expanded = expand_checked(skeleton, store)
            try:
                template = build_template(skeleton, len(values), expanded, store)
            except NotTemplatable:
                template = None
            with self._lock:
                self._items[key] = template
                if len(self._items) > self.maxsize:
                    self._items.popitem(last=False)
        else:
            self.hits += 1
        if template is None:
            return None
        # Each value's N-Quads form is a pure function of the value (and, for an IRI, of the
        # template's context terms): remembered per template, so the achievement, issuer and
        # context values that recur in every credential of a batch are checked and escaped once.
        iri_memo, lit_memo = template.iri_memo, template.lit_memo
        if len(iri_memo) > _MEMO_MAX:
            iri_memo.clear()
        if len(lit_memo) > _MEMO_MAX:
            lit_memo.clear()
        terms = template.terms
        for i in template.iri_slots:
            v = values[i]
            ok = iri_memo.get(v)
            if ok is None:
                scheme, sep, rest = v.partition(":")
                ok = not (not sep or scheme == "_" or (scheme in terms and not rest.startswith("//"))
                          or not jsonld._is_absolute_iri(v) or _FORBIDDEN_IRI.intersection(v))
                iri_memo[v] = ok
            if not ok:
                return None
        quads = []
        append = quads.append
        for s, p, o in template.quads:
            if type(s) is not str:
                s = "<" + values[s[1]] + ">"
            if type(o) is not str:
                if o[0] == "iri":
                    o = "<" + values[o[1]] + ">"
                else:
                    v = values[o[1]]
                    lit = lit_memo.get(v)
                    if lit is None:
                        lit = lit_memo[v] = '"' + _escape(v) + '"'
                    o = lit + o[2]
            append((s, p, o))
        if len(set(quads)) == len(quads):
            result = template.canonical(quads)
            if result is not None:
                return result
        # Two placeholders stood for the same node (pyld merges it: drop the duplicate quads),
        # or blank nodes tie: the generic path.
        return canonical_from_template(template, quads, values)
