"""`spibot comments`: respondents' suggestions by unit and question, with keyword counts."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.common import now, run_with_db

if TYPE_CHECKING:
    from services.reports import WaveComments
    from services.settings import Settings
    from storage.db import AsyncEngine

__all__ = ["add_comment_commands", "comments_text"]


def comments_text(found: WaveComments, k: int, language: str) -> str:
    """Render a review as plain text for the terminal.

    No dates, alphabetical within a question (see scoring.comments); control characters are
    dropped and a suggestion that a spreadsheet would run is shown with a leading apostrophe,
    since this listing is often pasted into one.
    """
    from services.untrusted import clean_typed, spreadsheet_cell

    review = found.review
    scope = f", unit {found.unit}" if found.unit else ""
    lines = [f"suggestions in wave {found.wave.name}{scope}: {len(review.comments)} (k={k})"]
    if found.wave.is_open:
        lines.append(
            "open wave: only what the release rule lets out (whole days before today, "
            f"steps of {k} per unit and group)"
        )
    if review.withheld:
        lines.append(f"{review.withheld} responses withheld: under k even after merging")
    last: tuple[str, str] | None = None
    for comment in review.comments:
        if last is None or last[0] != comment.unit:
            lines += ["", comment.unit]
        if last != (comment.unit, comment.question_id):
            lines.append(
                f"  {comment.question_id} ({comment.group}): {comment.question.get(language)}"
            )
        last = (comment.unit, comment.question_id)
        text = spreadsheet_cell(" ".join(clean_typed(comment.text).split()))
        lines.append(f"    {text}")
    lines += ["", "keyword       comments"]
    lines += [f"  {word:<12}{count:>6}" for word, count in review.keyword_counts]
    return "\n".join(lines)


def cmd_comments(args: argparse.Namespace) -> int:
    """Print respondents' suggestions of a wave (and write the keyword chart)."""

    async def work(engine: AsyncEngine, settings: Settings) -> tuple[WaveComments, int]:
        from services.reports import load_comments

        k = settings.small_cell_k
        today = now().astimezone(settings.zone).date()
        return await load_comments(engine, args.wave, k=k, today=today, unit=args.unit), k

    found, k = run_with_db(args, work)
    print(comments_text(found, k, args.language))
    if args.chart:
        from scoring.charts.keywords import keyword_chart

        png = keyword_chart(found.review, found.wave.name, args.language)
        try:
            Path(args.chart).write_bytes(png)
        except OSError as exc:
            print(f"cannot write {args.chart}: {exc.strerror}", file=sys.stderr)
            return 2  # an expected error: one line, exit 2 (as every spibot command)
        print(f"keyword chart written to {args.chart}")
    return 0


def add_comment_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `spibot comments`."""
    p = sub.add_parser("comments", help="respondents' suggestions, k-suppressed, with keywords")
    p.add_argument("--wave", help="wave name (default: the open wave)")
    p.add_argument("--unit", help="only this unit code")
    p.add_argument("--chart", metavar="OUT.png", help="also write the keyword chart")
    p.add_argument("--language", choices=("id", "en"), default="id", help="question language")
    p.set_defaults(func=cmd_comments)
