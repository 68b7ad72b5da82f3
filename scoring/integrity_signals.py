"""What a survey-integrity signal is: its kind, its evidence and the responses it touches.

The data model of `scoring.integrity`, apart from its pandas computation, so the bot's texts
and chat can name signals without loading pandas at start (docs/benchmarks.md: memory).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from surveys.model import ConsistencyPair, Group

__all__ = [
    "ARRIVAL_COLUMNS",
    "BurstEvidence",
    "CellSignals",
    "ContradictionEvidence",
    "Evidence",
    "Findings",
    "RushingEvidence",
    "Signal",
    "SignalKind",
    "UniformEvidence",
]

# The arrivals frame: a unit's submissions of a group in one clock hour, the hour local and
# naive (the bot's time zone), as `services.integrity` reads them from storage.
ARRIVAL_COLUMNS = ("unit_code", "grp", "hour", "count")


class SignalKind(StrEnum):
    """What a signal saw (the `kind` of `spibot quality --json`)."""

    BURST = "burst"
    UNIFORM = "uniform"
    RUSHING = "rushing"
    CONTRADICTION = "contradiction"


@dataclass(frozen=True, slots=True)
class BurstEvidence:
    """`arrived` of the cell's `total` came in `hours` clock hours from `start`, where the
    group's other units had `usual_share` of theirs; the day brought `day_responses`."""

    arrived: int
    total: int
    start: datetime  # local, naive: the first hour of the window
    hours: int
    usual_share: float
    day_responses: int  # the responses of that day: the set (responses keep their day only)

    @property
    def day(self) -> date:
        """Return the day of the window."""
        return self.start.date()


@dataclass(frozen=True, slots=True)
class UniformEvidence:
    """`similar` of `total` agree with the cell's most common answers on at least
    `agreement` of their items; ideal answers and score spread against the others."""

    similar: int
    total: int
    agreement: float
    ideal_share: float  # of the cell's scored answers, the best option
    ideal_other_groups: float | None  # the unit's other groups (cells of at least k)
    ideal_other_units: float | None  # the group's other units (cells of at least k)
    spread: float | None  # SD of the near-identical responses' respondent scores
    spread_other_units: float | None  # the median of the other units' SDs in the group


@dataclass(frozen=True, slots=True)
class RushingEvidence:
    """`fast` of `total` answered faster than `floor_seconds` per question."""

    fast: int
    total: int
    floor_seconds: int


@dataclass(frozen=True, slots=True)
class ContradictionEvidence:
    """`contradicting` of `total` gave both answers of a pair; `pairs` counts each pair;
    `usual_rate` is the share among the group's other units (None: no other unit)."""

    contradicting: int
    total: int
    usual_rate: float | None
    pairs: tuple[tuple[ConsistencyPair, int], ...]


Evidence = BurstEvidence | UniformEvidence | RushingEvidence | ContradictionEvidence


@dataclass(frozen=True, slots=True)
class Signal:
    """One signal in one cell: what it saw and the responses it touches (at least k)."""

    kind: SignalKind
    response_ids: frozenset[str]
    evidence: Evidence

    @property
    def responses(self) -> int:
        """Return how many responses the signal touches."""
        return len(self.response_ids)


@dataclass(frozen=True, slots=True)
class CellSignals:
    """A unit × group with at least k responses, and its signals (often none)."""

    unit_code: str
    group: Group
    n: int
    signals: tuple[Signal, ...]


@dataclass(frozen=True, slots=True)
class Findings:
    """Every cell looked at, by unit code and group order."""

    cells: tuple[CellSignals, ...]

    @property
    def flagged(self) -> tuple[CellSignals, ...]:
        """Return the cells with at least one signal."""
        return tuple(c for c in self.cells if c.signals)
