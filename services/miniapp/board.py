"""What the dashboard shows of the collection and the follow-up: progress against targets
(as /progres), invitation uptake (as /undangan, admins only) and the follow-up actions board
(as /tindaklanjut). Counts only, like the bot's: a count says that people answered, never
what; scores stay in `services.miniapp.views`."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Final

from scoring import ScopeResult
from scoring.report import GroupResult
from services import reach
from services.actions import Action, ActionStatus
from services.miniapp import charts
from services.miniapp.views import JSON, Words, wave_json
from services.reports import ReportBundle
from storage.invitations import InvitationUptake

__all__ = ["actions_board", "progress", "uptake"]

_OPEN: Final = (ActionStatus.PLANNED, ActionStatus.IN_PROGRESS)
MAX_ACTIONS: Final = 300  # the rest is in `spibot actions export`


def _cell(cell: GroupResult, words: Words) -> JSON:
    label = words.group(cell.group)
    if cell.needed == 0 and cell.submitted == 0:
        return {"label": label, "text": words.t("miniapp_progress_na"), "done": None}
    done = cell.remaining == 0
    key = "miniapp_progress_done" if done else "miniapp_progress_line"
    text = words.t(
        key,
        n=words.count(cell.submitted),
        needed=words.count(cell.needed),
        remaining=words.count(cell.remaining),
    )
    share = cell.submitted / cell.needed if cell.needed else 1.0
    css = "bar bar-done" if done else "bar bar-progress"
    return {"label": label, "text": text, "done": done, "meter": charts.meter(100 * share, css=css)}


def _short_cell(cell: GroupResult, words: Words) -> str:
    if cell.needed == 0 and cell.submitted == 0:
        return words.t("miniapp_progress_short_na", group=words.group(cell.group))
    return words.t(
        "miniapp_progress_short",
        group=words.group(cell.group),
        n=words.count(cell.submitted),
        needed=words.count(cell.needed),
    )


def _unit(unit: ScopeResult, line: reach.FunnelLine | None, words: Words) -> JSON:
    """One unit in a line: what is still needed, every group's count against its target."""
    remaining = sum(c.remaining for c in unit.groups)
    needed = sum(c.needed for c in unit.groups)
    counted = sum(min(c.submitted, c.needed) for c in unit.groups)
    css = "bar bar-progress" if remaining else "bar bar-done"
    out: JSON = {
        "code": unit.code,
        "name": unit.name,
        "remaining": words.t("miniapp_progress_remaining", remaining=words.count(remaining))
        if remaining
        else words.t("miniapp_progress_reached"),
        "groups": " · ".join(_short_cell(c, words) for c in unit.groups),
        "meter": charts.meter(100 * counted / needed if needed else 100.0, css=css),
        "funnel": None,
    }
    if line is not None and not line.empty:
        out["funnel"] = _funnel(line, words)
    return out


def _funnel(line: reach.FunnelLine, words: Words) -> str:
    text = words.t(
        "miniapp_funnel",
        started=words.count(line.started),
        stopped=words.count(line.stopped),
        done=words.count(line.completed),
    )
    if line.issued:
        text += words.t(
            "miniapp_funnel_links", opened=words.count(line.opened), issued=words.count(line.issued)
        )
    return text


def progress(
    bundle: ReportBundle, found: reach.Funnel, words: Words, unit_code: str | None
) -> JSON:
    """Return responses against targets and the funnel: every unit (`unit_code` None), most
    behind first, or one unit (a unit head's)."""
    report = bundle.report
    if unit_code is not None:
        # A unit head: their unit's groups in full, as the institution's are for leadership.
        unit = report.unit(unit_code)
        units = [_unit(unit, found.units.get(unit_code, ("", None))[1], words)]
        groups = [_cell(c, words) for c in unit.groups]
    else:
        behind = sorted(report.units, key=lambda u: (-sum(c.remaining for c in u.groups), u.name))
        units = [_unit(u, found.units.get(u.code or "", ("", None))[1], words) for u in behind]
        groups = [_cell(c, words) for c in report.institution.groups]
    quality = report.quality.excluded
    return {
        "wave": wave_json(bundle, words),
        "title": None if unit_code is None else units[0]["name"],
        "institution": groups,
        "units": units,
        "funnel_key": words.t("miniapp_funnel_key", hours=f"{found.idle_hours:g}"),
        "quality": (
            words.t("miniapp_quality_excluded", count=words.count(quality))
            if quality and unit_code is None
            else None
        ),
    }


def uptake(wave_name: str, rows: list[InvitationUptake], words: Words) -> JSON:
    """Return personal invitation links per unit and group: issued, opened, completed."""
    out = []
    for row in rows:
        share = row.completed / row.issued if row.issued else 0.0
        out.append(
            {
                "unit": row.unit_name,
                "group": words.group(row.grp),
                "text": words.t(
                    "miniapp_uptake_line",
                    issued=words.count(row.issued),
                    opened=words.count(row.opened),
                    completed=words.count(row.completed),
                ),
                "meter": charts.meter(100 * share, css="bar bar-progress"),
            }
        )
    return {
        "wave": wave_name,
        "rows": out,
        "total": words.t(
            "miniapp_uptake_line",
            issued=words.count(sum(r.issued for r in rows)),
            opened=words.count(sum(r.opened for r in rows)),
            completed=words.count(sum(r.completed for r in rows)),
        ),
        "empty": None if rows else words.t("miniapp_uptake_none"),
        "hint": words.t("miniapp_uptake_hint"),
    }


def actions_board(actions: tuple[Action, ...], words: Words, today: date) -> JSON:
    """Return follow-up actions (soonest due first) with counts per status; read-only here:
    they are added and changed in the bot's /tindaklanjut dialogue."""
    counts = Counter(a.status for a in actions)
    rows = []
    for action in actions[:MAX_ACTIONS]:
        late = action.status in _OPEN and action.due_on < today
        rows.append(
            {
                "unit": action.unit_name,
                "dimension": words.dimension(action.dimension) if action.dimension else None,
                "what": action.what,
                "who": action.who,
                "due": action.due_on.isoformat(),
                "status": {
                    "key": action.status.value,
                    "label": words.t(f"actions_status_{action.status.value}"),
                },
                "overdue": words.t("miniapp_action_overdue", days=(today - action.due_on).days)
                if late
                else None,
            }
        )
    return {
        "counts": [
            {
                "key": status.value,
                "label": words.t(f"actions_status_{status.value}"),
                "text": words.count(counts.get(status, 0)),
            }
            for status in ActionStatus
        ],
        "rows": rows,
        "more": words.t("miniapp_actions_more", count=words.count(len(actions) - MAX_ACTIONS))
        if len(actions) > MAX_ACTIONS
        else None,
        "empty": None if actions else words.t("miniapp_actions_none"),
        "hint": words.t("miniapp_actions_hint"),
    }
