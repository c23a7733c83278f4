"""Attainment recalibration: a panel's probabilities pulled towards ½ come back to what happens."""

from __future__ import annotations

import numpy as np
import polars as pl

from evaluation.forecasting import recalibration as recal
from pipelines.steps.forecast import GroupResult, backtest_tables


def _pulled_panel(n_series: int, rows: int, seed: int) -> tuple[list[pl.DataFrame], np.ndarray]:
    """Backtest frames whose probabilities are the known ones pulled halfway to ½ on the logit scale."""
    rng = np.random.default_rng(seed)
    frames, truths = [], []
    for g in range(2):
        sid = [f"kpi{g}_{i}/district" for i in range(n_series) for _ in range(rows)]
        truth = rng.uniform(0.03, 0.97, len(sid))
        pulled = 1 / (1 + np.exp(-0.5 * np.log(truth / (1 - truth))))
        event = (rng.uniform(size=truth.size) < truth).astype(float)
        frames.append(
            pl.DataFrame(
                {
                    "series_id": sid,
                    "h": np.tile(np.arange(1, 4), truth.size // 3 + 1)[: truth.size],
                    "y": 1.0,
                    "mean": 1.0,
                    "raw_scale": 1.0,
                    "q0.025": 0.0,
                    "q0.1": 0.5,
                    "q0.5": 1.0,
                    "q0.9": 1.5,
                    "q0.975": 2.0,
                    "p_k1.0": pulled,
                    "event_k1.0": event,
                }
            )
        )
        truths.append(truth)
    return frames, np.concatenate(truths)


def _worst_gap(calibration: pl.DataFrame, min_n: int = 100) -> float:
    big = calibration.filter(pl.col("n") >= min_n)
    return float((big["observed_freq"] - big["predicted_mean"]).abs().max())


def test_published_reliability_undoes_a_pull_towards_half() -> None:
    frames, _ = _pulled_panel(n_series=40, rows=60, seed=1)
    results = [
        GroupResult(f"g{i}", "champ", pl.DataFrame(), pl.DataFrame(), f) for i, f in enumerate(frames)
    ]
    _, calibration = backtest_tables(results, {"g0": "count", "g1": "share"})
    raw = pl.concat(frames).select(pl.col("p_k1.0").alias("p"), pl.col("event_k1.0").alias("e"))
    # the panel as simulated is badly calibrated: bins of 0.3 say about 0.16 happens
    b = np.clip((raw["p"].to_numpy() * 10).astype(int), 0, 9)
    raw_gap = max(
        abs(raw["e"].to_numpy()[b == k].mean() - raw["p"].to_numpy()[b == k].mean()) for k in np.unique(b)
    )
    assert raw_gap > 0.10
    assert _worst_gap(calibration) <= 0.05


def test_final_map_recovers_the_known_slope_and_keeps_exact_outcomes() -> None:
    frames, _ = _pulled_panel(n_series=40, rows=60, seed=2)
    m = recal.fit_by_kind(frames)[""]  # frames without a kind column form one kind
    assert 1.7 < m.b < 2.3 and abs(m.a) < 0.2  # the pull was a slope of ½ on the logit scale
    assert m.apply(np.array([0.0, 1.0])).tolist() == [0.0, 1.0]


def test_thin_panel_borrows_the_reference() -> None:
    ref = (np.array([0.2, 0.5, 0.8]), np.array([0.2, 0.5, 0.8]), np.array([100.0, 100.0, 100.0]))
    thin = recal.fit_platt(np.array([0.3, 0.7]), np.array([0.0, 1.0]), prior=25.0, reference=ref)
    own = recal.fit_platt(np.array([0.3, 0.7]), np.array([0.0, 1.0]), prior=0.0, reference=ref)
    assert abs(thin.b - 1.0) < 0.5 and thin.weight < 0.1  # close to the (identity) reference
    assert own.b > 5  # two separated outcomes alone would make it near-certain
