"""The method page of the rakor pack: weights, k, margins, targets, the release rule, the
data-quality exclusions, the inspectorate's exclusions, corrections and the report's
revisions — what a reader needs to trust the numbers before them."""

from __future__ import annotations

import html

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer

from scoring.config import QualityRule
from scoring.report import Exclusion
from services.rakor.content import Writer
from services.rakor.document import para, styles
from services.reports import RevisionKind, change_lines

__all__ = ["exclusion_line", "method_page"]


def exclusion_line(w: Writer, exclusion: Exclusion) -> str:
    """One exclusion in words: group, count, which signal and when, and the reason."""
    if exclusion.created_on is None or not exclusion.kind:  # frozen before issue 24
        return w.t(
            "pdf_exclusion_line",
            group=w.group(exclusion.group),
            count=w.count(exclusion.count),
            reason=html.escape(exclusion.reason),
        )
    return w.t(
        "pdf_exclusion_detail",
        group=w.group(exclusion.group),
        count=w.count(exclusion.count),
        kind=w.t(f"kind_{exclusion.kind}"),
        date=w.date(exclusion.created_on),
        reason=html.escape(exclusion.reason),
    )


def _weight(value: float) -> str:
    # Weights are published to four decimals; written with the reader's decimal mark.
    return f"{value:.4f}".replace(".", ",")


def method_page(w: Writer) -> list[Flowable]:
    """Return the method page (the last page of the pack)."""
    s = styles()
    report = w.bundle.report
    config = report.config
    t = config.thresholds
    weights = config.weights
    weight = _weight if w.language != "en" else (lambda v: f"{v:.4f}")
    quality = report.quality
    flagged = quality.excluded_by_rule
    out: list[Flowable] = [
        para(w.t("pdf_method_title"), s.h1),
        para(
            w.t(
                "pdf_method_index",
                wi=weight(weights.internal),
                we=weight(weights.external),
                wx=weight(weights.expert),
            )
        ),
        para(w.t("pdf_method_categories", w=f"{t.waspada_from:g}", t=f"{t.terjaga_from:g}")),
        para(w.t("pdf_method_k", k=w.k)),
        para(
            w.t(
                "pdf_method_margin",
                target=f"{config.sampling.target_moe:g}",
                k=w.k,
                minimum=config.sampling.institution_minimum,
            )
        ),
        para(w.t("pdf_method_release", k=w.k)),
        para(
            w.t(
                "pdf_method_quality",
                responses=w.count(quality.responses),
                excluded=w.count(quality.excluded),
                straight=w.count(flagged.get(QualityRule.STRAIGHT_LINING, 0)),
                speeder=w.count(flagged.get(QualityRule.SPEEDER, 0)),
                cluster=w.count(flagged.get(QualityRule.CLUSTER, 0)),
            )
        ),
        para(w.t("pdf_method_sources")),
        Spacer(1, 2 * mm),
        para(w.t("pdf_method_exclusions_title"), s.h2),
    ]
    names = {u.code: u.name for u in report.units if u.code is not None}
    if report.exclusions:
        for exclusion in report.exclusions:
            unit = names.get(exclusion.unit_code or "", w.t("scores_institution"))
            line = exclusion_line(w, exclusion)
            out.append(para(f"{html.escape(unit)} — {line}", s.note))
    else:
        out.append(para(w.t("pdf_method_exclusions_none"), s.note))

    out.append(para(w.t("pdf_method_corrections_title"), s.h2))
    corr = report.institution.corrections
    if corr is not None and corr.total:
        out.append(
            para(
                w.t(
                    "pdf_corrections",
                    integrity=w.num(corr.integrity),
                    prevalence=w.num(corr.prevalence),
                    note=html.escape(corr.note),
                ),
                s.note,
            )
        )
    else:
        out.append(para(w.t("pdf_method_corrections_none"), s.note))

    out.append(para(w.t("pdf_method_revisions_title"), s.h2))
    if not w.bundle.revisions:
        out.append(para(w.t("pdf_method_revisions_open"), s.note))
    for revision in w.bundle.revisions:
        if revision.kind is RevisionKind.FINAL:
            kind = w.t("pdf_kind_final")
        elif revision.kind is RevisionKind.RECLOSED:
            kind = w.t("pdf_kind_reclosed")
        else:  # a correction, or the inspectorate's exclusion or restore (issue 24)
            kind = w.t(f"pdf_kind_{revision.kind.value}", note=html.escape(revision.note))
        line = w.t(
            "pdf_revision_line", number=revision.number, date=w.date(revision.created_on), kind=kind
        )
        out.append(para(line, s.note))
        for change in change_lines(revision, w.language, names=names):
            out.append(para(change, s.note.clone("change", leftIndent=6 * mm)))
    return out
