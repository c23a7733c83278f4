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
    results = [GroupResult(f"g{i}", "champ", pl.DataFrame(), pl.DataFrame(), f) for i, f in enumerate(frames)]
    _, calibration = backtest_tables(results, {"g0": "count", "g1": "share"}, prior=recal.DEFAULT_PRIOR)
    raw = pl.concat(frames).select(pl.col("p_k1.0").alias("p"), pl.col("event_k1.0").alias("e"))
    # the panel as simulated is badly calibrated: bins of 0.3 say about 0.16 happens
    b = np.clip((raw["p"].to_numpy() * 10).astype(int), 0, 9)
    raw_gap = max(
        abs(raw["e"].to_numpy()[b == k].mean() - raw["p"].to_numpy()[b == k].mean()) for k in np.unique(b)
    )
    assert raw_gap > 0.10
    assert _worst_gap(calibration) <= 0.05


def test_final_map_recovers_the_known_probabilities_and_keeps_exact_outcomes() -> None:
    frames, truth = _pulled_panel(n_series=40, rows=60, seed=2)
    m = recal.fit_by_kind(frames)[""]  # frames without a kind column form one kind
    pulled = pl.concat(frames)["p_k1.0"].to_numpy()
    assert np.abs(pulled - truth).max() > 0.12
    assert np.abs(m.apply(pulled) - truth).max() < 0.04  # the pull was a slope of ½ on the logit scale
    assert m.apply(np.array([0.0, 1.0])).tolist() == [0.0, 1.0]


def test_thin_panel_borrows_the_reference() -> None:
    ref = (np.array([0.2, 0.5, 0.8]), np.array([0.2, 0.5, 0.8]), np.array([100.0, 100.0, 100.0]))
    thin = recal.fit_map(np.array([0.3, 0.7]), np.array([0.0, 1.0]), prior=25.0, reference=ref)
    own = recal.fit_map(np.array([0.3, 0.7]), np.array([0.0, 1.0]), prior=0.0, reference=ref)
    assert thin.weight < 0.1 and abs(float(thin.apply(np.array([0.7]))[0]) - 0.7) < 0.1  # near the identity
    assert float(own.apply(np.array([0.7]))[0]) > 0.99  # two separated outcomes alone: near-certain


def _confident_misses(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A fold like one of the 2-district demo's counts: nine events the champion gave 0.005, the rest
    events somewhat rarer than said."""
    rng = np.random.default_rng(seed)
    bulk = rng.uniform(0.02, 0.5, 130)
    event = (rng.uniform(size=bulk.size) < 0.6 * bulk).astype(float)
    return np.concatenate([np.full(9, 0.005), bulk]), np.concatenate([np.ones(9), event])


def test_confident_misses_give_a_finite_monotone_map() -> None:
    """The undamped Newton iteration ran off to |slope| ~ 1e10 on such pairs (the published count Brier on
    two validation draws was 0.50); the damped one converges, and the map rises with p."""
    for seed in range(5):
        p, e = _confident_misses(seed)
        m = recal.fit_map(p, e)
        grid = np.linspace(0.001, 0.999, 200)
        mapped = m.apply(grid)
        assert np.all(np.isfinite([m.a, m.b, m.c])) and max(abs(m.a), abs(m.b), abs(m.c)) < 50
        assert m.a >= 0 and m.b >= 0 and np.all(np.diff(mapped) >= -1e-12)
        assert np.mean((m.apply(p) - e) ** 2) < np.mean((p - e) ** 2)  # better than not mapping (in sample)


def test_beta_map_holds_platts() -> None:
    """Platt's map is the beta map with a = b: on pairs pulled symmetrically the two fits agree."""
    frames, _ = _pulled_panel(n_series=40, rows=60, seed=3)
    p = pl.concat(frames)["p_k1.0"].to_numpy()
    e = pl.concat(frames)["event_k1.0"].to_numpy()
    beta, platt = recal.fit_map(p, e), recal.fit_platt(p, e)
    grid = np.linspace(0.05, 0.95, 19)
    assert platt.a == platt.b
    assert np.abs(beta.apply(grid) - platt.apply(grid)).max() < 0.05


def test_the_horizon_stage_undoes_a_pull_that_grows_with_the_horizon() -> None:
    # calibrated one year ahead, pulled towards ½ further out (as the district panels' backtests are): one
    # map per kind can only split the difference; its per-horizon stage recovers each horizon's truth
    rng = np.random.default_rng(4)
    n = 6000
    h = rng.integers(1, 4, n)
    truth = rng.uniform(0.03, 0.97, n)
    slope = np.array([0.0, 1.0, 0.7, 0.4])[h]
    p = 1 / (1 + np.exp(-slope * np.log(truth / (1 - truth))))
    frame = pl.DataFrame(
        {
            "series_id": [f"kpi_{i % 300}/district" for i in range(n)],
            "h": h,
            "p_k1.0": p,
            "event_k1.0": (rng.uniform(size=n) < truth).astype(float),
        }
    )
    with_stage = recal.fit_by_kind([frame])[""]
    kind_only = recal.fit_by_kind([frame], horizon_prior=None)[""]
    assert set(with_stage.by_horizon) == {1, 2, 3} and not kind_only.by_horizon
    for k in (1, 2, 3):
        at = h == k
        # mean absolute error against the known probabilities, per horizon
        assert np.abs(with_stage.apply(p[at], k) - truth[at]).mean() < 0.035, k
    # the kind's map alone leaves the near horizon too sharp and the far one too flat
    for k in (1, 3):
        assert np.abs(kind_only.apply(p[h == k]) - truth[h == k]).mean() > 0.04, k
    # a horizon beyond the longest backtested one is read by the longest's map
    assert with_stage.apply(p[:5], 7).tolist() == with_stage.apply(p[:5], 3).tolist()
