"""Metrics: one signature, one row per series, sane ranges (property tests)."""

from __future__ import annotations

import inspect

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation.forecasting import metrics
from evaluation.forecasting.metrics import METRICS, evaluate

vals = st.lists(st.floats(0.1, 1e4, allow_nan=False), min_size=1, max_size=12)


def _frame(y: list[float], f: list[float], width: float = 1.0) -> pl.DataFrame:
    n = min(len(y), len(f))
    fa = np.array(f[:n])
    return pl.DataFrame(
        {
            "series_id": ["a"] * n,
            "y": y[:n],
            "m": f[:n],
            "m-lo-80": fa - width,
            "m-hi-80": fa + width,
            "m-lo-95": fa - 2 * width,
            "m-hi-95": fa + 2 * width,
        }
    )


def test_registry_lists_every_metric_with_one_signature() -> None:
    public = {
        n
        for n, obj in vars(metrics).items()
        if inspect.isfunction(obj)
        and obj.__module__ == metrics.__name__
        and not n.startswith("_")
        and n != "evaluate"
    }
    assert public == set(METRICS)
    ref = inspect.signature(METRICS["smape_error"]).parameters.keys()
    for fn in METRICS.values():
        assert inspect.signature(fn).parameters.keys() == ref


@settings(max_examples=80, deadline=None)
@given(y=vals, f=vals)
def test_smape_within_0_and_200_and_zero_when_perfect(y: list[float], f: list[float]) -> None:
    s = metrics.smape_error(_frame(y, f), ["m"])["m"][0]
    assert 0.0 <= s <= 200.0
    assert metrics.smape_error(_frame(y, y), ["m"])["m"][0] == 0.0


@settings(max_examples=80, deadline=None)
@given(y=vals, f=vals, width=st.floats(0.0, 100.0))
def test_coverage_is_a_share_and_wider_intervals_cover_more(
    y: list[float], f: list[float], width: float
) -> None:
    fr = _frame(y, f, width)
    c80 = metrics.coverage(fr, ["m"], level=80)["m"][0]
    c95 = metrics.coverage(fr, ["m"], level=95)["m"][0]
    assert 0.0 <= c80 <= c95 <= 1.0


@settings(max_examples=50, deadline=None)
@given(y=vals, f=vals)
def test_mase_scales_mae_by_naive_error(y: list[float], f: list[float]) -> None:
    train = pl.DataFrame({"series_id": ["a"] * 3, "y": [0.0, 2.0, 4.0]})
    fr = _frame(y, f)
    mae = float(np.mean(np.abs(fr["y"].to_numpy() - fr["m"].to_numpy())))
    assert metrics.mase_error(fr, ["m"], train=train)["m"][0] == pytest.approx(mae / 2.0)


def test_msis_and_brier_hand_cases() -> None:
    fr = pl.DataFrame({"series_id": ["a", "b"], "y": [1.0, 0.0], "m": [1.0, 1.0]})
    assert metrics.brier_loss(fr, ["m"])["m"].to_list() == [0.0, 1.0]
    with pytest.raises(ValueError, match="train="):
        metrics.mase_error(fr, ["m"])
    with pytest.raises(ValueError, match="level="):
        metrics.coverage(fr, ["m"])


def test_evaluate_stacks_long_and_rejects_unknown() -> None:
    fr = _frame([1.0, 2.0], [1.5, 2.5])
    out = evaluate(fr, ["smape_error", ("coverage", 80)], ["m"])
    assert out.columns == ["series_id", "metric", "m"]
    assert out["metric"].to_list() == ["smape_error", "coverage-80"]
    with pytest.raises(KeyError, match="known metrics"):
        evaluate(fr, ["rmse"], ["m"])


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
