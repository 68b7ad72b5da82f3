"""The names people use for a dimension, a group or an action's status, in one place.

What the bot itself shows (the catalogs' `scores_dim_*`, `actions_status_*`, both languages)
is always accepted back, with the codes and the short words typed in /simulasi; case, spaces,
hyphens and underscores do not matter. `/simulasi`, `spibot whatif` and the follow-up matrix
all read names through here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Final

from services.i18n import LANGUAGES, catalog
from storage.actions import ActionStatus
from surveys.model import Dimension, Group

__all__ = [
    "dimension_labels",
    "dimension_named",
    "group_named",
    "status_labels",
    "status_named",
]

_SEPARATORS: Final = re.compile(r"[\s_\-]+")

# Short words typed in /simulasi, and the long Indonesian names of KPK's documents.
_DIMENSION_WORDS: Final[Mapping[str, Dimension]] = {
    "transparansi": Dimension.TRANSPARENCY,
    "integritas": Dimension.TASK_INTEGRITY,
    "integrity": Dimension.TASK_INTEGRITY,
    "pengadaan": Dimension.PROCUREMENT,
    "pbj": Dimension.PROCUREMENT,
    "pengadaan barang dan jasa": Dimension.PROCUREMENT,
    "pengelolaan pengadaan barang dan jasa": Dimension.PROCUREMENT,
    "sdm": Dimension.HR_MANAGEMENT,
    "hr": Dimension.HR_MANAGEMENT,
    "pengelolaan sumber daya manusia": Dimension.HR_MANAGEMENT,
    "pengaruh": Dimension.TRADING_IN_INFLUENCE,
    "influence": Dimension.TRADING_IN_INFLUENCE,
    "anggaran": Dimension.BUDGET_MANAGEMENT,
    "budget": Dimension.BUDGET_MANAGEMENT,
    "sosialisasi": Dimension.ANTICORRUPTION_OUTREACH,
    "outreach": Dimension.ANTICORRUPTION_OUTREACH,
    "sosialisasi anti korupsi": Dimension.ANTICORRUPTION_OUTREACH,
}
_GROUP_WORDS: Final[Mapping[str, Group]] = {
    "pegawai": Group.INTERNAL,
    "pengguna": Group.EXTERNAL,
    "pengguna layanan": Group.EXTERNAL,
    "eksternal": Group.EXTERNAL,
    "eksper": Group.EXPERT,
    "ahli": Group.EXPERT,
}


def _key(text: str) -> str:
    """Fold a name for comparison: lower case, separators as single spaces."""
    return _SEPARATORS.sub(" ", text.strip().casefold()).strip()


@functools.cache
def _dimensions() -> dict[str, Dimension]:
    names = {_key(d.value): d for d in Dimension}
    names.update({_key(word): d for word, d in _DIMENSION_WORDS.items()})
    for language in LANGUAGES:
        names.update({_key(label): d for d, label in dimension_labels(language).items()})
    return names


@functools.cache
def _statuses() -> dict[str, ActionStatus]:
    names = {_key(s.value): s for s in ActionStatus}
    for language in LANGUAGES:
        names.update({_key(label): s for s, label in status_labels(language).items()})
    return names


def dimension_labels(language: str) -> dict[Dimension, str]:
    """Return each dimension's name as the bot shows it."""
    return {d: catalog().t(language, f"scores_dim_{d.value}") for d in Dimension}


def status_labels(language: str) -> dict[ActionStatus, str]:
    """Return each action status as the bot shows it."""
    return {s: catalog().t(language, f"actions_status_{s.value}") for s in ActionStatus}


def dimension_named(text: str) -> Dimension | None:
    """Return the dimension a name means ("Pengelolaan PBJ", "pengadaan", "procurement")."""
    return _dimensions().get(_key(text))


def status_named(text: str) -> ActionStatus | None:
    """Return the status a name means ("Berjalan", "in progress", "in_progress")."""
    return _statuses().get(_key(text))


def group_named(text: str) -> Group | None:
    """Return the group a name means ("pegawai", "eksper", "internal")."""
    key = _key(text).strip(",")
    return next((g for g in Group if g.value == key), None) or _GROUP_WORDS.get(key)
