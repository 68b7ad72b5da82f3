"""`spibot` commands for results: score, correction, report (`grant` is in bot/cli/grants.py).

Heavy modules (pandas through scoring, matplotlib through the charts) are imported inside
the commands, so `spibot --help` stays fast.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scoring import GroupResult, ScopeResult
    from services.reports import ReportBundle, Revision
    from services.settings import Settings
    from storage.db import AsyncEngine

from bot.cli.common import now, run_with_db

__all__ = ["add_score_commands", "summary_markdown"]


def _fmt(value: float | None, moe: float | None = None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" + (f" ±{moe:.2f}" if moe is not None else "")


def _cell(cell: GroupResult, k: int) -> str:
    from services.reports import cell_reason

    if cell.score is None:
        n = f" (n={cell.n})" if cell.suppressed else ""
        return cell_reason(cell, k, "en") + n
    late = f", {cell.waiting} newer not shown yet" if cell.waiting else ""
    return f"{_fmt(cell.score, cell.moe)} (n={cell.n}{late})"


def _headline(scope: ScopeResult, k: int) -> str:
    import html
    import re

    from services.reports import index_reason

    if scope.index is not None:
        category = scope.category.label.get("en") if scope.category else ""
        return f"index {_fmt(scope.index, scope.index_moe)} {category}"
    if scope.partial_index is not None:
        groups = "+".join(g.value for g in scope.groups_included)
        return f"partial {scope.partial_index:.2f} ({groups} only; not an SPI index)"
    reason = html.unescape(re.sub(r"<[^>]+>", "", index_reason(scope, k, "en")))
    return reason[0].lower() + reason[1:]


def _score_lines(bundle: ReportBundle, unit_code: str | None) -> list[str]:
    """Plain-text report for a terminal: the institution (or one unit) and every unit."""
    from services.reports import benchmark_year, revision_note

    report = bundle.report
    k = report.config.min_cell_size
    status = "open, provisional" if report.provisional else "closed"
    lines = [f"wave {report.wave} ({status})"]
    note = revision_note(bundle.revision, "en")
    if note:  # a revised final report says so wherever its numbers appear
        lines.append(note.replace("<i>", "").replace("</i>", ""))
    scopes = [report.unit(unit_code)] if unit_code else [report.institution]
    for scope in scopes:
        lines.append(f"{scope.name or 'institution'}: {_headline(scope, k)}")
        lines += [f"  {c.group.value:<9} {_cell(c, k)}" for c in scope.groups]
        corr = scope.corrections
        if corr is not None and corr.total:
            lines.append(f"  corrections -{corr.integrity:.2f} -{corr.prevalence:.2f} {corr.note}")
        for e in report.exclusions:  # the inspectorate's (issue 24), with their reasons
            if scope.code is None or e.unit_code == scope.code:
                day = e.created_on.isoformat() if e.created_on else ""
                lines.append(
                    f"  excluded #{e.number}: {e.unit_code} {e.group.value}, {e.count} responses "
                    f"({e.kind}, {day}) — {e.reason}"
                )
        lines += [
            f"  vs {b.label.get('en')} {benchmark_year(b, report.year, 'en')}: {b.value:.2f}"
            + (f" ({b.delta:+.2f})" if b.delta is not None else "")
            for b in scope.benchmarks
        ]
        if scope.previous is not None and scope.previous.index is not None:
            delta = f" ({scope.previous.delta:+.2f})" if scope.previous.delta is not None else ""
            lines.append(
                f"  previous wave {scope.previous.wave}: {scope.previous.index:.2f}{delta}"
            )
    if unit_code is None:
        lines.append("")
        lines.append(f"{'unit':<24} {'result':<44} internal / external / expert")
        for unit in report.units:
            cells = " / ".join(_cell(c, k) for c in unit.groups)
            lines.append(f"{unit.code:<24} {_headline(unit, k):<44} {cells}")
    q = report.quality
    lines.append(f"\nresponses {q.responses}, excluded by quality checks {q.excluded}")
    if q.by_inspectorate:
        lines.append(f"excluded by the inspectorate {q.by_inspectorate} (`spibot quality`)")
    return lines


def _load_bundle(args: argparse.Namespace) -> ReportBundle:
    """Build the report of --wave (default: the open or newest wave), or raise AdminError."""
    from services.errors import AdminError
    from services.reports import load_report

    async def work(engine: AsyncEngine, settings: Settings) -> ReportBundle:
        bundle = await load_report(engine, settings, wave_name=args.wave)
        if bundle is None:
            raise AdminError(f"no wave named {args.wave!r}" if args.wave else "no wave yet")
        return bundle

    return run_with_db(args, work)


def cmd_score(args: argparse.Namespace) -> int:
    """Print the wave's report (text, or JSON with --json)."""
    from services.errors import AdminError

    bundle = _load_bundle(args)
    report = bundle.report
    if args.unit is not None:
        codes = {u.code for u in report.units}
        if args.unit not in codes:
            raise AdminError(f"unknown unit code {args.unit!r}; see `spibot units list`")
    if args.json:
        from scoring.report import to_jsonable

        data = (
            report.to_dict()
            if args.unit is None
            else {
                "wave": report.wave,
                "provisional": report.provisional,
                "unit": to_jsonable(report.unit(args.unit)),
            }
        )
        print(json.dumps(data, ensure_ascii=False, indent=1))
    else:
        print("\n".join(_score_lines(bundle, args.unit)))
    return 0


def cmd_correction_set(args: argparse.Namespace) -> int:
    """Record the corrections of a wave (the newest is in force; history is kept).

    For a closed wave this makes a dated revision of its frozen final report, which the bot
    pushes to the subscribed chats.
    """
    from scoring import Corrections
    from services import reports
    from services.admin import resolve_wave
    from services.errors import AdminError

    async def work(engine: AsyncEngine, settings: Settings) -> list[str]:
        wave = await resolve_wave(engine, args.wave)
        try:
            corrections = Corrections(args.integrity, args.prevalence, args.note)
        except ValueError as exc:
            raise AdminError(str(exc)) from exc
        _, revision = await reports.set_correction(engine, settings, wave, corrections, now())
        lines = [
            f"wave {wave.name!r}: corrections integrity {args.integrity:.2f}, "
            f"prevalence {args.prevalence:.2f} are now in force"
        ]
        if revision is not None:
            lines.append(
                f"revision {revision.number} of the final report, dated "
                f"{revision.created_on.isoformat()}; the bot sends it to subscribed chats"
            )
            lines += [f"  {line}" for line in revision_lines(revision)]
        return lines

    for line in run_with_db(args, work):
        print(line)
    return 0


def revision_lines(revision: Revision) -> list[str]:
    """Return what a revision changed, one line per change (English, for the terminal)."""
    from services.reports import change_lines

    return change_lines(revision, "en", html_markup=False) or ["no shown number changed"]


def cmd_correction_list(args: argparse.Namespace) -> int:
    """List a wave's corrections, newest (in force) first, and its report's revisions."""
    import storage.corrections
    import storage.units
    from services import reports
    from services.admin import resolve_wave

    async def work(engine: AsyncEngine, settings: Settings) -> list[str]:
        wave = await resolve_wave(engine, args.wave)
        history = await storage.corrections.correction_history(engine, wave.id)
        lines = (
            [f"wave {wave.name!r} corrections, newest first:"]
            if history
            else [f"wave {wave.name!r} has no corrections"]
        )
        for i, c in enumerate(history):
            when = c.created_at.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M")
            state = "in force" if i == 0 else "replaced"
            lines.append(
                f"  {when}  integrity {c.integrity:.2f}  prevalence {c.prevalence:.2f}  "
                f"({state})  {c.note}"
            )
        published = await reports.revisions_of(engine, settings, wave)
        if published:
            lines.append(f"final report of {wave.name!r}, oldest first (the last is in force):")
        for revision in published:
            lines.append(
                f"  {revision.number}. {revision.created_on.isoformat()}  {revision.kind.value}"
                + (f"  {revision.note}" if revision.note else "")
            )
            if revision.number > 1:
                lines += [f"     {line}" for line in revision_lines(revision)]
        return lines

    for line in run_with_db(args, work):
        print(line)
    return 0


def summary_markdown(bundle: ReportBundle, files: list[tuple[str, str]], language: str) -> str:
    """Return the Markdown summary of a report pack: each chart with its numbers."""
    import re

    from services.reports import TEXT_LIMIT, captions

    texts = captions(bundle, language, limit=TEXT_LIMIT)

    def plain(html_text: str) -> str:
        import html

        bold = re.sub(r"</?b>", "**", html_text)
        return html.unescape(re.sub(r"<[^>]+>", "", bold))

    report = bundle.report
    parts = [f"# {report.institution.name} — {report.wave}", ""]
    for name, filename in files:
        parts += [f"![{name}]({filename})", "", plain(texts[name]).replace("\n", "  \n"), ""]
    return "\n".join(parts)


def cmd_report(args: argparse.Namespace) -> int:
    """Write the chart pack (PNGs) and a Markdown summary into a folder, and/or the rakor PDF."""
    from services.errors import AdminError

    if args.out is None and args.pdf is None:
        raise AdminError("give --out FOLDER (the charts), --pdf FILE (the rakor PDF), or both")
    if args.unit is not None and args.pdf is None:
        raise AdminError("--unit makes a unit's PDF: give --pdf FILE too")
    if args.pdf is not None:
        _write_pdf(args)
    if args.out is None:
        return 0
    from services.reports import report_pack

    bundle = _load_bundle(args)
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AdminError(f"{out}: cannot create: {exc.strerror}") from exc
    files = []
    for index, (name, png, _caption) in enumerate(report_pack(bundle, args.language), start=1):
        filename = f"{index:02d}-{name}.png"
        (out / filename).write_bytes(png)
        files.append((name, filename))
    (out / "report.md").write_text(summary_markdown(bundle, files, args.language), encoding="utf-8")
    print(f"wrote {len(files)} charts and report.md to {out}")
    return 0


def _write_pdf(args: argparse.Namespace) -> None:
    """Make the rakor PDF of --wave (the same report the bot shows now) into --pdf."""
    from services.errors import AdminError
    from services.rakor.pdf import RakorPdf, load_pdf

    target = Path(args.pdf)
    if target.is_dir():
        raise AdminError(f"{target}: is a folder; give a file name, e.g. laporan.pdf")

    async def work(engine: AsyncEngine, settings: Settings) -> RakorPdf:
        import storage.corrections
        import storage.units

        if args.unit is not None and await storage.units.get_unit(engine, args.unit) is None:
            raise AdminError(f"unknown unit code {args.unit!r}; see `spibot units list`")
        made = await load_pdf(
            engine,
            settings,
            args.language,
            now=now(),
            wave_name=args.wave,
            unit_code=args.unit,
        )
        if made is None:
            raise AdminError(f"no wave named {args.wave!r}" if args.wave else "no wave yet")
        bundle, pdf = made
        if pdf is None:
            raise AdminError(f"wave {bundle.wave.name!r} has no responses yet: no PDF to make")
        return pdf

    pdf = run_with_db(args, work)
    try:
        target.write_bytes(pdf.data)
    except OSError as exc:
        raise AdminError(f"{target}: cannot write: {exc.strerror}") from exc
    status = "provisional" if pdf.provisional else "final"
    print(f"wrote {target}: wave {pdf.wave} ({status}), {pdf.pages} pages")


def add_score_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register score, correction and report (no heavy imports here)."""
    p = sub.add_parser("score", help="print the scores of a wave (default: the open one)")
    p.add_argument("--wave", help="wave name (default: the open wave, else the newest)")
    p.add_argument("--unit", help="only this unit (code)")
    p.add_argument("--json", action="store_true", help="print the full report as JSON")
    p.set_defaults(func=cmd_score)

    correction = sub.add_parser("correction", help="index corrections per wave").add_subparsers(
        dest="correction_command", required=True, metavar="ACTION"
    )
    p = correction.add_parser("set", help="record new corrections (they replace the old ones)")
    p.add_argument("--wave", help="wave name (default: the open wave)")
    p.add_argument("--integrity", type=float, required=True, help="integrity deduction (points)")
    p.add_argument("--prevalence", type=float, required=True, help="prevalence deduction")
    p.add_argument("--note", required=True, help="why (cases, complaints, steering)")
    p.set_defaults(func=cmd_correction_set)
    p = correction.add_parser("list", help="show a wave's corrections with their history")
    p.add_argument("--wave", help="wave name (default: the open wave)")
    p.set_defaults(func=cmd_correction_list)

    p = sub.add_parser(
        "report", help="write the chart pack and a Markdown summary, or the rakor PDF"
    )
    p.add_argument("--wave", help="wave name (default: the open wave, else the newest)")
    p.add_argument("--out", help="output folder for the charts and report.md")
    p.add_argument("--pdf", help="write the rakor PDF (A4, for the meeting screen) to this file")
    p.add_argument("--unit", help="with --pdf: only this unit's page (code)")
    p.add_argument("--language", choices=["id", "en"], default="id")
    p.set_defaults(func=cmd_report)
