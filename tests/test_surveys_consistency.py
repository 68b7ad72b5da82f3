"""Consistency pairs in a questionnaire (issue 24): the format, its precise errors, XLSForm."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from surveys import (
    Compare,
    QuestionnaireError,
    bundled_questionnaires,
    load_questionnaire_text,
)
from surveys.model import Group
from surveys.writer import questionnaire_data, questionnaire_yaml
from surveys.xlsform_export import questionnaire_workbook
from surveys.xlsform_import import load_xlsform

BASE = """
id: kecil
version: 1
group: internal
title: {id: Survei, en: Survey}
intro: {id: Halo, en: Hello}
scales:
  agree4:
    - {value: strongly_disagree, label: {id: STS, en: SD}}
    - {value: disagree, label: {id: TS, en: D}}
    - {value: agree, label: {id: S, en: A}}
    - {value: strongly_agree, label: {id: SS, en: SA}}
questions:
  - {id: merit, type: likert, dimension: hr_management, scale: agree4,
     text: {id: Promosi adil, en: Promotion is fair}}
  - {id: bought, type: single, dimension: hr_management, reverse: true,
     text: {id: "Jabatan dibeli?", en: "Positions bought?"},
     options: [{value: "yes", label: {id: Ya, en: "Yes"}, score: 100},
               {value: "no", label: {id: Tidak, en: "No"}, score: 0}]}
  - {id: years, type: number, min: 0, max: 60, text: {id: Tahun, en: Years}}
  - {id: saran, type: text, required: false, text: {id: Saran, en: Suggestion}}
"""
PAIR = """
consistency:
  - id: merit_vs_bought
    not_both: ["${merit} = 'strongly_agree'", "${bought} = 'yes'"]
    text: {id: adil tetapi dibeli, en: fair yet bought}
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(QuestionnaireError) as caught:
        load_questionnaire_text(text, source="q.yaml")
    return [str(p) for p in caught.value.problems]


def test_a_pair_is_read_and_contradicted_only_by_answers_given() -> None:
    questionnaire = load_questionnaire_text(BASE + PAIR)
    (pair,) = questionnaire.consistency
    assert (pair.id, str(pair.first), str(pair.second)) == (
        "merit_vs_bought",
        "${merit} = 'strongly_agree'",
        "${bought} = 'yes'",
    )
    assert pair.contradicted_by({"merit": "strongly_agree", "bought": "yes"})
    assert not pair.contradicted_by({"merit": "agree", "bought": "yes"})
    assert not pair.contradicted_by({"merit": "strongly_agree"})
    # A negated side never holds for a question left unanswered.
    negated = load_questionnaire_text(
        BASE + PAIR.replace("\"${bought} = 'yes'\"", "\"not(${bought} = 'no')\"")
    )
    assert not negated.consistency[0].contradicted_by({"merit": "strongly_agree"})
    assert negated.consistency[0].contradicted_by({"merit": "strongly_agree", "bought": "yes"})
    # Written back as YAML, it reads back equal.
    assert load_questionnaire_text(questionnaire_yaml(questionnaire_data(questionnaire))) == (
        questionnaire
    )


BROKEN = [
    (
        "not_a_list",
        "consistency: {id: x}\n",
        ["q.yaml: consistency must be a list of pairs, got a mapping"],
    ),
    (
        "unknown_question_and_option",
        """consistency:
  - id: a
    not_both: ["${merit} = 'sangat_setuju'", "${nope} = 'yes'"]
    text: {id: x, en: y}
""",
        [
            "q.yaml: consistency pair 'a': 'sangat_setuju' is not an option of 'merit' "
            "(options: strongly_disagree, disagree, agree, strongly_agree)",
            "q.yaml: consistency pair 'a': refers to unknown question 'nope'",
        ],
    ),
    (
        "one_side_two_questions_and_missing_text",
        """consistency:
  - id: b
    not_both: ["${merit} = 'agree' and ${bought} = 'yes'", "${years} > 5"]
""",
        [
            "q.yaml: consistency pair 'b': \"${merit} = 'agree' and ${bought} = 'yes'\" reads "
            "'merit', 'bought'; each side reads exactly one question",
            "q.yaml: consistency pair 'b': missing 'text' (what cannot be both, in id and en)",
        ],
    ),
    (
        "same_question_text_question_and_syntax",
        """consistency:
  - id: c
    not_both: ["${merit} = 'agree'", "${merit} = 'disagree'"]
    text: {id: x, en: y}
  - id: d
    not_both: ["${saran} != ''", "${years} >> 5"]
    text: {id: x, en: y}
  - id: c
    not_both: ["${years} = 'many'"]
    text: {id: x, en: y}
    extra: 1
""",
        [
            "q.yaml: consistency pair 'c': both sides read 'merit'; a pair needs two questions",
            "q.yaml: consistency pair 'd': 'saran' is a text question; a pair compares choice "
            "or number answers",
            "q.yaml: consistency pair 'd': expected a quoted text or a number at column 11, "
            "found '>'",
            "q.yaml: consistency pair 'c': duplicate id (pair #1 has it too)",
            "q.yaml: consistency pair 'c': unknown key 'extra' (allowed: id, not_both, text)",
            "q.yaml: consistency pair 'c': 'not_both' must list exactly two expressions, got 1",
        ],
    ),
]


@pytest.mark.parametrize(("name", "block", "expected"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_pairs_are_reported_precisely(name: str, block: str, expected: list[str]) -> None:
    assert problems_of(BASE + block) == expected


def test_the_bundled_questionnaires_declare_sensible_pairs() -> None:
    bundled = bundled_questionnaires()
    assert {g: len(q.consistency) for g, q in bundled.items()} == {
        Group.INTERNAL: 3,
        Group.EXTERNAL: 1,
        Group.EXPERT: 2,
    }
    for questionnaire in bundled.values():
        assert questionnaire.version == 3  # v3: the pairs (issue 24)
        for pair in questionnaire.consistency:
            scores = []
            for side in (pair.first, pair.second):
                assert isinstance(side, Compare)
                scores.append(questionnaire.question(side.question).item_score(str(side.value)))
            # The two ends of the scales: the best answer on one item, the worst on the other.
            assert sorted(scores) == [0.0, 100.0], pair.id
            assert pair.text.id
            assert pair.text.en


def test_pairs_travel_through_xlsform_and_a_bad_row_is_named(tmp_path: Path) -> None:
    internal = bundled_questionnaires()[Group.INTERNAL]
    path = tmp_path / "internal.xlsx"
    questionnaire_workbook(internal).save(path)
    assert load_xlsform(path) == internal
    book = openpyxl.load_workbook(path)
    sheet = book["consistency"]
    sheet.append(["rushed", "${sdm_kompetensi} = 'sangat'", None, "teks", None])
    sheet["F1"] = "catatan"
    book.save(path)
    with pytest.raises(QuestionnaireError) as caught:
        load_xlsform(path)
    found = [str(p) for p in caught.value.problems]
    assert found == [
        f"{path}: sheet 'consistency', row 1, column 'catatan': unknown column (expected name, "
        "first, second, label::Indonesian (id), label::English (en))",
        f"{path}: sheet 'consistency', row 5: consistency pair 'rushed': 'not_both' must list "
        "exactly two expressions, got 1",
        f"{path}: sheet 'consistency', row 5: consistency pair 'rushed': text: missing 'en' text",
    ]
