"""dtscope run: a group larger than a chunk is fitted in chunks on the executor, with the same numbers."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from models.champion import ChampionConfig
from pipelines.run.executors import InProcess
from pipelines.steps import forecast as F


def _task(n: int = 60, seed: int = 3) -> F.GroupTask:
    rng = np.random.default_rng(seed)
    specs = []
    for i in range(n):
        years = tuple(range(2010, 2024))
        values = tuple(float(v) for v in 100 * np.exp(np.cumsum(rng.normal(0.05, 0.08, len(years)))))
        specs.append(
            F.SeriesSpec(f"k{i}", "r", "count", 0.0, None, False, False, 1.0, years, values, 0.0, "synthetic")
        )
    cfg = ChampionConfig(members=("drift", "naive", "theta_np", "pooled"), n_origins=4, min_train=4)
    return F.GroupTask("count:log", tuple(specs), 3, cfg, n_origins=2)


@pytest.mark.slow
def test_a_large_group_in_chunks_gives_the_numbers_of_the_group_whole() -> None:
    task = _task()
    whole = F.forecast_group(task)
    seen: list[tuple[str, int, int]] = []
    [chunked] = F.forecast_groups([task], InProcess(), chunk=25, progress=lambda *a: seen.append(a))
    cols = ["mean", *F.QUANTILE_COLUMNS]
    assert chunked.forecasts.select("kpi_id", "period").equals(whole.forecasts.select("kpi_id", "period"))
    np.testing.assert_allclose(
        chunked.forecasts.select(cols).to_numpy(), whole.forecasts.select(cols).to_numpy(), rtol=0, atol=1e-9
    )
    assert chunked.champion == whole.champion and seen[-1] == ("forecast", 60, 60)
    assert pl.concat([chunked.samples, whole.samples]).height == 2 * whole.samples.height
