"""Published backtest metrics come from the metric registry; Brier diagnostics add up (property tests)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation.forecasting.origin_backtest import PUBLISHED_NAMES, backtest_summary, series_summary
from models.metrics import METRICS


def _oracle(frame: pl.DataFrame) -> list[pl.Expr]:
    """The published metrics as they were written before the registry (an independent oracle)."""
    y, m, s = pl.col("y"), pl.col("mean"), pl.col("raw_scale")

    def pin(col: str, p: float) -> pl.Expr:
        d = y - pl.col(col)
        return pl.max_horizontal(p * d, (p - 1) * d) / s

    p_cols = [c for c in frame.columns if c.startswith("p_k")]
    brier = pl.mean_horizontal([(pl.col(c) - pl.col(c.replace("p_k", "event_k"))) ** 2 for c in p_cols])
    lo, hi = pl.col("q0.025"), pl.col("q0.975")
    return [
        ((y - m).abs() / s).mean().alias("mase"),
        (200 * (y - m).abs() / (y.abs() + m.abs())).fill_nan(0.0).mean().alias("smape"),
        (100 * ((y >= pl.col("q0.1")) & (y <= pl.col("q0.9"))).cast(pl.Float64)).mean().alias("coverage80"),
        (100 * ((y >= lo) & (y <= hi)).cast(pl.Float64)).mean().alias("coverage95"),
        (((hi - lo) + 40 * (lo - y).clip(0) + 40 * (y - hi).clip(0)) / s).mean().alias("msis"),
        (2 * (pin("q0.1", 0.1) + pin("q0.5", 0.5) + pin("q0.9", 0.9)) / 3).mean().alias("crps"),
        brier.mean().alias("brier"),
        pl.len().cast(pl.Float64).alias("n"),
    ]


def _backtest_rows(seed: int, n: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.normal(10, 3, n)
    y[:3] = 0.0
    mean = y + rng.normal(0, 2, n)
    mean[0] = 0.0  # a 0/0 sMAPE row
    spread = rng.uniform(0.1, 4, n)
    scale = rng.uniform(0.5, 2, n).tolist()
    scale[1] = None  # a flat training window: undefined scale
    cols = {
        f"q{p}": mean + z * spread
        for p, z in ((0.025, -2.0), (0.1, -1.3), (0.5, 0.0), (0.9, 1.3), (0.975, 2.0))
    }
    events = {}
    for k in (0.5, 1.0, 1.5):
        events[f"p_k{k}"] = rng.uniform(0, 1, n)
        events[f"event_k{k}"] = (rng.uniform(0, 1, n) < 0.5).astype(float)
    return pl.DataFrame(
        {
            "series_id": rng.choice(["a", "b", "c"], n),
            "h": rng.integers(1, 4, n),
            "y": y,
            "mean": mean,
            "raw_scale": scale,
            **cols,
            **events,
        }
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_published_metrics_equal_the_formulas_they_replaced(seed: int) -> None:
    frame = _backtest_rows(seed, 200)
    summary = backtest_summary(frame)
    assert summary["metric"].unique(maintain_order=True).to_list() == [*PUBLISHED_NAMES.values(), "n"]
    overall = frame.select(_oracle(frame)).with_columns(pl.lit(0, dtype=pl.Int64).alias("h"))
    per_h = frame.group_by("h").agg(_oracle(frame)).select(overall.columns)
    expected = pl.concat([overall, per_h])
    for row in expected.iter_rows(named=True):
        got = dict(summary.filter(pl.col("h") == row["h"]).select("metric", "value").iter_rows())
        for name, value in row.items():
            if name != "h":
                assert got[name] == pytest.approx(value, rel=1e-12, abs=1e-12), (row["h"], name)
    wide = series_summary(frame)
    oracle = frame.group_by("series_id").agg(_oracle(frame)).sort("series_id")
    assert wide.columns == oracle.columns
    np.testing.assert_allclose(
        wide.drop("series_id").to_numpy(), oracle.drop("series_id").to_numpy(), rtol=1e-12
    )


def test_every_registered_metric_is_published() -> None:
    assert set(PUBLISHED_NAMES) == set(METRICS)
    assert len(set(PUBLISHED_NAMES.values())) == len(METRICS)


probabilities = st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=1, max_size=60)


@settings(max_examples=80, deadline=None)
@given(probabilities, st.data())
def test_brier_decomposition_adds_up_and_keeps_its_signs(p: list[float], data: st.DataObject) -> None:
    from evaluation.forecasting.origin_backtest import brier_decomposition

    e = data.draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=len(p), max_size=len(p)))
    d = brier_decomposition(np.array(p), np.array(e))
    assert d["brier"] == pytest.approx(np.mean((np.array(p) - np.array(e)) ** 2))
    assert d["reliability"] - d["resolution"] + d["uncertainty"] + d["within"] == pytest.approx(d["brier"])
    assert d["reliability"] >= 0 and d["resolution"] >= 0
    assert d["uncertainty"] == pytest.approx(np.mean(e) * (1 - np.mean(e)))


def test_brier_decomposition_of_calibrated_bins_has_no_reliability_term_and_refuses_bad_input() -> None:
    from evaluation.forecasting.origin_backtest import brier_decomposition

    # one value per bin, each bin's frequency equal to its probability: calibrated, nothing left within
    p = np.array([0.25] * 4 + [0.75] * 4)
    e = np.array([1.0, 0, 0, 0, 1, 1, 1, 0])
    d = brier_decomposition(p, e)
    assert d["reliability"] == pytest.approx(0.0) and d["within"] == pytest.approx(0.0)
    assert d["resolution"] == pytest.approx(0.0625)
    with pytest.raises(ValueError, match="as many"):
        brier_decomposition(np.array([0.5]), np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match="0 or 1"):
        brier_decomposition(np.array([0.5]), np.array([0.5]))


def test_best_common_shift_refuses_mismatched_or_invalid_input() -> None:
    from evaluation.forecasting.origin_backtest import best_common_shift

    # one outcome must not be broadcast over many probabilities
    with pytest.raises(ValueError, match="as many"):
        best_common_shift(np.array([0.2, 0.7]), np.array([1.0]))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        best_common_shift(np.array([np.nan, 0.7]), np.array([1.0, 0.0]))


@settings(max_examples=60, deadline=None)
@given(probabilities, st.data())
def test_best_common_shift_never_scores_worse_than_no_shift(p: list[float], data: st.DataObject) -> None:
    from evaluation.forecasting.origin_backtest import best_common_shift

    e = np.array(data.draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=len(p), max_size=len(p))))
    pa = np.clip(np.array(p), 1e-6, 1 - 1e-6)
    _, brier = best_common_shift(pa, e)
    assert brier <= np.mean((pa - e) ** 2) + 1e-12
    # a panel whose events all happened is helped by raising every probability, one where none did by lowering
    inner = np.clip(pa, 0.05, 0.95)
    assert best_common_shift(inner, np.ones_like(inner))[0] > 0
    assert best_common_shift(inner, np.zeros_like(inner))[0] < 0
