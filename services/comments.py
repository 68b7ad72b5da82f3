"""Respondents' suggestions for the people who read them: load, review, render as text."""

from __future__ import annotations

import asyncio
import functools
import html
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import storage
from services.exports import chosen_wave, wave_questionnaires
from services.i18n import Catalog
from storage import AsyncEngine

if TYPE_CHECKING:  # scoring.comments needs pandas: loaded when comments are reviewed
    from scoring.comments import CommentReview

__all__ = ["WaveComments", "comments_messages", "keyword_png", "load_comments"]

# Telegram allows 4096 characters per message; a few messages of suggestions is what a
# phone reader takes in, the CLI has the rest.
MESSAGE_LIMIT: Final = 4000
MAX_MESSAGES: Final = 3


@dataclass(frozen=True, slots=True)
class WaveComments:
    """A wave's comment review and the wave it belongs to."""

    wave: storage.Wave
    review: CommentReview
    unit: str | None


async def load_comments(
    engine: AsyncEngine, wave_name: str | None, *, k: int, unit: str | None = None
) -> WaveComments:
    """Review the named wave's (default: the open, else the newest) free text, k-suppressed."""
    from scoring.comments import review_comments

    wave = await chosen_wave(engine, wave_name)
    responses = await storage.responses_frame(engine, wave.id)
    answers = await storage.answers_frame(engine, wave.id)
    questionnaires = await wave_questionnaires(engine, wave)
    review = await asyncio.to_thread(
        functools.partial(review_comments, responses, answers, questionnaires, k=k, unit=unit)
    )
    return WaveComments(wave, review, unit)


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
    if not review.comments:
        key = "comments_unit_small" if found.unit else "comments_none"
        return ["\n".join([*head, "", t(language, key, k=k)])]
    body: list[str] = []
    last: tuple[str, str] | None = None
    for comment in review.comments:
        if last is None or last[0] != comment.unit:
            body += ["", f"<b>{html.escape(comment.unit)}</b>"]
        if last != (comment.unit, comment.question_id):
            body.append(f"<i>{html.escape(comment.question.get(language))}</i>")
        last = (comment.unit, comment.question_id)
        text = html.escape(" ".join(comment.text.split()))
        body.append(f"• {comment.completed_on:%d.%m} — {text}")
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
