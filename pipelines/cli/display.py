"""Frames shaped for the terminal: joins, sorts and rounding the commands print (no I/O here)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from pipelines.steps.series import data_set_expr

__all__ = [
    "attainment_summary",
    "model_versions",
    "observations_by_data_set",
    "rejects_by_reason",
    "top_scenarios",
]

# How each data set is named on the terminal (the classifier is pipelines.steps.series.data_set_expr, which
# reads the loader-set provenance: an uploaded file is "uploaded" whatever its source column claims).
DATA_SET_LABELS = {
    "synthetic-demo": "synthetic-demo (SYNTHETIC)",
    "plan": "plan baselines (real, shipped)",
    "file": "uploaded files (user's own, not vouched)",
    "derived": "derived by dtscope",
    "published": "published figures (real, shipped)",
}


def top_scenarios(scores: pl.DataFrame, scenarios: pl.DataFrame, *, n: int = 5) -> pl.DataFrame:
    """The ``n`` best-ranked scored scenarios per region, with their names, grade and rank interval."""
    return (
        scores.join(scenarios.select("scenario_id", "name_zh"), on="scenario_id")
        .filter(pl.col("total").is_not_null())
        .sort("region", "rank")
        .group_by("region", maintain_order=True)
        .head(n)
        .select(
            "region",
            "scenario_id",
            "name_zh",
            pl.col("total").round(1),
            "grade",
            pl.format("{} ({}–{})", pl.col("rank"), pl.col("rank_lo"), pl.col("rank_hi")).alias(
                "rank (5–95%)"
            ),
            "benchmark",
        )
    )


def observations_by_data_set(observations: pl.DataFrame) -> pl.DataFrame:
    """Observation, KPI and region counts per data set, largest first."""
    return (
        observations.with_columns(data_set_expr())
        .group_by(
            pl.col("data_set").replace_strict(DATA_SET_LABELS, default=pl.col("data_set")).alias("data set")
        )
        .agg(
            pl.len().alias("observations"),
            pl.col("kpi_id").n_unique().alias("kpis"),
            pl.col("region").n_unique().alias("regions"),
        )
        .sort("observations", "data set", descending=[True, False])
    )


def rejects_by_reason(rejects: pl.DataFrame) -> pl.DataFrame:
    """Reject counts per reason code, largest first."""
    return rejects.group_by("reason_code").len().sort("len", "reason_code", descending=[True, False])


def attainment_summary(attainment: pl.DataFrame) -> pl.DataFrame:
    """The attainment table as a run prints it: by region and KPI, probabilities and growths rounded."""
    return attainment.sort("region", "kpi_id").select(
        "region",
        "kpi_id",
        "target_year",
        pl.col("p_reach").round(2),
        "status",
        "likelihood",
        pl.col("anticipated_growth").round(3),
        pl.col("required_growth").round(3),
        "data_set",
    )


def model_versions(versions: Sequence[Any]) -> pl.DataFrame:
    """Registered model versions (objects with version, aliases, config_hash, run_id, tags) as a table."""
    rows = [
        {
            "version": v.version,
            "aliases": ",".join(v.aliases),
            "config_hash": v.config_hash,
            "run_id": v.run_id,
            "scores": "; ".join(
                f"{k[6:]}: {val}" for k, val in sorted(v.tags.items()) if k.startswith("score:")
            ),
        }
        for v in versions
    ]
    return pl.DataFrame(
        rows,
        schema={
            "version": pl.String,
            "aliases": pl.String,
            "config_hash": pl.String,
            "run_id": pl.String,
            "scores": pl.String,
        },
    )
