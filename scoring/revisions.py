"""Revisions of a frozen report: a correction applied to it, and what changed between two.

A correction entered after a wave closed must not re-score the wave (code and data may have
moved since): `with_corrections` applies the new deductions to the frozen report itself, so
the revision differs from the published report by exactly what the correction says.
`report_changes` lists the differences a reader can see (at display precision), for the
revision's notice and its note wherever the number appears.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from scoring.config import Corrections, UnitInfo
from scoring.report import Report, ScopeResult

__all__ = ["Change", "report_changes", "with_corrections"]


@dataclass(frozen=True, slots=True)
class Change:
    """One shown value that differs between two versions of a report.

    `what` is "index", "partial_index", "category", "correction_integrity",
    "correction_prevalence" or "group:<group>"; `unit_code` is None for the institution.
    Numbers are floats at full precision, categories their keys; None is "no value".
    """

    what: str
    unit_code: str | None
    before: float | str | None
    after: float | str | None


def with_corrections(report: Report, corrections: Corrections) -> Report:
    """Return `report` with the institution's corrections replaced by `corrections`.

    Only the institution carries corrections (unit indices are uncorrected), so only its
    index, partial index, category and the differences from benchmarks and the previous wave
    change; the group cells, units and everything else stay as frozen.
    """
    from scoring.build import compose_scope  # pandas: loaded when a revision is made

    inst = report.institution
    info = UnitInfo(code="", name=inst.name, kind=inst.kind)
    fresh = compose_scope(info, inst.groups, report.config, corrections, institution=True)
    index = fresh.index
    benchmarks = tuple(
        dataclasses.replace(b, delta=None if index is None else index - b.value)
        for b in inst.benchmarks
    )
    previous = inst.previous
    if previous is not None:
        delta = None if index is None or previous.index is None else index - previous.index
        previous = dataclasses.replace(previous, delta=delta)
    institution = dataclasses.replace(fresh, benchmarks=benchmarks, previous=previous)
    return dataclasses.replace(report, institution=institution)


def _shown(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _scope_changes(before: ScopeResult, after: ScopeResult) -> list[Change]:
    code = after.code
    out: list[Change] = []
    pairs: list[tuple[str, float | None, float | None]] = []
    if before.corrections != after.corrections:
        old = before.corrections or Corrections()
        new = after.corrections or Corrections()
        pairs += [
            ("correction_integrity", old.integrity, new.integrity),
            ("correction_prevalence", old.prevalence, new.prevalence),
        ]
    pairs += [
        ("index", before.index, after.index),
        # A partial composite only matters without a full index.
        (
            "partial_index",
            before.partial_index if before.index is None else None,
            after.partial_index if after.index is None else None,
        ),
    ]
    pairs += [
        (f"group:{a.group.value}", b.score, a.score)
        for b, a in zip(before.groups, after.groups, strict=True)
    ]
    for what, old_value, new_value in pairs:
        if _shown(old_value) != _shown(new_value):
            out.append(Change(what, code, old_value, new_value))
    old_cat = before.category.key if before.category else None
    new_cat = after.category.key if after.category else None
    if old_cat != new_cat:
        out.append(Change("category", code, old_cat, new_cat))
    return out


def report_changes(before: Report, after: Report) -> tuple[Change, ...]:
    """Return what a reader sees change from `before` to `after`: the institution first,
    then units (by code) that gained, lost or changed a number."""
    changes = _scope_changes(before.institution, after.institution)
    old_units = {u.code: u for u in before.units}
    for unit in after.units:
        previous = old_units.get(unit.code)
        if previous is not None:
            changes += _scope_changes(previous, unit)
    return tuple(changes)
