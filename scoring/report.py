"""The `Report` tree that `build_report` returns, and its JSON form (`spibot score --json`).

Numbers keep full precision here; `to_dict` is the only place that rounds (2 decimals).
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from scoring.benchmarks import BenchmarkComparison
from scoring.config import Corrections, ScoringConfig, WaveResult
from scoring.index import Category
from surveys.model import Dimension, Group

if TYPE_CHECKING:  # scoring.quality needs pandas, which a bot loads only to build a report
    from scoring.quality import QualitySummary

__all__ = [
    "CellStatus",
    "DimensionScore",
    "Exclusion",
    "GroupResult",
    "Report",
    "ScopeResult",
    "WaveComparison",
    "cell_status",
    "to_jsonable",
]


@dataclass(frozen=True, slots=True)
class DimensionScore:
    """A dimension's score and the number of respondents behind it (None when not shown)."""

    dimension: Dimension
    score: float | None
    n: int


@dataclass(frozen=True, slots=True)
class GroupResult:
    """One respondent group in one scope (the institution or a unit): a "cell"."""

    group: Group
    n: int  # valid responses: not excluded, at least one scored item
    score: float | None  # None when n == 0 or suppressed
    moe: float | None  # 95% margin of error; None when n < 2 or suppressed
    needed: int  # valid responses needed for ±target margin (docs/scoring.md)
    remaining: int  # max(0, needed − submitted)
    population: int | None  # roster size used for the finite-population correction
    suppressed: bool  # 0 < n < k, or hidden to protect another small cell
    dimensions: tuple[DimensionScore, ...]
    # Provisional only: submitted responses not yet in this result (scoring/provisional.py).
    waiting: int = 0
    # Responses among those the result uses that data-quality rules or the inspectorate
    # (Report.exclusions) left out (not in n).
    excluded: int = 0
    # Provisional only: of `waiting`, the responses completed today (shown from tomorrow on).
    waiting_today: int = 0

    @property
    def submitted(self) -> int:
        """Return the responses counted towards the target: in the result or waiting for it."""
        return self.n + self.waiting


class CellStatus(enum.Enum):
    """Why a cell shows its score, or why it shows none (texts say it in plain words)."""

    SHOWN = "shown"
    NOT_APPLICABLE = "not_applicable"  # the group does not apply here (no target, no answers)
    NO_RESPONSES = "no_responses"  # nobody answered yet
    TODAY = "today"  # every response arrived today: shown from tomorrow (the release rule)
    WAITING = "waiting"  # responses wait for a step of at least k (the release rule)
    EXCLUDED = "excluded"  # data-quality rules left fewer than k valid responses
    SMALL = "small"  # fewer than k respondents: hidden so no answer can be guessed
    PROTECTING = "protecting"  # k or more, hidden so a smaller cell cannot be worked out


def cell_status(cell: GroupResult, k: int) -> CellStatus:
    """Return why `cell` has a score or none (k: the report's smallest shown cell).

    The order is what a reader needs first: a cell that waits for the release rule says so
    before anything about its size, since its size will change.
    """
    if cell.score is not None:
        return CellStatus.SHOWN
    if cell.suppressed and cell.n >= k:
        return CellStatus.PROTECTING
    if cell.n == 0 and cell.waiting > 0:
        return CellStatus.TODAY if cell.waiting_today == cell.waiting else CellStatus.WAITING
    if cell.excluded > 0 and cell.n < k:
        return CellStatus.EXCLUDED
    if cell.suppressed:
        return CellStatus.SMALL
    if cell.submitted == 0:
        return CellStatus.NOT_APPLICABLE if cell.needed == 0 else CellStatus.NO_RESPONSES
    return CellStatus.WAITING


@dataclass(frozen=True, slots=True)
class Exclusion:
    """Responses the inspectorate left out of a wave, with the reason it recorded (issue 24).

    Counts per unit and group only, never which responses: the report says what was left
    out and why, the database alone knows which (storage.integrity).
    """

    unit_code: str | None  # None: not tied to one unit
    group: Group
    count: int
    reason: str
    number: int = 0  # the exclusion's number (`spibot quality restore`); 0: not stored
    kind: str = ""  # the survey-integrity signal it followed: burst, uniform, rushing, …
    created_on: date | None = None  # the day it was decided, in the bot's time zone


@dataclass(frozen=True, slots=True)
class WaveComparison:
    """This wave against the latest earlier wave in the history."""

    wave: str
    index: float | None
    delta: float | None  # this index − that index
    group_deltas: Mapping[Group, float | None]


@dataclass(frozen=True, slots=True)
class ScopeResult:
    """Results for the institution (code None) or one unit; both have the same shape."""

    code: str | None
    name: str
    kind: str  # "institution", or the unit's kind
    parent_code: str | None
    serves_public: bool
    groups: tuple[GroupResult, ...]  # internal, external, expert
    # Composite with all three groups; None when any group is missing or suppressed.
    index: float | None
    index_moe: float | None
    # Weighted mean of the groups that are shown, weights renormalised over them; NOT an SPI
    # index. Equal to `index` when all three groups are shown.
    partial_index: float | None
    groups_included: tuple[Group, ...]
    category: Category | None  # from `index` only, never from `partial_index`
    dimensions: tuple[DimensionScore, ...]  # across shown groups, group-weighted
    suppressed: bool  # some group with responses is suppressed here
    # Institution only (empty / None for units):
    benchmarks: tuple[BenchmarkComparison, ...] = ()
    previous: WaveComparison | None = None
    corrections: Corrections | None = None

    def group(self, group: Group) -> GroupResult:
        """Return the result of `group`."""
        for result in self.groups:
            if result.group is group:
                return result
        raise KeyError(group)


@dataclass(frozen=True, slots=True)
class Report:
    """Everything scoring knows about one wave."""

    wave: str
    provisional: bool  # the wave is still open: numbers will move
    institution: ScopeResult
    units: tuple[ScopeResult, ...]
    quality: QualitySummary
    config: ScoringConfig
    # The year the wave belongs to (it picks the RPJMN target); None when unknown.
    year: int | None = None
    # Responses left out by the inspectorate, with reasons (issue 24).
    exclusions: tuple[Exclusion, ...] = ()

    def unit(self, code: str) -> ScopeResult:
        """Return the result of the unit with this code."""
        for result in self.units:
            if result.code == code:
                return result
        raise KeyError(code)

    def to_wave_result(self, unit_code: str | None = None) -> WaveResult:
        """Return this wave's institution result (or one unit's, for that unit's trend), to
        pass as `history` to a later report."""
        inst = self.institution if unit_code is None else self.unit(unit_code)
        partial = inst.index is None and inst.partial_index is not None
        return WaveResult(
            wave=self.wave,
            index=inst.index,
            group_scores={g.group: g.score for g in inst.groups},
            partial_index=inst.partial_index if partial else None,
            groups_included=inst.groups_included if partial else (),
        )

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict; floats rounded to 2 decimals, enums as values."""
        result = to_jsonable(self)
        assert isinstance(result, dict)
        return result


def to_jsonable(value: object) -> Any:
    """Convert dataclasses, enums, mappings and sequences to JSON types, rounding floats."""
    if value is None or isinstance(value, bool | int | str):
        return value.value if isinstance(value, enum.Enum) else value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        # JSON has no NaN/inf; scoring never produces them, but never emit invalid JSON.
        return round(value, 2) if math.isfinite(value) else None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(to_jsonable(k)): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, frozenset | set):
        return sorted(to_jsonable(v) for v in value)
    if isinstance(value, tuple | list):
        return [to_jsonable(v) for v in value]
    raise TypeError(f"cannot convert {type(value).__name__} to JSON")
