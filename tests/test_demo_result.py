"""The end of `spibot demo`: the index the leadership group received, on a real closed wave."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import storage.db
import storage.waves
from sandbox.demo_result import leadership_result, result_lines
from services.admin import import_units_csv, open_wave
from services.reports import load_report
from services.settings import load_settings
from surveys import Group
from tests.score_data import add_responses

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


async def test_the_demo_prints_index_groups_weakest_dimension_and_units(tmp_path: Path) -> None:
    settings = load_settings(None, spibot_secret="s" * 20)
    async with storage.db.Database(f"sqlite+aiosqlite:///{tmp_path / 'd.db'}") as db:
        with resources.as_file(
            resources.files("sandbox.data").joinpath("mojokerto-units.csv")
        ) as p:
            await import_units_csv(db.engine, p)
        wave = await open_wave(db.engine, "Demo", NOW)
        for code, level in (("DINKES", 0.9), ("DISPENDUKCAPIL", 0.6), ("DPMPTSP", 0.3)):
            for group in Group:
                await add_responses(db.engine, wave, code, group, 6, NOW, level=level)
        await storage.waves.close_wave(db.engine, wave.id, NOW)
        bundle = await load_report(db.engine, settings, wave_name="Demo")
    assert bundle is not None
    inst = bundle.report.institution
    assert inst.index is not None
    assert inst.category is not None

    charts = [tmp_path / "charts" / "index.png", tmp_path / "charts" / "ranking.png"]
    result = leadership_result(bundle, charts)
    assert result["final"] is True
    assert result["index"] == round(inst.index, 2)
    assert result["category"] == inst.category.label.get("id")
    assert set(result["groups"]) == {"internal", "external", "expert"}
    assert [u["code"] for u in result["top_units"]] == ["DINKES"]
    assert [u["code"] for u in result["bottom_units"]] == ["DPMPTSP"]
    assert result["units_without_index"] == 46

    text = "\n".join(result_lines(result, tmp_path / "charts"))
    assert f"Indeks Integritas {inst.index:.2f} ±" in text
    assert inst.category.label.get("id") in text
    for group in ("internal", "external", "expert"):
        cell = inst.group(Group(group))
        assert cell.score is not None
        assert cell.moe is not None
        assert f"{group:<10} {cell.score:.2f} ±{cell.moe:.2f}" in text
    shown = [d for d in inst.dimensions if d.score is not None]
    weakest = min(shown, key=lambda d: d.score or 0.0)
    assert weakest.score is not None
    assert f"weakest dimension: {result['weakest_dimension']['name']} {weakest.score:.2f}" in text
    assert "top units:    Dinas Kesehatan" in text
    assert "bottom units: Dinas Penanaman Modal" in text
    assert f"saved in {tmp_path / 'charts'}/: index.png, ranking.png" in text
