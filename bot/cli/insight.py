"""`spibot` commands that look beyond the numbers: peers (KPK's published results) and whatif.

Heavy modules are imported inside the commands, so `spibot --help` stays fast.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from bot.cli.common import run_with_db

if TYPE_CHECKING:
    from scoring.peers import YearStanding
    from scoring.whatif import TargetPlan, WhatIf
    from services.reports import OurInstitution, ReportBundle
    from services.settings import Settings
    from storage.db import AsyncEngine

__all__ = ["add_insight_commands"]

GROUP_CHOICES = ("internal", "external", "expert")


def _peer_lines(
    ours: OurInstitution, found: tuple[YearStanding, ...], year: int | None
) -> list[str]:
    """Plain-text standing per year and the nearest peers of `year` (default: the latest)."""
    if not found:
        return [f"no published SPI result for {ours.name!r} ({ours.level})"]
    lines = [f"{found[0].result.name} ({ours.level}), KPK SPI results"]
    for s in found:
        average = f", {ours.level} average {s.level_average:.2f}" if s.level_average else ""
        lines.append(
            f"  {s.year}: {s.result.index:.2f} {s.result.category.label.get('en')}, "
            f"percentile {s.percentile:.2f} (rank {s.rank} of {s.of}{average})"
        )
    chosen = next((s for s in found if s.year == year), found[-1])
    if chosen.peers:
        lines.append(f"nearest peers {chosen.year} (same level and province):")
        lines += [f"  {p.index:6.2f}  {p.name}" for p in chosen.peers]
    return lines


def cmd_peers(args: argparse.Namespace) -> int:
    """Print our published SPI results per year, percentile and nearest peers."""
    from services.reports import load_standings, peers_json

    async def work(
        engine: AsyncEngine, settings: Settings
    ) -> tuple[OurInstitution, tuple[YearStanding, ...]]:
        return await load_standings(engine, settings, year=args.year)

    ours, found = run_with_db(args, work)
    if args.json:
        print(json.dumps(peers_json(ours, found), ensure_ascii=False, indent=1))
    else:
        print("\n".join(_peer_lines(ours, found, args.year)))
    return 0 if found else 1


def _whatif_lines(result: WhatIf) -> list[str]:
    lift, before, after = result.lift, result.before, result.after
    groups = ", ".join(g.value for g in lift.groups)
    lines = [
        f"{before.name or 'institution'}: {lift.dimension.value} {lift.delta:+.2f} in {groups}"
    ]
    if before.index is None or after.index is None:
        lines.append("  index: insufficient data (every group needs a shown score)")
    else:
        category = after.category.label.get("en") if after.category else ""
        lines.append(
            f"  index {before.index:.2f} -> {after.index:.2f} {category} "
            f"({after.index - before.index:+.2f})"
        )
    for b, a in zip(before.groups, after.groups, strict=True):
        if b.score is None or a.score is None:
            # Too few, or only responses that wait for the next provisional step.
            shown = "insufficient" if b.suppressed or b.waiting else "-"
            lines.append(f"  {b.group.value:<9} {shown}")
        else:
            lines.append(f"  {b.group.value:<9} {b.score:.2f} -> {a.score:.2f}")
    if result.skipped_groups:
        skipped = ", ".join(g.value for g in result.skipped_groups)
        lines.append(f"  unchanged (suppressed, hidden or not asked): {skipped}")
    return lines


def _plan_lines(plan: TargetPlan) -> list[str]:
    name = plan.name or "institution"
    target = plan.target.label.get("en")
    if plan.index is None:
        return [f"{name}: no complete index, so no plan"]
    if plan.reached:
        return [f"{name}: {plan.index:.2f}, already {target}"]
    lines = [f"{name}: {plan.index:.2f}; smallest lift per dimension to reach {target}:"]
    for need in plan.needs:
        if need.lift is None or need.index_after is None:
            lines.append(f"  {need.dimension.value:<24} not enough even at +100")
        else:
            lines.append(f"  {need.dimension.value:<24} +{need.lift:.2f} -> {need.index_after:.2f}")
    return lines


def _cheapest_line(plan: TargetPlan) -> str:
    """Say the smallest one-dimension lift that reaches the plan's target."""
    name, target = plan.name or "institution", plan.target.label.get("en")
    need = plan.cheapest
    if need is None or need.lift is None or need.index_after is None:
        return f"{name}: no single dimension reaches {target}, even at +100"
    return (
        f"{name}: cheapest to {target}: {need.dimension.value} +{need.lift:.2f} "
        f"-> {need.index_after:.2f}"
    )


def cmd_whatif(args: argparse.Namespace) -> int:
    """Print the index after lifting a dimension, or what it takes to reach Terjaga."""
    from scoring import GROUP_ORDER
    from scoring.whatif import Lift, next_band, reach_category, what_if
    from services.errors import AdminError
    from services.names import dimension_named
    from services.reports import load_report
    from surveys.model import Dimension, Group

    if (args.dimension is None) != (args.delta is None):
        raise AdminError("give --dimension and --delta together (or neither, for the plan)")
    if args.group and args.dimension is None:
        raise AdminError("--group needs --dimension and --delta")

    async def work(engine: AsyncEngine, settings: Settings) -> ReportBundle:
        bundle = await load_report(engine, settings, wave_name=args.wave)
        if bundle is None:
            raise AdminError(f"no wave named {args.wave!r}" if args.wave else "no wave yet")
        return bundle

    report = run_with_db(args, work).report
    if args.unit is not None and args.unit not in {u.code for u in report.units}:
        raise AdminError(f"unknown unit code {args.unit!r}; see `spibot units list`")
    if args.dimension is None:
        plan = reach_category(report, unit=args.unit)
        band = next_band(report, args.unit)
        first = None
        if band is not None and band.key != plan.target.key and not plan.reached:
            first = reach_category(report, unit=args.unit, target=band)
        if args.json:
            data = {**plan.to_dict(), "next_band": None if first is None else first.to_dict()}
            print(json.dumps(data, indent=1))
        else:
            steps = [p for p in (first, plan) if p is not None and not p.reached]
            cheapest = [_cheapest_line(p) for p in steps if p.index is not None]
            print("\n".join([*cheapest, *_plan_lines(plan)]))
        return 0
    dimension = dimension_named(args.dimension)  # the names the bot accepts, any language
    if dimension is None:
        known = ", ".join(d.value for d in Dimension)
        raise AdminError(
            f"unknown dimension {args.dimension!r}; one of {known} (or as the bot names them: "
            "transparansi, pengadaan, sdm, anggaran, ...)"
        )
    groups = tuple(Group(g) for g in args.group) if args.group else GROUP_ORDER
    try:
        lift = Lift(dimension, args.delta, groups, args.unit)
    except ValueError as exc:
        raise AdminError(str(exc)) from exc
    result = what_if(report, lift)
    if args.json:
        print(json.dumps({"wave": report.wave, **result.to_dict()}, ensure_ascii=False, indent=1))
    else:
        print("\n".join([f"wave {report.wave}", *_whatif_lines(result)]))
    return 0


def add_insight_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register peers and whatif (no heavy imports here: --dimension is checked when run)."""
    p = sub.add_parser("peers", help="our published SPI results, percentile and nearest peers")
    p.add_argument("--year", type=int, help="only this SPI year (2021-2025)")
    p.add_argument("--json", action="store_true", help="print JSON (percentile is 0-100)")
    p.set_defaults(func=cmd_peers)

    p = sub.add_parser(
        "whatif", help="index after lifting a dimension; without --dimension: the plan to Terjaga"
    )
    p.add_argument(
        "--dimension",
        help="dimension to lift: procurement, or as the bot names it (pengadaan, Pengelolaan PBJ)",
    )
    p.add_argument("--delta", type=float, help="points to add (-100 to 100)")
    p.add_argument(
        "--group",
        action="append",
        choices=GROUP_CHOICES,
        help="group to lift (repeat; default all)",
    )
    p.add_argument("--unit", help="unit code (default: the institution)")
    p.add_argument("--wave", help="wave name (default: the open wave, else the newest)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_whatif)
