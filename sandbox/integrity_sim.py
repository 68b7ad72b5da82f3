"""Simulated waves for the survey-integrity rules: honest, coached and rushing units.

An honest unit's people answer when they get round to it over the wave's days, each from
their own view of the unit (answers near a personal leaning, with noise), at a reading pace
of several seconds a question. A coached unit's head gathers the staff after apel pagi (or
broadcasts what to tick) and "helps" them fill in the survey: most of them submit within the
hour, nearly the same favourable answers. A rushing unit's people tap through without
reading, a second or less a question, picking anything. The seed fixes every person, answer
and time.

`simulate_wave` makes the people (pure); `wave_frames` gives the released answers and arrival
counts storage would hold for them (for tests and the false-flag benchmark, fast);
`play_wave` submits them through the storage API with their times, as the bot would.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

import pandas as pd

import storage.db
import storage.sessions
import storage.turns
import storage.units
import storage.waves
from scoring.columns import ANSWER_COLUMNS
from scoring.config import IntegrityConfig
from scoring.integrity import find_signals
from scoring.paradata import duration_band, pace_band
from surveys import Group, Question, Questionnaire, QuestionType, bundled_questionnaires

__all__ = [
    "Behaviour",
    "FlagRate",
    "SimulatedResponse",
    "UnitPlan",
    "false_flags",
    "honest_units",
    "play_wave",
    "simulate_wave",
    "wave_frames",
]

WIB = ZoneInfo("Asia/Jakarta")
_OFFICE_OPENS = time(7, 0)
_EVENING = 21  # honest people answer between 07:00 and 21:00


class Behaviour(StrEnum):
    """How a unit's people answer."""

    HONEST = "honest"
    COACHED = "coached"  # a burst of near-identical favourable answers after a briefing
    RUSHING = "rushing"  # tapped through without reading


@dataclass(frozen=True)
class UnitPlan:
    """A unit of the simulated wave: its code, behaviour and respondents per group."""

    code: str
    behaviour: Behaviour = Behaviour.HONEST
    respondents: dict[Group, int] = field(default_factory=lambda: {Group.INTERNAL: 20})
    # Only this group is coached or rushes; the unit's other groups answer honestly.
    affected: Group = Group.INTERNAL
    share: float = 0.8  # of that group, the share that is coached or rushes


@dataclass(frozen=True)
class SimulatedResponse:
    """One person's submitted survey: unit, group, answers and when (UTC)."""

    unit_code: str
    group: Group
    answers: dict[str, str]
    started: datetime
    finished: datetime
    behaviour: Behaviour

    @property
    def day(self) -> date:
        """Return the completion day in the institution's time zone."""
        return self.finished.astimezone(WIB).date()


def _ranked(question: Question) -> list[str]:
    """The question's scored options, worst to best by item score (reverse keying included)."""
    scored = [(question.item_score(o.value), o.value) for o in question.options]
    return [value for score, value in sorted(s for s in scored if s[0] is not None)]


def _answer(
    question: Question, rng: random.Random, position: float | None, *, careless: bool
) -> str | None:
    """Pick an answer: near `position` (0 worst … 1 best) on a scored item, else anything."""
    if question.type is QuestionType.TEXT:
        return None  # suggestions are optional; nobody types one here
    if question.type is QuestionType.NUMBER:
        low = int(question.min_value or 0) + (1 if question.min_exclusive else 0)
        high = int(question.max_value if question.max_value is not None else low + 20)
        return str(rng.randint(low, min(high, low + 20)))
    values = [o.value for o in question.options]
    ranked = _ranked(question) if question.scored else []
    if careless or not ranked or position is None:
        if question.type is QuestionType.MULTIPLE:
            return ",".join(sorted(rng.sample(values, rng.randint(1, min(2, len(values))))))
        return rng.choice(values)
    unscored = [v for v in values if v not in ranked]
    if unscored and rng.random() < 0.05:
        return rng.choice(unscored)  # now and then someone does not know
    spot = min(1.0, max(0.0, rng.gauss(position, 0.22)))
    return ranked[round(spot * (len(ranked) - 1))]


def _fill(
    questionnaire: Questionnaire,
    rng: random.Random,
    leaning: float,
    *,
    careless: bool = False,
    ideal: bool = False,
) -> dict[str, str]:
    """Answer a questionnaire in order, following its skip logic."""
    answers: dict[str, str] = {}
    for question in questionnaire.questions:
        if not questionnaire.is_shown(question, answers):
            continue
        if ideal and question.scored:
            ranked = _ranked(question)
            # The answer sheet handed out, copied with a slip now and then.
            pick = ranked[-1] if rng.random() > 0.06 else ranked[max(0, len(ranked) - 2)]
            answers[question.id] = pick
            continue
        given = _answer(question, rng, leaning, careless=careless)
        if given is not None:
            answers[question.id] = given
    return answers


def _office_time(moment: datetime, rng: random.Random) -> datetime:
    """Move a local time out of the night: to the next morning, early office hours."""
    if moment.time() >= _OFFICE_OPENS and moment.hour < _EVENING:
        return moment
    day = moment.date() if moment.hour < _OFFICE_OPENS.hour else moment.date() + timedelta(1)
    morning = datetime.combine(day, _OFFICE_OPENS, tzinfo=moment.tzinfo)
    return morning + timedelta(minutes=rng.uniform(0, 180))


def simulate_wave(
    units: Sequence[UnitPlan],
    *,
    seed: int,
    opens: datetime,
    days: int = 10,
    briefing_day: int = 3,
) -> list[SimulatedResponse]:
    """Make every respondent of a wave that opens at `opens` and runs `days` days.

    Honest people answer over the wave: their unit's links go out at a random moment of the
    first days and each person answers a while later, in waking hours. A coached group's
    share (UnitPlan.share) submits on `briefing_day` between 08:05 and 08:55; a rushing
    group's share whenever, in well under two seconds a question.
    """
    rng = random.Random(seed)
    questionnaires = bundled_questionnaires()
    start = opens.astimezone(WIB)
    closes = start + timedelta(days=days)
    out: list[SimulatedResponse] = []
    for plan in units:
        unit_rng = random.Random(f"{seed}-{plan.code}")
        view = unit_rng.uniform(0.45, 0.8)  # how the unit's people see it, on average
        for group, count in plan.respondents.items():
            questionnaire = questionnaires[group]
            shared = start + timedelta(hours=unit_rng.uniform(0, 72))
            affected = group is plan.affected and plan.behaviour is not Behaviour.HONEST
            odd = round(count * plan.share) if affected else 0
            for person in range(count):
                behaviour = plan.behaviour if person < odd else Behaviour.HONEST
                leaning = min(1.0, max(0.0, rng.gauss(view, 0.12)))
                if behaviour is Behaviour.COACHED:
                    answers = _fill(questionnaire, rng, leaning, ideal=True)
                    briefing = datetime.combine(
                        (start + timedelta(days=briefing_day)).date(), time(8, 5), tzinfo=WIB
                    )
                    finished = briefing + timedelta(minutes=rng.uniform(0, 50))
                    pace = rng.uniform(5, 9)
                elif behaviour is Behaviour.RUSHING:
                    answers = _fill(questionnaire, rng, leaning, careless=True)
                    finished = _office_time(shared + timedelta(hours=rng.expovariate(1 / 30)), rng)
                    pace = rng.uniform(0.3, 1.8)
                else:
                    answers = _fill(questionnaire, rng, leaning)
                    finished = _office_time(shared + timedelta(hours=rng.expovariate(1 / 30)), rng)
                    pace = rng.lognormvariate(2.5, 0.45)  # median ~12 s a question
                finished = min(finished, closes - timedelta(minutes=1))
                seconds = max(1.0, pace * max(1, len(answers)))
                started = finished - timedelta(seconds=seconds)
                out.append(
                    SimulatedResponse(
                        plan.code,
                        group,
                        answers,
                        started.astimezone(opens.tzinfo),
                        finished.astimezone(opens.tzinfo),
                        behaviour,
                    )
                )
    return out


def wave_frames(responses: Sequence[SimulatedResponse]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the answers frame and the arrivals frame (local hours) storage would give."""
    rows: list[tuple[object, ...]] = []
    arrivals: dict[tuple[str, str, datetime], int] = {}
    for index, response in enumerate(responses):
        response_id = f"r{index:06d}"
        seconds = (response.finished - response.started).total_seconds()
        pace = pace_band(seconds, len(response.answers))
        duration = duration_band(seconds)
        day = pd.Timestamp(response.day)
        for question_id, value in response.answers.items():
            rows.append(
                (
                    response_id,
                    response.group.value,
                    response.unit_code,
                    duration,
                    pace,
                    day,
                    question_id,
                    value,
                )
            )
        hour = response.finished.astimezone(WIB).replace(minute=0, second=0, microsecond=0)
        key = (response.unit_code, response.group.value, hour.replace(tzinfo=None))
        arrivals[key] = arrivals.get(key, 0) + 1
    answers = pd.DataFrame(rows, columns=list(ANSWER_COLUMNS))
    for column in ("duration_band", "pace_band"):
        answers[column] = answers[column].astype("Int64")
    answers["question_id"] = answers["question_id"].astype("category")
    counted = pd.DataFrame(
        [(u, g, h, n) for (u, g, h), n in arrivals.items()],
        columns=["unit_code", "grp", "hour", "count"],
    )
    return answers, counted


async def play_wave(
    engine: storage.db.AsyncEngine, wave: storage.waves.Wave, responses: Sequence[SimulatedResponse]
) -> None:
    """Submit every response through the storage API at its own times, as the bot does."""
    unit_ids = {u.code: u.id for u in await storage.units.list_units(engine)}
    for response in sorted(responses, key=lambda r: r.finished):
        pseudonym = secrets.token_hex(16)
        session = await storage.sessions.start_session(
            engine,
            pseudonym,
            wave.id,
            response.group.value,
            unit_ids[response.unit_code],
            None,
            "id",
            "question",
            response.started,
        )
        step = (response.finished - response.started) / max(1, len(response.answers))
        moment = response.started
        for question_id, value in response.answers.items():
            moment += step
            moved = await storage.turns.move_session(
                engine, session, now=moment, answer=(question_id, value)
            )
            assert moved is not None
            session = moved
        assert await storage.sessions.submit(engine, pseudonym, response.finished, response.day)


def honest_units(count: int, seed: int) -> list[UnitPlan]:
    """Return `count` honest units of a kabupaten-like mix: every unit has staff (10-40) and
    experts (5-9); one in two serves the public (8-30 service users answer)."""
    rng = random.Random(f"units-{seed}")
    plans = []
    for number in range(count):
        respondents = {Group.INTERNAL: rng.randint(10, 40), Group.EXPERT: rng.randint(5, 9)}
        if number % 2 == 0:
            respondents[Group.EXTERNAL] = rng.randint(8, 30)
        plans.append(UnitPlan(f"U{number:02d}", Behaviour.HONEST, respondents))
    return plans


@dataclass(frozen=True)
class FlagRate:
    """Honest cells flagged by any signal over some seeded waves (the false-flag rate)."""

    waves: int
    cells: int  # unit × group cells looked at (at least k responses)
    flagged: int  # of them, cells with any signal
    waves_flagged: int  # waves with at least one flagged cell
    by_kind: dict[str, int]

    @property
    def rate(self) -> float:
        """Return the share of honest cells flagged."""
        return self.flagged / self.cells if self.cells else 0.0


def false_flags(
    seeds: Sequence[int],
    *,
    units: int = 30,
    k: int = 5,
    config: IntegrityConfig | None = None,
    opens: datetime | None = None,
) -> FlagRate:
    """Simulate one all-honest wave per seed and count the cells any signal flags."""
    config = config or IntegrityConfig()
    moment = opens or datetime(2026, 3, 2, 0, 0, tzinfo=WIB)
    questionnaires = bundled_questionnaires()
    cells = flagged = waves_flagged = 0
    by_kind: dict[str, int] = {}
    for seed in seeds:
        answers, arrivals = wave_frames(
            simulate_wave(honest_units(units, seed), seed=seed, opens=moment)
        )
        found = find_signals(answers, arrivals, questionnaires, config, k)
        cells += len(found.cells)
        flagged += len(found.flagged)
        waves_flagged += 1 if found.flagged else 0
        for cell in found.flagged:
            for signal in cell.signals:
                by_kind[signal.kind.value] = by_kind.get(signal.kind.value, 0) + 1
    return FlagRate(len(seeds), cells, flagged, waves_flagged, by_kind)
