"""One likelihood scale: the bins cover [0, 1] without overlap, and every surface says the same words.

The overview grid, the KPI page, the leadership brief and the pipeline's attainment table all put IPCC words
on a probability; each is rendered here, on a copy of the published world whose p_reach is set to each value
of a grid around the scale's edges.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import plotly.utils
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboard.data import PublishedTables
from dashboard.exports import leadership_brief_html
from dashboard.i18n import t
from dashboard.views import kpi_grid
from evaluation.forecasting.attainment import likelihood_term
from evaluation.likelihood import KEYS, SCALE, likelihood, likelihood_key

EDGES = (0.01, 0.10, 0.33, 0.66, 0.90, 0.99)
GRID = sorted({0.0, 1.0, 0.5, *EDGES, *(e - 1e-9 for e in EDGES), *(e + 1e-9 for e in EDGES)})
KPI = ("online_handling_share", "pudong")


@given(st.floats(0, 1))
def test_exactly_one_bin_holds_each_probability(p: float) -> None:
    assert sum(term.holds(p) for term in SCALE) == 1


@given(st.floats(0, 1), st.floats(0, 1))
def test_terms_follow_probability_order(p1: float, p2: float) -> None:
    lo, hi = sorted((p1, p2))
    order = list(reversed(KEYS))  # least likely first
    assert order.index(likelihood_key(lo)) <= order.index(likelihood_key(hi))  # type: ignore[arg-type]


def test_each_threshold_belongs_to_the_more_specific_term() -> None:
    assert [likelihood_key(p) for p in EDGES] == [
        "exceptionally_unlikely", "very_unlikely", "unlikely", "likely", "very_likely", "virtually_certain",
    ]  # fmt: skip
    assert [likelihood_key(e + 1e-9) for e in EDGES[:3]] == [
        "very_unlikely",
        "unlikely",
        "about_as_likely_as_not",
    ]
    assert [likelihood_key(e - 1e-9) for e in EDGES[3:]] == [
        "about_as_likely_as_not",
        "likely",
        "very_likely",
    ]


def _with_p(folder: Path, p: float) -> None:
    path = folder / "attainment.parquet"
    key = (pl.col("kpi_id") == KPI[0]) & (pl.col("region") == KPI[1])
    pl.read_parquet(path).with_columns(
        pl.when(key).then(p).otherwise(pl.col("p_reach")).alias("p_reach")
    ).write_parquet(path)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_overview_kpi_page_brief_and_attainment_table_say_the_same_words(
    dash_app: Any, pages: SimpleNamespace, pointed_at: Callable[..., None], published_copy: Path, lang: str
) -> None:
    pointed_at(published_copy)
    for p in GRID:
        _with_p(published_copy, p)
        term = likelihood(p)
        assert term is not None
        words = t(f"likelihood.{term.key}", lang)
        assert words == (term.zh if lang == "zh" else term.en)
        assert likelihood_term(p, lang) == words  # the pipeline's attainment.likelihood column
        with dash_app.server.test_request_context("/"):
            overview = pages.overview.layout(lang=lang, region=KPI[1])
            kpi = pages.kpi.layout(lang=lang, kpi_id=KPI[0], region=KPI[1])
        grid = _find(overview, "kpi-grid-table")
        summary = next(r["summary"] for r in grid.rowData if r["kpi_id"] == KPI[0])
        sentence = json.dumps(
            _find(kpi, "kpi-sentence"), cls=plotly.utils.PlotlyJSONEncoder, ensure_ascii=False
        )
        tables = PublishedTables(published_copy)
        rows = kpi_grid(tables.read("kpis"), tables.read("attainment"), None).filter(  # type: ignore[arg-type]
            (pl.col("kpi_id") == KPI[0]) & (pl.col("region") == KPI[1])
        )
        brief = leadership_brief_html(rows, None, None, lang)
        for surface, text in (("overview", summary), ("kpi page", sentence), ("brief", brief)):
            assert _said(words, text, lang), (p, surface, words, text[:400])
            others = [w for w in _all_words(lang) if w != words and not _contains_longer(words, w)]
            assert not any(_said(w, text, lang) for w in others), (p, surface, text[:400])


def _said(words: str, text: str, lang: str) -> bool:
    """Whether the sentence carries ``words`` as its likelihood (zh: in （…）; en: the sentence starts with it)."""
    if lang == "zh":
        return f"（{words}）" in text
    return f"{words} to reach" in text


def _all_words(lang: str) -> list[str]:
    return [term.zh if lang == "zh" else term.en for term in SCALE]


def _contains_longer(words: str, other: str) -> bool:
    return other in words


def _find(component: Any, wanted: str) -> Any:
    if getattr(component, "id", None) == wanted:
        return component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None and hasattr(child, "to_plotly_json"):
            hit = _find(child, wanted)
            if hit is not None:
                return hit
    return None
