"""Free-text review: respondents' suggestions by unit and question, and keyword counts.

Pure pandas: no telegram, no database, no clock. Comments of a unit × group cell under k
are shown under ``lainnya`` (and withheld when even the pooled cell is under k), as in the
data export. A comment carries no date, and within a unit and question comments come in
alphabetical order: neither tells when someone wrote, so a reader who knows when a colleague
answered cannot pick out their comment. Keywords are counted per comment (a comment naming
"antrean" twice counts once).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import pandas as pd

from scoring.config import GROUP_ORDER
from scoring.exports import MERGED_UNIT, merge_small_cells
from surveys.model import Group, Questionnaire, QuestionType, Text

__all__ = ["KEYWORDS", "Comment", "CommentReview", "review_comments"]

# Keyword -> word stems that count for it (lowercase, matched at the start of a word).
KEYWORDS: Final[Mapping[str, tuple[str, ...]]] = {
    "antrean": ("antre", "antri", "ngantri"),
    "pungli": ("pungli", "pungutan liar"),
    "calo": ("calo", "percaloan"),
    "suap": ("suap", "sogok", "uang pelicin", "amplop"),
    "gratifikasi": ("gratifikasi", "hadiah", "uang terima kasih"),
    "lambat": ("lambat", "lama", "berbelit"),
    "biaya": ("biaya", "mahal", "tarif"),
    "petugas": ("petugas", "pegawai"),
    "online": ("online", "daring", "aplikasi"),
    "ramah": ("ramah", "sopan"),
}


@dataclass(frozen=True, slots=True)
class Comment:
    """One free-text answer and where it was given (never when)."""

    unit: str
    group: Group
    question_id: str
    question: Text
    text: str


@dataclass(frozen=True, slots=True)
class CommentReview:
    """Comments grouped by unit and question (alphabetical) and how often keywords appear."""

    comments: tuple[Comment, ...]
    keyword_counts: tuple[tuple[str, int], ...]  # most mentioned first; zero counts kept
    merged_cells: int
    withheld: int


def _pattern(stems: Sequence[str]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(re.escape(s) for s in stems) + r")", re.IGNORECASE)


def review_comments(
    responses: pd.DataFrame,
    answers: pd.DataFrame,
    questionnaires: Mapping[Group, Questionnaire],
    *,
    k: int,
    unit: str | None = None,
    keywords: Mapping[str, Sequence[str]] = KEYWORDS,
) -> CommentReview:
    """Collect the text answers of the given responses, k-suppressed, optionally for one unit.

    `responses` and `answers` are what the release rule let out (`services.release`).
    """
    frame = pd.DataFrame(
        {
            "response_id": responses["response_id"].astype(str),
            "unit": responses["unit_code"].astype(str),
            "group": responses["grp"].astype(str),
        }
    )
    frame, merged, withheld_responses = merge_small_cells(frame, k)
    text_questions = {
        (group.value, q.id): q
        for group in GROUP_ORDER
        if (questionnaire := questionnaires.get(group)) is not None
        for q in questionnaire.questions
        if q.type is QuestionType.TEXT
    }
    order = {key: i for i, key in enumerate(text_questions)}
    texts = answers.assign(
        response_id=answers["response_id"].astype(str),
        question_id=answers["question_id"].astype(str),
        value=answers["value"].astype(str),
    )[["response_id", "question_id", "value"]]
    joined = frame.merge(texts, on="response_id")
    keys = list(zip(joined["group"], joined["question_id"], strict=True))
    joined = joined.assign(order=[order.get(key, -1) for key in keys])
    joined = joined[joined["order"] >= 0]
    if unit is not None:
        joined = joined[joined["unit"] == unit]
    # Alphabetical within a unit and question: the order of arrival (and so of the rows
    # read from the database) must not show through.
    joined = joined.assign(
        pooled=joined["unit"] == MERGED_UNIT, folded=joined["value"].str.casefold()
    ).sort_values(["pooled", "unit", "order", "folded", "value"], kind="stable")
    comments = tuple(
        Comment(
            unit=str(unit_code),
            group=Group(str(group)),
            question_id=str(qid),
            question=text_questions[(str(group), str(qid))].text,
            text=str(value),
        )
        for unit_code, group, qid, value in zip(
            joined["unit"], joined["group"], joined["question_id"], joined["value"], strict=True
        )
    )
    counts = [
        (word, sum(1 for c in comments if _pattern(stems).search(c.text)))
        for word, stems in keywords.items()
    ]
    counts.sort(key=lambda item: -item[1])
    return CommentReview(comments, tuple(counts), merged, withheld_responses)
