"""Which responses a provisional result may show: protection against differencing.

k-suppression stops a result resting on fewer than k people, but not two results that differ
by one person: a unit head who reads `/unit` just before and just after a known colleague
submits would learn that colleague's answers from the difference. So while a wave is open a
unit × group cell shows only *whole days before today*, and moves on only in steps of at least
k responses: the days of a cell are walked oldest first, and a day closes a step once the
responses since the previous step reach k. Responses after the last step wait for more.

Every shown number (unit and institution scores, dimensions, counts, targets) is computed
from the responses kept here, so any two provisional results differ by whole steps of
at least k responses of one cell. The rule needs no stored state: submitted responses and
their completion dates never change, so the steps found later extend the ones found before.
docs/scoring.md §6 has the rule and what it costs.
"""

from __future__ import annotations

from datetime import date
from typing import cast

import pandas as pd

from surveys.model import Group

__all__ = ["shown_responses", "today_counts", "waiting_counts"]


def _step_end(days: list[tuple[pd.Timestamp, int]], k: int) -> pd.Timestamp | None:
    """Return the last day that closes a step of at least k responses (days oldest first)."""
    since, last = 0, None
    for day, count in days:
        since += count
        if since >= k:
            since, last = 0, day
    return last


def shown_responses(answers: pd.DataFrame, k: int, today: date) -> pd.DataFrame:
    """Return the rows of `answers` a provisional result may use (see the module docstring).

    `answers` is the scoring frame (one row per answer, `completed_on` the completion date);
    `today` is the current day in the institution's time zone.
    """
    if answers.empty:
        return answers
    per_response = answers.drop_duplicates("response_id")
    completed = pd.to_datetime(per_response["completed_on"])  # NaT when unknown: never shown
    before_today = per_response.assign(day=completed)[completed < pd.Timestamp(today)]
    counts = before_today.groupby(["unit_code", "grp", "day"], observed=True).size()
    per_cell: dict[tuple[str, str], list[tuple[pd.Timestamp, int]]] = {}
    for key, count in counts.sort_index().items():
        unit, grp, day = cast(tuple[object, object, object], key)
        stamp = pd.Timestamp(cast(str, day))
        per_cell.setdefault((str(unit), str(grp)), []).append((stamp, int(count)))
    last_day: dict[tuple[str, str], pd.Timestamp] = {}
    for cell, days in per_cell.items():
        end = _step_end(days, k)
        if end is not None:
            last_day[cell] = end
    if not last_day:
        return answers.iloc[0:0]
    cell_end = pd.Series(
        [
            last_day.get((str(u), str(g)), pd.NaT)
            for u, g in zip(per_response["unit_code"], per_response["grp"], strict=True)
        ],
        index=per_response.index,
        dtype="datetime64[ns]",
    )
    shown = per_response.loc[completed <= cell_end, "response_id"]
    return answers[answers["response_id"].isin(shown)]


def _per_cell(answers: pd.DataFrame) -> dict[tuple[str, Group], int]:
    """Count the responses of each unit × group."""
    per_response = answers.drop_duplicates("response_id")
    counts = per_response.groupby(["unit_code", "grp"], observed=True).size()
    out: dict[tuple[str, Group], int] = {}
    for key, count in counts.items():
        unit, grp = cast(tuple[object, object], key)
        out[(str(unit), Group(str(grp)))] = int(count)
    return out


def waiting_counts(answers: pd.DataFrame, shown: pd.DataFrame) -> dict[tuple[str, Group], int]:
    """Return, per unit × group, the responses of `answers` that `shown` leaves out.

    Counts only (arrivals, not answers): they go towards the targets, so /progres keeps up
    with collection while the scores wait for their next step.
    """
    if answers.empty:
        return {}
    shown_counts = _per_cell(shown) if not shown.empty else {}
    return {
        cell: count - shown_counts.get(cell, 0)
        for cell, count in _per_cell(answers).items()
        if count > shown_counts.get(cell, 0)
    }


def today_counts(answers: pd.DataFrame, today: date) -> dict[tuple[str, Group], int]:
    """Return, per unit × group, the responses of `answers` completed on `today`.

    They always wait (a provisional result shows whole days before today), so a cell whose
    waiting responses are all today's can say "shown from tomorrow" rather than "too few".
    """
    if answers.empty:
        return {}
    per_response = answers.drop_duplicates("response_id")
    completed = pd.to_datetime(per_response["completed_on"])
    return _per_cell(per_response[completed == pd.Timestamp(today)])
