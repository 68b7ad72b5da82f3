"""Questionnaires in and out of the database: store a validated one (with where it came from),
find one by name, choose each group's questionnaire for a wave, and list them with the waves
that used them (`spibot survey list/show`, `wave open/plan --questionnaire GROUP=NAME`).

The default for a group is the newest stored version of its bundled questionnaire's name
(`internal`, `external`, `expert`), the bundled file itself until one is stored. A form
imported under another name is used only when a wave chooses it, and `survey list` says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import storage.errors
import storage.questionnaires
import storage.waves
from services.errors import AdminError
from storage.db import AsyncEngine
from storage.questionnaires import StoredQuestionnaire
from surveys import (
    Group,
    Questionnaire,
    QuestionnaireError,
    bundled_questionnaires,
    load_questionnaire_text,
)

__all__ = [
    "BUNDLED",
    "CatalogueEntry",
    "catalogue",
    "check_choices",
    "choice_text",
    "choices_from_text",
    "choose_questionnaires",
    "origin_of",
    "parse_choices",
    "questionnaire_named",
    "store_questionnaire",
]

BUNDLED: Final = "bundled"  # the origin of a questionnaire shipped with the bot


async def store_questionnaire(
    engine: AsyncEngine, questionnaire: Questionnaire, now: datetime, origin: str | None = None
) -> StoredQuestionnaire:
    """Store a questionnaire version (its YAML source); a changed text needs a new version.

    `origin` says where it came from ("xlsform: kecamatan.xlsx"), for `spibot survey list`.
    """
    try:
        return await storage.questionnaires.save_questionnaire(
            engine,
            questionnaire.id,
            questionnaire.version,
            questionnaire.group.value,
            questionnaire.source,
            now,
            origin,
        )
    except storage.errors.QuestionnaireConflict as exc:
        # The same questions written differently (e.g. exported and imported again) are
        # the same version, not a conflict.
        stored = (await storage.questionnaires.latest_questionnaires(engine)).get(questionnaire.id)
        if stored is not None and stored.version == questionnaire.version:
            try:
                same = load_questionnaire_text(stored.source_yaml) == questionnaire
            except QuestionnaireError:
                same = False
            if same and stored.grp == questionnaire.group.value:
                return stored
        raise AdminError(str(exc)) from exc


def _split_name(spec: str) -> tuple[str, int | None]:
    """Split "NAME" or "NAME@VERSION" (AdminError for a version that is not a number)."""
    name, at, version = spec.strip().partition("@")
    if not at:
        return name, None
    if not version.isdigit() or int(version) < 1:
        raise AdminError(f"{spec!r}: write NAME or NAME@VERSION, e.g. external@2")
    return name, int(version)


def _bundled(name: str) -> Questionnaire | None:
    return next((q for q in bundled_questionnaires().values() if q.id == name), None)


def _loaded(stored: StoredQuestionnaire) -> Questionnaire:
    try:
        return load_questionnaire_text(stored.source_yaml, f"{stored.key} v{stored.version}")
    except QuestionnaireError as exc:  # stored text was valid when stored
        raise AdminError(f"stored questionnaire {stored.key!r} no longer loads: {exc}") from exc


async def _known_names(engine: AsyncEngine, group: Group | None = None) -> str:
    stored = await storage.questionnaires.list_questionnaires(engine)
    names = {s.key for s in stored if group is None or s.grp == group.value}
    names |= {q.id for g, q in bundled_questionnaires().items() if group is None or g is group}
    return ", ".join(sorted(names))


async def _find(engine: AsyncEngine, spec: str) -> StoredQuestionnaire | Questionnaire | None:
    """Return the stored version a spec names (newest without @VERSION), else the bundled
    questionnaire of that name when nothing is stored under it; None when there is none."""
    name, version = _split_name(spec)
    versions = [
        s for s in await storage.questionnaires.list_questionnaires(engine) if s.key == name
    ]
    if version is not None:
        found = next((s for s in versions if s.version == version), None)
        if found is None and not versions:
            bundled = _bundled(name)
            return bundled if bundled is not None and bundled.version == version else None
        return found
    if versions:
        return max(versions, key=lambda s: s.version)
    return _bundled(name)


async def questionnaire_named(engine: AsyncEngine, spec: str) -> Questionnaire:
    """Return questionnaire NAME (its newest stored version, else the bundled one) or
    NAME@VERSION."""
    found = await _find(engine, spec)
    if found is None:
        known = await _known_names(engine)
        raise AdminError(f"no questionnaire named {spec!r} (known: {known})")
    return _loaded(found) if isinstance(found, StoredQuestionnaire) else found


# -- choosing a wave's questionnaires --------------------------------------------------------


def parse_choices(texts: Sequence[str]) -> dict[Group, str]:
    """Parse `--questionnaire GROUP=NAME[@VERSION]` options (each group at most once)."""
    choices: dict[Group, str] = {}
    for text in texts:
        group_text, equals, spec = text.partition("=")
        if not equals or not spec.strip():
            raise AdminError(f"--questionnaire {text!r}: write GROUP=NAME, e.g. external=layanan")
        try:
            group = Group(group_text.strip().lower())
        except ValueError:
            groups = ", ".join(g.value for g in Group)
            raise AdminError(f"--questionnaire {text!r}: the group is one of {groups}") from None
        if group in choices:
            raise AdminError(f"--questionnaire: {group.value} is chosen twice")
        _split_name(spec)
        choices[group] = spec.strip()
    return choices


def choice_text(choices: Mapping[Group, str]) -> str | None:
    """Write choices the way a plan stores them: "external=layanan,internal=internal@3"."""
    return ",".join(f"{g.value}={choices[g]}" for g in Group if g in choices) or None


def choices_from_text(text: str | None) -> dict[Group, str]:
    """Read the choices a plan stored (see `choice_text`)."""
    return parse_choices([part for part in (text or "").split(",") if part])


async def _chosen(
    engine: AsyncEngine, group: Group, spec: str
) -> StoredQuestionnaire | Questionnaire:
    found = await _find(engine, spec)
    if found is None:
        known = await _known_names(engine, group)
        raise AdminError(f"--questionnaire {group.value}={spec}: no such questionnaire ({known})")
    grp = found.grp if isinstance(found, StoredQuestionnaire) else found.group.value
    if grp != group.value:
        raise AdminError(
            f"--questionnaire {group.value}={spec}: {spec} is a questionnaire for the {grp} group"
        )
    return found


async def check_choices(engine: AsyncEngine, choices: Mapping[Group, str]) -> None:
    """Check that every chosen questionnaire exists and fits its group (for a plan)."""
    for group, spec in choices.items():
        await _chosen(engine, group, spec)


async def choose_questionnaires(
    engine: AsyncEngine, choices: Mapping[Group, str], now: datetime
) -> dict[Group, StoredQuestionnaire]:
    """Return the questionnaire each group answers in a new wave: the chosen one, else the
    default (the newest version of the group's bundled name); a bundled questionnaire is
    stored on first use."""
    out: dict[Group, StoredQuestionnaire] = {}
    for group, bundled in bundled_questionnaires().items():
        found = await _chosen(engine, group, choices.get(group, bundled.id))
        if isinstance(found, Questionnaire):
            found = await store_questionnaire(engine, found, now, BUNDLED)
        out[group] = found
    return out


# -- the catalogue (`spibot survey list`) ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    """One questionnaire version and what became of it."""

    key: str
    version: int
    group: Group
    origin: str
    loaded_at: datetime | None  # None: bundled, not stored yet
    waves: tuple[str, ...]  # waves that used it, oldest first
    plans: tuple[str, ...]  # planned waves that chose it
    default: bool  # the next wave uses it for its group unless told otherwise

    @property
    def unused(self) -> bool:
        """Tell whether no wave ever used it, nor will by plan or by default."""
        return not (self.waves or self.plans or self.default)


def origin_of(stored: StoredQuestionnaire) -> str:
    """Say where a stored questionnaire came from (inferred for one stored before issue 22)."""
    if stored.origin:
        return stored.origin
    bundled = _bundled(stored.key)
    same = bundled is not None and bundled.source == stored.source_yaml
    return BUNDLED if same else "stored (origin not recorded)"


async def catalogue(engine: AsyncEngine) -> list[CatalogueEntry]:
    """Return every stored questionnaire version and the bundled ones not stored yet."""
    stored = await storage.questionnaires.list_questionnaires(engine)
    used = await storage.waves.questionnaire_waves(engine)
    plans = [p for p in await storage.waves.list_wave_plans(engine) if p.wave_id is None]
    newest: dict[str, int] = {}
    for s in stored:
        newest[s.key] = max(newest.get(s.key, 0), s.version)
    defaults = {q.id for q in bundled_questionnaires().values()}

    def planned(key: str, version: int, group: str) -> tuple[str, ...]:
        names = []
        for plan in plans:
            spec = choices_from_text(plan.questionnaire_choice).get(Group(group))
            if spec is None:
                continue
            name, chosen = _split_name(spec)
            latest = newest.get(key, version)
            if name == key and (chosen == version or (chosen is None and latest == version)):
                names.append(plan.name)
        return tuple(names)

    entries = [
        CatalogueEntry(
            key=s.key,
            version=s.version,
            group=Group(s.grp),
            origin=origin_of(s),
            loaded_at=s.loaded_at,
            waves=tuple(used.get(s.id, ())),
            plans=planned(s.key, s.version, s.grp),
            default=s.key in defaults and s.version == newest[s.key],
        )
        for s in stored
    ]
    for group, bundled in bundled_questionnaires().items():
        if bundled.id not in newest:
            entries.append(
                CatalogueEntry(
                    key=bundled.id,
                    version=bundled.version,
                    group=group,
                    origin=f"{BUNDLED} (stored when a wave first uses it)",
                    loaded_at=None,
                    waves=(),
                    plans=planned(bundled.id, bundled.version, group.value),
                    default=True,
                )
            )
    order = {g: i for i, g in enumerate(Group)}
    return sorted(entries, key=lambda e: (order[e.group], e.key, e.version))
