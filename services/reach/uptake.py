"""Invitation uptake per unit: how many personal links were issued, opened and completed.

Internal and expert respondents who never opened their link cannot be reached by Telegram;
this is what HR needs to re-share the rest (`spibot invites status`, `/undangan`).
"""

from __future__ import annotations

import html

import storage.invitations
import storage.waves
from services.errors import AdminError
from services.i18n import Catalog
from services.reports import TEXT_LIMIT
from storage.db import AsyncEngine
from storage.invitations import InvitationUptake
from storage.waves import Wave

__all__ = ["pages", "uptake_for", "uptake_lines", "uptake_text"]


async def uptake_for(
    engine: AsyncEngine, wave_name: str | None = None
) -> tuple[Wave, list[InvitationUptake]]:
    """Return the wave (named, else the open one, else the newest) and its uptake rows."""
    if wave_name is not None:
        wave = await storage.waves.get_wave(engine, wave_name)
        if wave is None:
            raise AdminError(f"no wave named {wave_name!r}")
    else:
        wave = await storage.waves.current_wave(engine)
        if wave is None:
            waves = await storage.waves.list_waves(engine)
            if not waves:
                raise AdminError("no wave yet: open one with `spibot wave open NAME`")
            wave = waves[0]
    return wave, await storage.invitations.invitation_uptake(engine, wave.id)


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def uptake_lines(wave: Wave, rows: list[InvitationUptake]) -> list[str]:
    """Return the uptake as plain lines for the command line."""
    lines = [f"wave {wave.name}: personal invitation links per unit"]
    lines.append(f"{'unit':<24} {'group':<9} {'issued':>7} {'opened':>7} {'completed':>10}")
    for row in rows:
        lines.append(
            f"{row.unit_code:<24} {row.grp:<9} {row.issued:>7} {row.opened:>7} "
            f"{row.completed:>10} ({_percent(row.completed, row.issued)})"
        )
    issued = sum(r.issued for r in rows)
    opened = sum(r.opened for r in rows)
    completed = sum(r.completed for r in rows)
    lines.append(f"{'total':<34} {issued:>7} {opened:>7} {completed:>10}")
    if not rows:
        lines.append("no invitations issued in this wave (`spibot invites create`)")
    return lines


def pages(lines: list[str], limit: int = TEXT_LIMIT) -> list[str]:
    """Return lines joined into as few messages as fit Telegram's text limit."""
    out: list[str] = []
    current = ""
    for line in lines:
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit and current:
            out.append(current)
            candidate = line
        current = candidate
    return [*out, current] if current else out


def uptake_text(
    messages: Catalog, language: str, wave: Wave, rows: list[InvitationUptake]
) -> list[str]:
    """Return the uptake as chat messages (HTML), split to fit Telegram's limit."""
    title = messages.t(language, "uptake_title", wave=html.escape(wave.name))
    hint = messages.t(language, "uptake_roster_hint")
    if not rows:
        return [f"{title}\n\n{messages.t(language, 'uptake_none')}\n\n{hint}"]
    lines = [
        messages.t(
            language,
            "uptake_line",
            unit=html.escape(row.unit_name),
            group=messages.t(language, f"uptake_group_{row.grp}"),
            issued=row.issued,
            opened=row.opened,
            completed=row.completed,
            percent=_percent(row.completed, row.issued),
        )
        for row in rows
    ]
    total = messages.t(
        language,
        "uptake_total",
        issued=sum(r.issued for r in rows),
        opened=sum(r.opened for r in rows),
        completed=sum(r.completed for r in rows),
    )
    return pages([title, "", *lines, "", total, "", hint])
