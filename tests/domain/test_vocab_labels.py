"""Vocabulary labels come from data files, one per vocabulary, with the EU's own labels in
every EU language where the EU gives them, and ours marked as ours where it does not."""
from __future__ import annotations

import json

from plugin.domain import vocab
from plugin.domain.vocab_labels import is_ours, label, labels_of, vocabulary_files

EU_LANGUAGES = {"bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr", "hu", "it", "lt",
                "lv", "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv"}


def test_every_vocabulary_file_names_its_source_and_licence_and_labels_each_concept_in_english():
    names = {p.stem for p in vocabulary_files()}
    assert {"eqf", "learning-assessment", "learning-setting", "language", "country"} <= names
    for path in vocabulary_files():
        data = json.loads(path.read_text(encoding="utf-8"))
        assert data["source"].strip() and data["licence"].strip(), path.name
        for uri, entry in data["concepts"].items():
            assert entry["labels"].get("en"), (path.name, uri)
            assert set(entry.get("ours", ())) <= set(entry["labels"]), (path.name, uri)


def test_modes_and_learning_settings_carry_the_eus_labels_in_every_eu_language():
    online, onsite, blended = (vocab.PARTICIPATION[k][0] for k in ("online", "onsite", "blended"))
    for uri in (online, onsite, blended, vocab.LEARNING_SETTING_NON_FORMAL):
        assert set(labels_of(uri)) >= EU_LANGUAGES, uri
        assert not is_ours(uri, "fr")
    assert label(onsite, "fr") == "Présentiel" and label(blended, "fr") == "Mixte"
    assert label(vocab.LEARNING_SETTING_NON_FORMAL, "fr") == "Apprentissage non formel"
    assert label(vocab.LEARNING_SETTING_NON_FORMAL, "el") == "Μη τυπική μάθηση"


def test_a_language_without_a_ui_catalogue_still_gets_its_labels_from_the_data():
    online = vocab.PARTICIPATION["online"][0]
    assert label(online, "pl") == "Online (przez internet)"
    assert label(online, "pl_PL") == "Online (przez internet)"
    assert label(vocab.country_uri("DE"), "bg") == "Германия" and label(vocab.country_uri("GR"), "el") == "Ελλάδα"
    assert label(vocab.language_uri("fr"), "de") == "Französisch"
    # a language the data does not have falls back to English, never to nothing
    assert label(online, "xx") == "Online"


def test_older_credentials_english_labels_still_find_their_concept():
    assert label("Onsite (presential)", "fr") == "Présentiel"
    assert label("EQF level 6", "fr") == label(vocab.eqf_uri(6), "fr")


def test_labels_we_wrote_are_marked_as_ours():
    assert is_ours(vocab.eqf_uri(6), "fr")
    assert is_ours(vocab.qf_ehea_uri("first"), "fr")
    assert is_ours(vocab.isced_f_uri("0542"), "fr") and not is_ours(vocab.isced_f_uri("054"), "fr")
    assert not is_ours(vocab.country_uri("FR"), "fr")
