"""Respondents' suggestions for the people who read them: load, review, render as text."""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass

import storage
from scoring.comments import CommentReview, review_comments
from services.admin import resolve_wave
from services.exports import wave_questionnaires
from storage import AsyncEngine

__all__ = ["WaveComments", "load_comments"]


@dataclass(frozen=True, slots=True)
class WaveComments:
    """A wave's comment review and the wave it belongs to."""

    wave: storage.Wave
    review: CommentReview
    unit: str | None


async def load_comments(
    engine: AsyncEngine, wave_name: str | None, *, k: int, unit: str | None = None
) -> WaveComments:
    """Review the named (default: the open) wave's free-text answers, k-suppressed."""
    wave = await resolve_wave(engine, wave_name)
    responses = await storage.responses_frame(engine, wave.id)
    answers = await storage.answers_frame(engine, wave.id)
    questionnaires = await wave_questionnaires(engine, wave)
    review = await asyncio.to_thread(
        functools.partial(review_comments, responses, answers, questionnaires, k=k, unit=unit)
    )
    return WaveComments(wave, review, unit)
