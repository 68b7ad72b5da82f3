"""Reports in Telegram: the score commands and who may ask (`scores`), /simulasi (`insight`),
/saran and /ekspor (`data`) and /laporan with its rakor PDF (`rakor`, which hands a plain
/laporan to `scores`); the services are `services.reports`."""

from handlers.reports.data import on_comments, on_export
from handlers.reports.insight import on_simulate
from handlers.reports.rakor import on_report, on_report_pdf
from handlers.reports.scores import (
    UNIT_ACTION,
    Need,
    asker_command,
    on_dimensions,
    on_progress,
    on_ranking,
    on_score,
    on_trend,
    on_unit,
    on_unit_button,
    refuse,
)

__all__ = [
    "UNIT_ACTION",
    "Need",
    "asker_command",
    "on_comments",
    "on_dimensions",
    "on_export",
    "on_progress",
    "on_ranking",
    "on_report",
    "on_report_pdf",
    "on_score",
    "on_simulate",
    "on_trend",
    "on_unit",
    "on_unit_button",
    "refuse",
]
