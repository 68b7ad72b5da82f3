"""composite_index, categories, benchmarks, margins of error and needed samples, by hand."""

from __future__ import annotations

import math

import pytest

from scoring import (
    CategoryThresholds,
    Corrections,
    GroupWeights,
    SamplingConfig,
    categorize,
    compare_with_benchmarks,
    composite_index,
    composite_moe,
    margin_of_error,
    needed_sample,
)
from scoring.config import check_correction
from surveys.model import Group


@pytest.mark.parametrize(
    ("scores", "corrections", "published"),
    [
        # Kab. Mojokerto 2022: 0.3046·80.40 + 0.3279·85.06 + 0.3675·68.61 = 77.60; − 3.60.
        ((80.40, 85.06, 68.61), (3.28, 0.32), 74.00),
        # Bank Indonesia 2022.
        ((91.20, 88.44, 91.37), (3.05, 0.03), 87.28),
        # Kab. Boyolali 2022.
        ((89.87, 90.46, 93.90), (3.06, 0.16), 88.33),
    ],
)
def test_composite_index_reproduces_published_spi(scores, corrections, published):
    value = composite_index(
        *scores, correction_integrity=corrections[0], correction_prevalence=corrections[1]
    )
    assert abs(round(value, 2) - published) <= 0.02


def test_composite_index_is_unrounded_and_accepts_mapping_weights():
    # 0.5·80 + 0.25·60 + 0.25·70 = 40 + 15 + 17.5 = 72.5; minus 0.125 = 72.375 (not 72.38).
    weights = {"internal": 0.5, "external": 0.25, "expert": 0.25}
    value = composite_index(80, 60, 70, correction_integrity=0.125, weights=weights)
    assert value == pytest.approx(72.375, abs=1e-12)
    assert composite_index(80, 60, 70, weights=GroupWeights(0.5, 0.25, 0.25)) == 72.5


@pytest.mark.parametrize(
    "kwargs",
    [
        {"correction_integrity": -0.1},
        {"correction_prevalence": -1},
        {"correction_integrity": math.inf},
        {"correction_prevalence": math.nan},
        {"correction_integrity": 20.01},
    ],
)
def test_bad_corrections_are_rejected(kwargs):
    with pytest.raises(ValueError, match="from 0 to 20"):
        composite_index(80, 80, 80, **kwargs)


@pytest.mark.parametrize("value", [-0.0001, 20.0001, math.inf, -math.inf, math.nan, 1e308])
def test_check_correction_is_the_one_rule(value):
    with pytest.raises(ValueError, match="from 0 to 20"):
        check_correction("integrity", value)
    with pytest.raises(ValueError, match="from 0 to 20"):
        Corrections(0.0, value)


def test_check_correction_accepts_the_bounds():
    assert check_correction("integrity", 0) == 0.0
    assert check_correction("prevalence", 20) == 20.0
    assert Corrections(20.0, 0.0).total == 20.0


def test_bad_scores_and_weights_are_rejected():
    with pytest.raises(ValueError, match="0-100"):
        composite_index(101, 80, 80)
    with pytest.raises(ValueError, match="exactly"):
        composite_index(80, 80, 80, weights={"internal": 1.0, "external": 0.0})


@pytest.mark.parametrize(
    ("index", "key", "colour", "label_en"),
    [
        (72.99, "rentan", "red", "Vulnerable"),
        (73.0, "waspada", "yellow", "Alert"),
        (77.99, "waspada", "yellow", "Alert"),
        (78.0, "terjaga", "green", "Maintained"),
        # Compared as displayed: 77.996 shows as 78.00, so it is Terjaga.
        (77.996, "terjaga", "green", "Maintained"),
        (72.994, "rentan", "red", "Vulnerable"),
    ],
)
def test_categories_at_boundaries(index, key, colour, label_en):
    category = categorize(index)
    assert (category.key, category.colour, category.label.en) == (key, colour, label_en)
    assert category.label.id == key.capitalize()


def test_category_thresholds_are_configurable():
    older = CategoryThresholds(waspada_from=70.0, terjaga_from=80.0)
    assert categorize(72.0, older).key == "waspada"
    assert categorize(79.0, older).key == "waspada"


def test_benchmarks_for_a_year_and_latest():
    # 74.00 in 2022: national 71.94 (+2.06); the kabupaten average of the shipped file,
    # 70.627 (KPK rounds it to 70.6); RPJMN target 72 (+2).
    got = {b.key: b for b in compare_with_benchmarks(74.0, level="kabupaten", year=2022)}
    assert set(got) == {"national", "level:kabupaten", "rpjmn_target"}
    assert got["national"].delta == pytest.approx(2.06)
    assert got["level:kabupaten"].value == pytest.approx(70.627, abs=0.001)
    assert got["rpjmn_target"].value == 72.0
    # RPJMN 2020-2024 ends with 76 in 2024; no target after it is sourced.
    assert [b.key for b in compare_with_benchmarks(70, level="kota", year=2025)] == [
        "national",
        "level:kota",
    ]
    assert compare_with_benchmarks(70, level="kota", year=2024)[-1].value == 76.0
    latest = {
        b.key: (b.year, round(b.value, 2))
        for b in compare_with_benchmarks(None, level="kota", year=None)
    }
    assert latest == {
        "national": (2025, 72.32),
        "level:kota": (2025, 73.35),
        "rpjmn_target": (2024, 76.0),
    }
    # The target is a goal for a year: the wave's year's when sourced, else the latest (2024).
    for wave_year, expected in ((2022, (2022, 72.0)), (2026, (2024, 76.0)), (None, (2024, 76.0))):
        (target,) = [
            (b.year, b.value)
            for b in compare_with_benchmarks(None, level="kota", year=None, target_year=wave_year)
            if b.key == "rpjmn_target"
        ]
        assert target == expected
    assert all(b.delta is None for b in compare_with_benchmarks(None, level="lembaga", year=2021))
    # A level the file does not know has no level benchmark.
    assert [b.key for b in compare_with_benchmarks(70, level="desa", year=2022)] == [
        "national",
        "rpjmn_target",
    ]


def test_margin_of_error_by_hand():
    # 1.96·20/√16 = 1.96·5 = 9.8.
    assert margin_of_error(20.0, 16) == pytest.approx(9.8)
    # With N = 100: × √((100−16)/99) = √0.848485 = 0.921132 → 9.027095.
    assert margin_of_error(20.0, 16, 100) == pytest.approx(9.8 * math.sqrt(84 / 99))
    assert margin_of_error(20.0, 100, 100) == 0.0  # a census has no sampling error
    assert margin_of_error(20.0, 16, 10) == pytest.approx(9.8)  # stale roster: no correction
    assert margin_of_error(20.0, 1) is None


def test_composite_moe_by_hand():
    # √((0.3046·4)² + (0.3279·3)² + (0.3675·2)²) = √(1.48449 + 0.96768 + 0.54023) = √2.99240.
    moes = {Group.INTERNAL: 4.0, Group.EXTERNAL: 3.0, Group.EXPERT: 2.0}
    expected = math.sqrt((0.3046 * 4) ** 2 + (0.3279 * 3) ** 2 + (0.3675 * 2) ** 2)
    assert composite_moe(moes) == pytest.approx(expected)
    assert expected == pytest.approx(1.72985, abs=1e-5)
    assert composite_moe({**moes, Group.EXPERT: None}) is None


def test_needed_sample_by_hand():
    # Prior σ = 20: n0 = (1.96·20/5)² = 7.84² = 61.4656 → 62.
    assert needed_sample(None) == 62
    # N = 100: 61.4656 / (1 + 60.4656/100) = 61.4656 / 1.604656 = 38.305 → 39.
    assert needed_sample(None, 100) == 39
    # Observed σ = 10: n0 = 3.92² = 15.3664 → 16; the institution minimum lifts it to 30.
    assert needed_sample(10.0) == 16
    assert needed_sample(10.0, minimum=30) == 30
    # ... but never more than the whole population (N = 12).
    assert needed_sample(10.0, 12, minimum=30) == 12
    # σ = 0 (everyone agrees): nothing beyond the minimum.
    assert needed_sample(0.0, minimum=5) == 5
    # Stricter target ±3 with σ = 15: (1.96·15/3)² = 9.8² = 96.04 → 97.
    assert needed_sample(15.0, sampling=SamplingConfig(target_moe=3.0)) == 97
