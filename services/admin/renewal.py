"""The next wave's personal links for the same roster, in one step (`spibot invites renew`).

The roster is HR's file; the database never keeps names. HR keeps the file the last wave's
links were written to (the roster with a `link` column): each old link tells, through the hash
the database keeps, which group the person was invited as. Renewal issues a fresh link per
row for the next wave (or a planned one) and writes the same rows back with the new links.
Rows HR added since (no link) take `--group`; a link of another wave is refused by line.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import storage.invitations
import storage.units
import storage.waves
from services import links
from services.admin.survey import (
    InvitationRow,
    RosterError,
    RosterProblem,
    decode_csv,
    issue_invitations,
    parse_csv,
    parse_roster,
)
from services.errors import AdminError
from services.security import token_hash
from storage.db import AsyncEngine
from storage.waves import Wave, WavePlan
from surveys import Group

__all__ = ["LINK_COLUMN", "Renewal", "next_target", "renew_invitations"]

LINK_COLUMN: Final = "link"


@dataclass(frozen=True, slots=True)
class Renewal:
    """What a renewal issued: the rows with their new links, and counts to check it by."""

    rows: list[InvitationRow]
    target: str
    by_group: Mapping[str, int]  # new links per group
    new_people: int  # rows without a link from the source wave (given --group)
    source_issued: Mapping[str, int]  # links the source wave issued, per group


async def next_target(engine: AsyncEngine, source: Wave) -> Wave | WavePlan:
    """Return the wave to renew for when none is named: the open wave if it is not the
    source, else the soonest plan that has not opened."""
    current = await storage.waves.current_wave(engine)
    if current is not None and current.id != source.id:
        return current
    plans = [p for p in await storage.waves.list_wave_plans(engine) if p.wave_id is None]
    if plans:
        return plans[0]
    raise AdminError(
        f"no wave to renew for: {source.name!r} is the open one and none is planned; "
        "plan the next with `spibot wave plan NAME --opens ...`, or give --to NAME"
    )


async def _old_groups(
    engine: AsyncEngine,
    secret: bytes,
    source: Wave,
    lines: list[tuple[int, dict[str, str]]],
    default: Group | None,
) -> tuple[list[Group], list[RosterProblem], int]:
    """Return each row's group (from its old link, else `default`), the problems found, and
    how many rows had no link."""
    groups: list[Group] = []
    problems: list[RosterProblem] = []
    seen: dict[str, int] = {}
    without = 0
    for line, row in lines:
        link = row.get(LINK_COLUMN, "").strip()
        if not link:
            without += 1
            if default is None:
                problems.append(RosterProblem(line, "renew_no_link", source.name))
            groups.append(default or Group.INTERNAL)
            continue
        payload = links.payload_of_link(link)
        parsed = links.parse_payload(secret, payload) if payload else None
        if not isinstance(parsed, links.InvitationLink):
            problems.append(RosterProblem(line, "renew_not_a_link", link[:60]))
            groups.append(Group.INTERNAL)
            continue
        hashed = token_hash(parsed.token)
        if hashed in seen:
            problems.append(RosterProblem(line, "renew_duplicate", str(seen[hashed])))
        seen.setdefault(hashed, line)
        invitation = await storage.invitations.get_invitation(engine, hashed)
        if invitation is None or invitation.wave_id != source.id:
            other = None
            if invitation is not None:
                wave = await storage.waves.get_wave_by_id(engine, invitation.wave_id)
                other = wave.name if wave else None
            problems.append(RosterProblem(line, "renew_other_wave", other or ""))
            groups.append(Group.INTERNAL)
            continue
        groups.append(Group(invitation.grp))
    return groups, problems, without


async def renew_invitations(
    engine: AsyncEngine,
    *,
    secret: bytes,
    source: Wave,
    target: Wave | WavePlan,
    data: bytes,
    file_name: str,
    group: Group | None,
    bot_username: str,
    now: datetime,
) -> Renewal:
    """Issue `target`'s links for the roster whose `source` links are in `data` (see the
    module docstring); RosterError lists every bad line, and nothing is issued then."""
    if isinstance(target, Wave) and target.id == source.id:
        raise AdminError(f"--to: renewing {source.name!r} for itself issues nothing new")
    if group is Group.EXTERNAL:
        raise AdminError("--group: service users get the open unit link, not invitations")
    units = {u.code: u for u in await storage.units.list_units(engine)}
    rows = parse_roster(data, units, file_name)  # every unit checked, lines named
    lines = parse_csv(decode_csv(data, file_name), file_name)
    groups, problems, without = await _old_groups(engine, secret, source, lines, group)
    if problems:
        raise RosterError(file_name, problems)
    for row in rows:
        row.pop(LINK_COLUMN, None)  # the old link gives way to the new one
    issued = await issue_invitations(
        engine,
        wave=target,
        rows=list(zip(groups, rows, strict=True)),
        bot_username=bot_username,
        now=now,
    )
    source_issued: Counter[str] = Counter()
    for uptake in await storage.invitations.invitation_uptake(engine, source.id):
        source_issued[uptake.grp] += uptake.issued
    return Renewal(
        rows=issued,
        target=target.name,
        by_group=Counter(g.value for g in groups),
        new_people=without,
        source_issued=source_issued,
    )
