"""Tests for the questionnaire YAML loader: valid files, every kind of broken file, scoring."""

from __future__ import annotations

import dataclasses
import itertools
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from surveys import (
    DONT_KNOW_VALUE,
    Dimension,
    Group,
    Option,
    Problem,
    Question,
    QuestionnaireError,
    QuestionType,
    Text,
    any_of,
    likert_scores,
    load_questionnaire,
    load_questionnaire_text,
    style_problems,
)

DATA = Path(__file__).parent / "data" / "broken_questionnaires"

HEADER = """\
id: demo
version: 1
group: external
title: {id: Survei, en: Survey}
intro: {id: Selamat datang, en: Welcome}
scales:
  agree4:
    - {value: sd, label: {id: Sangat tidak setuju, en: Strongly disagree}}
    - {value: d, label: {id: Tidak setuju, en: Disagree}}
    - {value: a, label: {id: Setuju, en: Agree}}
    - {value: sa, label: {id: Sangat setuju, en: Strongly agree}}
  yes_no:
    - {value: "yes", label: {id: "Ya", en: "Yes"}, score: 100}
    - {value: "no", label: {id: "Tidak", en: "No"}, score: 0}
questions:
"""

VALID_QUESTIONS = """\
  - id: asked
    type: single
    dimension: task_integrity
    scale: yes_no
    reverse: true
    text: {id: "Apakah Anda diminta membayar?", en: "Were you asked to pay?"}
  - id: paid
    type: single
    dimension: task_integrity
    scale: yes_no
    reverse: true
    show_if: {question: asked, in: ["yes"]}
    text: {id: "Apakah Anda membayar?", en: "Did you pay?"}
  - id: clear
    type: likert
    dimension: transparency
    scale: agree4
    dont_know: true
    text: {id: Prosedur jelas., en: The procedure is clear.}
  - id: channels
    type: multiple
    required: false
    show_if: {question: clear, not_in: [dont_know]}
    text: {id: "Dari mana Anda tahu?", en: "Where did you learn it?"}
    options:
      - {value: counter, label: {id: Loket, en: Counter}}
      - {value: web, label: {id: Situs web, en: Website}}
  - id: visits
    type: number
    min: 1
    max: 365
    text: {id: "Berapa kali?", en: "How many times?"}
  - id: saran
    type: text
    required: false
    max_length: 1000
    text: {id: "Saran Anda?", en: "Your suggestion?"}
"""

VALID = HEADER + VALID_QUESTIONS


def problems_of(text: str, source: str = "broken.yaml") -> list[str]:
    """Load `text`, expecting failure, and return the problem lines."""
    with pytest.raises(QuestionnaireError) as caught:
        load_questionnaire_text(text, source=source)
    lines = [str(p) for p in caught.value.problems]
    assert str(caught.value) == "\n".join(lines)
    return lines


def with_questions(questions: str) -> str:
    """Append questions written at column 0 (YAML allows that under `questions:`)."""
    return HEADER + textwrap.dedent(questions)


# --- valid files ---------------------------------------------------------------------------


def test_valid_questionnaire_loads_into_the_model():
    q = load_questionnaire_text(VALID)
    assert (q.id, q.version, q.group) == ("demo", 1, Group.EXTERNAL)
    assert q.title == Text(id="Survei", en="Survey")
    assert [x.id for x in q.questions] == ["asked", "paid", "clear", "channels", "visits", "saran"]
    assert q.source == VALID
    assert q.dimensions == (Dimension.TRANSPARENCY, Dimension.TASK_INTEGRITY)

    paid = q.question("paid")
    assert paid.show_if == any_of("asked", ("yes",))
    assert paid.reverse
    assert q.question("channels").show_if == any_of("clear", ("dont_know",), negate=True)
    assert not q.question("channels").required
    visits = q.question("visits")
    assert (visits.type, visits.min_value, visits.max_value) == (QuestionType.NUMBER, 1.0, 365.0)
    assert q.question("saran").max_length == 1000
    assert not q.question("saran").scored


def test_likert_without_scores_is_evenly_spaced_and_dont_know_is_unscored():
    clear = load_questionnaire_text(VALID).question("clear")
    assert [o.value for o in clear.options] == ["sd", "d", "a", "sa", DONT_KNOW_VALUE]
    assert [o.score for o in clear.options] == pytest.approx([0, 100 / 3, 200 / 3, 100, None])
    assert clear.options[-1].label == Text(id="Tidak tahu", en="Don't know")
    assert clear.item_score("sa") == 100
    assert clear.item_score(DONT_KNOW_VALUE) is None
    assert clear.item_score(None) is None


def test_likert_scores_for_other_lengths():
    assert likert_scores(2) == (0.0, 100.0)
    assert likert_scores(5) == (0.0, 25.0, 50.0, 75.0, 100.0)
    with pytest.raises(ValueError, match="at least 2"):
        likert_scores(1)


def test_five_point_inline_likert_and_explicit_scores_are_kept():
    text = with_questions("""\
        - id: five
          type: likert
          dimension: procurement
          text: {id: Pengadaan adil., en: Procurement is fair.}
          options:
            - {value: "1", label: {id: "1", en: "1"}}
            - {value: "2", label: {id: "2", en: "2"}}
            - {value: "3", label: {id: "3", en: "3"}}
            - {value: "4", label: {id: "4", en: "4"}}
            - {value: "5", label: {id: "5", en: "5"}}
        - id: explicit
          type: likert
          dimension: procurement
          text: {id: Pengadaan terbuka., en: Procurement is open.}
          options:
            - {value: low, label: {id: Rendah, en: Low}, score: 10}
            - {value: high, label: {id: Tinggi, en: High}, score: 90}
            - {value: skip, label: {id: Lewati, en: Skip}, score: null}
        """)
    q = load_questionnaire_text(text)
    assert [o.score for o in q.question("five").options] == [0, 25, 50, 75, 100]
    assert [o.score for o in q.question("explicit").options] == [10, 90, None]


def test_reverse_scoring_through_item_score():
    q = load_questionnaire_text(VALID)
    asked = q.question("asked")
    assert asked.item_score("yes") == 0  # asked to pay: bad
    assert asked.item_score("no") == 100
    reversed_likert = Question(
        id="seen",
        type=QuestionType.LIKERT,
        text=Text("x", "x"),
        dimension=Dimension.TASK_INTEGRITY,
        options=q.question("clear").options,
        reverse=True,
    )
    assert reversed_likert.item_score("sd") == 100
    assert reversed_likert.item_score("d") == pytest.approx(200 / 3)
    assert reversed_likert.item_score(DONT_KNOW_VALUE) is None


def test_yaml_1_2_booleans_and_numeric_values():
    """yes/no/on/off stay strings; unquoted integer values become strings."""
    text = with_questions("""\
        - id: seen
          type: single
          dimension: task_integrity
          reverse: true
          text: {id: "Pernah melihat?", en: "Ever seen?"}
          options:
            - {value: yes, label: {id: Ya, en: Yes}, score: 100}
            - {value: no, label: {id: Tidak, en: No}, score: 0}
            - {value: on, label: {id: Hidup, en: On}, score: null}
        - id: rating
          type: likert
          dimension: transparency
          text: {id: Nilai, en: Rating}
          options:
            - {value: 1, label: {id: Satu, en: One}}
            - {value: 2, label: {id: Dua, en: Two}}
          show_if: {question: seen, in: [yes, on]}
        """)
    q = load_questionnaire_text(text)
    assert [o.value for o in q.question("seen").options] == ["yes", "no", "on"]
    assert q.question("seen").options[0].label.en == "Yes"
    assert [o.value for o in q.question("rating").options] == ["1", "2"]
    assert q.question("rating").show_if == any_of("seen", ("yes", "on"))


def test_load_questionnaire_from_a_file_names_the_file(tmp_path: Path):
    path = tmp_path / "kecamatan.yaml"
    path.write_text(VALID, encoding="utf-8")
    assert load_questionnaire(path).source == VALID
    path.write_text(VALID.replace("version: 1", "version: -2"), encoding="utf-8")
    with pytest.raises(QuestionnaireError) as caught:
        load_questionnaire(path)
    assert str(caught.value) == f"{path}: version must be an integer ≥ 1, got -2"


def test_a_file_that_is_not_utf8(tmp_path: Path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("title: {id: Survei Penilaian — Ω}".encode("utf-16"))
    with pytest.raises(QuestionnaireError, match=r"latin1\.yaml: the file is not UTF-8 text"):
        load_questionnaire(path)


def test_the_example_in_the_format_document_is_valid():
    doc = (Path(__file__).parent.parent / "docs" / "questionnaire-format.md").read_text("utf-8")
    example = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    q = load_questionnaire_text(example, source="questionnaire-format.md")
    assert [x.id for x in q.questions] == [
        "tr_biaya",
        "ti_diminta",
        "ti_membayar",
        "kunjungan",
        "saran",
    ]
    assert q.question("ti_diminta").item_score("yes") == 0
    assert style_problems(q) == []


def test_a_missing_file_raises_oserror(tmp_path: Path):
    with pytest.raises(FileNotFoundError):
        load_questionnaire(tmp_path / "missing.yaml")


def test_problem_and_error_types():
    assert str(Problem("a.yaml", None, "the file is empty")) == "a.yaml: the file is empty"
    assert str(Problem("a.yaml", "q7", "missing 'type'")) == "a.yaml: question 'q7': missing 'type'"
    error = QuestionnaireError([Problem("a.yaml", None, "x"), Problem("a.yaml", "q", "y")])
    assert isinstance(error, ValueError)
    assert str(error) == "a.yaml: x\na.yaml: question 'q': y"


# --- broken files: one precise message per mistake ------------------------------------------

BROKEN: list[tuple[str, str, list[str]]] = [
    (
        "yaml_syntax",
        "id: demo\nversion: [1\ngroup: internal\n",
        ["broken.yaml: invalid YAML at line 3, column 6: expected ',' or ']', but got ':'"],
    ),
    (
        "yaml_indentation",
        "id: demo\n  version: 1\n",
        ["broken.yaml: invalid YAML at line 2, column 10: mapping values are not allowed here"],
    ),
    (
        "yaml_duplicate_key",
        HEADER.replace("version: 1\n", "version: 1\nversion: 2\n") + VALID_QUESTIONS,
        ["broken.yaml: invalid YAML at line 3, column 1: duplicate key 'version'"],
    ),
    ("empty_file", "# nothing here\n", ["broken.yaml: the file is empty"]),
    (
        "not_a_mapping",
        "- id: q1\n- id: q2\n",
        ["broken.yaml: the file must be a YAML mapping (key: value), got a list"],
    ),
    (
        "missing_and_unknown_top_level_keys",
        VALID.replace("intro:", "titel:"),
        [
            "broken.yaml: missing required key 'intro'",
            "broken.yaml: unknown key 'titel' (allowed: id, version, group, title, intro, "
            "scales, questions, consistency)",
        ],
    ),
    (
        "bad_group_version_and_id",
        VALID.replace("group: external", "group: citizens")
        .replace("version: 1", "version: one")
        .replace("id: demo", "id: Demo Survey"),
        [
            "broken.yaml: id 'Demo Survey' must be lowercase letters, digits and '_', starting "
            "with a letter, at most 40 characters",
            "broken.yaml: version must be an integer ≥ 1, got 'one'",
            "broken.yaml: group 'citizens' is not one of internal, external, expert",
        ],
    ),
    (
        "bad_title_languages",
        VALID.replace("title: {id: Survei, en: Survey}", "title: {id: Survei, jv: Survei}"),
        [
            "broken.yaml: title: unknown language 'jv' (expected id, en)",
            "broken.yaml: title: missing 'en' text",
        ],
    ),
    (
        "empty_questionnaire",
        HEADER + "  []\n",
        ["broken.yaml: the questionnaire has no questions"],
    ),
    (
        "duplicate_question_id",
        VALID.replace("- id: paid", "- id: asked"),
        ["broken.yaml: question 'asked': duplicate question id (question #1 has it too)"],
    ),
    (
        "bad_question_id",
        VALID.replace("- id: visits", "- id: Visits-2024"),
        [
            "broken.yaml: question 'Visits-2024': id must be lowercase letters, digits and '_', "
            "starting with a letter, at most 40 characters"
        ],
    ),
    (
        "missing_question_id",
        VALID.replace("- id: visits\n    type", "- type"),
        ["broken.yaml: question #5: missing 'id'"],
    ),
    (
        "unknown_type",
        VALID.replace("type: number", "type: integer"),
        [
            "broken.yaml: question 'visits': type 'integer' is not one of likert, single, "
            "multiple, number, text"
        ],
    ),
    (
        "unknown_dimension",
        VALID.replace("dimension: transparency", "dimension: transparansi"),
        [
            "broken.yaml: question 'clear': dimension 'transparansi' is not one of "
            "transparency, task_integrity, procurement, hr_management, trading_in_influence, "
            "budget_management, anticorruption_outreach"
        ],
    ),
    (
        "unknown_question_key",
        VALID.replace("    max_length: 1000", "    maxlength: 1000"),
        [
            "broken.yaml: question 'saran': unknown key 'maxlength' (allowed: id, type, "
            "dimension, text, scale, options, dont_know, reverse, required, show_if, min, max, "
            "integer, max_length, hint, min_exclusive, max_exclusive)"
        ],
    ),
    (
        "missing_label_language",
        VALID.replace("{id: Situs web, en: Website}", "{id: Situs web}").replace(
            'en: "How many times?"}', "en: ''}"
        ),
        [
            "broken.yaml: question 'channels': option 'web': label: missing 'en' text",
            "broken.yaml: question 'visits': text: 'en' text must be a non-empty string, got ''",
        ],
    ),
    (
        "choice_question_without_options",
        VALID.replace("    scale: agree4\n    dont_know: true\n", ""),
        ["broken.yaml: question 'clear': a likert question needs 'scale' or 'options'"],
    ),
    (
        "options_on_text_and_number_questions",
        VALID.replace("    min: 1\n", "    scale: agree4\n    min: 1\n").replace(
            "    max_length: 1000\n",
            "    max_length: 1000\n    dont_know: true\n"
            "    options: [{value: a, label: {id: A, en: A}}]\n",
        ),
        [
            "broken.yaml: question 'visits': a number question takes no 'scale'",
            "broken.yaml: question 'saran': a text question takes no 'options'",
            "broken.yaml: question 'saran': a text question takes no 'dont_know'",
        ],
    ),
    (
        "scale_and_options_together",
        VALID.replace(
            "    scale: agree4\n    dont_know: true\n",
            "    scale: agree4\n    options: [{value: a, label: {id: A, en: A}}]\n",
        ),
        ["broken.yaml: question 'clear': give either 'scale' or 'options', not both"],
    ),
    (
        "duplicate_option_values",
        VALID.replace("{value: web,", "{value: counter,"),
        ["broken.yaml: question 'channels': duplicate option value 'counter'"],
    ),
    (
        "bad_option_value",
        VALID.replace("{value: web,", "{value: 'Web, online',"),
        [
            "broken.yaml: question 'channels': option #2: value 'Web, online' must be "
            "lowercase letters, digits and '_', at most 20 characters"
        ],
    ),
    (
        "score_out_of_range",
        HEADER.replace("score: 100}", "score: 120}") + VALID_QUESTIONS,
        ["broken.yaml: scale 'yes_no': option 'yes': score 120 is not between 0 and 100"],
    ),
    (
        "score_not_a_number",
        HEADER.replace("score: 0}", "score: low}") + VALID_QUESTIONS,
        [
            "broken.yaml: scale 'yes_no': option 'no': score must be a number from 0 to 100 "
            "or null, got 'low'"
        ],
    ),
    (
        "some_options_without_score",
        HEADER.replace(", score: 0}", "}") + VALID_QUESTIONS,
        [
            "broken.yaml: scale 'yes_no': option #2 has no score while others do; give every "
            "option a score (null for none) or none at all"
        ],
    ),
    (
        "unknown_scale",
        VALID.replace("scale: agree4", "scale: agree5"),
        ["broken.yaml: question 'clear': unknown scale 'agree5' (defined: agree4, yes_no)"],
    ),
    (
        "label_too_long",
        VALID.replace(
            "en: Website}",
            "en: The official website of the regency government and its agencies}",
        ),
        [
            "broken.yaml: question 'channels': option 'web': label: 'en' text is 63 "
            "characters; the limit is 60 (at most 40 is recommended)"
        ],
    ),
    (
        "question_text_too_long",
        VALID.replace('{id: "Berapa kali?",', '{id: "' + "Berapa kali? " * 70 + '",'),
        ["broken.yaml: question 'visits': text: 'id' text is 909 characters; the limit is 900"],
    ),
    (
        "show_if_unknown_question",
        VALID.replace("{question: asked,", "{question: ask,"),
        ["broken.yaml: question 'paid': show_if refers to unknown question 'ask'"],
    ),
    (
        "show_if_later_question",
        VALID.replace("{question: asked,", "{question: clear,"),
        [
            "broken.yaml: question 'paid': show_if refers to 'clear', which comes later; a "
            "condition can only depend on an earlier question"
        ],
    ),
    (
        "show_if_value_not_an_option",
        VALID.replace('in: ["yes"]', "in: [ya]"),
        [
            "broken.yaml: question 'paid': show_if: 'ya' is not an option of 'asked' "
            "(options: yes, no)"
        ],
    ),
    (
        "show_if_on_a_number_question",
        VALID.replace(
            "    max_length: 1000\n",
            "    max_length: 1000\n    show_if: {question: visits, in: [1]}\n",
        ),
        [
            "broken.yaml: question 'saran': show_if: 'visits' is a number question; a condition "
            "needs a likert, single or multiple question"
        ],
    ),
    (
        "show_if_with_in_and_not_in",
        VALID.replace('in: ["yes"]}', 'in: ["yes"], not_in: ["no"]}'),
        ["broken.yaml: question 'paid': show_if needs exactly one of 'in' and 'not_in'"],
    ),
    (
        "min_greater_than_max",
        VALID.replace("min: 1\n", "min: 400\n"),
        ["broken.yaml: question 'visits': min 400 is greater than max 365"],
    ),
    (
        "limits_on_the_wrong_type",
        VALID.replace("    min: 1\n", "    min: 1\n    max_length: 5\n").replace(
            "max_length: 1000", "max_length: 0"
        ),
        [
            "broken.yaml: question 'visits': 'max_length' applies only to text questions",
            "broken.yaml: question 'saran': max_length must be an integer from 1 to 4000, got 0",
        ],
    ),
    (
        "dimension_without_scored_options",
        VALID.replace(
            "    required: false\n    show_if: {question: clear",
            "    dimension: transparency\n    show_if: {question: clear",
        ),
        [
            "broken.yaml: question 'channels': has dimension 'transparency' but none of its "
            "options has a score; add scores or remove the dimension"
        ],
    ),
    (
        "dimension_on_a_number_question",
        VALID.replace("    min: 1\n", "    dimension: transparency\n    min: 1\n"),
        ["broken.yaml: question 'visits': a number question cannot be scored; remove 'dimension'"],
    ),
    (
        "reverse_on_unscored_question",
        VALID.replace(
            "    required: false\n    show_if: {question: clear",
            "    reverse: true\n    show_if: {question: clear",
        ),
        [
            "broken.yaml: question 'channels': reverse: true on an unscored question "
            "(it has no dimension)"
        ],
    ),
    (
        "flags_must_be_booleans",
        VALID.replace("dont_know: true", "dont_know: ya").replace(
            "required: false", "required: 0", 1
        ),
        [
            "broken.yaml: question 'clear': dont_know must be true or false, got 'ya'",
            "broken.yaml: question 'channels': required must be true or false, got 0",
        ],
    ),
    (
        "dont_know_clashes_with_an_option",
        VALID.replace(
            "    options:\n      - {value: counter,",
            "    dont_know: true\n    options:\n      - {value: dont_know,",
        ),
        ["broken.yaml: question 'channels': dont_know: an option 'dont_know' already exists"],
    ),
    (
        "single_option_only",
        VALID.replace("      - {value: web, label: {id: Situs web, en: Website}}\n", ""),
        ["broken.yaml: question 'channels': a multiple question needs at least 2 options"],
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"), [(t, e) for _, t, e in BROKEN], ids=[name for name, _, _ in BROKEN]
)
def test_broken_questionnaire_is_reported_precisely(text: str, expected: list[str]):
    assert problems_of(text) == expected


def test_every_problem_is_reported_not_just_the_first():
    text = (
        VALID.replace("group: external", "group: warga")
        .replace("dimension: transparency", "dimension: transparansi")
        .replace("type: number", "type: angka")
        .replace('in: ["yes"]', "in: [ya]")
    )
    assert problems_of(text, source="kab_mojokerto.yaml") == [
        "kab_mojokerto.yaml: group 'warga' is not one of internal, external, expert",
        "kab_mojokerto.yaml: question 'paid': show_if: 'ya' is not an option of 'asked' "
        "(options: yes, no)",
        "kab_mojokerto.yaml: question 'clear': dimension 'transparansi' is not one of "
        "transparency, task_integrity, procurement, hr_management, trading_in_influence, "
        "budget_management, anticorruption_outreach",
        "kab_mojokerto.yaml: question 'visits': type 'angka' is not one of likert, single, "
        "multiple, number, text",
    ]


def test_a_broken_scale_is_reported_once_not_per_question():
    text = HEADER.replace("{value: d,", "{value: D,") + VALID_QUESTIONS.replace(
        'text: {id: "Apakah Anda membayar?"',
        'scale: agree4\n    text: {id: "Apakah Anda membayar?"',
    ).replace("    scale: yes_no\n    reverse: true\n    show_if", "    reverse: true\n    show_if")
    assert problems_of(text) == [
        "broken.yaml: scale 'agree4': option #2: value 'D' must be lowercase letters, digits "
        "and '_', at most 20 characters",
    ]


def test_fixture_file_with_many_problems():
    path = DATA / "many_problems.yaml"
    with pytest.raises(QuestionnaireError) as caught:
        load_questionnaire(path)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}: version must be an integer ≥ 1, got 0",
        f"{path}: question 'q1': dimension 'integritas' is not one of transparency, "
        "task_integrity, procurement, hr_management, trading_in_influence, budget_management, "
        "anticorruption_outreach",
        f"{path}: question 'q2': duplicate option value 'sering'",
        f"{path}: question 'q3': show_if refers to 'q4', which comes later; a condition can "
        "only depend on an earlier question",
        f"{path}: question 'q4': reverse: true on an unscored question (it has no dimension)",
    ]
    assert {p.question_id for p in caught.value.problems} == {None, "q1", "q2", "q3", "q4"}


def test_fixture_file_with_a_syntax_error():
    path = DATA / "syntax_error.yaml"
    with pytest.raises(QuestionnaireError) as caught:
        load_questionnaire(path)
    assert str(caught.value) == (
        f"{path}: invalid YAML at line 10, column 10: mapping values are not allowed here"
    )


# --- style recommendations -----------------------------------------------------------------


def test_style_problems_flags_long_labels_and_many_options():
    text = with_questions("""\
        - id: source
          type: single
          text: {id: "Sumber informasi?", en: "Source of information?"}
          options:
            - {value: a, label: {id: Papan pengumuman di depan kantor kecamatan, en: Board}}
            - {value: b, label: {id: B, en: B}}
            - {value: c, label: {id: C, en: C}}
            - {value: d, label: {id: D, en: D}}
            - {value: e, label: {id: E, en: E}}
            - {value: f, label: {id: F, en: F}}
        """)
    q = load_questionnaire_text(text)
    assert [str(p) for p in style_problems(q, "x.yaml")] == [
        "x.yaml: no question is scored (none has a dimension and options with scores): its "
        "answers add nothing to the index",
        "x.yaml: question 'source': has 6 options; at most 5 is recommended",
        "x.yaml: question 'source': option 'a': label 'id' text is 42 characters; at most 40 "
        "is recommended",
    ]
    assert style_problems(load_questionnaire_text(VALID)) == []


# --- properties ----------------------------------------------------------------------------

scores = st.one_of(st.none(), st.floats(min_value=0, max_value=100, allow_nan=False))


@st.composite
def questions_and_answers(draw: st.DrawFn) -> tuple[Question, str]:
    qtype = draw(st.sampled_from([QuestionType.LIKERT, QuestionType.SINGLE, QuestionType.MULTIPLE]))
    option_scores = draw(st.lists(scores, min_size=2, max_size=6))
    options = tuple(Option(f"o{i}", Text(f"O{i}", f"O{i}"), s) for i, s in enumerate(option_scores))
    if qtype is QuestionType.MULTIPLE:
        chosen = draw(st.lists(st.sampled_from(options), min_size=1, unique=True))
        raw = ",".join(o.value for o in chosen)
    else:
        raw = draw(st.sampled_from(options)).value
    question = Question(
        id="q",
        type=qtype,
        text=Text("T", "T"),
        dimension=draw(st.sampled_from(Dimension)),
        options=options,
        reverse=draw(st.booleans()),
    )
    return question, raw


@given(questions_and_answers())
def test_item_score_is_within_0_100_or_none_and_reverse_is_an_involution(
    case: tuple[Question, str],
):
    question, raw = case
    score = question.item_score(raw)
    assert score is None or 0 <= score <= 100
    flipped = dataclasses.replace(question, reverse=not question.reverse)
    flipped_score = flipped.item_score(raw)
    assert (score is None) == (flipped_score is None)
    if score is not None and flipped_score is not None:
        assert score + flipped_score == pytest.approx(100)
        assert 100 - (100 - score) == pytest.approx(score)


@given(st.lists(st.one_of(st.none(), st.integers(0, 100)), min_size=2, max_size=5))
def test_explicit_scores_survive_loading(values: list[int | None]):
    options = "\n".join(
        f"      - {{value: v{i}, label: {{id: V{i}, en: V{i}}}, "
        f"score: {'null' if v is None else v}}}"
        for i, v in enumerate(values)
    )
    text = HEADER + (
        "  - id: q\n    type: single\n    text: {id: T, en: T}\n    options:\n" + options + "\n"
    )
    if all(v is None for v in values):
        assert load_questionnaire_text(text).question("q").scored is False
    else:
        text = text.replace("type: single\n", "type: single\n    dimension: procurement\n")
        loaded = load_questionnaire_text(text).question("q")
        assert [o.score for o in loaded.options] == values


@given(st.integers(min_value=2, max_value=10))
def test_likert_spacing_is_monotone_from_0_to_100(count: int):
    points = likert_scores(count)
    assert points[0] == 0
    assert points[-1] == 100
    assert all(b > a for a, b in itertools.pairwise(points))
    gaps = [b - a for a, b in itertools.pairwise(points)]
    assert max(gaps) - min(gaps) < 1e-9
