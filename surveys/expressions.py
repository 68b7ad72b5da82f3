"""Skip-logic expressions: the subset of XLSForm ``relevant`` XPath a survey needs.

Pure: no telegram, no database, no clock, and never ``eval``. A tokenizer and a
recursive-descent parser turn text such as ``selected(${kanal}, 'wa') and ${umur} >= 17``
into frozen dataclasses that evaluate against the answers so far and print back to the same
text. Grammar (``not`` binds tightest, then ``and``, then ``or``)::

    expr       := and_expr ('or' and_expr)*
    and_expr   := unary ('and' unary)*
    unary      := 'not' '(' expr ')' | '(' expr ')' | selected | comparison
    selected   := 'selected' '(' ref ',' string ')'
    comparison := ref op literal | literal op ref        op: = != < <= > >=
    ref        := '${' question_id '}'
    literal    := 'text' | "text" | number

XPath semantics: an unanswered question's value is the empty string, which is not a number,
so every numeric comparison with it is false except ``!=``. XLSForm constraints, which use
the same tokens, are read by surveys.constraints.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

__all__ = [
    "COMPARISON_OPERATORS",
    "MAX_DEPTH",
    "MULTI_SEPARATOR",
    "And",
    "Compare",
    "Expression",
    "ExpressionError",
    "Not",
    "Or",
    "Selected",
    "Token",
    "any_of",
    "number_literal",
    "parse_expression",
    "tokenize",
]

# Multiple-choice answers are stored as option values joined by this character.
MULTI_SEPARATOR: Final = ","
# Parentheses and not() nested deeper than this are refused: no real form needs it, and the
# recursive parser (and every walk of the tree) must not run out of stack on a hostile one.
MAX_DEPTH: Final = 20
COMPARISON_OPERATORS: Final = ("=", "!=", "<", "<=", ">", ">=")
_FLIPPED: Final = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


class ExpressionError(ValueError):
    """An expression cannot be parsed; the message says what and where (1-based column)."""


def _number_text(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def _quote(text: str) -> str:
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text:
        return f'"{text}"'
    raise ExpressionError(f"text {text!r} contains both kinds of quote and cannot be written")


def _as_number(raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        return math.nan


@dataclass(frozen=True, slots=True)
class Compare:
    """``${question} op value``: text equality, or a numeric comparison when value is a number."""

    question: str
    op: str
    value: str | float

    def holds(self, answers: Mapping[str, str]) -> bool:
        """Tell whether the comparison holds for these answers (question id -> raw value)."""
        raw = answers.get(self.question, "")
        if isinstance(self.value, str):
            equal = raw == self.value
            return equal if self.op == "=" else not equal
        number, other = _as_number(raw), self.value
        if math.isnan(number):
            return self.op == "!="
        return {
            "=": number == other,
            "!=": number != other,
            "<": number < other,
            "<=": number <= other,
            ">": number > other,
            ">=": number >= other,
        }[self.op]

    def references(self) -> tuple[str, ...]:
        """Return the question ids the expression reads."""
        return (self.question,)

    def __str__(self) -> str:
        value = _quote(self.value) if isinstance(self.value, str) else _number_text(self.value)
        return f"${{{self.question}}} {self.op} {value}"


@dataclass(frozen=True, slots=True)
class Selected:
    """``selected(${question}, 'value')``: the choice answer includes this option."""

    question: str
    value: str

    def holds(self, answers: Mapping[str, str]) -> bool:
        """Tell whether `value` is among the selected options."""
        raw = answers.get(self.question)
        return raw is not None and self.value in raw.split(MULTI_SEPARATOR)

    def references(self) -> tuple[str, ...]:
        """Return the question ids the expression reads."""
        return (self.question,)

    def __str__(self) -> str:
        return f"selected(${{{self.question}}}, {_quote(self.value)})"


@dataclass(frozen=True, slots=True)
class Not:
    """``not(operand)``."""

    operand: Expression

    def holds(self, answers: Mapping[str, str]) -> bool:
        """Tell whether the operand does not hold."""
        return not self.operand.holds(answers)

    def references(self) -> tuple[str, ...]:
        """Return the question ids the expression reads."""
        return self.operand.references()

    def __str__(self) -> str:
        return f"not({self.operand})"


@dataclass(frozen=True, slots=True)
class And:
    """``a and b and ...`` (two or more operands, none of them an And)."""

    operands: tuple[Expression, ...]

    def holds(self, answers: Mapping[str, str]) -> bool:
        """Tell whether every operand holds."""
        return all(o.holds(answers) for o in self.operands)

    def references(self) -> tuple[str, ...]:
        """Return the question ids the expression reads."""
        return tuple(q for o in self.operands for q in o.references())

    def __str__(self) -> str:
        return " and ".join(f"({o})" if isinstance(o, Or) else str(o) for o in self.operands)


@dataclass(frozen=True, slots=True)
class Or:
    """``a or b or ...`` (two or more operands, none of them an Or)."""

    operands: tuple[Expression, ...]

    def holds(self, answers: Mapping[str, str]) -> bool:
        """Tell whether any operand holds."""
        return any(o.holds(answers) for o in self.operands)

    def references(self) -> tuple[str, ...]:
        """Return the question ids the expression reads."""
        return tuple(q for o in self.operands for q in o.references())

    def __str__(self) -> str:
        return " or ".join(str(o) for o in self.operands)


Expression = Compare | Selected | Not | And | Or


def _join(kind: type[And] | type[Or], parts: list[Expression]) -> Expression:
    """Build a flat And/Or (a single part stands alone)."""
    flat: list[Expression] = []
    for part in parts:
        flat.extend(part.operands if isinstance(part, kind) else (part,))
    return flat[0] if len(flat) == 1 else kind(tuple(flat))


def any_of(question: str, values: tuple[str, ...], *, negate: bool = False) -> Expression:
    """Build the expression for the YAML form ``{question: q, in: [...]}`` (or ``not_in``).

    ``not_in`` also requires an answer, as it always has: an unanswered source hides the
    question either way.
    """
    chosen = _join(Or, [Selected(question, v) for v in values])
    if not negate:
        return chosen
    return And((Compare(question, "!=", ""), Not(chosen)))


# --- tokenizer -----------------------------------------------------------------------------

_TOKEN_RE: Final = re.compile(
    r"""
    (?P<space>\s+)
  | \$\{(?P<ref>[^}]*)\}
  | '(?P<squote>[^']*)'
  | "(?P<dquote>[^"]*)"
  | (?P<number>-?(?:\d+\.?\d*|\.\d+))
  | (?P<op>!=|<=|>=|=|<|>)
  | (?P<punct>[(),.])
  | (?P<name>[A-Za-z_][A-Za-z0-9_-]*)
    """,
    re.VERBOSE,
)


def number_literal(text: str, column: int) -> float:
    """Return a number token's value; ExpressionError for one too large to be finite."""
    value = float(text)
    if not math.isfinite(value):
        shown = text if len(text) <= 20 else text[:20] + "…"
        raise ExpressionError(f"number {shown} at column {column} is too large")
    return value


@dataclass(frozen=True, slots=True)
class Token:
    """One token: its kind (ref, string, number, op, punct, name, end), text and column."""

    kind: str
    text: str
    column: int

    def describe(self) -> str:
        """Name the token the way an error message shows it."""
        if self.kind == "end":
            return "the end"
        if self.kind == "ref":
            return f"'${{{self.text}}}'"
        return _quote(self.text) if self.kind == "string" else repr(self.text)


def tokenize(text: str) -> list[Token]:
    """Split an expression into tokens, ending with an "end" token."""
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN_RE.match(text, position)
        if match is None:
            raise ExpressionError(f"unexpected {text[position]!r} at column {position + 1}")
        kind = match.lastgroup or ""
        column = position + 1
        position = match.end()
        if kind == "space":
            continue
        if kind in ("squote", "dquote"):
            tokens.append(Token("string", match.group(kind), column))
        elif kind == "ref":
            tokens.append(Token("ref", match.group("ref").strip(), column))
        elif kind == "name":
            tokens.append(Token("name", match.group("name"), column))
        else:
            tokens.append(Token(kind, match.group(kind), column))
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


# --- parser --------------------------------------------------------------------------------


class _Parser:
    """Recursive descent over the token list; every method consumes what it parses."""

    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.at = 0
        self.depth = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.at]

    def fail(self, expected: str) -> ExpressionError:
        token = self.token
        return ExpressionError(
            f"expected {expected} at column {token.column}, found {token.describe()}"
        )

    def take(self, kind: str, text: str | None = None) -> Token:
        token = self.token
        if token.kind != kind or (text is not None and token.text != text):
            raise self.fail(repr(text) if text is not None else kind)
        self.at += 1
        return token

    def is_name(self, name: str) -> bool:
        return self.token.kind == "name" and self.token.text == name

    def is_punct(self, text: str) -> bool:
        return self.token.kind == "punct" and self.token.text == text

    def expression(self) -> Expression:
        parts = [self.conjunction()]
        while self.is_name("or"):
            self.at += 1
            parts.append(self.conjunction())
        return _join(Or, parts)

    def conjunction(self) -> Expression:
        parts = [self.unary()]
        while self.is_name("and"):
            self.at += 1
            parts.append(self.unary())
        return _join(And, parts)

    def nested(self) -> Expression:
        """Parse a parenthesised expression (after its '('), within MAX_DEPTH levels."""
        if self.depth >= MAX_DEPTH:
            raise ExpressionError(
                f"nested more than {MAX_DEPTH} levels deep at column {self.token.column}"
            )
        self.depth += 1
        inner = self.expression()
        self.depth -= 1
        self.take("punct", ")")
        return inner

    def unary(self) -> Expression:
        if self.is_name("not"):
            self.at += 1
            self.take("punct", "(")
            return Not(self.nested())
        if self.is_punct("("):
            self.at += 1
            return self.nested()
        if self.is_name("selected"):
            self.at += 1
            self.take("punct", "(")
            question = self.reference()
            self.take("punct", ",")
            value = self.take("string").text
            self.take("punct", ")")
            return Selected(question, value)
        if self.token.kind == "name":
            raise ExpressionError(
                f"unsupported {self.token.text!r} at column {self.token.column} (supported: "
                "${question} comparisons, selected(), and, or, not(), parentheses)"
            )
        return self.comparison()

    def reference(self) -> str:
        token = self.take("ref")
        if not token.text:
            raise ExpressionError(f"empty ${{}} at column {token.column}")
        return token.text

    def literal(self) -> str | float | None:
        token = self.token
        if token.kind == "string":
            self.at += 1
            return token.text
        if token.kind == "number":
            self.at += 1
            return number_literal(token.text, token.column)
        return None

    def comparison(self) -> Expression:
        if self.token.kind == "ref":
            question = self.reference()
            op = self.take("op").text
            value = self.literal()
            if value is None:
                raise self.fail("a quoted text or a number")
            return self._compare(question, op, value)
        value = self.literal()
        if value is None:
            raise self.fail("${question}, selected(), not() or '('")
        op = self.take("op").text
        return self._compare(self.reference(), _FLIPPED[op], value)

    def _compare(self, question: str, op: str, value: str | float) -> Compare:
        if isinstance(value, str) and op not in ("=", "!="):
            raise ExpressionError(f"{op!r} compares numbers; {_quote(value)} is a text")
        return Compare(question, op, value)


def parse_expression(text: str) -> Expression:
    """Parse a skip-logic expression; raise ExpressionError saying what is wrong and where."""
    if not text.strip():
        raise ExpressionError("the expression is empty")
    parser = _Parser(text)
    expression = parser.expression()
    if parser.token.kind != "end":
        raise parser.fail("'and', 'or' or the end")
    return expression
