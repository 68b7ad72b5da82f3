"""Survey integrity (issue 24): the quality report of a wave and the inspectorate's
exclusions and restores (`quality`), how the findings are told (`texts`), and /kualitas in a
private chat with its exclusion dialogue (`chat`)."""

from services.integrity.chat import BUTTON_PATTERN as QUALITY_BUTTONS
from services.integrity.chat import ChatReply, Kualitas
from services.integrity.quality import (
    QualityReport,
    clean_reason,
    exclude,
    items,
    quality_report,
    restore,
)
from services.integrity.texts import (
    effect_text,
    evidence_text,
    group_name,
    items_lines,
    items_none,
    items_open_text,
    items_title,
    kind_name,
    plain,
    quality_json,
    report_lines,
)

__all__ = [
    "QUALITY_BUTTONS",
    "ChatReply",
    "Kualitas",
    "QualityReport",
    "clean_reason",
    "effect_text",
    "evidence_text",
    "exclude",
    "group_name",
    "items",
    "items_lines",
    "items_none",
    "items_open_text",
    "items_title",
    "kind_name",
    "plain",
    "quality_json",
    "quality_report",
    "report_lines",
    "restore",
]
