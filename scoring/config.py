"""Scoring inputs: weights, thresholds, quality and sampling knobs, corrections, units, history.

Every number from DESIGN.md §2 lives here as a default, so a different year's methodology is a
different `ScoringConfig`, not a code change.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from scoring.paradata import PACE_EDGES
from surveys.model import Dimension, Group

__all__ = [
    "CORRECTION_MAX",
    "GROUP_ORDER",
    "RULES_BY_YEAR",
    "CategoryThresholds",
    "Corrections",
    "GroupWeights",
    "IntegrityConfig",
    "QualityConfig",
    "QualityRule",
    "SamplingConfig",
    "ScoringConfig",
    "UnitInfo",
    "WaveResult",
    "YearRules",
    "check_correction",
    "integrity_config_from_mapping",
    "rules_for_year",
    "year_rules_from_mapping",
]

# Groups are always reported in this order, and array code i means GROUP_ORDER[i].
GROUP_ORDER: Final = (Group.INTERNAL, Group.EXTERNAL, Group.EXPERT)


def _check_weight(name: str, value: float) -> None:
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"weight {name!r} must be a finite non-negative number, got {value!r}")


@dataclass(frozen=True, slots=True)
class GroupWeights:
    """Weights of the three groups in the composite index (SPI defaults, DESIGN.md §2)."""

    internal: float = 0.3046
    external: float = 0.3279
    expert: float = 0.3675

    def __post_init__(self) -> None:
        for group in GROUP_ORDER:
            _check_weight(group.value, self.of(group))
        if self.internal + self.external + self.expert <= 0:
            raise ValueError("at least one group weight must be positive")

    def of(self, group: Group) -> float:
        """Return the weight of `group`."""
        return float(getattr(self, group.value))

    @classmethod
    def from_mapping(cls, weights: Mapping[str, float]) -> GroupWeights:
        """Build weights from {"internal": w, "external": w, "expert": w} (all three needed)."""
        keys = {str(k) for k in weights}
        expected = {g.value for g in GROUP_ORDER}
        if keys != expected:
            raise ValueError(f"group weights need exactly {sorted(expected)}, got {sorted(keys)}")
        by_name = {str(k): float(v) for k, v in weights.items()}
        return cls(by_name["internal"], by_name["external"], by_name["expert"])


@dataclass(frozen=True, slots=True)
class CategoryThresholds:
    """Lower bounds of the categories (KPK 2024): Rentan < 73 ≤ Waspada < 78 ≤ Terjaga.

    `sangat_rentan_below` adds a fourth, lowest band (Sangat Rentan) below that bound, for
    an operator who has a source for one (SPI_YEAR_RULES_FILE); None (the default, and every
    built-in year: docs/scoring.md §2) means three bands.
    """

    waspada_from: float = 73.0
    terjaga_from: float = 78.0
    sangat_rentan_below: float | None = None

    def __post_init__(self) -> None:
        if not self.waspada_from <= self.terjaga_from:
            raise ValueError("waspada_from must not exceed terjaga_from")
        low = self.sangat_rentan_below
        if low is not None and not (math.isfinite(low) and 0 <= low <= self.waspada_from):
            raise ValueError("sangat_rentan_below must lie between 0 and waspada_from")

    @property
    def band_count(self) -> int:
        """Return how many categories these thresholds make (3, or 4 with Sangat Rentan)."""
        return 3 if self.sangat_rentan_below is None else 4


# The largest deduction a correction may make. Published SPI corrections are 0-4 (integrity) and
# 0-8 (prevalence) points; anything above 20 is a typo, not a methodology.
CORRECTION_MAX: Final = 20.0


def check_correction(name: str, value: float) -> float:
    """Return `value` if it is a usable deduction (finite, 0-20 points); raise ValueError if not.

    The one check every correction passes: where it is recorded (storage, hence the CLI) and
    where it is used (`Corrections`, `composite_index`).
    """
    if not math.isfinite(value) or not 0.0 <= value <= CORRECTION_MAX:
        raise ValueError(
            f"correction {name!r} must be a number of points from 0 to {CORRECTION_MAX:g}, "
            f"got {value!r}"
        )
    return float(value)


@dataclass(frozen=True, slots=True)
class Corrections:
    """KPK-style deductions from the composite index (non-negative points), with the reason."""

    integrity: float = 0.0
    prevalence: float = 0.0
    note: str = ""

    def __post_init__(self) -> None:
        for name in ("integrity", "prevalence"):
            check_correction(name, getattr(self, name))

    @property
    def total(self) -> float:
        """Return the total deduction."""
        return self.integrity + self.prevalence


class QualityRule(StrEnum):
    """Data-quality rules that flag a response."""

    STRAIGHT_LINING = "straight_lining"
    SPEEDER = "speeder"
    CLUSTER = "cluster"


@dataclass(frozen=True, slots=True)
class QualityConfig:
    """Settings of the data-quality rules (docs/scoring.md explains each)."""

    # Same raw option on every Likert item, counted only with at least this many Likert answers.
    straightline_min_items: int = 8
    # A pace (seconds per answered item, in bands that double: scoring.paradata) at least this
    # many bands faster than the group's median pace band.
    speeder_bands_below: int = 2
    # Identical answer vectors in one unit and group: at least this many responses ...
    cluster_min_size: int = 5
    # ... and at least this share of that unit × group's responses ...
    cluster_min_share: float = 0.1
    # ... and only vectors with at least this many scored answers (short vectors collide by chance).
    cluster_min_answers: int = 5
    # Rules whose flagged responses are left out of the scores; the others are only reported.
    exclude: frozenset[QualityRule] = frozenset(QualityRule)

    def __post_init__(self) -> None:
        if self.straightline_min_items < 2 or self.cluster_min_size < 2:
            raise ValueError("straightline_min_items and cluster_min_size must be at least 2")
        if self.speeder_bands_below < 1 or not 0 <= self.cluster_min_share <= 1:
            raise ValueError("speeder_bands_below must be at least 1, cluster_min_share in [0, 1]")


@dataclass(frozen=True, slots=True)
class IntegrityConfig:
    """Thresholds of the survey-integrity signals per unit × group (docs/scoring.md §11).

    Each signal needs at least k responses (and the cell k or more) before it says anything,
    so no signal is about fewer than k people; the thresholds below come on top.
    """

    # burst: at least this share of a cell's responses in a window of at most this many clock
    # hours, this many times the share the other units of the group had in the same hours,
    # and a binomial tail against that share below `burst_alpha` (Bonferroni over windows).
    burst_min_share: float = 0.7
    burst_max_hours: int = 2
    burst_ratio: float = 3.0
    burst_alpha: float = 0.001
    # uniform: responses agreeing with the cell's most common answer on at least this share
    # of the (at least `uniform_min_items`) scored items they answered are near-identical;
    # at least `uniform_min_share` of the cell must be, and the cell's share of ideal answers
    # must exceed the other units' of the group (and the unit's other groups', when shown)
    # by `uniform_ideal_margin`.
    uniform_agreement: float = 0.9
    uniform_min_items: int = 8
    uniform_min_share: float = 0.5
    uniform_ideal_margin: float = 0.2
    # rushing: a pace (seconds per answered item, kept as a band) under this floor cannot
    # have read the questions; it must be one of the pace band edges (scoring.paradata).
    rushing_floor_seconds: int = 2
    rushing_min_share: float = 0.25
    # contradiction: at least this share of a cell's responses give both answers of a
    # consistency pair, and this many times the rate of the group's other units.
    contradiction_min_share: float = 0.25
    contradiction_ratio: float = 3.0

    def __post_init__(self) -> None:
        shares = (
            self.burst_min_share,
            self.uniform_agreement,
            self.uniform_min_share,
            self.uniform_ideal_margin,
            self.rushing_min_share,
            self.contradiction_min_share,
        )
        if not all(0 < share <= 1 for share in shares):
            raise ValueError("shares, margins and the agreement must lie in (0, 1]")
        if not 1 <= self.burst_max_hours <= 24 or self.uniform_min_items < 2:
            raise ValueError("burst_max_hours must be 1-24 and uniform_min_items at least 2")
        if self.burst_ratio < 1 or self.contradiction_ratio < 1 or not 0 < self.burst_alpha < 1:
            raise ValueError("ratios must be at least 1 and burst_alpha in (0, 1)")
        if self.rushing_floor_seconds not in PACE_EDGES:
            edges = ", ".join(str(e) for e in PACE_EDGES)
            raise ValueError(f"rushing_floor_seconds must be a pace band edge: one of {edges}")


def integrity_config_from_mapping(values: Mapping[str, object]) -> IntegrityConfig:
    """Build the signals' thresholds from a parsed INTEGRITY_RULES_FILE (flat keys; those
    not given keep their defaults). ValueError names an unknown key or a bad value."""
    known = set(IntegrityConfig.__dataclass_fields__)
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown keys {unknown} (known: {', '.join(sorted(known))})")
    fields: dict[str, float | int] = {}
    for key, value in values.items():
        default = getattr(IntegrityConfig(), key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{key} must be a number, got {value!r}")
        if isinstance(default, int) and not (isinstance(value, int) or value.is_integer()):
            raise ValueError(f"{key} must be a whole number, got {value!r}")
        fields[key] = int(value) if isinstance(default, int) else float(value)
    return IntegrityConfig(**fields)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class SamplingConfig:
    """Margin of error and needed-sample settings."""

    z: float = 1.96  # 95% confidence
    target_moe: float = 5.0  # KPK's target: ±5 points on the 0-100 scale
    # σ assumed when fewer than two valid responses exist: a generous spread on 0-100 scores,
    # so early targets err on the large side.
    prior_sd: float = 20.0
    institution_minimum: int = 30  # KPK: at least 30 respondents per institution

    def __post_init__(self) -> None:
        if self.z <= 0 or self.target_moe <= 0 or self.prior_sd < 0:
            raise ValueError("z and target_moe must be positive, prior_sd non-negative")


def _default_dimension_weights() -> Mapping[Dimension, float]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class ScoringConfig:
    """Every knob of the scoring pipeline, with DESIGN.md §2 defaults."""

    weights: GroupWeights = GroupWeights()
    # Dimension weights inside a group score; a dimension not listed weighs 1 (equal by default).
    dimension_weights: Mapping[Dimension, float] = field(default_factory=_default_dimension_weights)
    thresholds: CategoryThresholds = CategoryThresholds()
    min_cell_size: int = 5  # k: unit × group cells with fewer valid responses are suppressed
    quality: QualityConfig = QualityConfig()
    sampling: SamplingConfig = SamplingConfig()
    level: str = "kabupaten"  # kabupaten, kota, provinsi, kementerian, lembaga
    benchmark_year: int | None = None  # None: the latest year each benchmark series has

    def __post_init__(self) -> None:
        for dimension, weight in self.dimension_weights.items():
            _check_weight(str(dimension), weight)
        # Read-only copy so a frozen config cannot change under a report.
        frozen = MappingProxyType(
            {Dimension(d): float(w) for d, w in self.dimension_weights.items()}
        )
        object.__setattr__(self, "dimension_weights", frozen)
        if self.min_cell_size < 1:
            raise ValueError("min_cell_size must be at least 1")

    def dimension_weight(self, dimension: Dimension) -> float:
        """Return the weight of `dimension` inside a group score."""
        return self.dimension_weights.get(dimension, 1.0)

    def for_year(self, year: int | None) -> ScoringConfig:
        """Return this config with SPI `year`'s weights and thresholds, benchmarked on `year`."""
        rules = rules_for_year(year)
        return replace(
            self, weights=rules.weights, thresholds=rules.thresholds, benchmark_year=year
        )


@dataclass(frozen=True, slots=True)
class UnitInfo:
    """A unit of the institution (OPD, service counter, kecamatan) as scoring needs it."""

    code: str
    name: str
    kind: str
    parent_code: str | None = None
    serves_public: bool = False
    # Population sizes of the groups in this unit, when known (None: unknown).
    roster_size: int | None = None  # staff count: the internal group's population
    expert_count: int | None = None  # the expert list: the expert group's population
    service_user_count: int | None = None  # service users per year: the external group's

    def population(self, group: Group) -> int | None:
        """Return the unit's population for `group`, when known."""
        if group is Group.INTERNAL:
            return self.roster_size
        return self.expert_count if group is Group.EXPERT else self.service_user_count


@dataclass(frozen=True, slots=True)
class WaveResult:
    """An earlier wave's institution result, for comparison (see `Report.to_wave_result`)."""

    wave: str
    index: float | None
    group_scores: Mapping[Group, float | None] = field(default_factory=lambda: MappingProxyType({}))
    # Without a full index: the partial composite of the groups shown (never an SPI index).
    partial_index: float | None = None
    groups_included: tuple[Group, ...] = ()
    # When the result in force is a revision of the published one (a later correction).
    revised_on: date | None = None


@dataclass(frozen=True, slots=True)
class YearRules:
    """The methodology of one SPI year: group weights and category thresholds."""

    weights: GroupWeights = GroupWeights()
    thresholds: CategoryThresholds = CategoryThresholds()


# Checked against the shipped published results (scoring/data/spi-published.csv, see
# docs/scoring.md §2). The fixed weights reproduce 2021, 2023 and 2025 to ±0.02 for 628/629,
# 636/636 and 658/658 rows. 2024 fits its own weights better: 0.3050/0.3280/0.3670 (a least
# squares fit, rounded) reproduce 643/643 rows (largest error 0.014), the fixed weights
# 638/643 and the 0.3064/0.3273/0.3665 suggested in issue 13 only 635/643. 2022 fits no
# weights: 180 rows sit about 3 points below the weighted sum minus both published
# corrections (a deduction the file does not carry, unexplained: docs/scoring.md §2), so it
# keeps the fixed weights. 2022 has the three bands of the other years: issue 13 said four,
# but no public source for a fourth band of SPI 2022 was found (the four-level scale of 2022
# that turns up is SPI Pendidikan's; docs/scoring.md §2). Operators can set every year's
# rules without a code change: SPI_YEAR_RULES_FILE, read by `year_rules_from_mapping`.
WEIGHTS_2024: Final = GroupWeights(0.3050, 0.3280, 0.3670)
RULES_BY_YEAR: Final[Mapping[int, YearRules]] = MappingProxyType(
    {
        2021: YearRules(),
        2022: YearRules(),
        2023: YearRules(),
        2024: YearRules(weights=WEIGHTS_2024),
        2025: YearRules(),
    }
)
_THRESHOLD_KEYS: Final = ("waspada_from", "terjaga_from", "sangat_rentan_below")


def rules_for_year(year: int | None, rules: Mapping[int, YearRules] | None = None) -> YearRules:
    """Return the weights and thresholds of SPI `year` (from `rules`, default the built-in
    table); the current rules (DESIGN.md §2) for a year the table does not hold."""
    if year is None:
        return YearRules()
    return (RULES_BY_YEAR if rules is None else rules).get(year, YearRules())


def _year_rule(year: int, entry: Mapping[str, object], base: YearRules) -> YearRules:
    unknown = sorted(set(entry) - {"weights", *_THRESHOLD_KEYS})
    if unknown:
        raise ValueError(f"year {year}: unknown keys {unknown}")
    weights = base.weights
    if "weights" in entry:
        given = entry["weights"]
        if not isinstance(given, Mapping):
            raise ValueError(f"year {year}: weights must be a table of internal/external/expert")
        weights = GroupWeights.from_mapping(given)
    bounds: dict[str, float | None] = {
        key: getattr(base.thresholds, key) for key in _THRESHOLD_KEYS
    }
    for key in _THRESHOLD_KEYS:
        if key not in entry:
            continue
        value = entry[key]
        if key == "sangat_rentan_below" and value is False:
            bounds[key] = None  # false: three bands, no Sangat Rentan
        elif isinstance(value, int | float) and not isinstance(value, bool):
            bounds[key] = float(value)
        else:
            raise ValueError(f"year {year}: {key} must be a number, got {value!r}")
    waspada, terjaga = bounds["waspada_from"], bounds["terjaga_from"]
    # Only the lowest band may be absent (false); the other bounds are numbers.
    assert waspada is not None
    assert terjaga is not None
    thresholds = CategoryThresholds(waspada, terjaga, bounds["sangat_rentan_below"])
    return YearRules(weights, thresholds)


def year_rules_from_mapping(
    overrides: Mapping[str, object], base: Mapping[int, YearRules] = RULES_BY_YEAR
) -> Mapping[int, YearRules]:
    """Return `base` with some years' rules replaced, from a parsed SPI_YEAR_RULES_FILE:

    {"2024": {"weights": {"internal": .305, "external": .328, "expert": .367}},
     "2022": {"sangat_rentan_below": 60.0, "waspada_from": 73.0}}

    A year's missing keys keep `base`'s value (the defaults for a year `base` lacks);
    `sangat_rentan_below = false` means three bands. ValueError names what is wrong.
    """
    out = dict(base)
    for key, entry in overrides.items():
        try:
            year = int(key)
        except ValueError:
            raise ValueError(f"{key!r} is not a year") from None
        if not 2000 <= year <= 2100:
            raise ValueError(f"{key!r} is not a year")
        if not isinstance(entry, Mapping):
            raise ValueError(f"year {year}: expected a table of weights and thresholds")
        try:
            out[year] = _year_rule(year, entry, out.get(year, YearRules()))
        except (TypeError, ValueError) as exc:
            message = str(exc)
            text = message if message.startswith("year") else f"year {year}: {message}"
            raise ValueError(text) from None
    return MappingProxyType(out)
