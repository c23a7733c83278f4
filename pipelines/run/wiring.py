"""Thin wiring of the steps: read from the warehouse, call the pure step, track it, hand back tables.

Each function here owns no maths: it loads inputs through the warehouse, calls the pure step
(:func:`pipelines.steps.score.score_scenarios`, :func:`pipelines.steps.forecast.forecast_all`), logs what it did to an
MLflow run, and returns the tables to publish, each carrying the ``run_id`` that produced it.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from pipelines.io.kpi_registry import Registry
from pipelines.io.warehouse import IngestSummary, Warehouse
from pipelines.steps.ingest import validate_table
from pipelines.tracking.tracker import Tracker

log = logging.getLogger(__name__)

SCORE_TABLES = (
    "scores",
    "efficacy",
    "explanations",
    "sensitivity",
    "efficacy_series",
    "acceptability",
    "event_study",
    "weights",
)


class NoDataError(RuntimeError):
    """A step has nothing to work on; the message says which command loads it."""


def with_run_id(frame: pl.DataFrame, run_id: str) -> pl.DataFrame:
    """Add (or overwrite) the ``run_id`` column.

    >>> with_run_id(pl.DataFrame({"a": [1]}), "r1").columns
    ['a', 'run_id']
    """
    return frame.with_columns(pl.lit(run_id).alias("run_id"))


def ingest_frame(
    warehouse: Warehouse, registry: Registry, frame: pl.DataFrame, *, label: str
) -> IngestSummary:
    """Ingest a long-layout frame (string columns) produced by a step, like a file named ``label``.

    The rows are dtscope's own (provenance ``derived``), whatever their ``source`` says.
    """
    raw = frame.with_row_index("row", offset=2).with_columns(pl.col("row").cast(pl.Int64))
    result = validate_table(raw, registry, file_label=label)
    digest = hashlib.sha256(frame.write_csv().encode("utf-8")).hexdigest()
    return warehouse.ingest(result, file=label, file_sha256=digest, provenance="derived")


def _mean(series: pl.Series) -> float:
    """Mean of a numeric series as a float, 0.0 when empty (MLflow metrics must be numbers).

    >>> _mean(pl.Series([1.0, 3.0])), _mean(pl.Series([], dtype=pl.Float64))
    (2.0, 0.0)
    """
    value = series.cast(pl.Float64).mean()
    return float(value) if isinstance(value, int | float) else 0.0


@dataclass(frozen=True)
class ScoreOutput:
    """What the score step hands back."""

    run_id: str
    tables: dict[str, pl.DataFrame]
    period: str
    scheme_label: str
    benchmark_ingest: IngestSummary


def score_step(
    warehouse: Warehouse,
    registry: Registry,
    tracker: Tracker,
    *,
    scheme_path: Path | None = None,
    period: str | None = None,
    n_draws: int = 2000,
    seed: int = 0,
    parent: str | None = None,
) -> ScoreOutput:
    """Score every scenario in the warehouse with a scheme, tracked as one MLflow run.

    Raises:
        NoDataError: the warehouse holds no scenarios (load them with ``dtscope demo`` or ``dtscope ingest``).
        evaluation.assessment.scheme.SchemeError / pipelines.steps.score.MetricsError: bad scheme or metrics.
    """
    from evaluation.assessment.scheme import DEFAULT_SCHEME, load_scheme
    from pipelines.steps.score import score_scenarios

    scenarios = warehouse.table("scenarios")
    if scenarios.height == 0:
        raise NoDataError(f"{warehouse.path} holds no scenarios: run `dtscope demo` first")
    metrics = warehouse.table("scenario_metrics")
    outcomes = warehouse.table("street_outcomes")
    path = scheme_path or DEFAULT_SCHEME
    scheme = load_scheme(path)
    scheme_text = Path(path).read_text(encoding="utf-8")
    params: dict[str, Any] = {
        "scheme": scheme.label,
        "scheme_path": str(path),
        "scheme_sha256": hashlib.sha256(scheme_text.encode()).hexdigest()[:16],
        "period": period or "latest",
        "n_draws": n_draws,
        "seed": seed,
        "n_scenarios": scenarios.height,
    }
    with tracker.run("score", parent=parent, params=params, tags={"dtscope.step": "score"}) as run_id:
        result = score_scenarios(
            scenarios, metrics, outcomes, scheme, period=period, n_draws=n_draws, seed=seed
        )
        tables = {name: with_run_id(getattr(result, name), run_id) for name in SCORE_TABLES}
        scores = result.scores
        scored = scores.filter(pl.col("total").is_not_null()) if "total" in scores.columns else scores
        eff = result.efficacy
        metrics_out = {
            "scenarios_scored": float(scored.height),
            "benchmark_scenarios": float(scores["benchmark"].sum()) if "benchmark" in scores.columns else 0.0,
            "efficacy_estimates": float(eff.filter(pl.col("status") == "ok").height),
            "efficacy_insufficient": float(eff.filter(pl.col("status") != "ok").height),
            "mean_total": _mean(scored["total"]),
            "mean_rank_interval_width": _mean(scored["rank_hi"] - scored["rank_lo"]),
        }
        tracker.log_metrics(run_id, metrics_out)
        tracker.log_text(run_id, scheme_text, "scheme.yaml")
        for name in ("scores", "efficacy", "explanations"):
            tracker.log_table(run_id, tables[name], name)
        summary = ingest_frame(
            warehouse,
            registry,
            result.benchmark_observations,
            label=f"dtscope score ({scheme.label}, {result.period})",
        )
        tracker.log_metrics(run_id, {"benchmark_observations_written": float(summary.accepted)})
        version = tracker.register_scheme(run_id, Path(path), label=scheme.label)
        tracker.set_tags(run_id, {"dtscope.scheme_version": version.version})
    return ScoreOutput(run_id, tables, result.period, scheme.label, summary)
