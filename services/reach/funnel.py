"""The `/progres` funnel: per unit, surveys started, stopped and completed, and how many
personal invitation links were issued and opened.

Counts only, like the rest of `/progres` (docs/scoring.md §5 keeps `n`, `needed` and
`remaining` for every cell): a count says that people began or stopped, never what they
answered, so small cells show their counts and still never a score. Nothing here says at
which question anyone stopped; that would lean on answers.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

import storage.funnel
import storage.invitations
from services.context import Services
from services.reach.uptake import pages
from services.reports import TEXT_LIMIT
from storage.funnel import UnitFunnel
from storage.invitations import InvitationUptake
from storage.waves import Wave

__all__ = ["Funnel", "FunnelLine", "funnel_text", "load_funnel"]

_GROUPS: Final = ("internal", "external", "expert")


@dataclass(frozen=True, slots=True)
class FunnelLine:
    """Surveys of a scope (a unit, or the institution for one group) and its invitations."""

    started: int = 0
    stopped: int = 0  # idle for the first reminder's delay, cancelled, or expired unfinished
    completed: int = 0
    issued: int = 0
    opened: int = 0

    def __add__(self, other: FunnelLine) -> FunnelLine:
        return FunnelLine(
            self.started + other.started,
            self.stopped + other.stopped,
            self.completed + other.completed,
            self.issued + other.issued,
            self.opened + other.opened,
        )

    @property
    def empty(self) -> bool:
        """Nothing begun and no link issued."""
        return self.started == 0 and self.issued == 0


@dataclass(frozen=True, slots=True)
class Funnel:
    """A wave's funnel: per group for the institution, per unit (all groups together)."""

    wave: Wave
    idle_hours: float
    groups: dict[str, FunnelLine]
    units: dict[str, tuple[str, FunnelLine]]  # code -> (name, line)
    unit_groups: dict[tuple[str, str], FunnelLine]  # (code, group) -> line


def _line(surveys: UnitFunnel | None, links: InvitationUptake | None) -> FunnelLine:
    return FunnelLine(
        started=surveys.started if surveys else 0,
        stopped=surveys.stopped + surveys.abandoned if surveys else 0,
        completed=surveys.completed if surveys else 0,
        issued=links.issued if links else 0,
        opened=links.opened if links else 0,
    )


def _sum(lines: Iterable[FunnelLine]) -> FunnelLine:
    total = FunnelLine()
    for line in lines:
        total += line
    return total


async def load_funnel(services: Services, wave: Wave) -> Funnel:
    """Read a wave's funnel; a survey idle for the first reminder's delay counts as stopped."""
    engine = services.db.engine
    hours = services.settings.reminder_delays_hours[0]
    idle_before = services.clock() - timedelta(hours=hours)
    surveys = {
        (f.unit_code, f.grp): f
        for f in await storage.funnel.unit_funnel(engine, wave.id, idle_before)
    }
    links = {
        (u.unit_code, u.grp): u
        for u in await storage.invitations.invitation_uptake(engine, wave.id)
    }
    names = {f.unit_code: f.unit_name for f in surveys.values()}
    names.update({u.unit_code: u.unit_name for u in links.values()})
    unit_groups = {key: _line(surveys.get(key), links.get(key)) for key in {*surveys, *links}}
    units = {
        code: (name, _sum(line for (c, _g), line in unit_groups.items() if c == code))
        for code, name in names.items()
    }
    groups = {
        grp: _sum(line for (_c, g), line in unit_groups.items() if g == grp) for grp in _GROUPS
    }
    return Funnel(wave, hours, groups, units, unit_groups)


class _T:
    """The catalog bound to one language, and its way of writing counts."""

    def __init__(self, services: Services, language: str) -> None:
        self._messages = services.messages
        self._language = language

    def __call__(self, key: str, /, **values: object) -> str:
        return self._messages.t(self._language, key, **values)

    def n(self, value: int) -> str:
        """Write a count: 1,234 in English, 1.234 in Indonesian."""
        written = f"{value:,d}"
        return written if self._language == "en" else written.replace(",", ".")


def _numbers(t: _T, line: FunnelLine) -> str:
    text = t(
        "funnel_numbers",
        started=t.n(line.started),
        stopped=t.n(line.stopped),
        done=t.n(line.completed),
    )
    if line.issued:
        text += t("funnel_links", issued=t.n(line.issued), opened=t.n(line.opened))
    return text


def funnel_text(
    services: Services,
    language: str,
    funnel: Funnel,
    *,
    unit_code: str | None = None,
    unit_name: str | None = None,
    unit_count: int | None = None,
) -> list[str]:
    """Return the funnel as chat messages (HTML): the institution per group and every unit
    with activity, most stopped first; or one unit's groups (what a unit head may see)."""
    t = _T(services, language)
    hours = f"{funnel.idle_hours:g}"
    title = t("funnel_title", wave=html.escape(funnel.wave.name))
    key = t("funnel_key", hours=hours)
    if unit_code is not None:
        name = unit_name or funnel.units.get(unit_code, (unit_code, None))[0]
        lines = [f"{title} — {html.escape(name)}", ""]
        for grp in _GROUPS:
            line = funnel.unit_groups.get((unit_code, grp))
            if line is not None and not line.empty:
                lines.append(f"• {t(f'scores_group_{grp}')}: {_numbers(t, line)}")
        if len(lines) == 2:
            lines.append(t("funnel_nothing"))
        return pages([*lines, "", key], TEXT_LIMIT)
    lines = [title, ""]
    for grp in _GROUPS:
        line = funnel.groups[grp]
        if not line.empty:
            lines.append(f"• <b>{t(f'scores_group_{grp}')}</b>: {_numbers(t, line)}")
    active = sorted(
        ((name, line) for name, line in funnel.units.values() if not line.empty),
        key=lambda item: (-item[1].stopped, -item[1].started, item[0]),
    )
    if not active:
        return pages([*lines, t("funnel_nothing"), "", key], TEXT_LIMIT)
    lines += ["", t("funnel_units")]
    lines += [f"• {html.escape(name)}: {_numbers(t, line)}" for name, line in active]
    quiet = (unit_count or 0) - len(active)
    if quiet > 0:
        lines += ["", t("funnel_quiet_units", n=quiet)]
    return pages([*lines, "", key], TEXT_LIMIT)
