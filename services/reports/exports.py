"""Respondent-level data exports of a wave: load, build (scoring.exports) and write files.

Formats: ``csv`` (data.csv, codebook.csv, options.csv), ``xlsx`` (one workbook with the
three sheets), ``stata`` (data.dta with variable labels, plus the codebook CSVs) and
``parquet`` (data.parquet plus the codebook CSVs; needs the optional ``pyarrow``).

A wave is read through the one release rule (`services.release`): an open wave's export holds
what its scores hold, never today's responses. Every CSV and XLSX cell that a spreadsheet
would run as a formula stays text (`services.untrusted`). docs/exports.md says what an export
holds and why.
"""

from __future__ import annotations

import asyncio
import functools
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, tzinfo
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Final

import storage.questionnaires
import storage.waves
from services.errors import AdminError
from services.release import released
from services.reports.build import exclusions_in_force
from services.untrusted import defuse_frame, defuse_xlsx
from storage.db import AsyncEngine
from surveys import Group, Questionnaire, load_questionnaire_text

if TYPE_CHECKING:  # pandas, openpyxl and the export builder load when an export is made
    import pandas as pd

    from scoring.exports import DataExport, ExportOptions

__all__ = [
    "ExportFormat",
    "ExportResult",
    "chosen_wave",
    "describe",
    "export_document",
    "export_wave",
    "wave_names",
    "wave_questionnaires",
    "write_export",
]

_STATA_NAME: Final = re.compile(r"[^A-Za-z0-9_]")
# RFC 4180 line ends: the csv module then quotes a value holding a lone CR, which with "\n"
# line ends it writes bare and every reader takes for the end of the row.
_CSV_LINE_END: Final = "\r\n"
_STATA_LABEL_LIMIT: Final = 80
_STATA_NAME_LIMIT: Final = 32


class ExportFormat(StrEnum):
    """File formats of a data export."""

    CSV = "csv"
    XLSX = "xlsx"
    STATA = "stata"
    PARQUET = "parquet"


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What an export wrote and what privacy changed."""

    files: tuple[Path, ...]
    responses: int
    merged_cells: int
    withheld: int
    free_text_left_out: tuple[str, ...]
    # An open wave's export holds what the release rule let out as of this day.
    provisional: bool = False
    as_of: date | None = None
    # Responses the inspectorate excluded (issue 24): left out, listed in exclusions.csv.
    excluded_by_inspectorate: int = 0


async def wave_questionnaires(
    engine: AsyncEngine, wave: storage.waves.Wave
) -> dict[Group, Questionnaire]:
    """Return the questionnaire each group answers in a wave."""
    found: dict[Group, Questionnaire] = {}
    for grp, questionnaire_id in wave.questionnaire_ids.items():
        stored = await storage.questionnaires.get_questionnaire(engine, questionnaire_id)
        if stored is not None:
            found[Group(grp)] = load_questionnaire_text(stored.source_yaml, stored.key)
    return found


def _stata_names(columns: list[str]) -> dict[str, str]:
    """Map column names to unique Stata names (letters, digits, _; at most 32 characters)."""
    names: dict[str, str] = {}
    used: set[str] = set()
    for column in columns:
        base = _STATA_NAME.sub("_", column)[:_STATA_NAME_LIMIT]
        name, n = base, 1
        while name in used:
            n += 1
            name = f"{base[: _STATA_NAME_LIMIT - len(str(n)) - 1]}_{n}"
        used.add(name)
        names[column] = name
    return names


def _write_stata(export: DataExport, path: Path) -> dict[str, str]:
    """Write data.dta; return the Stata name of every column."""
    import pandas as pd

    data = export.data.copy()
    names = _stata_names(list(data.columns))
    for column in data.columns:
        series = data[column]
        if series.dtype == bool:
            data[column] = series.astype("int8")
        elif isinstance(series.dtype, pd.Int64Dtype):
            data[column] = series.astype("float64")
        elif series.dtype == object:
            data[column] = series.fillna("").astype(str)
    labels = dict(zip(export.codebook["column"], export.codebook["text_id"], strict=True))
    data = data.rename(columns=names)
    variable_labels = {
        names[c]: str(labels.get(c, ""))[:_STATA_LABEL_LIMIT] for c in export.data.columns
    }
    # Stata runs no formulas: values are kept as typed (the CSVs beside it are defused).
    data.to_stata(path, write_index=False, version=118, variable_labels=variable_labels)
    return names


EXCLUSION_COLUMNS: Final = ("number", "unit", "group", "kind", "responses", "reason", "decided_on")


def write_export(
    export: DataExport,
    out_dir: Path,
    fmt: ExportFormat,
    exclusions: pd.DataFrame | None = None,
) -> tuple[Path, ...]:
    """Write the export's files into `out_dir` (created if missing); the inspectorate's
    exclusions, when there are any, as `exclusions.csv` (a sheet of the XLSX)."""
    import pandas as pd

    out_dir.mkdir(parents=True, exist_ok=True)
    codebook = export.codebook
    if fmt is ExportFormat.XLSX:
        path = out_dir / "export.xlsx"
        with pd.ExcelWriter(path, engine="openpyxl") as writer:
            export.data.to_excel(writer, sheet_name="data", index=False)
            codebook.to_excel(writer, sheet_name="codebook", index=False)
            export.options.to_excel(writer, sheet_name="options", index=False)
            if exclusions is not None and not exclusions.empty:
                exclusions.to_excel(writer, sheet_name="exclusions", index=False)
            # Text typed by respondents stays text: no cell of ours is a formula.
            defuse_xlsx(writer.book)
        return (path,)
    files: list[Path] = []
    if fmt is ExportFormat.CSV:
        path = out_dir / "data.csv"
        defuse_frame(export.data).to_csv(path, index=False, lineterminator=_CSV_LINE_END)
        files.append(path)
    elif fmt is ExportFormat.STATA:
        path = out_dir / "data.dta"
        names = _write_stata(export, path)
        codebook = codebook.assign(stata_name=codebook["column"].map(names).fillna(""))
        files.append(path)
    elif fmt is ExportFormat.PARQUET:
        try:
            import pyarrow  # noqa: F401
        except ImportError as exc:
            raise AdminError(
                "parquet needs the optional pyarrow package: pip install 'spi-bot[parquet]' "
                "(or choose --format csv, xlsx or stata)"
            ) from exc
        path = out_dir / "data.parquet"
        export.data.to_parquet(path, index=False)
        files.append(path)
    tables = [("codebook.csv", codebook), ("options.csv", export.options)]
    if exclusions is not None and not exclusions.empty:
        tables.append(("exclusions.csv", exclusions))
    for name, table in tables:
        defuse_frame(table).to_csv(out_dir / name, index=False, lineterminator=_CSV_LINE_END)
        files.append(out_dir / name)
    return tuple(files)


async def export_wave(
    engine: AsyncEngine,
    wave_name: str,
    out_dir: Path,
    fmt: ExportFormat,
    options: ExportOptions,
    *,
    today: date,
    zone: tzinfo = UTC,
) -> ExportResult:
    """Export a wave's released responses (as of `today`, see `services.release`) with a
    codebook; AdminError for an unknown wave.

    Responses the inspectorate excluded are left out (they are in no score either), and the
    exclusions are listed, counts and reasons only: marking the rows instead would split a
    cell into the excluded and the rest, and the rest can be fewer than k (docs/exports.md).
    `zone` dates the decisions.
    """
    import pandas as pd

    from scoring.exports import build_export

    wave = await chosen_wave(engine, wave_name)
    release = await released(engine, wave, k=options.k, today=today, with_responses=True)
    found, excluded = await exclusions_in_force(engine, wave, zone)
    rows, answers = release.response_rows(), release.answers
    if excluded:
        rows = rows[~rows["response_id"].astype(str).isin(excluded)]
        answers = answers[~answers["response_id"].astype(str).isin(excluded)]
    questionnaires = await wave_questionnaires(engine, wave)
    export = await asyncio.to_thread(
        functools.partial(build_export, wave.name, rows, answers, questionnaires, options)
    )
    table = pd.DataFrame(
        [
            (e.number, e.unit_code, e.group.value, e.kind, e.count, e.reason, e.created_on)
            for e in found
        ],
        columns=list(EXCLUSION_COLUMNS),
    )
    files = await asyncio.to_thread(write_export, export, out_dir, fmt, table)
    return ExportResult(
        files=files,
        responses=len(export.data),
        merged_cells=export.merged_cells,
        withheld=export.withheld,
        free_text_left_out=() if options.free_text else export.free_text_columns,
        provisional=release.provisional,
        as_of=today,
        excluded_by_inspectorate=len(excluded),
    )


def describe(result: ExportResult, options: ExportOptions) -> list[str]:
    """Return the lines that tell an admin what was written and what privacy changed."""
    lines = [f"wrote {result.responses} responses: " + ", ".join(str(f) for f in result.files)]
    if result.provisional:
        lines.append(
            f"open wave: responses released as of {result.as_of} (whole days before that "
            f"day, in steps of at least {options.k} per unit × group); today's come later"
        )
    if options.merge_small:
        lines.append(
            f"{result.merged_cells} unit × group cells under k={options.k} merged into "
            f"'lainnya'; {result.withheld} responses withheld (still under k after merging)"
        )
    if result.excluded_by_inspectorate:
        lines.append(
            f"{result.excluded_by_inspectorate} responses the inspectorate excluded are left out; "
            "its exclusions (counts and reasons) are in exclusions.csv"
        )
    if result.free_text_left_out:
        lines.append(
            "free-text answers left out (" + ", ".join(result.free_text_left_out) + "); "
            "add --free-text to include them"
        )
    return lines


async def wave_names(engine: AsyncEngine) -> list[str]:
    """Return every wave's name, newest first."""
    return [w.name for w in await storage.waves.list_waves(engine)]


async def chosen_wave(engine: AsyncEngine, wave_name: str | None) -> storage.waves.Wave:
    """Return the named wave, or the open one, else the newest; AdminError when there is none."""
    waves = await storage.waves.list_waves(engine)  # newest first
    if wave_name is not None:
        chosen = next((w for w in waves if w.name == wave_name), None)
        if chosen is None:
            known = ", ".join(w.name for w in waves) or "none yet"
            raise AdminError(f"no wave named {wave_name!r} (waves: {known})")
        return chosen
    chosen = next((w for w in waves if w.is_open), waves[0] if waves else None)
    if chosen is None:
        raise AdminError("there is no wave yet")
    return chosen


async def export_document(
    engine: AsyncEngine, wave_name: str | None, k: int, today: date, zone: tzinfo = UTC
) -> tuple[bytes, str, ExportResult]:
    """Build the XLSX export of a wave (default: the open one, else the newest) in memory.

    Small cells are always merged and free text is always left out: this is the file that
    travels through chat. Returns the bytes, the file name and the summary; AdminError when
    there is no such wave.
    """
    from scoring.exports import ExportOptions

    options = ExportOptions(k=k)
    wave_name = (await chosen_wave(engine, wave_name)).name
    with tempfile.TemporaryDirectory(prefix="spibot-export-") as folder:
        result = await export_wave(
            engine, wave_name, Path(folder), ExportFormat.XLSX, options, today=today, zone=zone
        )
        data = await asyncio.to_thread(result.files[0].read_bytes)
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", wave_name)
    return data, f"spi-{safe}.xlsx", result
