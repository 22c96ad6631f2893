"""Check a European Digital Credential against the Commission's SHACL shapes (pyshacl).

The shapes and the ontology ship in the package (``plugin/data/elm/``, sources and
licences in ``SOURCES.md`` there) and are refused when a file does not match its pinned
SHA-256 (``pins.json``). One run validates against both application profiles at once:
``edc-generic-no-cv`` (mandatory properties, cardinalities, classes) and
``edc-generic-full`` (which EU list each coded value comes from, and which imports the
first), with ``ELM.ttl`` for the class hierarchy.

The document becomes RDF through the pinned JSON-LD contexts, with the signer's checks
(:func:`plugin.signing.data_integrity.expand_checked`): a term no context defines would
be silently dropped, so it is reported instead.

Each failure is named in words a person understands (:class:`Problem`): the element,
from the role in our node ids (:data:`plugin.composition.edc.ROLES`) or else the ELM class
label, and the property, from the shape's own ``sh:name``.

Speed (``docs/performance.md``): the shape and ontology graphs are parsed once per
process; reports are cached by the SHA-256 of the document (a definition checked again
before enabling, or a credential downloaded twice, costs a dictionary look-up).
"""
from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plugin.domain.i18n import Msg, N_
from plugin.paths import DATA_DIR

ELM_DIR = DATA_DIR / "elm"
SHAPE_FILES = ("edc-generic-no-cv.ttl", "edc-generic-full.ttl")
ONTOLOGY_FILE = "ELM.ttl"
SH = "http://www.w3.org/ns/shacl#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
CACHE_SIZE = 512


class ShaclSetupError(RuntimeError):
    """The shipped shapes are missing or altered (an installation problem, not the document's)."""


@dataclass
class Problem:
    """One failed constraint: ``message`` says it in words (English :class:`Msg`, translatable)."""
    message: Msg
    element: str            # the node (our role fragment or the class label)
    property: str           # the property's name in the shape (e.g. "eIDAS identifier")
    constraint: str         # the SHACL constraint component (MinCount, Class, ...)
    focus: str = ""
    path: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"message": str(self.message), "element": self.element, "property": self.property,
                "constraint": self.constraint, "focus": self.focus, "path": self.path}


@dataclass
class ShaclReport:
    conforms: bool
    problems: list[Problem] = field(default_factory=list)
    shapes: tuple[str, ...] = SHAPE_FILES

    @property
    def messages(self) -> list[Msg]:
        return [p.message for p in self.problems]


# --------------------------------------------------------------------------- shapes
_LOCK = threading.Lock()
_GRAPHS: dict[str, Any] = {}


def _pins() -> dict[str, str]:
    return json.loads((ELM_DIR / "pins.json").read_text(encoding="utf-8"))["files"]


def _read_pinned(name: str, pins: dict[str, str], folder: Path = ELM_DIR) -> bytes:
    path = folder / name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ShaclSetupError(f"the EDC shapes file {path} cannot be read: {exc.strerror}") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != pins.get(name):
        raise ShaclSetupError(f"the EDC shapes file {path} does not match its pinned SHA-256 "
                              f"(expected {pins.get(name)}, got {digest})")
    return data


def graphs():
    """``(shapes, ontology)`` rdflib graphs, parsed once per process after the pin check."""
    if "shapes" in _GRAPHS:
        return _GRAPHS["shapes"], _GRAPHS["ontology"]
    with _LOCK:
        if "shapes" not in _GRAPHS:
            import rdflib
            pins = _pins()
            shapes = rdflib.Graph()
            for name in SHAPE_FILES:
                shapes.parse(data=_read_pinned(name, pins).decode("utf-8"), format="turtle")
            ontology = rdflib.Graph()
            ontology.parse(data=_read_pinned(ONTOLOGY_FILE, pins).decode("utf-8"), format="turtle")
            _GRAPHS["ontology"] = ontology
            _GRAPHS["labels"] = _class_labels(ontology)
            _GRAPHS["shapes"] = shapes
    return _GRAPHS["shapes"], _GRAPHS["ontology"]


def _class_labels(ontology) -> dict[str, str]:
    import rdflib
    out = {}
    for s, o in ontology.subject_objects(rdflib.URIRef(RDFS_LABEL)):
        if isinstance(o, rdflib.Literal) and (o.language in (None, "en")):
            out.setdefault(str(s), str(o))
    return out


# --------------------------------------------------------------------------- documents
class EdcFormatError(ValueError):
    """The document is not JSON-LD the pinned contexts can read (the message says why)."""


def to_graph(document: dict[str, Any], store=None):
    """The RDF graph of an EDC, through the pinned contexts; undefined terms are refused."""
    import rdflib
    from pyld.jsonld import JsonLdProcessor

    from plugin.signing.data_integrity import SigningError, _dataset, expand_checked
    try:
        expanded = expand_checked(document, store)
    except SigningError as exc:
        raise EdcFormatError(str(exc).replace("refusing to sign: ", "")) from None
    nquads = JsonLdProcessor.to_nquads(_dataset(expanded))
    graph = rdflib.Graph()
    graph.parse(data=nquads, format="nt")
    return graph


_CACHE: "OrderedDict[str, ShaclReport]" = OrderedDict()


def digest(document: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True, ensure_ascii=False,
                                     separators=(",", ":")).encode("utf-8")).hexdigest()


def validate_edc(document: dict[str, Any], store=None) -> ShaclReport:
    """Validate against both EDC application profiles; cached by the document's digest."""
    key = digest(document)
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            _CACHE.move_to_end(key)
            return cached
    report = _validate(document, store)
    with _LOCK:
        _CACHE[key] = report
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return report


def _validate(document: dict[str, Any], store=None) -> ShaclReport:
    from pyshacl import validate
    shapes, ontology = graphs()
    try:
        data = to_graph(document, store)
    except EdcFormatError as exc:
        return ShaclReport(False, [Problem(N_("The document is not readable European Learning Model data: %(why)s",
                                                why=str(exc)), "document", "", "JSON-LD")])
    conforms, results, _text = validate(data, shacl_graph=shapes, ont_graph=ontology, inference="none",
                                        advanced=True, allow_warnings=True)
    return ShaclReport(bool(conforms), [] if conforms else _problems(results, data, shapes))


# --------------------------------------------------------------------------- plain language
_PHRASES = {
    "MinCountConstraintComponent": N_("%(element)s: %(property)s is missing"),
    "MaxCountConstraintComponent": N_("%(element)s: %(property)s is given more than once"),
    "ClassConstraintComponent": N_("%(element)s: %(property)s is not the right kind of element"),
    "NodeConstraintComponent": N_("%(element)s: %(property)s is incomplete"),
    "HasValueConstraintComponent": N_("%(element)s: %(property)s is not taken from the EU list it must come from"),
    "InConstraintComponent": N_("%(element)s: %(property)s is not one of the allowed values"),
    "DatatypeConstraintComponent": N_("%(element)s: %(property)s has the wrong format"),
    "NodeKindConstraintComponent": N_("%(element)s: %(property)s must be a link (IRI)"),
}


def _problems(results, data, shapes) -> list[Problem]:
    import rdflib
    shn = rdflib.Namespace(SH)
    out: list[Problem] = []
    seen = set()

    def leaves(result):
        details = list(results.objects(result, shn.detail))
        if not details:
            yield result
        for d in details:
            yield from leaves(d)

    for top in results.objects(None, shn.result):
        for r in leaves(top):
            focus = results.value(r, shn.focusNode)
            path = results.value(r, shn.resultPath)
            component = str(results.value(r, shn.sourceConstraintComponent) or "").rsplit("#", 1)[-1]
            source = results.value(r, shn.sourceShape)
            prop = _property_name(shapes, source, path)
            element = _element_name(data, focus)
            template = _PHRASES.get(component, N_("%(element)s: %(property)s does not meet the rule %(rule)s"))
            message = Msg(template.msgid, {"element": element, "property": prop, "rule": component})
            key = (str(focus), str(path), component)
            if key in seen:
                continue
            seen.add(key)
            out.append(Problem(message, str(element), str(prop), component, str(focus or ""), str(path or "")))
    return out


def _property_name(shapes, source, path) -> str:
    import rdflib
    name = shapes.value(source, rdflib.URIRef(SH + "name")) if source is not None else None
    if name is not None:
        return str(name)
    if path is None:
        return "a value"
    text = str(path)
    return text.rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def _element_name(data, focus):
    """Our role label for ``…#role`` node ids; else the ELM class label of the node."""
    import rdflib

    from plugin.composition.edc import ROLES, role_of
    def by_role(node):
        role = role_of(str(node))
        if role is None:
            return None
        return ROLES.get(role) or ROLES.get(role.rsplit("-", 1)[0])

    if focus is not None:
        named = by_role(focus)
        if named is not None:
            return named
        # A coded value (a concept of an EU list): name it by the element that uses it.
        for subject, predicate in data.subject_predicates(focus):
            parent = by_role(subject)
            if parent is not None:
                what = str(predicate).rsplit("/", 1)[-1].rsplit("#", 1)[-1]
                return N_("%(element)s (%(property)s)", element=parent, property=what)
        types = [str(t) for t in data.objects(focus, rdflib.URIRef(RDF_TYPE))]
        labels = _GRAPHS.get("labels", {})
        for t in types:
            if t in labels:
                return labels[t]
        if types:
            return types[0].rsplit("/", 1)[-1]
    return "the credential"
