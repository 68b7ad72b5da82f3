"""The what-if of /simulasi and `spibot whatif`: parse a request, run `scoring.whatif` on the
current report, and write the answer (numbers formatted as everywhere else).

The report holds no suppressed number and the what-if reads only the report, so a
suppressed unit's answer says "data belum cukup" and nothing else.
"""

from __future__ import annotations

import dataclasses
import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from scoring import GROUP_ORDER, Report, ScopeResult
from scoring.index import Category
from scoring.whatif import Lift, TargetPlan, WhatIf, next_band, reach_category, what_if
from services.access import Decision, Viewer
from services.i18n import catalog
from services.names import dimension_named, group_named
from services.numbers import format_number
from surveys.model import Dimension, Group

__all__ = [
    "BadRequest",
    "WhatIfRequest",
    "answer",
    "cheapest_text",
    "parse_request",
    "plan_text",
    "scope_for",
    "usage_text",
    "whatif_text",
]

_GROUP_KEYS: Final[Mapping[Group, str]] = {
    Group.INTERNAL: "scores_group_internal",
    Group.EXTERNAL: "scores_group_external",
    Group.EXPERT: "scores_group_expert",
}
_MARKS: Final[Mapping[str, str]] = {
    "sangat_rentan": "🟥",
    "rentan": "🔴",
    "waspada": "🟡",
    "terjaga": "🟢",
}
_MAX_ECHO: Final = 40  # characters of a bad word repeated back to the user


class BadRequest(ValueError):
    """A /simulasi request that cannot be understood: `key` names the catalog message."""

    def __init__(self, key: str, value: str = "") -> None:
        super().__init__(key)
        self.key = key
        self.value = value[:_MAX_ECHO]


@dataclass(frozen=True, slots=True)
class WhatIfRequest:
    """A parsed request: a lift, or (lift None) the plan to reach Terjaga; `unit` is a code."""

    lift: Lift | None
    unit: str | None


def _delta(word: str) -> float:
    try:
        value = float(word.replace(",", ".").replace("−", "-"))
    except ValueError:
        raise BadRequest("whatif_bad_delta", word) from None
    if not math.isfinite(value) or abs(value) > 100:
        raise BadRequest("whatif_bad_delta", word)
    return value


def parse_request(words: Sequence[str]) -> WhatIfRequest:
    """Parse `<dimension> <points> [group ...] [unit CODE]`, or `[unit CODE]` for the plan.

    Raises BadRequest naming what was wrong.
    """
    tokens = [w.strip() for w in words if w.strip()]
    unit: str | None = None
    lowered = [t.lower() for t in tokens]
    if "unit" in lowered:
        at = lowered.index("unit")
        rest = tokens[at + 1 :]
        if len(rest) != 1:
            raise BadRequest("whatif_missing_unit")
        unit = rest[0].upper()
        tokens = tokens[:at]
    if not tokens:
        return WhatIfRequest(None, unit)
    dimension = dimension_named(tokens[0])
    if dimension is None:
        raise BadRequest("whatif_bad_dimension", tokens[0])
    if len(tokens) < 2:
        raise BadRequest("whatif_bad_delta", "")
    delta = _delta(tokens[1])
    groups: list[Group] = []
    for word in tokens[2:]:
        group = group_named(word)
        if group is None:
            raise BadRequest("whatif_bad_group", word)
        groups.append(group)
    return WhatIfRequest(Lift(dimension, delta, tuple(groups) or GROUP_ORDER, unit), unit)


class _Text:
    def __init__(self, language: str) -> None:
        self.language = language
        self.messages = catalog()

    def t(self, key: str, /, **values: object) -> str:
        return self.messages.t(self.language, key, **values)

    def num(self, value: float) -> str:
        return format_number(value, self.language)

    def mark(self, category: Category | None) -> str:
        if category is None:
            return ""
        return f"{_MARKS.get(category.key, '')} {category.label.get(self.language)}".strip()

    def index(self, scope: ScopeResult) -> str:
        assert scope.index is not None
        return f"{self.num(scope.index)} {self.mark(scope.category)}"

    def group(self, group: Group) -> str:
        return self.t(_GROUP_KEYS[group])

    def dimension(self, dimension: Dimension) -> str:
        return self.t(f"scores_dim_{dimension.value}")

    def name(self, scope: ScopeResult) -> str:
        return html.escape(scope.name or self.t("scores_institution"))


def whatif_text(result: WhatIf, report: Report, language: str) -> str:
    """Return the /simulasi answer for one lift."""
    w = _Text(language)
    lift = result.lift
    lines = [w.t("whatif_title", name=w.name(result.before)), ""]
    lines.append(
        w.t(
            "whatif_lift",
            dimension=w.dimension(lift.dimension),
            direction=w.t("whatif_up" if lift.delta >= 0 else "whatif_down"),
            delta=w.num(abs(lift.delta)),
            groups=", ".join(w.group(g) for g in lift.groups),
        )
    )
    if result.before.index is None or result.after.index is None:
        lines.append(w.t("whatif_no_index"))
    else:
        change = result.index_change or 0.0
        shown = round(change, 2)
        sign = "+" if shown > 0 else "−" if shown < 0 else "±"
        lines.append(
            w.t(
                "whatif_index",
                before=w.index(result.before),
                after=w.index(result.after),
                change=f" ({sign}{w.num(abs(change))})",
            )
        )
    for before, after in zip(result.before.groups, result.after.groups, strict=True):
        if before.score is None or after.score is None:
            # Too few, or only responses that wait for the next provisional step.
            hidden = (
                "scores_insufficient"
                if before.suppressed or before.waiting
                else "scores_no_answers"
            )
            lines.append(w.t("whatif_group_hidden", group=w.group(before.group), value=w.t(hidden)))
        else:
            lines.append(
                w.t(
                    "whatif_group_line",
                    group=w.group(before.group),
                    before=w.num(before.score),
                    after=w.num(after.score),
                )
            )
    if result.skipped_groups:
        skipped = ", ".join(w.group(g) for g in result.skipped_groups)
        lines.append(w.t("whatif_skipped", groups=skipped))
    lines += ["", w.t("whatif_basis", wave=html.escape(report.wave))]
    return "\n".join(lines)


def plan_text(plan: TargetPlan, scope: ScopeResult, report: Report, language: str) -> str:
    """Return the /simulasi answer without a lift: what it takes to reach the target."""
    w = _Text(language)
    target = plan.target.label.get(language)
    lines = [w.t("whatif_plan_title", target=target, name=w.name(scope)), ""]
    if plan.index is None:
        lines.append(w.t("whatif_plan_no_index", name=w.name(scope)))
    elif plan.reached:
        lines.append(
            w.t(
                "whatif_plan_reached",
                value=w.num(plan.index),
                mark=w.mark(plan.category),
                target=target,
            )
        )
    else:
        lines.append(w.t("whatif_plan_now", value=w.num(plan.index), mark=w.mark(plan.category)))
        for rank, need in enumerate(plan.needs, start=1):
            dimension = w.dimension(need.dimension)
            score = w.num(need.score) if need.score is not None else "-"
            if need.lift is None or need.index_after is None:
                lines.append(
                    w.t("whatif_plan_unreachable", rank=rank, dimension=dimension, score=score)
                )
            else:
                lines.append(
                    w.t(
                        "whatif_plan_line",
                        rank=rank,
                        dimension=dimension,
                        score=score,
                        lift=w.num(need.lift),
                        after=w.num(need.index_after),
                    )
                )
    lines += ["", w.t("whatif_basis", wave=html.escape(report.wave))]
    return "\n".join(lines)


def cheapest_text(report: Report, scope: ScopeResult, terjaga: TargetPlan, language: str) -> str:
    """Return the cheapest way up: the smallest one-dimension lift to the next band (Waspada
    from Rentan) and to Terjaga, each with the index it gives."""
    w = _Text(language)
    lines = [w.t("whatif_cheapest_title", name=w.name(scope))]
    assert scope.index is not None
    lines.append(
        w.t("whatif_plan_now_short", value=w.num(scope.index), mark=w.mark(scope.category))
    )
    plans = []
    band = next_band(report, scope.code)
    if band is not None and band.key != terjaga.target.key:
        plans.append(reach_category(report, unit=scope.code, target=band))
    plans.append(terjaga)
    for plan in plans:
        need = plan.cheapest
        target = w.mark(plan.target)
        if need is None or need.lift is None or need.index_after is None:
            lines.append(w.t("whatif_cheapest_none", target=target))
        else:
            lines.append(
                w.t(
                    "whatif_cheapest_line",
                    target=target,
                    dimension=w.dimension(need.dimension),
                    lift=w.num(need.lift),
                    after=w.num(need.index_after),
                )
            )
    return "\n".join(lines)


def scope_for(viewer: Viewer, unit: str | None) -> tuple[Decision, str | None]:
    """Decide which scope a viewer's request is about: the asked unit, else the institution
    for leadership and the own unit for a unit head."""
    if unit is not None:
        return viewer.unit(unit), unit
    if viewer.sees_all:
        return Decision.ALLOWED, None
    if viewer.unit_code is not None:
        return Decision.ALLOWED, viewer.unit_code
    return Decision.NO_ROLE, None


def usage_text(language: str, problem: BadRequest | None = None) -> str:
    """Return the usage help, after what was wrong with the request when there is a problem."""
    messages = catalog()
    usage = messages.t(language, "whatif_usage")
    if problem is None:
        return usage
    said = messages.t(language, problem.key, value=html.escape(problem.value))
    return f"{said}\n\n{usage}"


def answer(report: Report, request: WhatIfRequest, unit: str | None, language: str) -> str:
    """Return the /simulasi answer for `unit` (None: the institution); ValueError when the
    report has no such unit."""
    if unit is not None and unit not in {u.code for u in report.units}:
        raise ValueError(f"unknown unit {unit!r}")
    if request.lift is None:
        plan = reach_category(report, unit=unit)
        scope = report.institution if unit is None else report.unit(unit)
        detail = plan_text(plan, scope, report, language)
        if plan.index is None or plan.reached:
            return detail
        return f"{cheapest_text(report, scope, plan, language)}\n\n{detail}"
    lift = dataclasses.replace(request.lift, unit=unit)
    return whatif_text(what_if(report, lift), report, language)
