"""The end of `spibot demo`: the result the leadership group received, as the demo prints it.

Built from the same `ReportBundle` the scheduler sent to the group (the closed wave's final
report), so the numbers printed are the numbers in the group's captions and charts.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from scoring import ScopeResult
from services.i18n import catalog
from services.reports import ReportBundle

__all__ = ["leadership_result", "result_lines"]

_UNITS_SHOWN: Final = 3  # at most this many top and bottom units


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _unit(scope: ScopeResult) -> dict[str, Any]:
    category = scope.category.label.get("id") if scope.category else None
    index = _round(scope.index)
    return {"code": scope.code, "name": scope.name, "index": index, "category": category}


def leadership_result(bundle: ReportBundle, charts: Sequence[Path]) -> dict[str, Any]:
    """Return the institution's result, its weakest dimension and the best and worst units."""
    report = bundle.report
    inst = report.institution
    messages = catalog()
    shown = [d for d in inst.dimensions if d.score is not None]
    weakest = min(shown, key=lambda d: d.score or 0.0) if shown else None
    ranked = sorted((u for u in report.units if u.index is not None), key=lambda u: -(u.index or 0))
    half = min(_UNITS_SHOWN, len(ranked) // 2) if len(ranked) > 1 else len(ranked)
    return {
        "wave": report.wave,
        "final": not report.provisional,
        "index": _round(inst.index),
        "index_moe": _round(inst.index_moe),
        "category": inst.category.label.get("id") if inst.category else None,
        "partial_index": _round(inst.partial_index) if inst.index is None else None,
        "groups": {
            c.group.value: {
                "score": _round(c.score),
                "moe": _round(c.moe),
                "n": c.n,
                "suppressed": c.suppressed,
            }
            for c in inst.groups
        },
        "weakest_dimension": None
        if weakest is None
        else {
            "dimension": weakest.dimension.value,
            "name": messages.t("id", f"scores_dim_{weakest.dimension.value}"),
            "score": _round(weakest.score),
        },
        "top_units": [_unit(u) for u in ranked[:half]],
        "bottom_units": [_unit(u) for u in ranked[len(ranked) - half :]] if half else [],
        "units_without_index": len(report.units) - len(ranked),
        "charts": [p.name for p in charts],  # files in the chart folder
    }


def _score(value: float | None, moe: float | None = None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" + (f" ±{moe:.2f}" if moe is not None else "")


def result_lines(result: dict[str, Any], chart_folder: Path) -> list[str]:
    """Return the printed lines of `leadership_result` (English, with KPK's Indonesian terms)."""
    status = "final" if result["final"] else "provisional"
    lines = [f"the result the leadership group received ({status}, wave {result['wave']!r}):"]
    if result["index"] is not None:
        index = _score(result["index"], result["index_moe"])
        lines.append(f"  Indeks Integritas {index}  {result['category']}")
    elif result["partial_index"] is not None:
        lines.append(
            f"  partial composite {result['partial_index']:.2f} (not an SPI index: a group has "
            "too few responses)"
        )
    else:
        lines.append("  no index: too few responses (try more --respondents)")
    for group, cell in result["groups"].items():
        value = "not enough data" if cell["suppressed"] else _score(cell["score"], cell["moe"])
        lines.append(f"  {group:<10} {value:<16} n={cell['n']}")
    weakest = result["weakest_dimension"]
    if weakest is not None:
        lines.append(f"  weakest dimension: {weakest['name']} {weakest['score']:.2f}")

    def units(rows: list[dict[str, Any]]) -> str:
        return "; ".join(f"{u['name']} {u['index']:.2f} {u['category']}" for u in rows) or "-"

    lines.append(f"  top units:    {units(result['top_units'])}")
    lines.append(f"  bottom units: {units(result['bottom_units'])}")
    if result["units_without_index"]:
        lines.append(f"  {result['units_without_index']} units without a full index (not ranked)")
    names = ", ".join(Path(p).name for p in result["charts"])
    lines.append(f"charts the group received, saved in {chart_folder}/: {names}")
    return lines
