"""Tests for the bundled questionnaires: validity, coverage, wording limits, skip logic."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

import pytest
import yaml

from surveys import (
    DIMENSIONS,
    DONT_KNOW_VALUE,
    LANGUAGES,
    MULTI_SEPARATOR,
    Dimension,
    Group,
    Question,
    Questionnaire,
    QuestionType,
    Selected,
    bundled_path,
    bundled_questionnaires,
    load_questionnaire,
    style_problems,
)

BUNDLED = bundled_questionnaires()
ALL = [pytest.param(BUNDLED[g], id=g.value) for g in Group]

EXPECTED_COUNTS = {Group.INTERNAL: 25, Group.EXTERNAL: 17, Group.EXPERT: 20}
EXTERNAL_DIMENSIONS = {
    Dimension.TRANSPARENCY,
    Dimension.TASK_INTEGRITY,
    Dimension.TRADING_IN_INFLUENCE,
    Dimension.ANTICORRUPTION_OUTREACH,
}


def walk(questionnaire: Questionnaire, choose: dict[str, str]) -> list[str]:
    """Answer like a respondent: `choose` where given, else the first option (or a value)."""
    answers: dict[str, str] = {}
    seen: list[str] = []
    question = questionnaire.next_question(answers, None)
    while question is not None:
        seen.append(question.id)
        answers[question.id] = choose.get(question.id, _default_answer(question))
        question = questionnaire.next_question(answers, question.id)
    return seen


def _default_answer(question: Question) -> str:
    if question.options:
        return question.options[0].value
    return "3" if question.type is QuestionType.NUMBER else "Pelayanan sudah baik."


def _texts(questionnaire: Questionnaire) -> Iterator[tuple[str, str]]:
    """Yield (where, text) for every user-facing text in every language."""
    for lang in LANGUAGES:
        yield "title", questionnaire.title.get(lang)
        yield "intro", questionnaire.intro.get(lang)
        for q in questionnaire.questions:
            yield q.id, q.text.get(lang)
            for o in q.options:
                yield f"{q.id}/{o.value}", o.label.get(lang)


# --- loading -------------------------------------------------------------------------------


def test_one_questionnaire_per_group_matching_its_file():
    assert set(BUNDLED) == set(Group)
    for group, questionnaire in BUNDLED.items():
        assert questionnaire.group is group
        assert questionnaire.id == group.value
        assert questionnaire.version >= 1
        path = bundled_path(group)
        assert path.name == f"{group.value}.yaml"
        assert path.is_file()
        from_file = load_questionnaire(path)
        assert from_file == questionnaire
        assert questionnaire.source == path.read_text(encoding="utf-8")


def test_bundled_path_accepts_a_plain_string_and_rejects_unknown_groups():
    assert bundled_path("expert") == bundled_path(Group.EXPERT)
    with pytest.raises(ValueError, match="citizen"):
        bundled_path("citizen")


def test_bundled_questionnaires_returns_a_fresh_dict():
    first = bundled_questionnaires()
    first.pop(Group.INTERNAL)
    assert Group.INTERNAL in bundled_questionnaires()


@pytest.mark.parametrize("group", list(Group), ids=[g.value for g in Group])
def test_files_mean_the_same_to_a_yaml_1_1_reader(group: Group):
    """Only dont_know/reverse/required are booleans, so other YAML tools read the same file."""

    def booleans(node: object, key: str = "") -> Iterator[str]:
        if isinstance(node, bool):
            yield key
        elif isinstance(node, dict):
            for k, v in node.items():
                yield from booleans(v, str(k))
        elif isinstance(node, list):
            for item in node:
                yield from booleans(item, key)

    data = yaml.safe_load(bundled_path(group).read_text(encoding="utf-8"))
    assert set(booleans(data)) <= {"dont_know", "reverse", "required"}


# --- size and coverage ---------------------------------------------------------------------


@pytest.mark.parametrize("questionnaire", ALL)
def test_item_counts(questionnaire: Questionnaire):
    assert len(questionnaire.questions) == EXPECTED_COUNTS[questionnaire.group]
    scored = [q for q in questionnaire.questions if q.scored]
    assert len(scored) >= 0.75 * len(questionnaire.questions)


def test_item_counts_per_dimension():
    counts = {
        group: Counter(q.dimension for q in qn.questions if q.scored)
        for group, qn in BUNDLED.items()
    }
    assert counts[Group.INTERNAL] == {
        Dimension.TRANSPARENCY: 3,
        Dimension.TASK_INTEGRITY: 6,
        Dimension.PROCUREMENT: 3,
        Dimension.HR_MANAGEMENT: 3,
        Dimension.TRADING_IN_INFLUENCE: 2,
        Dimension.BUDGET_MANAGEMENT: 3,
        Dimension.ANTICORRUPTION_OUTREACH: 4,
    }
    assert counts[Group.EXPERT] == {
        Dimension.TRANSPARENCY: 2,
        Dimension.TASK_INTEGRITY: 3,
        Dimension.PROCUREMENT: 3,
        Dimension.HR_MANAGEMENT: 2,
        Dimension.TRADING_IN_INFLUENCE: 2,
        Dimension.BUDGET_MANAGEMENT: 3,
        Dimension.ANTICORRUPTION_OUTREACH: 3,
    }
    assert counts[Group.EXTERNAL] == {
        Dimension.TRANSPARENCY: 3,
        Dimension.TASK_INTEGRITY: 5,
        Dimension.PROCUREMENT: 1,
        Dimension.TRADING_IN_INFLUENCE: 2,
        Dimension.ANTICORRUPTION_OUTREACH: 2,
    }


def test_dimension_coverage_per_group():
    assert BUNDLED[Group.INTERNAL].dimensions == DIMENSIONS
    assert BUNDLED[Group.EXPERT].dimensions == DIMENSIONS
    assert set(BUNDLED[Group.EXTERNAL].dimensions) >= EXTERNAL_DIMENSIONS


@pytest.mark.parametrize("questionnaire", ALL)
def test_a_respondent_sees_a_phone_sized_survey(questionnaire: Questionnaire):
    shortest = walk(questionnaire, {})
    longest = walk(questionnaire, {q.id: "yes" for q in questionnaire.questions})
    assert 14 <= len(shortest) <= len(longest) <= 25


# --- identifiers, labels and limits --------------------------------------------------------


@pytest.mark.parametrize("questionnaire", ALL)
def test_ids_and_values_are_unique_and_fit_callback_data(questionnaire: Questionnaire):
    ids = [q.id for q in questionnaire.questions]
    assert len(ids) == len(set(ids))
    for q in questionnaire.questions:
        assert re.fullmatch(r"[a-z][a-z0-9_]{0,39}", q.id)
        values = [o.value for o in q.options]
        assert len(values) == len(set(values)), q.id
        for value in values:
            assert re.fullmatch(r"[a-z0-9_]+", value)
            assert MULTI_SEPARATOR not in value
            # The longest callback the flow could build: a short prefix, question id, value.
            assert len(f"ans:{q.id}:{value}".encode()) <= 64, (q.id, value)


@pytest.mark.parametrize("questionnaire", ALL)
def test_every_text_exists_in_both_languages_and_is_tidy(questionnaire: Questionnaire):
    for where, text in _texts(questionnaire):
        assert text, where
        assert text == text.strip(), where
        assert "  " not in text, where
    for q in questionnaire.questions:
        assert q.text.id != q.text.en, q.id
        assert len(q.text.id) <= 300, q.id  # well under the 900 limit: short on a phone
        assert q.text.id[-1] in ".?", q.id
        assert q.text.en[-1] in ".?", q.id


@pytest.mark.parametrize("questionnaire", ALL)
def test_phone_friendly_options_and_labels(questionnaire: Questionnaire):
    assert style_problems(questionnaire) == []
    for q in questionnaire.questions:
        assert len(q.options) <= 5, q.id


@pytest.mark.parametrize("questionnaire", ALL)
def test_intro_promises_anonymity(questionnaire: Questionnaire):
    assert "anonim" in questionnaire.intro.id
    assert "anonymous" in questionnaire.intro.en
    assert "Bapak/Ibu" in questionnaire.intro.id


# --- scoring -------------------------------------------------------------------------------


@pytest.mark.parametrize("questionnaire", ALL)
def test_every_scored_item_spans_0_to_100(questionnaire: Questionnaire):
    for q in questionnaire.questions:
        if not q.scored:
            continue
        item_scores = [q.item_score(o.value) for o in q.options]
        present = [s for s in item_scores if s is not None]
        assert min(present) == 0, q.id
        assert max(present) == 100, q.id


@pytest.mark.parametrize("questionnaire", ALL)
def test_frequency_items_are_reverse_scored_and_agreement_items_are_not(
    questionnaire: Questionnaire,
):
    """Every 'how often ...' item here asks about something bad; every statement is positive."""
    for q in questionnaire.questions:
        values = [o.value for o in q.options]
        if "never" in values:
            assert q.reverse, q.id
            assert q.text.en.startswith(("How often", "In your view, how often")), q.id
            assert q.item_score("never") == 100
            assert q.item_score("always") == 0
        if "strongly_agree" in values:
            assert not q.reverse, q.id
            assert q.item_score("strongly_agree") == 100
            assert q.item_score("disagree") == pytest.approx(100 / 3)


def test_likert_scales_are_evenly_spaced():
    q = BUNDLED[Group.INTERNAL].question("tr_layanan")
    assert [(o.value, o.score) for o in q.options] == [
        ("strongly_disagree", 0.0),
        ("disagree", pytest.approx(33.333, abs=1e-3)),
        ("agree", pytest.approx(66.667, abs=1e-3)),
        ("strongly_agree", 100.0),
        (DONT_KNOW_VALUE, None),
    ]


def test_dont_know_never_counts():
    for questionnaire in BUNDLED.values():
        for q in questionnaire.questions:
            if q.option(DONT_KNOW_VALUE) is not None:
                assert q.item_score(DONT_KNOW_VALUE) is None


def test_not_knowing_the_whistleblowing_channel_scores_like_no_channel():
    q = BUNDLED[Group.INTERNAL].question("sos_wbs")
    assert q.item_score("yes") == 100
    assert q.item_score("no") == q.item_score("not_aware") == 0


def test_reverse_scored_yes_no_experience_items():
    external = BUNDLED[Group.EXTERNAL]
    for qid in ("ti_diminta", "ti_membayar", "ti_hadiah", "calo", "pbj_fee"):
        q = external.question(qid)
        assert q.reverse
        assert q.item_score("yes") == 0
        assert q.item_score("no") == 100
    outreach = external.question("sos_info")
    assert not outreach.reverse
    assert outreach.item_score("yes") == 100


def test_unscored_items():
    external = BUNDLED[Group.EXTERNAL]
    saran = external.question("saran")
    assert (saran.type, saran.max_length, saran.required) == (QuestionType.TEXT, 1000, False)
    assert saran.item_score("Tolong percepat layanan.") is None
    visits = external.question("kunjungan")
    assert (visits.type, visits.min_value, visits.max_value) == (QuestionType.NUMBER, 1, 365)
    assert not visits.scored
    for qn in BUNDLED.values():
        assert not qn.questions[0].scored  # each opens with an easy question about the respondent
    assert not BUNDLED[Group.EXPERT].question("sos_kasus").scored


# --- skip logic ----------------------------------------------------------------------------


@pytest.mark.parametrize("questionnaire", ALL)
def test_every_questionnaire_uses_skip_logic_on_earlier_choice_questions(
    questionnaire: Questionnaire,
):
    conditional = [q for q in questionnaire.questions if q.show_if is not None]
    assert conditional
    for q in conditional:
        assert isinstance(q.show_if, Selected)
        source = questionnaire.question(q.show_if.question)
        assert questionnaire.index_of(source.id) < questionnaire.index_of(q.id)
        assert source.type in (QuestionType.SINGLE, QuestionType.MULTIPLE, QuestionType.LIKERT)
        assert q.show_if.value in {o.value for o in source.options}


def test_payment_question_only_follows_a_request_to_pay():
    qn = BUNDLED[Group.EXTERNAL]
    asked: dict[str, str] = {"ti_diminta": "yes"}
    not_asked: dict[str, str] = {"ti_diminta": "no"}
    nxt = qn.next_question(asked, "ti_diminta")
    assert nxt is not None
    assert nxt.id == "ti_membayar"
    nxt = qn.next_question(not_asked, "ti_diminta")
    assert nxt is not None
    assert nxt.id == "ti_hadiah"
    prev = qn.previous_question(not_asked, "ti_hadiah")
    assert prev is not None
    assert prev.id == "ti_diminta"
    prev = qn.previous_question({**asked, "ti_membayar": "no"}, "ti_hadiah")
    assert prev is not None
    assert prev.id == "ti_membayar"


def test_going_back_and_changing_an_answer_drops_hidden_answers():
    qn = BUNDLED[Group.EXTERNAL]
    answers = {"peran": "supplier", "ti_diminta": "yes", "ti_membayar": "no", "pbj_fee": "yes"}
    assert qn.relevant_answers(answers) == answers
    changed = {**answers, "peran": "resident", "ti_diminta": "no"}
    assert qn.relevant_answers(changed) == {"peran": "resident", "ti_diminta": "no"}


def test_procurement_question_only_for_suppliers():
    qn = BUNDLED[Group.EXTERNAL]
    supplier_path = walk(qn, {"peran": "supplier"})
    resident_path = walk(qn, {"peran": "resident"})
    assert "pbj_fee" in supplier_path
    assert "pbj_fee" not in resident_path
    assert len(supplier_path) == len(resident_path) + 1


def test_fixer_reasons_follow_the_use_of_a_fixer_and_take_several_answers():
    qn = BUNDLED[Group.EXTERNAL]
    reasons = qn.question("calo_alasan")
    assert reasons.type is QuestionType.MULTIPLE
    assert not reasons.required
    used = {"calo": "yes"}
    nxt = qn.next_question(used, "calo")
    assert nxt is reasons
    nxt = qn.next_question({"calo": "no"}, "calo")
    assert nxt is not None
    assert nxt.id != "calo_alasan"
    assert reasons.item_score(MULTI_SEPARATOR.join(["faster", "suggested"])) is None


def test_internal_offer_and_whistleblowing_follow_ups():
    qn = BUNDLED[Group.INTERNAL]
    offered = walk(qn, {"ti_ditawari": "yes", "sos_wbs": "yes"})
    not_offered = walk(qn, {"ti_ditawari": "no", "sos_wbs": "not_aware"})
    assert {"ti_ditawari_sikap", "sos_wbs_aman"} <= set(offered)
    assert not {"ti_ditawari_sikap", "sos_wbs_aman"} & set(not_offered)
    assert len(offered) == len(qn.questions) == 25
    sikap = qn.question("ti_ditawari_sikap")
    assert sikap.item_score("declined") == sikap.item_score("reported") == 100
    assert sikap.item_score("kept") == 0
    assert sikap.item_score("prefer_not") is None


def test_expert_follow_up_is_the_last_question_and_may_end_the_survey():
    qn = BUNDLED[Group.EXPERT]
    assert qn.questions[-1].id == "sos_tindak_lanjut"
    assert qn.next_question({"sos_kasus": "no"}, "sos_kasus") is None
    nxt = qn.next_question({"sos_kasus": "yes"}, "sos_kasus")
    assert nxt is not None
    assert nxt.id == "sos_tindak_lanjut"
    assert qn.next_question({}, None) is qn.questions[0]
    assert qn.previous_question({}, qn.questions[0].id) is None
