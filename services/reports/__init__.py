"""Reports of a wave: scored from the database (`build`) or frozen with dated revisions
(`revisions`), loaded with their history (`bundle`), told in texts and charts, peers, the
what-if, respondents' suggestions and data exports. Every one reads a wave through
`services.release`.

Charts and exports load matplotlib and pandas only when they draw or write, so importing
this package keeps the bot light."""

from services.reports.build import (
    ExclusionChange,
    ScoringContext,
    build_live,
    exclusions_in_force,
    fix_opening_targets,
    load_context,
    questionnaires_of,
)
from services.reports.bundle import (
    ReportBundle,
    current_bundle,
    load_report,
    unit_by_id,
    units_matching,
    wave_names,
)
from services.reports.charts import captions, render_chart, report_pack, unit_pack
from services.reports.comments import WaveComments, comments_messages, keyword_png, load_comments
from services.reports.exports import (
    ExportFormat,
    ExportResult,
    chosen_wave,
    describe,
    export_document,
    export_wave,
)
from services.reports.exports import wave_names as export_wave_names
from services.reports.peers import (
    OurInstitution,
    display_name,
    load_standings,
    our_institution,
    peers_json,
    peers_text,
)
from services.reports.revision_texts import (
    change_lines,
    revised_mark,
    revision_note,
    revision_notice,
)
from services.reports.revisions import (
    Revision,
    RevisionKind,
    changes_json,
    close_wave,
    earlier_results,
    freeze,
    latest_number,
    revisions_after,
    revisions_of,
    set_correction,
    stored_revision,
)
from services.reports.texts import (
    CAPTION_LIMIT,
    TEXT_LIMIT,
    benchmark_year,
    cell_reason,
    dimensions_text,
    index_reason,
    progress_digest,
    progress_text,
    ranking_text,
    score_text,
    trend_text,
    unit_progress_text,
    unit_reason,
)
from services.reports.whatif import BadRequest, answer, parse_request, scope_for, usage_text

__all__ = [
    "CAPTION_LIMIT",
    "TEXT_LIMIT",
    "BadRequest",
    "ExclusionChange",
    "ExportFormat",
    "ExportResult",
    "OurInstitution",
    "ReportBundle",
    "Revision",
    "RevisionKind",
    "ScoringContext",
    "WaveComments",
    "answer",
    "benchmark_year",
    "build_live",
    "captions",
    "cell_reason",
    "change_lines",
    "changes_json",
    "chosen_wave",
    "close_wave",
    "comments_messages",
    "current_bundle",
    "describe",
    "dimensions_text",
    "display_name",
    "earlier_results",
    "exclusions_in_force",
    "export_document",
    "export_wave",
    "export_wave_names",
    "fix_opening_targets",
    "freeze",
    "index_reason",
    "keyword_png",
    "latest_number",
    "load_comments",
    "load_context",
    "load_report",
    "load_standings",
    "our_institution",
    "parse_request",
    "peers_json",
    "peers_text",
    "progress_digest",
    "progress_text",
    "questionnaires_of",
    "ranking_text",
    "render_chart",
    "report_pack",
    "revised_mark",
    "revision_note",
    "revision_notice",
    "revisions_after",
    "revisions_of",
    "scope_for",
    "score_text",
    "set_correction",
    "stored_revision",
    "trend_text",
    "unit_by_id",
    "unit_pack",
    "unit_progress_text",
    "unit_reason",
    "units_matching",
    "usage_text",
    "wave_names",
]
