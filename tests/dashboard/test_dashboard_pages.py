"""Pages, the table contract, the reader and the exports — without a browser."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path
from typing import Any

import plotly.utils
import polars as pl
import pytest

from dashboard.app import create_app, export_frame
from dashboard.contract import ENUMS, TABLES, conform
from dashboard.data import PublishedTables
from dashboard.exports import leadership_brief_html, to_csv_bytes, to_excel_bytes
from dashboard.pages import data as data_page
from dashboard.pages import kpi as kpi_page
from dashboard.pages import models as models_page
from dashboard.pages import overview as overview_page
from dashboard.pages import scenario as scenario_page
from dashboard.pages import scenarios as scenarios_page
from dashboard.synthetic import write_published_tables
from dashboard.views import kpi_grid, whatif_probability

LAYOUTS = {
    "overview": (overview_page.layout, {}),
    "kpi": (kpi_page.layout, {"kpi_id": "online_handling_share", "region": "pudong"}),
    "scenarios": (scenarios_page.layout, {}),
    "scenario": (scenario_page.layout, {"scenario_id": "S001"}),
    "models": (models_page.layout, {}),
    "data": (data_page.layout, {}),
}


def render(app: Any, fn: Any, **kwargs: Any) -> str:
    with app.server.test_request_context("/"):
        return json.dumps(fn(**kwargs), cls=plotly.utils.PlotlyJSONEncoder, ensure_ascii=False)


def test_synthetic_tables_match_the_contract(published_tables: dict[str, pl.DataFrame]) -> None:
    assert set(published_tables) == set(TABLES)
    for name, frame in published_tables.items():
        for column, dtype in TABLES[name].items():
            assert frame.schema[column] == dtype, (name, column)
    for (table, column), allowed in ENUMS.items():
        values = set(published_tables[table][column].drop_nulls().to_list())
        assert values <= set(allowed), (table, column, values - set(allowed))
    assert any(c.startswith("dim_") for c in published_tables["scores"].columns)


def test_conform_fills_optional_columns_and_names_a_missing_required_one() -> None:
    frame = pl.DataFrame({"scenario_id": ["s"], "outcome": ["y"], "method": ["its"], "effect": [1.0],
                          "ci_lo": [0.0], "ci_hi": [2.0], "n_pre": [12], "n_post": [12]})  # fmt: skip
    out = conform("efficacy", frame)
    assert out["status"].to_list() == [None] and out.schema["n_pre"] == pl.Int32
    assert frame.columns[-1] == "n_post"  # argument untouched
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['effect'\].*dtscope run"):
        conform("efficacy", frame.drop("effect"))


def test_reader_returns_none_for_a_missing_table_and_rereads_a_changed_file(tmp_path: Path) -> None:
    published = PublishedTables(tmp_path)
    assert published.read("forecasts") is None
    frame = pl.DataFrame({"model": ["a"], "bin_lo": [0.0], "bin_hi": [0.1], "predicted_mean": [0.05],
                          "observed_freq": [0.0], "n": [1]})  # fmt: skip
    frame.write_parquet(published.path("calibration"))
    first = published.read("calibration")
    assert first is not None and first.height == 1
    pl.concat([frame, frame]).write_parquet(published.path("calibration"))
    stat = published.path("calibration").stat()
    os.utime(published.path("calibration"), ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    second = published.read("calibration")
    assert second is not None and second.height == 2
    assert published.available() == ["calibration"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_shows_an_empty_state_before_the_first_run(tmp_path: Path, lang: str) -> None:
    app = create_app(tmp_path)
    for name, (fn, kwargs) in LAYOUTS.items():
        text = render(app, fn, lang=lang, **kwargs)
        assert "dtscope run" in text, f"{name} has no empty state: {text[:300]}"


def test_pages_render_the_published_rows(
    published_dir: Path, published_tables: dict[str, pl.DataFrame]
) -> None:
    app = create_app(published_dir, mlflow_ui_url="http://mlflow.local")
    overview = render(app, overview_page.layout, lang="zh", region="hongkou")
    assert "synthetic-banner" in overview and "kpi-grid-table" in overview
    assert "/kpi/5g_coverage?region=hongkou" in overview and "region=pudong" not in overview
    kpi = render(app, kpi_page.layout, lang="en", kpi_id="online_handling_share", region="pudong", g="2")
    assert "kpi-fan" in kpi and "With +2.0% extra annual growth" in kpi
    assert "http://127.0.0.1:5000/#/experiments/2/runs/run-forecast-ets-0001" in kpi  # the run that made it
    assert "no KPI nope" in render(app, kpi_page.layout, lang="en", kpi_id="nope")
    scen = render(app, scenarios_page.layout, lang="zh", domain="economy")
    n_economy = published_tables["scenarios"].filter(pl.col("domain") == "economy").height
    assert f"共 {n_economy} 个应用场景" in scen
    assert "scen-radar" in render(app, scenario_page.layout, lang="zh", scenario_id="S001")
    assert "champion-table" in render(app, models_page.layout, lang="en")
    assert "rejects-table" in render(app, data_page.layout, lang="en")


def test_whatif_text_moves_with_growth(published_dir: Path) -> None:
    app = create_app(published_dir)
    with app.server.test_request_context("/"):
        base = kpi_page.whatif_text("online_handling_share", "pudong", 0.0, "en")
        more = kpi_page.whatif_text("online_handling_share", "pudong", 10.0, "en")
    p_base = float(base.split("= ")[1].split("%")[0])
    p_more = float(more.split("= ")[1].split("%")[0])
    assert p_more >= p_base


def _probabilities(text: str) -> tuple[float, float]:
    """(p, p0) from an English what-if sentence: '… P(reach by 2025) = 57% (was 56%)'."""
    found = re.search(r"= (\d+)% \(was (\d+)%\)", text)
    assert found, text
    return float(found.group(1)), float(found.group(2))


def test_whatif_was_is_the_published_p_reach_not_a_recomputation(
    published_tables: dict[str, pl.DataFrame], tmp_path: Path
) -> None:
    # Publish a p_reach that the draws would not give (the pipeline's rule can differ by a point or so).
    tables = dict(published_tables)
    key = (pl.col("kpi_id") == "online_handling_share") & (pl.col("region") == "pudong")
    tables["attainment"] = tables["attainment"].with_columns(
        pl.when(key).then(0.123).otherwise(pl.col("p_reach")).alias("p_reach")
    )
    write_published_tables(tables, tmp_path)
    app = create_app(tmp_path)
    with app.server.test_request_context("/"):
        text = kpi_page.whatif_text("online_handling_share", "pudong", 0.0, "en")
        page = render(app, kpi_page.layout, lang="zh", kpi_id="online_handling_share", region="pudong")
        moved = kpi_page.whatif_text("online_handling_share", "pudong", 3.0, "en")
        inputs = kpi_page.whatif_inputs("online_handling_share", "pudong")
    assert inputs is not None
    spec = {
        "years_ahead": inputs["years_ahead"],
        **{
            k: inputs["kpi"][k]
            for k in ("target_kind", "target_value", "target_high", "lower", "upper", "precision")
        },
    }
    from_draws0 = whatif_probability(inputs["draws"], growth=0.0, **spec)
    from_draws3 = whatif_probability(inputs["draws"], growth=0.03, **spec)
    assert round(100 * from_draws0) != 12  # the draws alone would not give the published number …
    p, p0 = _probabilities(text)
    assert (p, p0) == (12.0, 12.0)  # … yet with the levers at zero the page reads exactly the published one
    assert "（原为 12%）" in page
    # a lever moves it by the change measured on the draws
    p3, _ = _probabilities(moved)
    assert p3 == round(100 * min(max(0.123 + from_draws3 - from_draws0, 0.0), 1.0))


def test_whatif_added_scenarios_moves_the_probability_of_a_scenario_count(published_dir: Path) -> None:
    app = create_app(published_dir)
    with app.server.test_request_context("/"):
        base = kpi_page.whatif_text("iot_closed_loop", "pudong", 0.0, "en")
        more = kpi_page.whatif_text("iot_closed_loop", "pudong", 0.0, "en", added=5.0)
        # A share is not a count of scenarios: the lever is ignored even if a URL asks for it.
        share = kpi_page.whatif_text("online_handling_share", "pudong", 0.0, "en")
        share_n = kpi_page.whatif_text("online_handling_share", "pudong", 0.0, "en", added=5.0)
        page = render(app, kpi_page.layout, lang="en", kpi_id="iot_closed_loop", region="pudong", n="5")
        page_share = render(
            app, kpi_page.layout, lang="en", kpi_id="online_handling_share", region="pudong", n="5"
        )
    assert "5 added scenarios a year" in more
    assert _probabilities(more)[0] > _probabilities(base)[0]
    assert _probabilities(more)[1] == _probabilities(base)[1]  # "was" stays the published number
    assert share_n == share
    assert "5 added scenarios a year" in page and "whatif-added-na" not in page
    assert "whatif-added-na" in page_share and "not a running count of scenarios" in page_share
    assert "added scenarios a year" not in page_share


def test_exports_round_trip(published_dir: Path) -> None:
    app = create_app(published_dir)
    with app.server.test_request_context("/"):
        grid = export_frame("kpi_grid", "pudong")
        league = export_frame("league", "all")
        rejects = export_frame("rejects", "all")
        one_kpi = export_frame("forecasts:online_handling_share", "pudong")
        one_scenario = export_frame("efficacy_series:S001", "all")
        assert export_frame("no_such_table", "all") is None
    assert one_kpi is not None and set(one_kpi["kpi_id"]) == {"online_handling_share"}
    assert set(one_kpi["region"]) == {"pudong"}
    assert one_scenario is not None and set(one_scenario["scenario_id"]) == {"S001"}
    assert grid is not None and set(grid["region"].to_list()) == {"pudong"}
    assert league is not None and rejects is not None
    back = pl.read_csv(io.BytesIO(to_csv_bytes(grid)[3:]))
    assert back.height == grid.height and back["kpi_id"].to_list() == grid["kpi_id"].to_list()
    xlsx = pl.read_excel(io.BytesIO(to_excel_bytes(league, "league")))
    assert xlsx.height == league.height and "total" in xlsx.columns


def test_leadership_brief_is_self_contained(published_tables: dict[str, pl.DataFrame]) -> None:
    t = published_tables
    grid = kpi_grid(t["kpis"], t["attainment"], t["observations"]).filter(pl.col("region") == "pudong")
    page = leadership_brief_html(grid, t["forecasts"], t["observations"], "zh", region="pudong")
    assert page.count("<tr>") == grid.height + 1
    assert page.count("<svg") == grid.height
    assert "SYNTHETIC DATA" in page and "浦东新区" in page
    assert "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing fetched


def test_upload_checks() -> None:
    assert data_page.check_upload("x.xlsx", 10, 100) is None
    key, values = data_page.check_upload("big.csv", 2 * 1024 * 1024, 1024 * 1024)  # type: ignore[misc]
    assert key == "data.too_big" and values == {"file": "big.csv", "size": "2 MB", "limit": "1 MB"}
    with pytest.raises(ValueError, match="choose the file again"):
        data_page.decode_upload("data:text/csv;base64,@@@")


def test_a_scenario_without_efficacy_series_says_so(
    published_tables: dict[str, pl.DataFrame], tmp_path: Path
) -> None:
    tables = dict(published_tables)
    tables["efficacy_series"] = tables["efficacy_series"].filter(pl.col("scenario_id") != "S001")
    write_published_tables(tables, tmp_path)
    app = create_app(tmp_path)
    en = render(app, scenario_page.layout, lang="en", scenario_id="S001")
    assert "no efficacy series for this scenario" in en and "no rows match the filters" not in en
    assert "该场景没有成效时间序列" in render(app, scenario_page.layout, lang="zh", scenario_id="S001")
