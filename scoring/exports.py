"""The respondent-level data export and its codebook, built from a wave's answers.

Pure pandas: no telegram, no database, no clock. One row per released response (wave,
group, unit, quality flags, one column per question and one ``<question>_score`` column per
scored item); a codebook row per column; an options table with every answer code, its labels
and score. Privacy (DESIGN.md, docs/exports.md): unit × group cells under k are merged into
``lainnya`` by default, and free-text answers are left out unless asked for. What a colleague
could have seen of a respondent (the day they answered, how long they took, the language they
chose) is not exported, and rows are in the order of their content, never of their arrival.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import pandas as pd

from scoring.config import GROUP_ORDER, QualityConfig, QualityRule
from scoring.items import score_responses
from scoring.quality import flag_responses, summarize_flags
from surveys.model import Group, Question, Questionnaire, QuestionType, Text

__all__ = [
    "MERGED_UNIT",
    "META_COLUMNS",
    "DataExport",
    "ExportOptions",
    "build_export",
    "merge_small_cells",
]

MERGED_UNIT: Final = "lainnya"
SCORE_SUFFIX: Final = "_score"


META_COLUMNS: Final[Mapping[str, Text]] = {
    "wave": Text("Gelombang survei", "Survey wave"),
    "group": Text(
        "Kelompok responden (internal, external, expert)",
        "Respondent group (internal, external, expert)",
    ),
    "unit": Text(
        f"Kode unit; '{MERGED_UNIT}' = unit × kelompok dengan terlalu sedikit responden",
        f"Unit code; '{MERGED_UNIT}' = unit × group cells with too few responses",
    ),
    "excluded_by_quality": Text(
        "Benar bila aturan kualitas data mengeluarkan respons ini dari skor",
        "True when a data-quality rule excludes this response from the scores",
    ),
    "quality_flags": Text(
        "Aturan kualitas data yang menandai respons ini (straight_lining, speeder, cluster)",
        "Data-quality rules that flagged this response (straight_lining, speeder, cluster)",
    ),
}
_SCORE_TEXT: Final = Text(
    "Skor butir 0–100 (sudah dibalik bila reverse)", "Item score 0–100 (after reverse)"
)


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """What goes into an export: k, small-cell merging and free text."""

    k: int = 5
    merge_small: bool = True
    free_text: bool = False
    quality: QualityConfig = field(default_factory=QualityConfig)


@dataclass(frozen=True)
class DataExport:
    """The three tables of an export and what privacy did to them."""

    data: pd.DataFrame
    codebook: pd.DataFrame
    options: pd.DataFrame
    merged_cells: int  # unit × group cells merged into "lainnya"
    withheld: int  # responses left out: under k even after merging
    free_text_columns: tuple[str, ...]  # text questions left out (or included)


def _questions(
    questionnaires: Mapping[Group, Questionnaire],
) -> dict[str, dict[Group, Question]]:
    """Every question id in group order, with the question each group asks under it."""
    found: dict[str, dict[Group, Question]] = {}
    for group in GROUP_ORDER:
        questionnaire = questionnaires.get(group)
        for q in questionnaire.questions if questionnaire else ():
            found.setdefault(q.id, {})[group] = q
    return found


def _quality(
    answers: pd.DataFrame, questionnaires: Mapping[Group, Questionnaire], config: QualityConfig
) -> pd.DataFrame:
    """Return per response id: excluded_by_quality and quality_flags."""
    scored = score_responses(answers, questionnaires)
    flags = flag_responses(scored, config)
    excluded, _ = summarize_flags(flags, config, len(scored))
    names = np.array(
        [
            ",".join(rule.value for rule in QualityRule if flags[rule][i])
            for i in range(len(scored))
        ],
        dtype=object,
    )
    return pd.DataFrame(
        {"excluded_by_quality": excluded, "quality_flags": names},
        index=pd.Index(scored.response_ids.astype(str), name="response_id"),
    )


def merge_small_cells(data: pd.DataFrame, k: int) -> tuple[pd.DataFrame, int, int]:
    """Merge unit × group cells under k into "lainnya"; drop what is still under k."""
    size = data.groupby(["unit", "group"], observed=True)["unit"].transform("size")
    small = size < k
    merged_cells = int(data.loc[small, ["unit", "group"]].drop_duplicates().shape[0])
    data = data.assign(unit=data["unit"].where(~small, MERGED_UNIT))
    pooled = data.groupby(["unit", "group"], observed=True)["unit"].transform("size")
    keep = (data["unit"] != MERGED_UNIT) | (pooled >= k)
    return data.loc[keep], merged_cells, int((~keep).sum())


def build_export(
    wave: str,
    responses: pd.DataFrame,
    answers: pd.DataFrame,
    questionnaires: Mapping[Group, Questionnaire],
    options: ExportOptions | None = None,
) -> DataExport:
    """Build the export tables from storage's responses and answers frames."""
    options = options or ExportOptions()
    questions = _questions(questionnaires)
    text_ids = tuple(
        qid
        for qid, by_group in questions.items()
        if all(q.type is QuestionType.TEXT for q in by_group.values())
    )
    data = pd.DataFrame(
        {
            "wave": wave,
            "group": responses["grp"].astype(str),
            "unit": responses["unit_code"].astype(str),
        }
    )
    data.index = pd.Index(responses["response_id"].astype(str), name="response_id")
    quality = _quality(answers, questionnaires, options.quality)
    data = data.join(quality)
    data["excluded_by_quality"] = data["excluded_by_quality"].fillna(False).astype(bool)
    data["quality_flags"] = data["quality_flags"].fillna("").astype(str)

    wide = (
        answers.assign(
            response_id=answers["response_id"].astype(str),
            question_id=answers["question_id"].astype(str),
            value=answers["value"].astype(object),
        )
        .pivot(index="response_id", columns="question_id", values="value")
        .reindex(index=data.index)
    )
    groups = data["group"]
    for qid, by_group in questions.items():
        if qid in text_ids and not options.free_text:
            continue
        raw = wide[qid] if qid in wide.columns else pd.Series(None, index=data.index, dtype=object)
        numeric = all(q.type is QuestionType.NUMBER for q in by_group.values())
        data[qid] = pd.to_numeric(raw, errors="coerce") if numeric else raw.astype(object)
        if any(q.scored for q in by_group.values()):
            score = pd.Series(np.nan, index=data.index, dtype=float)
            for group, q in by_group.items():
                rows = (groups == group.value) & raw.notna()
                if q.scored and rows.any():
                    item = [q.item_score(v) for v in raw[rows]]
                    score[rows] = np.array([np.nan if x is None else x for x in item])
            data[f"{qid}{SCORE_SUFFIX}"] = score.astype(float)

    merged = withheld = 0
    if options.merge_small:
        data, merged, withheld = merge_small_cells(data, options.k)
    data = _content_order(data)
    codebook, option_rows = _codebook(data, questions)
    return DataExport(data, codebook, option_rows, merged, withheld, text_ids)


def _content_order(data: pd.DataFrame) -> pd.DataFrame:
    """Sort rows by group, unit and then their values, so row order says nothing of time.

    Rows arrive in completion order (and response ids could be made in time order); sorted by
    content, two rows change places only if their answers differ, and identical rows cannot
    be told apart anyway.
    """
    keys = data.drop(columns=["wave"]).astype(str)
    order = keys.sort_values(list(keys.columns), kind="stable").index
    return data.loc[order].reset_index(drop=True)


def _codebook(
    data: pd.DataFrame, questions: Mapping[str, Mapping[Group, Question]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows: list[dict[str, object]] = []
    for column, text in META_COLUMNS.items():
        rows.append({"column": column, "kind": "meta", "text_id": text.id, "text_en": text.en})
    option_rows: list[dict[str, object]] = []
    for qid, by_group in questions.items():
        first = next(iter(by_group.values()))
        if qid not in data.columns:
            continue
        rows.append(
            {
                "column": qid,
                "kind": first.type.value,
                "groups": ",".join(g.value for g in by_group),
                "text_id": first.text.id,
                "text_en": first.text.en,
                "dimension": first.dimension.value if first.dimension else "",
                "reverse": first.reverse,
                "scored": first.scored,
                "required": first.required,
                "show_if": str(first.show_if) if first.show_if is not None else "",
                "codes": "; ".join(
                    f"{o.value}={o.label.id}" + ("" if o.score is None else f" ({o.score:g})")
                    for o in first.options
                ),
            }
        )
        for group, q in by_group.items():
            for o in q.options:
                option_rows.append(
                    {
                        "column": qid,
                        "group": group.value,
                        "value": o.value,
                        "label_id": o.label.id,
                        "label_en": o.label.en,
                        "score": o.score,
                    }
                )
        score_column = f"{qid}{SCORE_SUFFIX}"
        if score_column in data.columns:
            rows.append(
                {
                    "column": score_column,
                    "kind": "score",
                    "groups": ",".join(g.value for g, q in by_group.items() if q.scored),
                    "text_id": f"{_SCORE_TEXT.id}: {first.text.id}",
                    "text_en": f"{_SCORE_TEXT.en}: {first.text.en}",
                    "dimension": first.dimension.value if first.dimension else "",
                    "reverse": first.reverse,
                    "scored": True,
                }
            )
    columns = [
        "column",
        "kind",
        "groups",
        "text_id",
        "text_en",
        "dimension",
        "reverse",
        "scored",
        "required",
        "show_if",
        "codes",
    ]
    codebook = pd.DataFrame(rows, columns=columns)
    codebook[["groups", "dimension", "show_if", "codes"]] = codebook[
        ["groups", "dimension", "show_if", "codes"]
    ].fillna("")
    options = pd.DataFrame(
        option_rows, columns=["column", "group", "value", "label_id", "label_en", "score"]
    )
    return codebook, options
