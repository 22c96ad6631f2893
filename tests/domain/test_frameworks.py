"""RNCP / Répertoire spécifique / ESCO alignments typed by people, and their OB 3.0 form."""
from __future__ import annotations

from plugin.domain.definition import DefinitionData
from plugin.domain.frameworks import alignment, as_lines, parse_lines


def test_codes_and_names_typed_one_per_line_become_alignments():
    text = ("RNCP34826BC01 — Analyser des données\n\nrs5487\n"
            "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d | use pandas\n")
    items, errors = parse_lines(text)
    assert errors == []
    assert [(a.framework, a.code, a.name) for a in items] == [
        ("rncp", "RNCP34826BC01", "Analyser des données"), ("rs", "RS5487", ""),
        ("esco", "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d", "use pandas")]
    block, rs, esco = (alignment(a) for a in items)
    assert block == {"type": ["Alignment"], "targetName": "Analyser des données", "targetCode": "RNCP34826BC01",
                     "targetUrl": "https://www.francecompetences.fr/recherche/rncp/34826/",
                     "targetFramework": "RNCP (France Compétences)", "targetType": "ext:RNCPBlock"}
    assert rs["targetType"] == "ext:RepertoireSpecifique" and rs["targetUrl"].endswith("/rs/5487/")
    assert esco["targetType"] == "ceasn:Competency" and esco["targetFramework"] == "ESCO"
    assert parse_lines(as_lines(items))[0] == items  # what the form shows reads back the same


def test_a_line_that_is_no_code_is_named_with_its_number():
    items, errors = parse_lines("RNCP34826BC01\nRNCP12\nhttps://example.org/skill")
    assert len(items) == 1
    assert errors[0].startswith("line 2: an RNCP code reads RNCP34826") and errors[1].startswith("line 3: an ESCO")


def test_a_definition_without_alignments_serialises_as_before():
    assert "framework_alignments" not in DefinitionData(title="x").to_json()
    data = DefinitionData(title="x", framework_alignments=parse_lines("RS5487")[0])
    assert DefinitionData.from_json(data.to_json()) == data
