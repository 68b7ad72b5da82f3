"""XLSForm ``constraint`` cells the bot can enforce: number bounds and a text length limit.

Pure. Uses the skip-logic tokenizer (surveys.expressions); anything beyond ``. >= N``,
``. <= N`` and ``string-length(.) <= N`` joined by ``and`` is refused with its position.
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


def parse_constraint(text: str) -> TextLimit:
    """Parse a constraint: ``. >= N``, ``. <= N`` and ``string-length(.) <= N``, joined by and.

    Anything else raises ExpressionError: the bot only enforces inclusive bounds on numbers
    and a maximum length on texts.
    """
    tokens = tokenize(text)
    at = 0
    low: float | None = None
    high: float | None = None
    length: int | None = None

    def fail(token: Token) -> ExpressionError:
        return ExpressionError(
            f"unsupported constraint {text!r} (at column {token.column}): use "
            "'. >= N', '. <= N' or 'string-length(.) <= N', joined by 'and'"
        )

    def texts(count: int) -> list[str]:
        return [t.text for t in tokens[at : at + count]]

    while True:
        token = tokens[at]
        if texts(3)[:2] == [".", ">="] and tokens[at + 2].kind == "number":
            value = number_literal(tokens[at + 2].text, tokens[at + 2].column)
            low = value if low is None else max(low, value)
            at += 3
        elif texts(3)[:2] == [".", "<="] and tokens[at + 2].kind == "number":
            value = number_literal(tokens[at + 2].text, tokens[at + 2].column)
            high = value if high is None else min(high, value)
            at += 3
        elif texts(6)[:5] == ["string-length", "(", ".", ")", "<="] and tokens[at + 5].kind == (
            "number"
        ):
            number = number_literal(tokens[at + 5].text, tokens[at + 5].column)
            if not number.is_integer():
                raise fail(tokens[at + 5])
            length = int(number)
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
    return TextLimit(min_value=low, max_value=high, max_length=length)
