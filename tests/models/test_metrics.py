"""The metric registry: none forgotten, one signature, names that say direction, sane ranges."""

from __future__ import annotations

import inspect

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models import metrics
from models.metrics import METRICS, ForecastRows, evaluate, score

vals = st.lists(st.floats(0.1, 1e4, allow_nan=False), min_size=1, max_size=12)


def _rows(y: list[float], f: list[float], width: float = 1.0, scale: float = 1.0) -> ForecastRows:
    n = min(len(y), len(f))
    fa = np.array(f[:n])
    return ForecastRows(
        y=np.array(y[:n]),
        point=fa,
        scale=np.full(n, scale),
        quantiles={0.025: fa - 2 * width, 0.1: fa - width, 0.5: fa, 0.9: fa + width, 0.975: fa + 2 * width},
    )


def test_registry_lists_every_metric_with_one_signature_and_a_direction() -> None:
    public = {
        n
        for n, obj in vars(metrics).items()
        if inspect.isfunction(obj) and obj.__module__ == metrics.__name__ and not n.startswith("_")
    }
    # besides the metrics: scoring helpers and the PIT reading of a discrete forecast's coverage
    assert public - {"score", "metric", "evaluate", "pit_coverage"} == set(METRICS)
    for name, fn in METRICS.items():
        assert list(inspect.signature(fn).parameters) == ["rows"], name
        assert name.endswith(("_error", "_loss")) or name.startswith("coverage"), name
    # every metric scores full rows, one finite loss per row
    rows = _rows([1.0, 2.0], [1.5, 2.5])
    rows = ForecastRows(**{**rows.__dict__, "prob": np.full((2, 3), 0.5), "event": np.ones((2, 3))})
    for name, fn in METRICS.items():
        loss = fn(rows)
        assert loss.shape == (2,) and np.all(np.isfinite(loss)), name


@settings(max_examples=80, deadline=None)
@given(y=vals, f=vals)
def test_smape_within_0_and_200_and_zero_when_perfect(y: list[float], f: list[float]) -> None:
    assert 0.0 <= score(_rows(y, f), "smape_error") <= 200.0
    assert score(_rows(y, y), "smape_error") == 0.0


@settings(max_examples=80, deadline=None)
@given(y=vals, f=vals, width=st.floats(0.0, 100.0))
def test_coverage_is_a_percentage_and_wider_intervals_cover_more(
    y: list[float], f: list[float], width: float
) -> None:
    rows = _rows(y, f, width)
    c80, c95 = score(rows, "coverage80"), score(rows, "coverage95")
    assert 0.0 <= c80 <= c95 <= 100.0


@settings(max_examples=50, deadline=None)
@given(y=vals, f=vals)
def test_mase_scales_mae_by_the_scale(y: list[float], f: list[float]) -> None:
    rows = _rows(y, f, scale=2.0)
    mae = float(np.mean(np.abs(rows.y - rows.point)))  # type: ignore[operator]
    assert score(rows, "mase_error") == pytest.approx(mae / 2.0)


def test_hand_cases_and_missing_inputs_say_what_is_needed() -> None:
    rows = ForecastRows(y=np.zeros(2), prob=np.array([[1.0], [0.0]]), event=np.array([[1.0], [1.0]]))
    assert metrics.brier_loss(rows).tolist() == [0.0, 1.0]
    r = ForecastRows(
        y=np.array([5.0]), scale=np.array([1.0]), quantiles={0.025: np.zeros(1), 0.975: np.ones(1) * 2}
    )
    assert metrics.msis_error(r).tolist() == [2.0 + 40 * 3.0]
    with pytest.raises(ValueError, match="needs the rows' scale"):
        metrics.mase_error(ForecastRows(y=np.ones(1), point=np.ones(1)))
    with pytest.raises(ValueError, match=r"needs the 0\.1 quantile"):
        metrics.coverage80(ForecastRows(y=np.ones(1)))
    # an undefined scale leaves its row out of the mean instead of making the score huge or NaN
    undefined = ForecastRows(y=np.array([1.0, 3.0]), point=np.zeros(2), scale=np.array([1.0, np.nan]))
    assert score(undefined, "mase_error") == 1.0


def test_evaluate_is_long_per_group_and_rejects_unknown() -> None:
    fr = pl.DataFrame(
        {
            "series_id": ["a", "a", "b"],
            "y": [1.0, 2.0, 4.0],
            "mean": [1.5, 2.5, 4.0],
            "raw_scale": [1.0, 1.0, 2.0],
        }
    )
    out = evaluate(fr, ["smape_error", "mase_error", "coverage80"], by=["series_id"])
    assert out.columns == ["series_id", "metric", "value"]
    assert out.filter(pl.col("metric") == "mase_error").rows() == [
        ("a", "mase_error", 0.5),
        ("b", "mase_error", 0.0),
    ]
    # a metric the frame has no inputs for (no quantiles) scores null rather than failing the others
    assert out.filter(pl.col("metric") == "coverage80")["value"].null_count() == 2
    with pytest.raises(KeyError, match="known metrics"):
        evaluate(fr, ["rmse"])
