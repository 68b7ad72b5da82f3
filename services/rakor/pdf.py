"""Make the rakor PDF: load the same report the bot shows (`services.reports.load_report`,
through the one release rule) and the follow-up actions, then lay the pages out.

`build_pdf` is pure and CPU-bound (call it off the event loop); `load_pdf` reads what it needs
and runs it in a worker thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo

import storage.actions
from services.rakor.content import Writer
from services.rakor.document import PageFrame, write_pdf
from services.rakor.method import method_page
from services.rakor.overview import cover, groups_page, units_pages
from services.rakor.unit_page import unit_page
from services.reports import ReportBundle, load_report
from services.settings import Settings
from storage.db import AsyncEngine

__all__ = ["RakorPdf", "build_pdf", "has_responses", "load_pdf"]


@dataclass(frozen=True, slots=True)
class RakorPdf:
    """A made PDF with what a caption says about it."""

    data: bytes
    wave: str
    provisional: bool
    pages: int
    filename: str


def has_responses(bundle: ReportBundle) -> bool:
    """Tell whether anyone answered the wave (shown or still waiting for the release rule)."""
    inst = bundle.report.institution
    return any(c.submitted > 0 or c.excluded > 0 for c in inst.groups)


def build_pdf(
    bundle: ReportBundle,
    actions: Sequence[storage.actions.Action],
    language: str,
    made_on: date,
    *,
    unit_code: str | None = None,
    zone: tzinfo = UTC,
) -> RakorPdf:
    """Lay the pack out: the whole institution, or one unit (a unit head's own).

    The institution's pack: cover, groups and dimensions, every unit at a glance, a page per
    unit, the method page. A unit's: its page and the method page.
    """
    w = Writer(bundle, language, made_on, zone)
    report = bundle.report
    by_unit: dict[str, list[storage.actions.Action]] = {}
    for action in actions:
        by_unit.setdefault(action.unit_code, []).append(action)
    story: list[object] = []
    if unit_code is None:
        story += cover(w) + groups_page(w) + units_pages(w)
        for unit in report.units:
            story += unit_page(w, unit, by_unit.get(unit.code or "", []))
    else:
        unit = report.unit(unit_code)
        story += unit_page(w, unit, by_unit.get(unit_code, []))
    story += method_page(w)
    name = report.institution.name or w.t("scores_institution")
    subtitle = w.t("pdf_subtitle", institution=name, wave=report.wave)
    frame = PageFrame(
        left=subtitle,
        mark=w.t("pdf_mark_provisional" if report.provisional else "pdf_mark_final"),
        provisional=report.provisional,
        made=w.t("pdf_made", date=w.date(made_on)),
        page=lambda page, pages: w.t("pdf_page", page=page, pages=pages),
    )
    title = w.t("pdf_title" if unit_code is None else "pdf_unit_title")
    data, pages = write_pdf(
        story, frame, title=f"{title} — {report.wave}", subject=subtitle, language=language
    )
    suffix = "" if unit_code is None else f"-{unit_code}"
    safe_wave = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in report.wave)
    return RakorPdf(
        data=data,
        wave=report.wave,
        provisional=report.provisional,
        pages=pages,
        filename=f"laporan-{safe_wave}{suffix}.pdf",
    )


async def load_pdf(
    engine: AsyncEngine,
    settings: Settings,
    language: str,
    *,
    now: datetime,
    wave_name: str | None = None,
    unit_code: str | None = None,
) -> tuple[ReportBundle, RakorPdf | None] | None:
    """Load the report (as the bot shows it now) and the actions, and make the PDF in a
    worker thread. None without such a wave; no PDF when nobody answered the wave."""
    today = now.astimezone(settings.zone).date()
    bundle = await load_report(engine, settings, wave_name=wave_name, today=today, now=now)
    if bundle is None:
        return None
    if not has_responses(bundle):
        return bundle, None
    actions = await storage.actions.list_actions(engine, unit_code=unit_code)
    made = await asyncio.to_thread(build_pdf, bundle, actions, language, today, unit_code=unit_code)
    return bundle, made
