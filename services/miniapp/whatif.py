"""The dashboard's what-if panel: move a dimension, see the index and category; and what it
takes to reach Terjaga. The scoring code of /simulasi (`scoring.whatif`) on the report /skor
reads, so the panel and the bot give the same numbers; a suppressed cell is never lifted and
never shown (the report holds no number for it)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from scoring.whatif import Lift, reach_category, what_if
from services.access import Decision, Viewer
from services.miniapp import charts
from services.miniapp.views import (
    JSON,
    Words,
    bands,
    category_json,
    dimension_options,
    group_options,
    headline,
    wave_json,
)
from services.reports import ReportBundle, scope_for
from surveys import Group
from surveys.model import Dimension

__all__ = ["BadLift", "LiftRequest", "form", "parse_lift", "simulate", "unit_code"]

UNIT_CODE_RE: Final = re.compile(r"^[A-Z0-9-]{1,40}$")
MAX_DELTA: Final = 100.0


class BadLift(ValueError):
    """A what-if request that cannot be computed: `key` names the catalog message."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True, slots=True)
class LiftRequest:
    """A parsed what-if request from the app."""

    dimension: Dimension
    delta: float
    groups: tuple[Group, ...]
    unit: str | None


def unit_code(value: object) -> str | None:
    """Return a unit code as typed (upper case), None when absent; BadLift when malformed."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not UNIT_CODE_RE.match(value.strip().upper()):
        raise BadLift("miniapp_unit_not_found")
    return value.strip().upper()


def parse_lift(body: object) -> LiftRequest:
    """Check a POSTed what-if: {dimension, delta, groups?, unit?}; BadLift says what is wrong."""
    if not isinstance(body, Mapping):
        raise BadLift("miniapp_whatif_bad")
    try:
        dimension = Dimension(str(body.get("dimension")))
    except ValueError:
        raise BadLift("miniapp_whatif_bad_dimension") from None
    delta = body.get("delta")
    if isinstance(delta, bool) or not isinstance(delta, int | float):
        raise BadLift("miniapp_whatif_bad_delta")
    if not math.isfinite(delta) or abs(delta) > MAX_DELTA:
        raise BadLift("miniapp_whatif_bad_delta")
    raw_groups = body.get("groups") or [g.value for g in Group]
    if not isinstance(raw_groups, list) or len(raw_groups) > len(Group):
        raise BadLift("miniapp_whatif_bad_groups")
    try:
        groups = tuple(Group(str(g)) for g in raw_groups)
    except ValueError:
        raise BadLift("miniapp_whatif_bad_groups") from None
    return LiftRequest(dimension, float(delta), groups, unit_code(body.get("unit")))


def _scope(viewer: Viewer, unit: str | None, bundle: ReportBundle) -> tuple[Decision, str | None]:
    decision, code = scope_for(viewer, unit)
    known = {u.code for u in bundle.report.units}
    if decision is Decision.ALLOWED and code is not None and code not in known:
        raise BadLift("miniapp_unit_not_found")
    return decision, code


def form(bundle: ReportBundle, viewer: Viewer, words: Words, unit: str | None) -> JSON | Decision:
    """Return the panel: its choices, the scope now, and the smallest lift per dimension that
    reaches Terjaga (a Decision when the viewer may not see that scope)."""
    decision, code = _scope(viewer, unit, bundle)
    if decision is not Decision.ALLOWED:
        return decision
    report = bundle.report
    plan = reach_category(report, unit=code)
    scope = report.institution if code is None else report.unit(code)
    target = plan.target.label.get(words.lang)
    needs = []
    for need in plan.needs:
        row: dict[str, Any] = {"dimension": words.dimension(need.dimension.value)}
        row["score"] = None if need.score is None else words.num(need.score)
        row["reachable"] = need.lift is not None and need.index_after is not None
        if need.lift is None or need.index_after is None:
            row["text"] = words.t("miniapp_plan_unreachable")
        else:
            row["text"] = words.t(
                "miniapp_plan_line", lift=words.num(need.lift), after=words.num(need.index_after)
            )
        needs.append(row)
    if plan.index is None:
        state, note = "no_index", words.t("miniapp_plan_no_index")
    elif plan.reached:
        state, note = "reached", words.t("miniapp_plan_reached", target=target)
    else:
        state, note = "needs", words.t("miniapp_plan_intro", target=target)
    return {
        "wave": wave_json(bundle, words),
        "scope": {"code": code, "name": scope.name or words.t("scores_institution")},
        "headline": headline(scope, words),
        "dimensions": dimension_options(words),
        "groups": group_options(words),
        "plan": {"state": state, "note": note, "target": target, "needs": needs},
    }


def simulate(
    bundle: ReportBundle, viewer: Viewer, words: Words, request: LiftRequest
) -> JSON | Decision:
    """Return the scope before and after the lift (a Decision when it may not be seen)."""
    decision, code = _scope(viewer, request.unit, bundle)
    if decision is not Decision.ALLOWED:
        return decision
    report = bundle.report
    result = what_if(report, Lift(request.dimension, request.delta, request.groups, code))
    before, after = result.before, result.after
    rows = []
    for old, new in zip(before.groups, after.groups, strict=True):
        row: JSON = {"label": words.group(old.group)}
        if old.score is None or new.score is None:
            hidden = old.suppressed or old.waiting > 0
            row["reason"] = words.t("scores_insufficient" if hidden else "scores_no_answers")
        else:
            row["before"], row["after"] = words.num(old.score), words.num(new.score)
        rows.append(row)
    chart = None
    if before.index is not None and after.index is not None:
        markers = [
            charts.Marker(before.index, words.num(before.index), None, "now"),
            charts.Marker(after.index, words.num(after.index), None, "after"),
        ]
        chart = charts.scale(bands(report, words), markers, label=words.t("miniapp_whatif_chart"))
    change = result.index_change
    direction = "miniapp_whatif_up" if request.delta >= 0 else "miniapp_whatif_down"
    return {
        "scope": {"code": code, "name": before.name or words.t("scores_institution")},
        "lift": words.t(
            "miniapp_whatif_lift",
            dimension=words.dimension(request.dimension.value),
            direction=words.t(direction),
            delta=words.num(abs(request.delta)),
            groups=", ".join(words.group(g) for g in result.lift.groups),
        ),
        "before": headline(before, words),
        # A margin belongs to what was measured, not to what is imagined.
        "after": {**headline(after, words), "moe": None},
        "after_category": category_json(after.category, words),
        "change": None if change is None else words.delta(change),
        "groups": rows,
        "skipped": (
            words.t(
                "miniapp_whatif_skipped",
                groups=", ".join(words.group(g) for g in result.skipped_groups),
            )
            if result.skipped_groups
            else None
        ),
        "chart": chart,
        "basis": words.t("miniapp_whatif_basis", wave=report.wave),
    }
