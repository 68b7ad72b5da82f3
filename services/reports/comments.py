"""Respondents' suggestions for the people who read them: load, review, render as text.

Suggestions are read through the one release rule (`services.release`), shown without a date
and in alphabetical order, and only ever in a private chat (`handlers.reports.data`). When none
can be shown, the reader is told why (no free-text question, none written, not released yet, a unit
too small to show apart), from response counts only, never from whether a text was written.
"""

from __future__ import annotations

import asyncio
import functools
import html
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Final

import storage.waves
from services.i18n import Catalog
from services.release import released
from services.reports.exports import chosen_wave, wave_questionnaires
from services.untrusted import clean_typed
from storage.db import AsyncEngine
from surveys import Group, Questionnaire, QuestionType

if TYPE_CHECKING:  # scoring.comments and pandas: loaded when comments are reviewed
    import pandas as pd

    from scoring.comments import CommentReview

__all__ = ["Empty", "WaveComments", "comments_messages", "keyword_png", "load_comments"]

# Telegram allows 4096 characters per message; a few messages of suggestions is what a
# phone reader takes in, the CLI has the rest.
MESSAGE_LIMIT: Final = 4000
MAX_MESSAGES: Final = 3


class Empty(StrEnum):
    """Why there is no suggestion to show (the catalog key is `comments_empty_<value>`)."""

    NO_TEXT_QUESTION = "no_text_question"  # the wave's questionnaires ask for no free text
    NONE_YET = "none_yet"  # nobody wrote one (in what may be shown)
    NOT_RELEASED = "not_released"  # responses wait for the release rule's next step
    SUPPRESSED = "suppressed"  # the unit has fewer than k responses in a group: pooled
    WITHHELD = "withheld"  # every response is in a cell under k, even pooled


@dataclass(frozen=True, slots=True)
class WaveComments:
    """A wave's comment review and the wave it belongs to; `empty` says why there is none
    (None when there are comments), `waiting` how many responses the release holds back."""

    wave: storage.waves.Wave
    review: CommentReview
    unit: str | None
    empty: Empty | None = None
    waiting: int = 0


async def load_comments(
    engine: AsyncEngine, wave_name: str | None, *, k: int, today: date, unit: str | None = None
) -> WaveComments:
    """Review the named wave's (default: the open, else the newest) free text as released
    on `today` (`services.release`), k-suppressed."""
    from scoring.comments import review_comments

    wave = await chosen_wave(engine, wave_name)
    release = await released(engine, wave, k=k, today=today, with_responses=True)
    questionnaires = await wave_questionnaires(engine, wave)
    waiting = sum(n for (code, _), n in release.waiting.items() if unit is None or code == unit)
    responses = release.response_rows()
    review = await asyncio.to_thread(
        functools.partial(
            review_comments,
            responses,
            release.answers,
            questionnaires,
            k=k,
            unit=unit,
        )
    )
    empty = None
    if not review.comments:
        empty = _why_empty(questionnaires, responses, unit, k, waiting)
        if empty is Empty.NONE_YET and review.withheld:
            empty = Empty.WITHHELD
    return WaveComments(wave, review, unit, empty, waiting)


def _why_empty(
    questionnaires: Mapping[Group, Questionnaire],
    responses: pd.DataFrame,
    unit: str | None,
    k: int,
    waiting: int,
) -> Empty:
    """Say why a review is empty, from the questionnaires and response counts only."""
    asks = any(q.type is QuestionType.TEXT for qn in questionnaires.values() for q in qn.questions)
    if not asks:
        return Empty.NO_TEXT_QUESTION
    if unit is not None and not responses.empty:
        counts = responses[responses["unit_code"] == unit].groupby("grp").size()
        if any(0 < int(n) < k for n in counts):
            return Empty.SUPPRESSED
    return Empty.NOT_RELEASED if waiting else Empty.NONE_YET


async def keyword_png(found: WaveComments, language: str) -> bytes:
    """Draw the keyword chart of a review (off the event loop: matplotlib takes a while)."""
    from scoring.charts.keywords import keyword_chart  # matplotlib is heavy: load on use

    return await asyncio.to_thread(keyword_chart, found.review, found.wave.name, language)


def comments_messages(
    found: WaveComments, messages: Catalog, language: str, *, k: int, unit_name: str | None
) -> list[str]:
    """Render a review as at most MAX_MESSAGES HTML messages, keyword counts at the end."""
    review = found.review
    t = messages.t
    unit = t(language, "comments_unit", unit=html.escape(unit_name)) if unit_name else ""
    head = [
        t(language, "comments_title", wave=html.escape(found.wave.name), unit=unit),
        t(language, "comments_count", n=len(review.comments), k=k),
    ]
    if found.wave.is_open:
        head.append(t(language, "comments_released", k=k))
    if not review.comments:
        empty = found.empty or Empty.NONE_YET
        why = t(language, f"comments_empty_{empty.value}", k=k, n=found.waiting)
        return ["\n".join([*head, "", why])]
    body: list[str] = []
    last: tuple[str, str] | None = None
    for comment in review.comments:
        if last is None or last[0] != comment.unit:
            body += ["", f"<b>{html.escape(comment.unit)}</b>"]
        if last != (comment.unit, comment.question_id):
            body.append(f"<i>{html.escape(comment.question.get(language))}</i>")
        last = (comment.unit, comment.question_id)
        # No date beside a suggestion: see scoring.comments.
        text = html.escape(" ".join(clean_typed(comment.text).split()))
        body.append(f"• {text}")
    keywords = [t(language, "comments_keywords")] + [
        t(language, "comments_keyword_line", word=word, count=count)
        for word, count in review.keyword_counts
        if count
    ]
    pages: list[list[str]] = [head]
    shown = 0
    for line in body:
        if len("\n".join([*pages[-1], line])) > MESSAGE_LIMIT:
            if len(pages) == MAX_MESSAGES:
                break
            pages.append([])
        pages[-1].append(line)
        shown += line.startswith("• ")
    hidden = len(review.comments) - shown
    tail = ([t(language, "comments_more", n=hidden)] if hidden else []) + [""] + keywords
    if len("\n".join([*pages[-1], *tail])) > MESSAGE_LIMIT:
        pages.append([])
    pages[-1] += tail
    return ["\n".join(page).strip() for page in pages]
