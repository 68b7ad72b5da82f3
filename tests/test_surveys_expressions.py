"""Skip-logic expressions: parsing, printing, evaluation, constraints, and YAML validation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from surveys import (
    And,
    Compare,
    ExpressionError,
    Not,
    Or,
    QuestionnaireError,
    Selected,
    any_of,
    load_questionnaire_text,
    parse_expression,
)
from surveys.constraints import TextLimit, parse_constraint


def test_precedence_not_and_or() -> None:
    parsed = parse_expression("${a} = 'x' or ${b} > 2 and not(selected(${c}, 'y'))")
    assert parsed == Or(
        (Compare("a", "=", "x"), And((Compare("b", ">", 2.0), Not(Selected("c", "y")))))
    )


def test_parentheses_and_flattening() -> None:
    parsed = parse_expression("(${a} = 'x' or ${b} = 'y') and (${c} <= 3 and ${d} != '')")
    assert parsed == And(
        (
            Or((Compare("a", "=", "x"), Compare("b", "=", "y"))),
            Compare("c", "<=", 3.0),
            Compare("d", "!=", ""),
        )
    )
    assert str(parsed) == "(${a} = 'x' or ${b} = 'y') and ${c} <= 3 and ${d} != ''"


def test_literal_on_the_left_is_flipped() -> None:
    assert parse_expression("17 <= ${umur}") == Compare("umur", ">=", 17.0)
    assert parse_expression('"ya" = ${q}') == Compare("q", "=", "ya")


def test_kobo_spacing_and_quotes() -> None:
    assert parse_expression('selected( ${ q } ,"a")') == Selected("q", "a")
    assert parse_expression("${x}>=2.5") == Compare("x", ">=", 2.5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the expression is empty"),
        ("${a} = ", "expected a quoted text or a number at column 8, found the end"),
        ("${a} == 'x'", "expected a quoted text or a number at column 7, found '='"),
        ("${a} = 'x' and", "expected ${question}, selected(), not() or '(' at column 15"),
        ("${a} > 'x'", "'>' compares numbers; 'x' is a text"),
        ("count-selected(${a}) > 1", "unsupported 'count-selected' at column 1"),
        ("${a} = 'x')", "expected 'and', 'or' or the end at column 11, found ')'"),
        ("${a} = 'x' & ${b} = 'y'", "unexpected '&' at column 12"),
        ("not ${a} = 'x'", "expected '(' at column 5, found '${a}'"),
        ("${} = 'x'", "empty ${} at column 1"),
        ("__import__('os')", "unsupported '__import__' at column 1"),
    ],
)
def test_bad_expressions_say_what_and_where(text: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_expression(text)
    assert message in str(caught.value)


def test_evaluation_follows_xpath_for_unanswered_questions() -> None:
    assert not Compare("n", ">", 1.0).holds({})
    assert not Compare("n", "<", 1.0).holds({})
    assert Compare("n", "!=", 1.0).holds({})
    assert not Compare("q", "=", "x").holds({})
    assert Compare("q", "!=", "x").holds({})
    assert not Selected("q", "x").holds({})
    assert Selected("q", "x").holds({"q": "w,x"})
    assert Compare("n", ">=", 2.5).holds({"n": "2.5"})
    assert not Compare("n", "=", 2.0).holds({"n": "abc"})


def test_any_of_keeps_the_old_show_if_meaning() -> None:
    shown = any_of("q", ("a", "b"))
    assert shown.holds({"q": "b"})
    assert not shown.holds({"q": "c"})
    hidden = any_of("q", ("a",), negate=True)
    assert hidden.holds({"q": "c"})
    assert not hidden.holds({"q": "a,c"})
    assert not hidden.holds({})  # an unanswered source never satisfies not_in
    assert str(hidden) == "${q} != '' and not(selected(${q}, 'a'))"


_ids = st.sampled_from(["a", "b", "q_1"])
_leaf = st.one_of(
    st.builds(Selected, _ids, st.sampled_from(["x", "yes", "1_5"])),
    st.builds(
        Compare,
        _ids,
        st.sampled_from(["=", "!="]),
        st.sampled_from(["", "x", "it's", 'say "hi"']),
    ),
    st.builds(
        Compare,
        _ids,
        st.sampled_from(["=", "!=", "<", "<=", ">", ">="]),
        st.sampled_from([0.0, 17.0, -2.5, 1e-3]),
    ),
)


def _expressions() -> st.SearchStrategy:
    def extend(children: st.SearchStrategy) -> st.SearchStrategy:
        return st.one_of(
            st.builds(Not, children),
            st.lists(children, min_size=2, max_size=3).map(lambda xs: parse_join(And, xs)),
            st.lists(children, min_size=2, max_size=3).map(lambda xs: parse_join(Or, xs)),
        )

    return st.recursive(_leaf, extend, max_leaves=8)


def parse_join(kind, parts):
    flat = []
    for p in parts:
        flat.extend(p.operands if isinstance(p, kind) else (p,))
    return kind(tuple(flat))


@given(_expressions())
def test_printing_then_parsing_gives_the_same_expression(expression) -> None:
    assert parse_expression(str(expression)) == expression


@given(_expressions(), st.dictionaries(_ids, st.sampled_from(["x", "yes,x", "17", "", "-2.5"])))
def test_printed_expression_means_the_same(expression, answers) -> None:
    assert parse_expression(str(expression)).holds(answers) == expression.holds(answers)


@pytest.mark.parametrize(
    ("text", "limit"),
    [
        (". >= 1 and . <= 365", TextLimit(1.0, 365.0)),
        (".<=10", TextLimit(None, 10.0)),
        ("string-length(.) <= 1000", TextLimit(max_length=1000)),
        (". >= 1 and . >= 3", TextLimit(3.0)),
        # XLSForm's strict bounds, as Kobo users write them (issue 22).
        (". > 0", TextLimit(0.0, min_exclusive=True)),
        (". >= 1 and . < 100", TextLimit(1.0, 100.0, max_exclusive=True)),
        (". > 0 and . >= 0", TextLimit(0.0, min_exclusive=True)),
        (". >= 2 and . > 1", TextLimit(2.0)),
        ("string-length(.) < 11", TextLimit(max_length=10)),
    ],
)
def test_supported_constraints(text: str, limit: TextLimit) -> None:
    assert parse_constraint(text) == limit


@pytest.mark.parametrize(
    "text",
    ["regex(., '[0-9]+')", ". >= 1 or . <= 5", ". != 3", "string-length(.) <= 2.5", ". > x", ""],
)
def test_unsupported_constraints_are_refused(text: str) -> None:
    with pytest.raises(ExpressionError, match="unsupported constraint"):
        parse_constraint(text)


FORM = """\
id: demo
version: 1
group: external
title: {id: Survei, en: Survey}
intro: {id: Halo, en: Hello}
questions:
  - id: umur
    type: number
    text: {id: Umur, en: Age}
  - id: peran
    type: single
    text: {id: Peran, en: Role}
    options:
      - {value: warga, label: {id: Warga, en: Resident}}
      - {value: penyedia, label: {id: Penyedia, en: Supplier}}
  - id: saran
    type: text
    text: {id: Saran, en: Ideas}
  - id: target
    type: text
    show_if: "SHOW"
    text: {id: Target, en: Target}
  - id: nanti
    type: text
    text: {id: Nanti, en: Later}
"""


def problems(show_if: str) -> list[str]:
    with pytest.raises(QuestionnaireError) as caught:
        load_questionnaire_text(FORM.replace("SHOW", show_if), "f.yaml")
    return [str(p) for p in caught.value.problems]


def test_yaml_accepts_an_expression() -> None:
    qn = load_questionnaire_text(
        FORM.replace("SHOW", "${umur} >= 17 and ${peran} = 'penyedia' and ${saran} != ''")
    )
    target = qn.question("target")
    assert target.show_if is not None
    assert qn.is_shown(target, {"umur": "20", "peran": "penyedia", "saran": "x"})
    assert not qn.is_shown(target, {"umur": "20", "peran": "warga", "saran": "x"})


@pytest.mark.parametrize(
    ("show_if", "expected"),
    [
        (
            "${peran} = 'pns'",
            "show_if: 'pns' is not an option of 'peran' (options: warga, penyedia",
        ),
        (
            "selected(${umur}, 'x')",
            "selected() needs a choice question; 'umur' is a number",
        ),
        ("${peran} = 1", "compares 'peran' with a number, but it is a single question; quote"),
        ("${umur} = 'tua'", "show_if: ${umur} = 'tua': 'umur' is a number question"),
        ("${nanti} = 'x'", "show_if refers to 'nanti', which comes later"),
        ("${siapa} = 'x'", "show_if refers to unknown question 'siapa'"),
        ("${target} = 'x'", "show_if refers to the question itself"),
        ("${umur} >>= 3", "show_if: expected a quoted text or a number at column 10"),
    ],
)
def test_yaml_expression_problems_are_precise(show_if: str, expected: str) -> None:
    found = problems(show_if)
    assert len(found) == 1
    assert found[0].startswith("f.yaml: question 'target': ")
    assert expected in found[0]
