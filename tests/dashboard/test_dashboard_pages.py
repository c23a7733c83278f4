"""Pages, the table contract, the reader and the exports on the published world — without a browser."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import dash
import polars as pl
import pytest

from dashboard.app import create_app, export_frame
from dashboard.contract import ENUMS, TABLES, conform
from dashboard.data import PublishedTables
from dashboard.exports import leadership_brief_html, to_csv_bytes, to_excel_bytes
from dashboard.routes import ROUTES
from dashboard.uploads import check_upload, decode_upload
from dashboard.views import SUMMARY_METRICS, champion_table, kpi_grid, whatif_probability
from tests.dashboard.conftest import SCENARIO, SHARE, layout_json

SCENARIO_COUNT = ("efficient_disposal_scenarios", "pudong")  # a running count of scenarios, target 2025


def render(app: Any, fn: Any, **kwargs: Any) -> str:
    with app.server.test_request_context("/"):
        return layout_json(fn(**kwargs))


def test_the_published_tables_carry_the_contract_columns(published_tables: dict[str, pl.DataFrame]) -> None:
    assert set(TABLES) <= set(published_tables), set(TABLES) - set(published_tables)
    for name in TABLES:
        out = conform(name, published_tables[name])  # raises on a missing required column
        for column, dtype in TABLES[name].items():
            assert out.schema[column] == dtype, (name, column)
    for (table, column), allowed in ENUMS.items():
        values = set(published_tables[table][column].drop_nulls().to_list())
        assert values <= set(allowed), (table, column, values - set(allowed))
    assert any(c.startswith("dim_") for c in published_tables["scores"].columns)


def test_conform_fills_optional_columns_and_names_a_missing_required_one(
    published_tables: dict[str, pl.DataFrame],
) -> None:
    frame = published_tables["scores"].drop("p_grade_fail", "pipeline_run_id")
    out = conform("scores", frame)
    assert out["p_grade_fail"].null_count() == out.height and out.schema["p_grade_fail"] == pl.Float64
    assert "p_grade_fail" not in frame.columns  # argument untouched
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['total'\].*dtscope run"):
        conform("scores", frame.drop("total"))


def test_reader_returns_none_for_a_missing_table_and_rereads_a_changed_file(
    tmp_path: Path, published_tables: dict[str, pl.DataFrame]
) -> None:
    published = PublishedTables(tmp_path)
    assert published.read("forecasts") is None
    frame = published_tables["calibration"]
    frame.write_parquet(published.path("calibration"))
    first = published.read("calibration")
    assert first is not None and first.height == frame.height
    pl.concat([frame, frame]).write_parquet(published.path("calibration"))
    stat = published.path("calibration").stat()
    os.utime(published.path("calibration"), ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    second = published.read("calibration")
    assert second is not None and second.height == 2 * frame.height
    assert published.available() == ["calibration"]


def test_there_is_one_app_per_process(dash_app: Any, published_dir: Path) -> None:
    with pytest.raises(RuntimeError, match="configure"):
        create_app(published_dir)


def test_every_page_is_registered_at_its_route(dash_app: Any) -> None:
    registered = {module.rpartition(".")[2]: page["path_template"] or page["path"]
                  for module, page in dash.page_registry.items()}  # fmt: skip
    assert registered == {name: route.path for name, route in ROUTES.items()}
    assert [module.rpartition(".")[2] for module in dash.page_registry] == list(ROUTES)  # Dash orders by `order`


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_shows_an_empty_state_before_the_first_run(
    layouts_on: Callable[..., dict[str, Any]], tmp_path: Path, lang: str
) -> None:
    for name, layout in layouts_on(tmp_path, lang).items():
        text = layout_json(layout)
        assert "dtscope run" in text, f"{name} has no empty state: {text[:300]}"


def test_pages_render_the_published_rows(
    dash_app: Any, pages: SimpleNamespace, published_tables: dict[str, pl.DataFrame]
) -> None:
    overview = render(dash_app, pages.overview.layout, lang="zh", region="hongkou")
    assert "synthetic-banner" in overview and "kpi-grid-table" in overview
    assert "/kpi/online_handling_share?region=hongkou" in overview and "region=pudong" not in overview
    kpi = render(dash_app, pages.kpi.layout, lang="en", kpi_id=SHARE[0], region=SHARE[1], g="2")
    assert "kpi-fan" in kpi and "With +2.0% extra annual growth" in kpi
    run_id = published_tables["attainment"].filter(pl.col("kpi_id") == SHARE[0])["run_id"][0]
    assert f"http://127.0.0.1:5000/#/experiments/1/runs/{run_id}" in kpi  # the run that made it
    assert "no KPI nope" in render(dash_app, pages.kpi.layout, lang="en", kpi_id="nope")
    scen = render(dash_app, pages.scenarios.layout, lang="zh", domain="economy")
    n_economy = published_tables["scenarios"].filter(pl.col("domain") == "economy").height
    assert f"共 {n_economy} 个应用场景" in scen
    assert "scen-radar" in render(dash_app, pages.scenario.layout, lang="zh", scenario_id=SCENARIO)
    assert "champion-table" in render(dash_app, pages.models.layout, lang="en")
    assert "rejects-table" in render(dash_app, pages.data.layout, lang="en")


def test_champion_table_shows_the_published_all_horizon_figures(
    published_tables: dict[str, pl.DataFrame],
) -> None:
    # Before: every row of a run (horizon 0 and 1–3, every kind) was averaged into one figure per metric,
    # e.g. coverage95 = 83.8 on the two-district demo, which is none of the published ones.
    metrics = published_tables["backtest_metrics"]
    champs = champion_table(published_tables["runs"], metrics)
    champion = champs.filter(pl.col("alias") == "production")
    run_id = champion["run_id"][0]
    overall = metrics.filter((pl.col("run_id") == run_id) & (pl.col("horizon") == 0))
    assert sorted(champion["kind"].to_list()) == sorted(overall["kind"].unique().to_list())
    for row in champion.iter_rows(named=True):
        for metric in SUMMARY_METRICS:
            published = overall.filter((pl.col("kind") == row["kind"]) & (pl.col("metric") == metric))[
                "value"
            ]
            assert published.len() == 1 and row[metric] == published[0], (row["kind"], metric)
    naive_mean = metrics.filter((pl.col("run_id") == run_id) & (pl.col("metric") == "coverage95"))[
        "value"
    ].mean()
    assert naive_mean not in champion["coverage95"].to_list()


def test_the_runs_table_shows_each_runs_kind(
    dash_app: Any, pages: SimpleNamespace, published_tables: dict[str, pl.DataFrame]
) -> None:
    runs = published_tables["runs"]
    assert runs.filter(pl.col("kind") == "").height == 0  # every run dtscope starts is tagged with its step
    with dash_app.server.test_request_context("/"):
        layout = pages.models.layout(lang="en")
    grid = next(c for c in _walk(layout) if getattr(c, "id", None) == "runs-table")
    kinds = [r["kind"] for r in grid.rowData]
    assert kinds and "" not in kinds and "—" not in kinds and set(kinds) <= set(runs["kind"].to_list())


def _walk(component: Any) -> list[Any]:
    out = [component]
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None and hasattr(child, "to_plotly_json"):
            out += _walk(child)
    return out


def test_whatif_text_moves_with_growth(dash_app: Any, pages: SimpleNamespace) -> None:
    with dash_app.server.test_request_context("/"):
        base = pages.kpi.whatif_text(*SHARE, 0.0, "en")
        more = pages.kpi.whatif_text(*SHARE, 10.0, "en")
    assert _probabilities(more)[0] > _probabilities(base)[0]


def _probabilities(text: str) -> tuple[float, float]:
    """(p, p0) from an English what-if sentence: '… P(reach by 2025) = 57% (was 56%)'."""
    found = re.search(r"= (\d+)% \(was (\d+)%\)", text)
    assert found, text
    return float(found.group(1)), float(found.group(2))


def test_whatif_was_is_the_published_p_reach_not_a_recomputation(
    dash_app: Any, pages: SimpleNamespace, pointed_at: Callable[..., None], published_copy: Path
) -> None:
    # Publish a p_reach that the draws would not give (the pipeline's rule can differ by a point or so).
    key = (pl.col("kpi_id") == SHARE[0]) & (pl.col("region") == SHARE[1])
    path = published_copy / "attainment.parquet"
    pl.read_parquet(path).with_columns(
        pl.when(key).then(0.123).otherwise(pl.col("p_reach")).alias("p_reach")
    ).write_parquet(path)
    pointed_at(published_copy)
    with dash_app.server.test_request_context("/"):
        text = pages.kpi.whatif_text(*SHARE, 0.0, "en")
        moved = pages.kpi.whatif_text(*SHARE, 3.0, "en")
        inputs = pages.kpi.whatif_inputs(*SHARE)
    page = render(dash_app, pages.kpi.layout, lang="zh", kpi_id=SHARE[0], region=SHARE[1])
    assert inputs is not None
    spec = {"years_ahead": inputs["years_ahead"],
            **{k: inputs["kpi"][k] for k in ("target_kind", "target_value", "target_high", "lower", "upper", "precision")}}  # fmt: skip
    from_draws0 = whatif_probability(inputs["draws"], growth=0.0, **spec)
    from_draws3 = whatif_probability(inputs["draws"], growth=0.03, **spec)
    assert round(100 * from_draws0) != 12  # the draws alone would not give the published number …
    assert _probabilities(text) == (12.0, 12.0)  # … yet with the levers at zero the page reads it exactly
    assert "（原为 12%）" in page
    p3, _ = _probabilities(moved)  # a lever moves it by the change measured on the draws
    assert p3 == round(100 * min(max(0.123 + from_draws3 - from_draws0, 0.0), 1.0))


def test_whatif_added_scenarios_moves_the_probability_of_a_scenario_count(
    dash_app: Any, pages: SimpleNamespace
) -> None:
    with dash_app.server.test_request_context("/"):
        base = pages.kpi.whatif_text(*SCENARIO_COUNT, 0.0, "en")
        more = pages.kpi.whatif_text(*SCENARIO_COUNT, 0.0, "en", added=5.0)
        # A share is not a count of scenarios: the lever is ignored even if a URL asks for it.
        share = pages.kpi.whatif_text(*SHARE, 0.0, "en")
        share_n = pages.kpi.whatif_text(*SHARE, 0.0, "en", added=5.0)
    page = render(
        dash_app, pages.kpi.layout, lang="en", kpi_id=SCENARIO_COUNT[0], region=SCENARIO_COUNT[1], n="5"
    )
    page_share = render(dash_app, pages.kpi.layout, lang="en", kpi_id=SHARE[0], region=SHARE[1], n="5")
    assert "5 added scenarios a year" in more
    assert _probabilities(more)[0] > _probabilities(base)[0]
    assert _probabilities(more)[1] == _probabilities(base)[1]  # "was" stays the published number
    assert share_n == share
    assert "5 added scenarios a year" in page and "whatif-added-na" not in page
    assert "whatif-added-na" in page_share and "not a running count of scenarios" in page_share
    assert "added scenarios a year" not in page_share


def test_exports_round_trip(dash_app: Any) -> None:
    with dash_app.server.test_request_context("/"):
        grid = export_frame("kpi_grid", "pudong")
        league = export_frame("league", "all")
        rejects = export_frame("rejects", "all")
        one_kpi = export_frame(f"forecasts:{SHARE[0]}", "pudong")
        one_scenario = export_frame(f"efficacy_series:{SCENARIO}", "all")
        assert export_frame("no_such_table", "all") is None
    assert one_kpi is not None and set(one_kpi["kpi_id"]) == {SHARE[0]}
    assert set(one_kpi["region"]) == {"pudong"}
    assert one_scenario is not None and set(one_scenario["scenario_id"]) == {SCENARIO}
    assert grid is not None and set(grid["region"].to_list()) == {"pudong"}
    assert league is not None and rejects is not None and rejects.height
    back = pl.read_csv(io.BytesIO(to_csv_bytes(grid)[3:]))
    assert back.height == grid.height and back["kpi_id"].to_list() == grid["kpi_id"].to_list()
    xlsx = pl.read_excel(io.BytesIO(to_excel_bytes(league, "league")))
    assert xlsx.height == league.height and "total" in xlsx.columns


def test_leadership_brief_is_self_contained(published_dir: Path) -> None:
    t = PublishedTables(published_dir)
    grid = kpi_grid(t.read("kpis"), t.read("attainment"), t.read("observations")).filter(  # type: ignore[arg-type]
        pl.col("region") == "pudong"
    )
    page = leadership_brief_html(grid, t.read("forecasts"), t.read("observations"), "zh", region="pudong")
    assert page.count("<tr>") == grid.height + 1
    assert page.count("<svg") == grid.height
    assert "SYNTHETIC DATA" in page and "浦东新区" in page
    assert "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing fetched


def test_upload_checks() -> None:
    assert check_upload("x.xlsx", 10, 100) is None
    key, values = check_upload("big.csv", 2 * 1024 * 1024, 1024 * 1024)  # type: ignore[misc]
    assert key == "data.too_big" and values == {"file": "big.csv", "size": "2 MB", "limit": "1 MB"}
    with pytest.raises(ValueError, match="choose the file again"):
        decode_upload("data:text/csv;base64,@@@")


def test_a_scenario_without_efficacy_series_says_so(
    dash_app: Any, pages: SimpleNamespace, pointed_at: Callable[..., None], published_copy: Path
) -> None:
    path = published_copy / "efficacy_series.parquet"
    pl.read_parquet(path).filter(pl.col("scenario_id") != SCENARIO).write_parquet(path)
    pointed_at(published_copy)
    en = render(dash_app, pages.scenario.layout, lang="en", scenario_id=SCENARIO)
    assert "no efficacy series for this scenario" in en and "no rows match the filters" not in en
    assert "该场景没有成效时间序列" in render(
        dash_app, pages.scenario.layout, lang="zh", scenario_id=SCENARIO
    )
