"""Pure answer logic: typed validation, toggles, and skip-logic planning."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.respondent.answers import Advance, Problem, plan_advance, toggle, validate_typed
from surveys import Group, bundled_questionnaires, load_questionnaire_text
from surveys.model import Option, Question, QuestionType, Text

NUMBER = Question(
    "visits", QuestionType.NUMBER, Text("Berapa?", "How many?"), min_value=1, max_value=365
)
TEXT = Question("saran", QuestionType.TEXT, Text("Saran?", "Ideas?"), required=False, max_length=50)
MULTI = Question(
    "why",
    QuestionType.MULTIPLE,
    Text("Mengapa?", "Why?"),
    options=tuple(Option(v, Text(v, v), None) for v in ("a", "b", "c")),
)


@pytest.mark.parametrize(
    ("typed", "stored"), [("12", "12"), (" 7 ", "7"), ("2,5", "2.5"), ("+3", "3"), ("365", "365")]
)
def test_numbers_are_normalised(typed: str, stored: str) -> None:
    assert validate_typed(NUMBER, typed, 1000) == stored


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("sering", "number_invalid"),
        ("1e5", "number_invalid"),
        ("0", "number_out_of_range"),
        ("400", "number_out_of_range"),
    ],
)
def test_bad_numbers_are_explained(typed: str, key: str) -> None:
    problem = validate_typed(NUMBER, typed, 1000)
    assert isinstance(problem, Problem)
    assert problem.key == key


def test_text_limits_use_the_question_limit_first() -> None:
    assert validate_typed(TEXT, "  bagus  ", 1000) == "bagus"
    assert validate_typed(TEXT, "x" * 51, 1000) == Problem(
        "text_too_long", {"length": 51, "limit": 50}
    )
    assert validate_typed(TEXT, "   ", 1000) == Problem("text_empty", {})
    unlimited = Question("t", QuestionType.TEXT, Text("?", "?"))
    assert validate_typed(unlimited, "y" * 1001, 1000) == Problem(
        "text_too_long", {"length": 1001, "limit": 1000}
    )


def test_toggle_keeps_option_order_and_empties_to_none() -> None:
    value = toggle(MULTI, None, 2)
    assert value == "c"
    value = toggle(MULTI, value, 0)
    assert value == "a,c"
    assert toggle(MULTI, value, 2) == "a"
    assert toggle(MULTI, "a", 0) is None


@given(st.lists(st.integers(min_value=0, max_value=2), max_size=12))
def test_toggling_twice_is_the_identity(indices: list[int]) -> None:
    value: str | None = None
    for i in indices:
        value = toggle(MULTI, value, i)
    after = value
    for i in indices[:1]:
        after = toggle(MULTI, toggle(MULTI, after, i), i)
    assert after == value


def test_skip_logic_both_directions() -> None:
    external = bundled_questionnaires()[Group.EXTERNAL]
    asked = external.question("ti_diminta")
    before = {"peran": "resident", "kunjungan": "2"}
    yes = plan_advance(external, asked, before, "yes")
    assert yes == Advance("ti_membayar", ())
    # Going back and changing the answer hides the follow-up, and its answer goes.
    answered = {**before, "ti_diminta": "yes", "ti_membayar": "yes"}
    no = plan_advance(external, asked, answered, "no")
    assert no.next_question == "ti_hadiah"
    assert no.drop == ("ti_membayar",)


def test_skipping_an_optional_question_drops_an_earlier_answer() -> None:
    external = bundled_questionnaires()[Group.EXTERNAL]
    last = external.questions[-1]
    assert not last.required
    plan = plan_advance(external, last, {last.id: "lama"}, None)
    assert plan == Advance(None, (last.id,))


def test_an_integer_question_refuses_fractions() -> None:
    whole = Question("n", QuestionType.NUMBER, Text("Berapa?", "How many?"), integer=True)
    assert validate_typed(whole, "3", 1000) == "3"
    assert validate_typed(whole, "3,0", 1000) == "3"
    assert validate_typed(whole, "2,5", 1000) == Problem("number_not_whole", {"value": "2,5"})


EXPRESSION_FORM = """\
id: expr
version: 1
group: external
title: {id: Survei, en: Survey}
intro: {id: Halo, en: Hello}
questions:
  - id: umur
    type: number
    integer: true
    text: {id: "Umur?", en: "Age?"}
  - id: kanal
    type: multiple
    text: {id: "Kanal?", en: "Channels?"}
    options:
      - {value: wa, label: {id: WhatsApp, en: WhatsApp}}
      - {value: loket, label: {id: Loket, en: Counter}}
  - id: dewasa_wa
    type: text
    show_if: "${umur} >= 17 and (selected(${kanal}, 'wa') or not(${kanal} != ''))"
    text: {id: Ceritakan, en: Tell us}
  - id: akhir
    type: text
    required: false
    text: {id: "Saran?", en: "Ideas?"}
"""


def test_expression_skip_logic_drives_the_flow() -> None:
    qn = load_questionnaire_text(EXPRESSION_FORM)
    kanal = qn.question("kanal")
    adult = {"umur": "30"}
    assert plan_advance(qn, kanal, adult, "wa,loket") == Advance("dewasa_wa", ())
    assert plan_advance(qn, kanal, adult, "loket") == Advance("akhir", ())
    # An unanswered channel question counts as "no channel": not(${kanal} != '') holds.
    assert plan_advance(qn, qn.question("umur"), {}, "30") == Advance("kanal", ())
    assert qn.is_shown(qn.question("dewasa_wa"), {"umur": "30"})
    assert not qn.is_shown(qn.question("dewasa_wa"), {"umur": "12"})
    # Changing the age afterwards hides the follow-up and drops its answer.
    answered = {"umur": "30", "kanal": "wa", "dewasa_wa": "cepat"}
    plan = plan_advance(qn, qn.question("umur"), answered, "12")
    assert plan.drop == ("dewasa_wa",)
