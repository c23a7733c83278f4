"""The published tables the dashboard reads: names, columns and polars dtypes.

The pipeline writes ``<published_dir>/<name>.parquet``; the dashboard only reads them. This module is
plain data so the pipeline's tests can check what they publish against it::

    from dashboard.contract import TABLES
    for name, columns in TABLES.items():
        assert set(columns) <= set(pl.read_parquet(dir / f"{name}.parquet").columns)

Columns marked in :data:`OPTIONAL_COLUMNS` may be absent; the dashboard fills them with nulls.
``scores`` also carries one ``dim_<dimension_id>`` Float64 column (0–100) per assessment dimension;
they are matched by the :data:`DIMENSION_PREFIX` prefix, not listed here.

The tables the pipeline also validates on write (kpis, rejects, ingests, scenarios) take their
column types from :mod:`evaluation.tables`, the one definition both sides import.
"""

from __future__ import annotations

import polars as pl

from evaluation import tables

Dtype = pl.DataType | type[pl.DataType]

DIMENSION_PREFIX = "dim_"
SYNTHETIC_SOURCE = "synthetic-demo"

TABLES: dict[str, dict[str, Dtype]] = {
    "kpis": dict(tables.KPIS),
    "observations": {
        "kpi_id": pl.String,
        "region": pl.String,
        "period": pl.Date,
        "freq": pl.String,
        "value": pl.Float64,
        "std_error": pl.Float64,
        "qualifier": pl.String,
        "source": pl.String,
        "status": pl.String,
        "note": pl.String,
        "vintage": pl.Datetime("us"),
        "data_set": pl.String,
    },
    "forecasts": {
        "kpi_id": pl.String,
        "region": pl.String,
        "period": pl.Int32,
        "model": pl.String,
        "mean": pl.Float64,
        "q0.025": pl.Float64,
        "q0.1": pl.Float64,
        "q0.5": pl.Float64,
        "q0.9": pl.Float64,
        "q0.975": pl.Float64,
        "run_id": pl.String,
    },
    "forecast_samples": {
        "kpi_id": pl.String,
        "region": pl.String,
        "period": pl.Int32,
        "draw": pl.Int32,
        "value": pl.Float64,
    },
    "attainment": {
        "kpi_id": pl.String,
        "region": pl.String,
        "target_year": pl.Int32,
        "p_reach": pl.Float64,
        "status": pl.String,
        "likelihood": pl.String,
        "anticipated_growth": pl.Float64,
        "required_growth": pl.Float64,
        "expected_year": pl.Int32,
        "gap": pl.Float64,
        "last_value": pl.Float64,
        "last_year": pl.Int32,
        "model": pl.String,
        "run_id": pl.String,
    },
    "scores": {
        "scenario_id": pl.String,
        "period": pl.String,
        "scheme": pl.String,
        "total": pl.Float64,
        "grade": pl.String,
        "rank": pl.Int32,
        "rank_lo": pl.Int32,
        "rank_hi": pl.Int32,
        "p_grade_excellent": pl.Float64,
        "p_grade_good": pl.Float64,
        "p_grade_pass": pl.Float64,
        "p_grade_fail": pl.Float64,
        "benchmark": pl.Boolean,
        "missing_indicators": pl.String,
        "run_id": pl.String,
    },
    "scenarios": dict(tables.SCENARIOS),
    "explanations": {
        "scenario_id": pl.String,
        "period": pl.String,
        "dimension": pl.String,
        "indicator_id": pl.String,
        "raw_value": pl.Float64,
        "normalised": pl.Float64,
        "weight": pl.Float64,
        "contribution": pl.Float64,
    },
    "efficacy": {
        "scenario_id": pl.String,
        "outcome": pl.String,
        "method": pl.String,
        "effect": pl.Float64,
        "ci_lo": pl.Float64,
        "ci_hi": pl.Float64,
        "p_value": pl.Float64,
        "n_pre": pl.Int32,
        "n_post": pl.Int32,
        "status": pl.String,
        "run_id": pl.String,
    },
    "efficacy_series": {
        "scenario_id": pl.String,
        "outcome": pl.String,
        "period": pl.Date,
        "observed": pl.Float64,
        "fitted": pl.Float64,
        "counterfactual": pl.Float64,
    },
    "sensitivity": {
        "scheme": pl.String,
        "dimension": pl.String,
        "delta": pl.Float64,
        "scenario_id": pl.String,
        "rank": pl.Int32,
        "rank_change": pl.Int32,
    },
    "backtest_metrics": {
        "model": pl.String,
        "kind": pl.String,
        "horizon": pl.Int32,
        "metric": pl.String,
        "value": pl.Float64,
        "run_id": pl.String,
    },
    "calibration": {
        "model": pl.String,
        "bin_lo": pl.Float64,
        "bin_hi": pl.Float64,
        "predicted_mean": pl.Float64,
        "observed_freq": pl.Float64,
        "n": pl.Int64,
        "run_id": pl.String,
    },
    "rejects": dict(tables.REJECTS),
    "ingests": dict(tables.INGESTS),
    "runs": {
        "run_id": pl.String,
        "run_name": pl.String,
        "kind": pl.String,
        "status": pl.String,
        "start_time": pl.Datetime("us"),
        "end_time": pl.Datetime("us"),
        "params_json": pl.String,
        "metrics_json": pl.String,
        "alias": pl.String,
        "mlflow_url": pl.String,
    },
}

# Columns a publisher may leave out; the reader adds them as nulls so pages need not check.
OPTIONAL_COLUMNS: dict[str, frozenset[str]] = {
    "observations": frozenset({"std_error", "note", "data_set", "qualifier", "status", "vintage"}),
    "attainment": frozenset({"likelihood", "gap", "last_value", "last_year", "model", "expected_year"}),
    "scores": frozenset(
        {
            "benchmark",
            "missing_indicators",
            "p_grade_excellent",
            "p_grade_good",
            "p_grade_pass",
            "p_grade_fail",
        }
    ),
    "scenarios": frozenset({"outcome", "source", "budget", "owner", "street", "category"}),
    "efficacy": frozenset({"status", "run_id", "p_value"}),
    "runs": frozenset({"params_json", "metrics_json", "alias", "mlflow_url", "end_time"}),
    "calibration": frozenset({"run_id"}),
    "backtest_metrics": frozenset({"run_id"}),
}

# The values a few String columns may take; the dashboard's labels cover each of them.
ENUMS: dict[tuple[str, str], tuple[str, ...]] = {
    ("attainment", "status"): ("achieved", "on_track", "at_risk", "off_track"),
    ("kpis", "obligation"): ("expected", "binding"),
    ("scores", "grade"): ("优秀", "良好", "合格", "不合格"),
    ("scenarios", "domain"): ("life", "governance", "economy"),
    ("efficacy", "method"): ("its", "did"),
    ("efficacy", "status"): ("ok", "insufficient_data"),
    ("runs", "kind"): ("pipeline", "step", "forecast", "score"),
    ("observations", "data_set"): (SYNTHETIC_SOURCE, "published", "plan", "file"),
}


def conform(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Return ``frame`` with the contract's columns in order, cast to their dtypes.

    Optional columns that are missing are added as nulls; extra columns (such as ``dim_*`` in
    ``scores``) are kept after the contract's columns. The argument is not modified.

    Args:
        name: a key of :data:`TABLES`.
        frame: the table as read from Parquet.

    Returns:
        A new frame with every contract column present and typed.

    Raises:
        KeyError: ``name`` is not a published table.
        ValueError: a required column is missing (the message names it and the publisher to re-run).

    >>> out = conform("calibration", pl.DataFrame({"model": ["ets"], "bin_lo": [0.0], "bin_hi": [0.1],
    ...     "predicted_mean": [0.05], "observed_freq": [0.0], "n": [3]}))
    >>> out.columns[-1], out["run_id"].to_list()
    ('run_id', [None])
    """
    if name not in TABLES:
        raise KeyError(f"{name!r} is not a published table; known tables: {', '.join(TABLES)}")
    columns = TABLES[name]
    optional = OPTIONAL_COLUMNS.get(name, frozenset())
    missing = [c for c in columns if c not in frame.columns and c not in optional]
    if missing:
        raise ValueError(
            f"published table {name!r} lacks the column(s) {missing}; re-run `dtscope run` to republish it"
        )
    exprs = [
        (pl.col(c) if c in frame.columns else pl.lit(None)).cast(dtype, strict=False).alias(c)
        for c, dtype in columns.items()
    ]
    extra = [pl.col(c) for c in frame.columns if c not in columns]
    return frame.select([*exprs, *extra])
