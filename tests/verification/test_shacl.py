"""The shipped EDC shapes: pinned, parsed once, reports cached; messages name elements."""
from __future__ import annotations

import hashlib
import json
import shutil

import pytest

from plugin.verification import shacl
from tests.composition.test_edc import compose


def test_shipped_files_match_their_pins_and_sums():
    pins = json.loads((shacl.ELM_DIR / "pins.json").read_text())["files"]
    sums = dict(reversed(line.split()) for line in (shacl.ELM_DIR / "SHA256SUMS").read_text().splitlines())
    assert pins == sums
    assert set(pins) == {*shacl.SHAPE_FILES, shacl.ONTOLOGY_FILE}
    for name, digest in pins.items():
        assert hashlib.sha256((shacl.ELM_DIR / name).read_bytes()).hexdigest() == digest


def test_an_altered_shapes_file_is_refused(tmp_path):
    for name in (*shacl.SHAPE_FILES, shacl.ONTOLOGY_FILE):
        shutil.copy(shacl.ELM_DIR / name, tmp_path / name)
    (tmp_path / "edc-generic-no-cv.ttl").write_text("# emptied\n")
    with pytest.raises(shacl.ShaclSetupError, match="does not match its pinned SHA-256"):
        shacl._read_pinned("edc-generic-no-cv.ttl", shacl._pins(), tmp_path)


def test_graphs_are_parsed_once_and_reports_cached_by_document():
    shapes, ontology = shacl.graphs()
    assert shacl.graphs()[0] is shapes and len(ontology) > 1000
    doc = compose()
    first = shacl.validate_edc(doc)
    assert shacl.validate_edc(json.loads(json.dumps(doc))) is first  # same content: the cached report
    changed = dict(doc, validFrom="2026-05-04T00:00:00Z")
    assert shacl.validate_edc(changed) is not first
