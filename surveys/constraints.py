"""XLSForm ``constraint`` cells the bot can enforce: number bounds and a text length limit.

Pure. Uses the skip-logic tokenizer (surveys.expressions); anything beyond ``. >= N``,
``. > N``, ``. <= N``, ``. < N`` and ``string-length(.) <= N`` (or ``< N``) joined by ``and``
is refused with its position.
"""

from __future__ import annotations

from dataclasses import dataclass

from surveys.expressions import ExpressionError, Token, number_literal, tokenize

__all__ = ["TextLimit", "parse_constraint"]


@dataclass(frozen=True, slots=True)
class TextLimit:
    """What a supported XLSForm ``constraint`` says: number bounds or a text length limit."""

    min_value: float | None = None
    max_value: float | None = None
    max_length: int | None = None
    min_exclusive: bool = False  # ". > N": N itself is refused
    max_exclusive: bool = False  # ". < N"


def _number(token: Token) -> float | None:
    """Return a number token's value (None when the token is not a number)."""
    return number_literal(token.text, token.column) if token.kind == "number" else None


def parse_constraint(text: str) -> TextLimit:
    """Parse a constraint: ``. >= N``, ``. > N``, ``. <= N``, ``. < N`` and
    ``string-length(.) <= N`` (or ``< N``), joined by and.

    Anything else raises ExpressionError: the bot only enforces bounds on numbers and a
    maximum length on texts.
    """
    tokens = tokenize(text)
    at = 0
    low: tuple[float, bool] | None = None  # (bound, strict)
    high: tuple[float, bool] | None = None
    length: int | None = None

    def fail(token: Token) -> ExpressionError:
        return ExpressionError(
            f"unsupported constraint {text!r} (at column {token.column}): use "
            "'. >= N', '. > N', '. <= N', '. < N' or 'string-length(.) <= N', joined by 'and'"
        )

    def texts(count: int) -> list[str]:
        return [t.text for t in tokens[at : at + count]]

    def tighter(
        old: tuple[float, bool] | None, new: tuple[float, bool], lower: bool
    ) -> tuple[float, bool]:
        if old is None or (new[0] > old[0] if lower else new[0] < old[0]):
            return new
        return (old[0], old[1] or new[1]) if new[0] == old[0] else old

    while True:
        token = tokens[at]
        first = texts(2)
        if first[:1] == ["."] and first[1:] in ([">="], [">"], ["<="], ["<"]):
            value = _number(tokens[at + 2])
            if value is None:
                raise fail(tokens[at + 2])
            op = first[1]
            if op.startswith(">"):
                low = tighter(low, (value, op == ">"), lower=True)
            else:
                high = tighter(high, (value, op == "<"), lower=False)
            at += 3
        elif texts(5) in (
            ["string-length", "(", ".", ")", "<="],
            ["string-length", "(", ".", ")", "<"],
        ):
            number = _number(tokens[at + 5])
            if number is None or not number.is_integer():
                raise fail(tokens[at + 5])
            length = int(number) - (1 if tokens[at + 4].text == "<" else 0)
            if length < 1:
                raise fail(tokens[at + 5])
            at += 6
        else:
            raise fail(token)
        if tokens[at].kind == "end":
            break
        if tokens[at].kind == "name" and tokens[at].text == "and":
            at += 1
            continue
        raise fail(tokens[at])
    if length is not None and (low is not None or high is not None):
        raise ExpressionError("a constraint cannot limit both a number and a text length")
    return TextLimit(
        min_value=None if low is None else low[0],
        max_value=None if high is None else high[0],
        max_length=length,
        min_exclusive=low is not None and low[1],
        max_exclusive=high is not None and high[1],
    )
