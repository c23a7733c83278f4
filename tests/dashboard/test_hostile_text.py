"""Stored text is text: a scenario and a KPI named like an HTML attack show as typed on every page and in the brief.

The hostile names are written into a copy of the published world (one cell each), never into invented tables.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from dashboard.data import PublishedTables
from dashboard.exports import leadership_brief_html
from dashboard.views import kpi_grid
from tests.dashboard.conftest import SCENARIO, SHARE, layout_json

HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture
def hostile_copy(published_copy: Path) -> Path:
    """The published world with one scenario's and one KPI's names replaced by :data:`HOSTILE`."""
    for table, key in (("scenarios", pl.col("scenario_id") == SCENARIO),
                       ("kpis", (pl.col("kpi_id") == SHARE[0]) & (pl.col("region") == SHARE[1]))):  # fmt: skip
        path = published_copy / f"{table}.parquet"
        frame = pl.read_parquet(path)
        frame.with_columns(
            pl.when(key).then(pl.lit(HOSTILE)).otherwise(pl.col(c)).alias(c) for c in ("name_zh", "name_en")
        ).write_parquet(path)
    return published_copy


def _no_markup_component(component: Any) -> None:
    """No component renders Markdown or raw HTML (the old tables were dcc.Markdown with dangerously_allow_html)."""
    assert type(component).__name__ != "Markdown", component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None and hasattr(child, "to_plotly_json"):
            _no_markup_component(child)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_hostile_names_are_text_in_every_layout(
    layouts_on: Callable[..., dict[str, Any]], hostile_copy: Path, lang: str
) -> None:
    # the pages that show KPI or scenario names
    for name, layout in layouts_on(hostile_copy, lang, ("overview", "kpi", "scenarios", "scenario")).items():
        _no_markup_component(layout)
        text = layout_json(layout)
        assert HOSTILE in text, f"{name} does not show the name"
        assert "dangerously_allow_html" not in text, name


def test_the_brief_escapes_a_hostile_name(hostile_copy: Path) -> None:
    t = PublishedTables(hostile_copy)
    grid = kpi_grid(t.read("kpis"), t.read("attainment"), t.read("observations")).filter(  # type: ignore[arg-type]
        pl.col("region") == SHARE[1]
    )
    brief = leadership_brief_html(grid, t.read("forecasts"), t.read("observations"), "zh", region=SHARE[1])
    assert HOSTILE not in brief and "<img" not in brief
    assert "&lt;img src=x onerror=alert(1)&gt;" in brief
