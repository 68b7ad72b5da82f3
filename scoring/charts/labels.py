"""Every string the charts draw, in Bahasa Indonesia and English, and number formatting.

One table so a translator (or a reviewer checking that no chart says "skor" where KPK says
"indeks") reads all chart text in one place. Unknown languages fall back to Indonesian, as
`Text.get` does everywhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from scoring.index import Category
from surveys.model import Dimension, Group, Text

__all__ = [
    "DIMENSION_LABELS",
    "GROUP_LABELS",
    "LABELS",
    "category_word",
    "dimension_label",
    "format_count",
    "format_delta",
    "format_score",
    "group_label",
    "label",
]

LABELS: Final[Mapping[str, Text]] = MappingProxyType(
    {
        "wave": Text(id="Gelombang {wave}", en="Wave {wave}"),
        "provisional": Text(id="SEMENTARA", en="PROVISIONAL"),
        "insufficient": Text(id="data belum cukup", en="not enough data"),
        "no_index": Text(id="belum ada indeks", en="no index yet"),
        "no_answers": Text(id="belum ada jawaban", en="no responses yet"),
        # why a cell or unit shows no number (scoring.report.cell_status), in a few words
        "cell_today": Text(id="{n} jawaban hari ini, tampil besok", en="{n} today, shown tomorrow"),
        "cell_today_wait": Text(
            id="{n} jawaban hari ini, tampil setelah ≥ {k}", en="{n} today, shown once ≥ {k}"
        ),
        "cell_waiting_soon": Text(
            id="{n} jawaban, tampil besok", en="{n} received, shown tomorrow"
        ),
        "cell_waiting": Text(
            id="{n} jawaban, tampil setelah ≥ {k}", en="{n} received, shown once ≥ {k}"
        ),
        "reason_today": Text(
            id="jawaban hari ini, tampil besok", en="responses today, shown tomorrow"
        ),
        "reason_waiting": Text(id="menunggu minimal {k} jawaban", en="waiting for at least {k}"),
        "reason_excluded": Text(
            id="disembunyikan: dikecualikan mutu data", en="hidden: excluded by data checks"
        ),
        "cell_small": Text(
            id="disembunyikan: < {k} responden", en="hidden: fewer than {k} respondents"
        ),
        "cell_excluded": Text(
            id="disembunyikan: {m} dikecualikan mutu data", en="hidden: {m} excluded by data checks"
        ),
        "cell_protecting": Text(
            id="disembunyikan: melindungi unit lain", en="hidden: protects another unit"
        ),
        "target_stale": Text(
            id="{label} {year} (belum ada target {wave_year})",
            en="{label} {year} (no {wave_year} target yet)",
        ),
        "unranked_header": Text(
            id="Tidak diperingkat: indeks parsial (urut nama)",
            en="Not ranked: partial index (by name)",
        ),
        "progress_order": Text(
            id="Urutan: unit paling jauh dari target di atas.",
            en="Order: units furthest from their target first.",
        ),
        # index card
        "index_title": Text(id="Indeks Integritas", en="Integrity Index"),
        "partial_index": Text(
            id="indeks parsial (kelompok: {groups})", en="partial index (groups: {groups})"
        ),
        "partial_note": Text(
            id="bukan indeks SPI, tanpa kategori", en="not an SPI index, no category"
        ),
        "margin": Text(id="batas galat ±{moe} (95%)", en="margin of error ±{moe} (95%)"),
        "previous_wave": Text(id="Gelombang sebelumnya ({wave})", en="Previous wave ({wave})"),
        "benchmark_year": Text(id="{label} {year}", en="{label} {year}"),
        "delta_header": Text(id="selisih", en="difference"),
        "index_marker": Text(id="indeks ini", en="this index"),
        # groups
        "groups_title": Text(id="Skor per kelompok responden", en="Scores by respondent group"),
        "whisker_note": Text(
            id="Garis: batas galat 95%. Skala 0–100.", en="Whiskers: 95% margin of error. 0–100."
        ),
        # dimensions
        "dimensions_title": Text(id="Dimensi, terlemah di atas", en="Dimensions, weakest first"),
        "scale_note": Text(id="Skala 0–100.", en="Scale 0–100."),
        # ranking
        "ranking_title": Text(id="Peringkat unit", en="Unit ranking"),
        "category_key": Text(
            id="Rentan < {w} · Waspada {w}–{t} · Terjaga ≥ {t}",
            en="Vulnerable < {w} · Alert {w}–{t} · Maintained ≥ {t}",
        ),
        "partial": Text(id="parsial", en="partial"),
        "units_without_number": Text(
            id="{count} unit tanpa angka — {reasons}",
            en="{count} units without a number — {reasons}",
        ),
        "partial_footnote": Text(
            id="parsial: rata-rata kelompok yang ditampilkan saja; bukan indeks SPI, tanpa "
            "kategori, tanpa peringkat.",
            en="partial: mean of the groups shown only; not an SPI index, no category, not ranked.",
        ),
        # trend
        "trend_title": Text(id="Tren indeks", en="Index trend"),
        "first_wave": Text(id="gelombang pertama — belum ada tren", en="first wave — no trend yet"),
        "this_institution": Text(id="Indeks institusi", en="Institution index"),
        "this_unit": Text(id="Indeks unit", en="Unit index"),
        "national_line": Text(id="Indeks nasional (per tahun)", en="National index (per year)"),
        "partial_legend": Text(id="parsial (bukan indeks SPI)", en="partial (not an SPI index)"),
        "kpk_line": Text(id="Hasil SPI KPK (per tahun)", en="KPK's SPI result (per year)"),
        # progress
        "progress_title": Text(id="Responden vs target", en="Responses vs target"),
        "progress_key": Text(
            id="Angka: jawaban sah / target. Garis putus-putus = 100%.",
            en="Numbers: valid responses / target. Dashed line = 100%.",
        ),
        "institution_total": Text(id="Seluruh institusi", en="Whole institution"),
        "not_applicable": Text(id="tidak berlaku", en="not applicable"),
    }
)

GROUP_LABELS: Final[Mapping[Group, Text]] = MappingProxyType(
    {
        Group.INTERNAL: Text(id="Pegawai", en="Employees"),
        Group.EXTERNAL: Text(id="Pengguna layanan", en="Service users"),
        Group.EXPERT: Text(id="Eksper", en="Experts"),
    }
)

DIMENSION_LABELS: Final[Mapping[Dimension, Text]] = MappingProxyType(
    {
        Dimension.TRANSPARENCY: Text(id="Transparansi", en="Transparency"),
        Dimension.TASK_INTEGRITY: Text(
            id="Integritas dalam pelaksanaan tugas", en="Integrity in performing duties"
        ),
        Dimension.PROCUREMENT: Text(id="Pengelolaan PBJ", en="Procurement management"),
        Dimension.HR_MANAGEMENT: Text(id="Pengelolaan SDM", en="HR management"),
        Dimension.TRADING_IN_INFLUENCE: Text(id="Trading in influence", en="Trading in influence"),
        Dimension.BUDGET_MANAGEMENT: Text(id="Pengelolaan anggaran", en="Budget management"),
        Dimension.ANTICORRUPTION_OUTREACH: Text(
            id="Sosialisasi antikorupsi", en="Anti-corruption outreach"
        ),
    }
)


def label(key: str, language: str, **values: object) -> str:
    """Return the chart string `key` in `language`, with `{placeholders}` filled in."""
    text = LABELS[key].get(language)
    return text.format(**values) if values else text


def group_label(group: Group, language: str) -> str:
    """Return the respondent group's name (Pegawai / Pengguna layanan / Eksper)."""
    return GROUP_LABELS[group].get(language)


def dimension_label(dimension: Dimension, language: str) -> str:
    """Return the dimension's name."""
    return DIMENSION_LABELS[dimension].get(language)


def category_word(category: Category, language: str) -> str:
    """Return the category word (Rentan / Waspada / Terjaga) that goes next to its colour."""
    return category.label.get(language)


_SWAP_SEPARATORS: Final = str.maketrans(",.", ".,")


def _localise(formatted: str, language: str) -> str:
    # Indonesian writes 74,00 and 1.234: swap the separators of an English-formatted number.
    if language == "en":
        return formatted
    return formatted.translate(_SWAP_SEPARATORS)


def format_score(value: float, language: str, digits: int = 2) -> str:
    """Return a score at display precision (2 decimals; decimal comma in Indonesian)."""
    return _localise(f"{value:,.{digits}f}", language)


def format_delta(value: float, language: str) -> str:
    """Return a signed difference, e.g. +1,68 or −0,40 (a real minus sign, not a hyphen)."""
    sign = "+" if round(value, 2) > 0 else "−" if round(value, 2) < 0 else "±"
    return sign + format_score(abs(value), language)


def format_count(value: int, language: str) -> str:
    """Return a count with thousands separators (1.234 in Indonesian, 1,234 in English)."""
    return _localise(f"{value:,d}", language)
