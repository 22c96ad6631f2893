"""Messages from pure code stay English text yet can be re-rendered in the reader's language."""
import pickle

from plugin.domain.i18n import N_, Msg, translate

FR = {"Your course grade is %(score)s; the pass mark is %(mark)s.":
      "Votre note de cours est de %(score)s ; la note de passage est de %(mark)s.",
      "cannot enable this credential: %(problems)s": "impossible d'activer cette certification : %(problems)s",
      "Title: give the micro-credential a title": "Titre : donnez un titre",
      "%(reason)s You can claim your credential now.": "%(reason)s Vous pouvez la réclamer."}


def fr(s):
    return FR.get(s, s)


def test_a_message_is_its_english_text():
    msg = N_("Your course grade is %(score)s; the pass mark is %(mark)s.", score="62 %", mark="70 %")
    assert msg == "Your course grade is 62 %; the pass mark is 70 %."
    assert msg + "!" == "Your course grade is 62 %; the pass mark is 70 %.!"
    assert translate(msg, fr) == "Votre note de cours est de 62 % ; la note de passage est de 70 %."


def test_nested_and_list_parameters_are_translated_too():
    inner = N_("%(reason)s You can claim your credential now.",
               reason=N_("Your course grade is %(score)s; the pass mark is %(mark)s.", score="80 %", mark="70 %"))
    assert translate(inner, fr) == "Votre note de cours est de 80 % ; la note de passage est de 70 %. Vous pouvez la réclamer."
    problems = N_("cannot enable this credential: %(problems)s",
                  problems=[N_("Title: give the micro-credential a title"), "a platform's own words"])
    assert problems == ("cannot enable this credential: Title: give the micro-credential a title; "
                        "a platform's own words")
    assert translate(problems, fr) == "impossible d'activer cette certification : Titre : donnez un titre; " \
                                      "a platform's own words"


def test_plain_text_is_left_alone_and_messages_survive_pickling():
    assert translate("Title: give the micro-credential a title", fr) == "Title: give the micro-credential a title"
    msg = pickle.loads(pickle.dumps(N_("Title: give the micro-credential a title")))
    assert isinstance(msg, Msg) and translate(msg, fr) == "Titre : donnez un titre"


def test_domain_reasons_are_translatable():
    from plugin.domain.definition import DefinitionData
    from plugin.domain.policy import CoursePolicy, Observation, evaluate
    missing = DefinitionData().missing_elements()
    assert translate(missing, fr)[0] == "Titre : donnez un titre"
    decision = evaluate(CoursePolicy(source="moodle", rule="course_grade", threshold=70),
                        Observation(source="moodle", score=62))
    assert decision.reason.startswith("Your course grade is 62 %; the pass mark is 70 %.")
    assert isinstance(decision.reason, Msg)
