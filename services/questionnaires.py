"""Questionnaires in and out of the database: store a validated one, find one by name."""

from __future__ import annotations

from datetime import datetime

import storage
from services.admin import AdminError
from storage import AsyncEngine
from storage.models import StoredQuestionnaire
from surveys import (
    Questionnaire,
    QuestionnaireError,
    bundled_questionnaires,
    load_questionnaire_text,
)

__all__ = ["questionnaire_named", "store_questionnaire"]


async def store_questionnaire(
    engine: AsyncEngine, questionnaire: Questionnaire, now: datetime
) -> StoredQuestionnaire:
    """Store a questionnaire version (its YAML source); a changed text needs a new version."""
    try:
        return await storage.save_questionnaire(
            engine,
            questionnaire.id,
            questionnaire.version,
            questionnaire.group.value,
            questionnaire.source,
            now,
        )
    except storage.QuestionnaireConflict as exc:
        # The same questions written differently (e.g. exported and imported again) are
        # the same version, not a conflict.
        stored = (await storage.latest_questionnaires(engine)).get(questionnaire.id)
        if stored is not None and stored.version == questionnaire.version:
            try:
                same = load_questionnaire_text(stored.source_yaml) == questionnaire
            except QuestionnaireError:
                same = False
            if same and stored.grp == questionnaire.group.value:
                return stored
        raise AdminError(str(exc)) from exc


async def questionnaire_named(engine: AsyncEngine, key: str) -> Questionnaire:
    """Return the newest stored version of questionnaire `key`, else the bundled one."""
    stored = (await storage.latest_questionnaires(engine)).get(key)
    if stored is not None:
        try:
            return load_questionnaire_text(stored.source_yaml, f"{key} v{stored.version}")
        except QuestionnaireError as exc:  # stored text was valid when stored
            raise AdminError(f"stored questionnaire {key!r} no longer loads: {exc}") from exc
    for questionnaire in bundled_questionnaires().values():
        if questionnaire.id == key:
            return questionnaire
    known = sorted(
        set(await storage.latest_questionnaires(engine))
        | {q.id for q in bundled_questionnaires().values()}
    )
    raise AdminError(f"no questionnaire named {key!r} (known: {', '.join(known)})")
