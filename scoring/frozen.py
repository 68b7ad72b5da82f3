"""A `Report` as stored JSON and back, exactly: how a closed wave's final report is frozen.

`Report.to_dict` rounds for display; this keeps full precision (JSON floats round-trip), every
label as it was published (categories, benchmark names) and the scoring config the report was
built with, so a frozen report reads back equal to the one that was stored, whatever the code
and the data do later. `FORMAT` versions the layout: a reader refuses a layout it does not
know rather than guessing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from types import MappingProxyType
from typing import Any, Final

from scoring.benchmarks import BenchmarkComparison
from scoring.config import (
    CategoryThresholds,
    Corrections,
    GroupWeights,
    QualityConfig,
    QualityRule,
    SamplingConfig,
    ScoringConfig,
)
from scoring.index import Category
from scoring.report import (
    DimensionScore,
    Exclusion,
    GroupResult,
    Report,
    ScopeResult,
    WaveComparison,
)
from surveys.model import Dimension, Group, Text

__all__ = ["FORMAT", "FrozenReportError", "report_from_json", "report_to_json"]

FORMAT: Final = 1

Json = dict[str, Any]


class FrozenReportError(ValueError):
    """A stored report that this code cannot read (unknown layout or damaged text)."""


# -- writing ----------------------------------------------------------------------------------


def _text(text: Text) -> Json:
    return {"id": text.id, "en": text.en}


def _dimensions(dims: tuple[DimensionScore, ...]) -> list[Json]:
    return [{"dimension": d.dimension.value, "score": d.score, "n": d.n} for d in dims]


def _group(cell: GroupResult) -> Json:
    return {
        "group": cell.group.value,
        "n": cell.n,
        "score": cell.score,
        "moe": cell.moe,
        "needed": cell.needed,
        "remaining": cell.remaining,
        "population": cell.population,
        "suppressed": cell.suppressed,
        "dimensions": _dimensions(cell.dimensions),
        "waiting": cell.waiting,
        "excluded": cell.excluded,
        "waiting_today": cell.waiting_today,
    }


def _scope(scope: ScopeResult) -> Json:
    category = scope.category
    previous = scope.previous
    corr = scope.corrections
    return {
        "code": scope.code,
        "name": scope.name,
        "kind": scope.kind,
        "parent_code": scope.parent_code,
        "serves_public": scope.serves_public,
        "groups": [_group(c) for c in scope.groups],
        "index": scope.index,
        "index_moe": scope.index_moe,
        "partial_index": scope.partial_index,
        "groups_included": [g.value for g in scope.groups_included],
        "category": None
        if category is None
        else {"key": category.key, "colour": category.colour, "label": _text(category.label)},
        "dimensions": _dimensions(scope.dimensions),
        "suppressed": scope.suppressed,
        "benchmarks": [
            {
                "key": b.key,
                "label": _text(b.label),
                "year": b.year,
                "value": b.value,
                "delta": b.delta,
            }
            for b in scope.benchmarks
        ],
        "previous": None
        if previous is None
        else {
            "wave": previous.wave,
            "index": previous.index,
            "delta": previous.delta,
            "group_deltas": {g.value: v for g, v in previous.group_deltas.items()},
        },
        "corrections": None
        if corr is None
        else {"integrity": corr.integrity, "prevalence": corr.prevalence, "note": corr.note},
    }


def _config(config: ScoringConfig) -> Json:
    t, q, s, w = config.thresholds, config.quality, config.sampling, config.weights
    return {
        "weights": {"internal": w.internal, "external": w.external, "expert": w.expert},
        "dimension_weights": {d.value: v for d, v in config.dimension_weights.items()},
        "thresholds": {
            "waspada_from": t.waspada_from,
            "terjaga_from": t.terjaga_from,
            "sangat_rentan_below": t.sangat_rentan_below,
        },
        "min_cell_size": config.min_cell_size,
        "quality": {
            "straightline_min_items": q.straightline_min_items,
            "speeder_bands_below": q.speeder_bands_below,
            "cluster_min_size": q.cluster_min_size,
            "cluster_min_share": q.cluster_min_share,
            "cluster_min_answers": q.cluster_min_answers,
            "exclude": sorted(r.value for r in q.exclude),
        },
        "sampling": {
            "z": s.z,
            "target_moe": s.target_moe,
            "prior_sd": s.prior_sd,
            "institution_minimum": s.institution_minimum,
        },
        "level": config.level,
        "benchmark_year": config.benchmark_year,
    }


def report_to_json(report: Report) -> str:
    """Return the report as JSON text that `report_from_json` reads back equal."""
    quality = report.quality
    data = {
        "format": FORMAT,
        "wave": report.wave,
        "provisional": report.provisional,
        "year": report.year,
        "institution": _scope(report.institution),
        "units": [_scope(u) for u in report.units],
        "quality": {
            "responses": quality.responses,
            "flagged": {r.value: v for r, v in quality.flagged.items()},
            "excluded_by_rule": {r.value: v for r, v in quality.excluded_by_rule.items()},
            "excluded": quality.excluded,
            "by_inspectorate": quality.by_inspectorate,
        },
        "config": _config(report.config),
        "exclusions": [
            {
                "unit_code": e.unit_code,
                "group": e.group.value,
                "count": e.count,
                "reason": e.reason,
                "number": e.number,
                "kind": e.kind,
                "created_on": None if e.created_on is None else e.created_on.isoformat(),
            }
            for e in report.exclusions
        ],
    }
    # allow_nan=False: scoring never produces NaN or inf, and stored text must stay JSON.
    return json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


# -- reading ----------------------------------------------------------------------------------


def _read_text(data: Json) -> Text:
    return Text(id=data["id"], en=data["en"])


def _read_dimensions(items: list[Json]) -> tuple[DimensionScore, ...]:
    return tuple(DimensionScore(Dimension(d["dimension"]), d["score"], d["n"]) for d in items)


def _read_group(data: Json) -> GroupResult:
    return GroupResult(
        group=Group(data["group"]),
        n=data["n"],
        score=data["score"],
        moe=data["moe"],
        needed=data["needed"],
        remaining=data["remaining"],
        population=data["population"],
        suppressed=data["suppressed"],
        dimensions=_read_dimensions(data["dimensions"]),
        waiting=data["waiting"],
        excluded=data["excluded"],
        waiting_today=data["waiting_today"],
    )


def _read_scope(data: Json) -> ScopeResult:
    category = data["category"]
    previous = data["previous"]
    corr = data["corrections"]
    return ScopeResult(
        code=data["code"],
        name=data["name"],
        kind=data["kind"],
        parent_code=data["parent_code"],
        serves_public=data["serves_public"],
        groups=tuple(_read_group(c) for c in data["groups"]),
        index=data["index"],
        index_moe=data["index_moe"],
        partial_index=data["partial_index"],
        groups_included=tuple(Group(g) for g in data["groups_included"]),
        category=None
        if category is None
        else Category(category["key"], category["colour"], _read_text(category["label"])),
        dimensions=_read_dimensions(data["dimensions"]),
        suppressed=data["suppressed"],
        benchmarks=tuple(
            BenchmarkComparison(b["key"], _read_text(b["label"]), b["year"], b["value"], b["delta"])
            for b in data["benchmarks"]
        ),
        previous=None
        if previous is None
        else WaveComparison(
            previous["wave"],
            previous["index"],
            previous["delta"],
            MappingProxyType({Group(g): v for g, v in previous["group_deltas"].items()}),
        ),
        corrections=None
        if corr is None
        else Corrections(corr["integrity"], corr["prevalence"], corr["note"]),
    )


def _read_config(data: Json) -> ScoringConfig:
    t, q, s = data["thresholds"], data["quality"], data["sampling"]
    return ScoringConfig(
        weights=GroupWeights.from_mapping(data["weights"]),
        dimension_weights={Dimension(d): v for d, v in data["dimension_weights"].items()},
        thresholds=CategoryThresholds(
            t["waspada_from"], t["terjaga_from"], t["sangat_rentan_below"]
        ),
        min_cell_size=data["min_cell_size"],
        quality=QualityConfig(
            straightline_min_items=q["straightline_min_items"],
            # A report frozen before the speeder rule read bands kept the default's meaning.
            speeder_bands_below=q.get("speeder_bands_below", QualityConfig().speeder_bands_below),
            cluster_min_size=q["cluster_min_size"],
            cluster_min_share=q["cluster_min_share"],
            cluster_min_answers=q["cluster_min_answers"],
            exclude=frozenset(QualityRule(r) for r in q["exclude"]),
        ),
        sampling=SamplingConfig(s["z"], s["target_moe"], s["prior_sd"], s["institution_minimum"]),
        level=data["level"],
        benchmark_year=data["benchmark_year"],
    )


def _read_exclusion(data: Json) -> Exclusion:
    # Reports frozen before issue 24 carried only unit, group, count and reason.
    day = data.get("created_on")
    return Exclusion(
        data["unit_code"],
        Group(data["group"]),
        data["count"],
        data["reason"],
        number=data.get("number", 0),
        kind=data.get("kind", ""),
        created_on=None if day is None else date.fromisoformat(day),
    )


def _rule_counts(data: Mapping[str, int]) -> Mapping[QualityRule, int]:
    return MappingProxyType({QualityRule(r): v for r, v in data.items()})


def report_from_json(text: str) -> Report:
    """Read a report written by `report_to_json`; FrozenReportError when it cannot."""
    from scoring.quality import QualitySummary  # numpy and pandas: loaded with a report

    try:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            found = data.get("format") if isinstance(data, dict) else None
            raise FrozenReportError(f"stored report layout {found!r}; this code reads {FORMAT}")
        quality = data["quality"]
        return Report(
            wave=data["wave"],
            provisional=data["provisional"],
            institution=_read_scope(data["institution"]),
            units=tuple(_read_scope(u) for u in data["units"]),
            quality=QualitySummary(
                responses=quality["responses"],
                flagged=_rule_counts(quality["flagged"]),
                excluded_by_rule=_rule_counts(quality["excluded_by_rule"]),
                excluded=quality["excluded"],
                by_inspectorate=quality.get("by_inspectorate", 0),
            ),
            config=_read_config(data["config"]),
            year=data["year"],
            exclusions=tuple(_read_exclusion(e) for e in data["exclusions"]),
        )
    except FrozenReportError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise FrozenReportError(f"stored report is damaged: {exc!r}") from exc
