"""Synthetic annual KPI series for the forecast step's group tests, built in code (data set "synthetic")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pipelines.steps.forecast import KPI_CONFIG, GroupTask, SeriesSpec


def group_task(
    name: str,
    kpi_id: str,
    kind: str,
    bounds: tuple[float | None, float | None],
    precision: float,
    values: Mapping[str, Sequence[float]],
    *,
    first_year: int,
    horizon: int,
) -> GroupTask:
    """One group of ``kpi_id`` series of ``kind`` within ``bounds`` (lower, upper), one per region of
    ``values`` (yearly from ``first_year``), with the pipeline's champion settings and 3 backtest
    origins; no survey error, not cumulative."""
    lower, upper = bounds
    specs = tuple(
        SeriesSpec(
            kpi_id,
            region,
            kind,
            lower,
            upper,
            cumulative=False,
            survey=False,
            precision=precision,
            years=tuple(range(first_year, first_year + len(vals))),
            values=tuple(float(v) for v in vals),
            std_error=0.0,
            data_set="synthetic",
        )
        for region, vals in values.items()
    )
    return GroupTask(name, specs, horizon, KPI_CONFIG, 3)
