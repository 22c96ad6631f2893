from plugin.delivery.present import ANNEX_I, summarize

from tests.delivery.sample import sample


def test_every_annex_i_element_is_read_from_the_credential():
    s = summarize(sample())
    for key, _label, _mandatory in ANNEX_I:
        assert s.get(key).present, key
    assert s.get("learner").text == "Éloïse Lefèvre-Œuvray"
    assert s.get("country").text == "France"  # named from its code, in the reader's language
    assert s.get("issued").text == "2026-03-14"
    assert s.get("workload").values == ["5 ECTS credits", "125 hours"]
    assert s.get("level").values == ["EQF level 6"]
    assert s.get("level").links == ["http://data.europa.eu/snb/eqf/6"]
    assert s.get("grade").text == "Note finale: 87/100"
    assert s.get("skills").text == "manage data"
    assert s.issuer_identifiers == [("Identifier", "19751234500017")]


def test_language_maps_follow_the_locale():
    assert summarize(sample(), locale="fr").get("participation").text == "En ligne"
    assert summarize(sample(), locale="en").get("participation").text == "Online"


def test_a_hashed_learner_stays_hashed_and_missing_elements_are_absent():
    doc = sample()
    doc["credentialSubject"]["identifier"] = [{"type": "IdentityObject", "identityType": "emailAddress",
                                               "hashed": True, "identityHash": "sha256$abc", "salt": "s"}]
    del doc["credentialSubject"]["achievement"]["qualityAssurance"]
    s = summarize(doc)
    assert s.learner_is_hashed and "sha256$abc" in s.learner
    assert not s.get("quality_assurance").present


def test_unknown_extension_fields_are_shown_not_hidden():
    doc = sample()
    doc["credentialSubject"]["achievement"]["labelProfile"] = "GRADEO"
    s = summarize(doc)
    assert s.get("x:labelProfile").text == "GRADEO"
    assert s.get("x:labelProfile").label == "Label profile"


def test_garbage_never_raises():
    for junk in (None, [], "x", {"credentialSubject": 3}, {"issuer": ["a"], "credentialSubject": [{}]}):
        s = summarize(junk)
        assert not s.get("title").present


def test_a_national_framework_level_is_shown_as_a_level_in_the_readers_language():
    from plugin.domain.nqf import alignment
    doc = sample()
    doc["credentialSubject"]["achievement"]["alignment"].append(alignment("fr-cncp", 6))
    fr = summarize(doc, locale="fr")
    assert len(fr.get("level").values) == 2  # the EQF level, then the national one
    assert fr.get("level").values[-1] == "Niveau 6 du cadre national des certifications professionnelles"
    assert fr.get("level").links[-1] == "http://data.europa.eu/snb/qdr/c_5ad5d222"
    en = summarize(doc, locale="en")
    assert en.get("level").values[-1] == "Level 6 of the French national framework of professional certifications"
    assert "French national framework" not in (en.get("skills").text or "")  # a level, not a skill
