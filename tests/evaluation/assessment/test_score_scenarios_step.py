"""pipelines.steps.score.score_scenarios end to end on small synthetic tables built in code."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import polars as pl
import pytest

from evaluation.assessment.scheme import load_scheme
from evaluation.tables import ScenarioMetrics, Scenarios, StreetOutcomes, validate
from pipelines.steps.score import BENCHMARK_KPI, MetricsError, score_scenarios

SCORE_COLUMNS = ["scenario_id", "period", "scheme", "total", "grade", "rank", "rank_lo", "rank_hi"]
EFFICACY_COLUMNS = [
    "scenario_id",
    "outcome",
    "method",
    "effect",
    "ci_lo",
    "ci_hi",
    "p_value",
    "n_pre",
    "n_post",
    "status",
]


def test_inputs_match_the_table_contracts(tables: Any) -> None:
    validate(tables.scenarios, Scenarios, what="fixture")
    validate(tables.scenario_metrics, ScenarioMetrics, what="fixture")
    validate(tables.street_outcomes, StreetOutcomes, what="fixture")


def test_score_step_outputs(tables: Any) -> None:
    scheme = load_scheme()
    res = score_scenarios(
        tables.scenarios,
        tables.scenario_metrics,
        tables.street_outcomes,
        scheme,
        period="2022",
        n_draws=300,
        seed=4,
    )
    assert res.period == "2022"
    for col in [
        *SCORE_COLUMNS,
        *[f"dim_{d}" for d in scheme.top_dimensions],
        *[f"p_grade_{g}" for g in ("excellent", "good", "pass", "fail")],
    ]:
        assert col in res.scores.columns
    assert res.scores["scheme"].unique().to_list() == ["default 2026.1"]
    assert res.efficacy.columns[: len(EFFICACY_COLUMNS)] == EFFICACY_COLUMNS
    assert set(res.efficacy["method"].unique().to_list()) == {"its", "did"}
    # Known effects are recovered by the DiD rows that are ok.
    did = res.efficacy.filter((pl.col("method") == "did") & (pl.col("status") == "ok"))
    assert did.height >= 4
    covered = [
        row["ci_lo"] <= tables.true_effects[row["scenario_id"]] <= row["ci_hi"]
        for row in did.iter_rows(named=True)
    ]
    assert np.mean(covered) >= 0.6
    series = res.efficacy_series
    assert series.columns == [
        "scenario_id",
        "outcome",
        "period",
        "observed",
        "fitted",
        "counterfactual",
        "method",
    ]
    assert set(series["scenario_id"].unique().to_list()) <= set(res.efficacy["scenario_id"].to_list())
    assert series["period"].max() <= date(2022, 12, 1)  # nothing after the scored period is used
    # Scenarios without an outcome miss the effect indicator, visibly.
    no_outcome = tables.scenarios.filter(pl.col("outcome").is_null())["scenario_id"].to_list()
    flags = res.scores.filter(pl.col("scenario_id").is_in(no_outcome))["missing_indicators"].to_list()
    assert all("causal_effect" in f for f in flags)
    obs = res.benchmark_observations
    assert obs.columns == ["kpi_id", "region", "period", "value", "std_error", "source", "status", "note"]
    assert all(dt == pl.String for dt in obs.dtypes)
    assert obs["kpi_id"].unique().to_list() == [BENCHMARK_KPI]
    assert sorted(obs["region"].to_list()) == ["east", "west"]
    assert obs["period"].unique().to_list() == ["2022"]
    assert obs["std_error"].unique().to_list() == [""]
    assert obs["source"].unique().to_list() == ["dtscope score (scheme default 2026.1)"]
    assert obs["status"].unique().to_list() == ["provisional"]
    assert "synthetic-test" in obs["note"][0]
    counts = res.scores.group_by("region").agg(pl.col("benchmark").sum()).sort("region")
    assert [int(v) for v in obs.sort("region")["value"].to_list()] == counts["benchmark"].to_list()


def test_same_seed_same_numbers(tables: Any) -> None:
    scheme = load_scheme()
    args = (tables.scenarios, tables.scenario_metrics, tables.street_outcomes, scheme)
    a = score_scenarios(*args, period="2022", n_draws=200, seed=9).scores
    b = score_scenarios(*args, period="2022", n_draws=200, seed=9).scores
    assert a.equals(b)


def test_default_period_and_unlaunched_scenarios(tables: Any) -> None:
    scheme = load_scheme()
    res = score_scenarios(
        tables.scenarios, tables.scenario_metrics, tables.street_outcomes, scheme, n_draws=100
    )
    assert res.period == "2023"
    early = score_scenarios(
        tables.scenarios,
        tables.scenario_metrics,
        tables.street_outcomes,
        scheme,
        period="2020-12",
        n_draws=100,
    )
    assert early.scores.height < tables.scenarios.height  # scenarios launched later are not scored
    none = score_scenarios(
        tables.scenarios, tables.scenario_metrics, tables.street_outcomes, scheme, period="2019", n_draws=100
    )
    assert none.scores.height == 0
    assert none.benchmark_observations.height == 0


def test_non_numeric_metric_names_table_row_and_key(tables: Any) -> None:
    bad = tables.scenario_metrics.with_columns(pl.col("value").cast(pl.String))
    bad = bad.with_columns(
        pl.when(pl.int_range(pl.len()) == 2).then(pl.lit("n/a")).otherwise("value").alias("value")
    )
    with pytest.raises(MetricsError) as info:
        score_scenarios(
            tables.scenarios, bad, tables.street_outcomes, load_scheme(), period="2022", n_draws=100
        )
    msg = str(info.value)
    assert "scenario_metrics" in msg and "row 3" in msg and "indicator_id=" in msg and "'n/a'" in msg
