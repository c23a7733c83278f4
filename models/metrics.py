"""Forecast metrics: one registry, one signature, one long output shape.

Every metric is ``metric(rows: ForecastRows) -> np.ndarray``: the loss of each forecast row, shape
``(n,)``, NaN where it is undefined (a scaled metric on a row whose scale is undefined). A score is the
mean of a metric's losses over the rows that define it; :func:`evaluate` takes those means per group
and returns the long frame ``<by…>, metric, value``. The champion ranks its candidates with these
losses, the pipeline publishes them as ``backtest_metrics``, the bench scores every method with them.

Names say the direction: ``*_error`` and ``*_loss`` are lower-is-better; ``coverage<level>`` should
equal its level (in %). :data:`METRICS` lists them all, in the order they are published.

>>> rows = ForecastRows(y=np.array([10.0, 12.0]), point=np.array([10.0, 10.0]), scale=np.array([1.0, 1.0]))
>>> mase_error(rows).tolist()
[0.0, 2.0]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

Metric = Callable[["ForecastRows"], np.ndarray]


@dataclass(frozen=True)
class ForecastRows:
    """Forecast rows and what happened, the one input of every metric.

    Attributes:
        y: shape ``(n,)``, the actual values.
        point: shape ``(n,)``, the point forecast (for point metrics).
        scale: shape ``(n,)``, the denominator of scaled metrics (the in-sample mean absolute step of
            the training window, as in MASE); NaN where it is undefined (a flat window).
        quantiles: probability → shape ``(n,)`` forecast quantile (interval and quantile metrics).
        prob: shape ``(n, k)``, forecast probabilities of ``k`` events per row (the Brier score).
        event: shape ``(n, k)``, whether each event happened (0 or 1).
        pit_lo, pit_hi: shape ``(n,)``, for a discrete forecast (an ordinal level) ``P(Y < y)`` and
            ``P(Y ≤ y)`` at the actual ``y``; NaN on a row of a continuous forecast. Coverage then reads the
            non-randomised PIT (:func:`pit_coverage`), not the closed interval between two quantiles.
    """

    y: np.ndarray
    point: np.ndarray | None = None
    scale: np.ndarray | None = None
    quantiles: Mapping[float, np.ndarray] = field(default_factory=dict)
    prob: np.ndarray | None = None
    event: np.ndarray | None = None
    pit_lo: np.ndarray | None = None
    pit_hi: np.ndarray | None = None

    @classmethod
    def from_frame(
        cls, frame: pl.DataFrame, *, point: str = "mean", scale: str = "raw_scale"
    ) -> ForecastRows:
        """Read rows from a frame with columns ``y``, ``point``, ``scale``, ``q<p>`` (e.g. ``q0.1``) and
        pairs ``p_<event>`` / ``event_<event>`` (e.g. ``p_k1.0`` / ``event_k1.0``); all but ``y`` optional.
        A null scale is an undefined one.

        >>> f = pl.DataFrame({"y": [1.0], "mean": [2.0], "q0.1": [0.5], "p_k1": [0.4], "event_k1": [1.0]})
        >>> r = ForecastRows.from_frame(f)
        >>> sorted(r.quantiles), r.prob.tolist(), r.scale is None
        ([0.1], [[0.4]], True)
        """

        def col(name: str) -> np.ndarray:
            return frame[name].cast(pl.Float64).fill_null(np.nan).to_numpy()

        p_cols = [c for c in frame.columns if c.startswith("p_") and f"event_{c[2:]}" in frame.columns]
        return cls(
            y=col("y"),
            point=col(point) if point in frame.columns else None,
            scale=col(scale) if scale in frame.columns else None,
            quantiles={float(c[1:]): col(c) for c in frame.columns if _is_quantile(c)},
            prob=np.column_stack([col(c) for c in p_cols]) if p_cols else None,
            event=np.column_stack([col(f"event_{c[2:]}") for c in p_cols]) if p_cols else None,
            pit_lo=col("pit_lo") if "pit_lo" in frame.columns else None,
            pit_hi=col("pit_hi") if "pit_hi" in frame.columns else None,
        )


def _is_quantile(name: str) -> bool:
    try:
        return name.startswith("q") and 0.0 < float(name[1:]) < 1.0
    except ValueError:
        return False


def _need(value: np.ndarray | None, what: str, metric: str) -> np.ndarray:
    if value is None:
        raise ValueError(f"{metric} needs the rows' {what}; pass it to ForecastRows")
    return value


def _quantile(rows: ForecastRows, p: float, metric: str) -> np.ndarray:
    for q, v in rows.quantiles.items():
        if abs(q - p) < 1e-9:
            return v
    raise ValueError(f"{metric} needs the {p:g} quantile; ForecastRows holds {sorted(rows.quantiles)}")


def smape_error(rows: ForecastRows) -> np.ndarray:
    """Symmetric absolute percentage error in % (M3: ``200·|y − ŷ| / (|y| + |ŷ|)``; 0 when both are 0).

    >>> smape_error(ForecastRows(y=np.array([100.0, 0.0]), point=np.array([50.0, 0.0]))).round(4).tolist()
    [66.6667, 0.0]
    """
    f = _need(rows.point, "point", "smape_error")
    denom = np.abs(rows.y) + np.abs(f)
    return np.where(denom > 0, 200 * np.abs(rows.y - f) / np.where(denom > 0, denom, 1.0), 0.0)


def mase_error(rows: ForecastRows) -> np.ndarray:
    """Absolute error over the scale (the in-sample naive error): averaged, the MASE.

    >>> mase_error(ForecastRows(y=np.array([10.0]), point=np.array([8.0]), scale=np.array([1.0]))).tolist()
    [2.0]
    """
    f = _need(rows.point, "point", "mase_error")
    return np.abs(rows.y - f) / _need(rows.scale, "scale", "mase_error")


def pit_coverage(pit_lo: np.ndarray, pit_hi: np.ndarray, level: float) -> np.ndarray:
    """Coverage (in %) of a discrete forecast's central ``level`` % interval, read on its PIT.

    A discrete forecast's PIT at the actual ``y`` is spread uniformly over ``[P(Y < y), P(Y ≤ y)]`` (the
    randomised PIT; Czado, Gneiting & Held 2009). The row's coverage is the share of that range inside
    ``[½ − level/200, ½ + level/200]``: its expectation is ``level`` exactly when the forecast is
    calibrated. The closed interval between two quantiles of a discrete forecast holds at least
    ``level`` % of its mass, so counting actuals inside it over-covers by construction (a forecast
    certain of a level that then happens would "cover" 100 % at every level). A row whose actual had
    no mass (``P(Y < y) = P(Y ≤ y)``) counts 100 when that point is inside, 0 when not.

    >>> pit_coverage(np.array([0.0, 0.0, 0.95]), np.array([1.0, 0.5, 1.0]), 80.0).round(6).tolist()
    [80.0, 80.0, 0.0]
    """
    a, b = 0.5 - level / 200.0, 0.5 + level / 200.0
    lo, hi = np.asarray(pit_lo, float), np.asarray(pit_hi, float)
    width = hi - lo
    inside = np.clip(np.minimum(hi, b) - np.maximum(lo, a), 0.0, None)
    point = ((lo >= a) & (lo <= b)).astype(float)
    return 100 * np.where(width > 1e-12, inside / np.where(width > 1e-12, width, 1.0), point)


def _coverage(rows: ForecastRows, level: float, metric: str) -> np.ndarray:
    half = level / 200.0
    lo, hi = _quantile(rows, 0.5 - half, metric), _quantile(rows, 0.5 + half, metric)
    closed = 100 * ((rows.y >= lo) & (rows.y <= hi)).astype(float)
    if rows.pit_lo is None or rows.pit_hi is None:
        return closed
    discrete = np.isfinite(rows.pit_lo) & np.isfinite(rows.pit_hi)
    return np.where(discrete, pit_coverage(rows.pit_lo, rows.pit_hi, level), closed)


def coverage80(rows: ForecastRows) -> np.ndarray:
    """100 when the actual lies inside the central 80 % interval (``q0.1``–``q0.9``), else 0 (a discrete
    forecast's row: :func:`pit_coverage`).

    >>> coverage80(ForecastRows(y=np.array([1.0, 5.0]), quantiles={0.1: np.zeros(2), 0.9: np.full(2, 2.0)})).tolist()
    [100.0, 0.0]
    """
    return _coverage(rows, 80.0, "coverage80")


def coverage95(rows: ForecastRows) -> np.ndarray:
    """100 when the actual lies inside the central 95 % interval (``q0.025``–``q0.975``), else 0."""
    return _coverage(rows, 95.0, "coverage95")


def msis_error(rows: ForecastRows) -> np.ndarray:
    """Scaled interval score at 95 % (M4): width plus ``2/α = 40`` times the miss, over the scale.

    >>> r = ForecastRows(y=np.array([5.0]), scale=np.array([0.5]), quantiles={0.025: np.zeros(1), 0.975: np.full(1, 2.0)})
    >>> msis_error(r).tolist()
    [244.0]
    """
    lo, hi = _quantile(rows, 0.025, "msis_error"), _quantile(rows, 0.975, "msis_error")
    y = rows.y
    width = (hi - lo) + 40 * np.clip(lo - y, 0, None) + 40 * np.clip(y - hi, 0, None)
    return width / _need(rows.scale, "scale", "msis_error")


def crps_loss(rows: ForecastRows) -> np.ndarray:
    """Twice the mean pinball loss of the 10 %, 50 % and 90 % quantiles, over the scale (a CRPS estimate).

    >>> r = ForecastRows(y=np.array([1.0]), scale=np.array([1.0]),
    ...     quantiles={0.1: np.zeros(1), 0.5: np.ones(1), 0.9: np.full(1, 2.0)})
    >>> crps_loss(r).round(4).tolist()
    [0.1333]
    """
    s = _need(rows.scale, "scale", "crps_loss")

    def pin(p: float) -> np.ndarray:
        d = rows.y - _quantile(rows, p, "crps_loss")
        return np.maximum(p * d, (p - 1) * d) / s

    return 2 * (pin(0.1) + pin(0.5) + pin(0.9)) / 3


def brier_loss(rows: ForecastRows) -> np.ndarray:
    """Mean squared gap between each row's event probabilities and outcomes (averaged, the Brier score).

    >>> brier_loss(ForecastRows(y=np.zeros(1), prob=np.array([[0.8, 0.4]]), event=np.array([[1.0, 0.0]]))).round(4).tolist()
    [0.1]
    """
    p = _need(rows.prob, "event probabilities (prob)", "brier_loss")
    e = _need(rows.event, "event outcomes (event)", "brier_loss")
    return np.mean((p - e) ** 2, axis=1)


METRICS: dict[str, Metric] = {
    "mase_error": mase_error,
    "smape_error": smape_error,
    "coverage80": coverage80,
    "coverage95": coverage95,
    "msis_error": msis_error,
    "crps_loss": crps_loss,
    "brier_loss": brier_loss,
}


def score(rows: ForecastRows, name: str, weight: np.ndarray | None = None) -> float:
    """The metric ``name`` over ``rows``: the (weighted) mean of its losses where they are defined.

    >>> score(ForecastRows(y=np.array([1.0, 3.0]), point=np.zeros(2), scale=np.array([1.0, np.nan])), "mase_error")
    1.0
    """
    loss = metric(name)(rows)
    ok = ~np.isnan(loss)
    w = np.ones(loss.shape) if weight is None else np.asarray(weight, dtype=float)
    if not ok.any():
        return float("nan")
    return float(np.sum(loss[ok] * w[ok]) / np.sum(w[ok]))


def metric(name: str) -> Metric:
    """The registered metric ``name``; an unknown name raises ``KeyError`` listing the known ones."""
    try:
        return METRICS[name]
    except KeyError:
        raise KeyError(f"unknown metric {name!r}; known metrics: {', '.join(METRICS)}") from None


def evaluate(
    frame: pl.DataFrame,
    metrics: Sequence[str] = tuple(METRICS),
    *,
    by: Sequence[str] = (),
    point: str = "mean",
    scale: str = "raw_scale",
) -> pl.DataFrame:
    """Score forecast rows per group: the long frame ``<by…>, metric, value`` (one row per group and metric).

    Args:
        frame: forecast rows as :meth:`ForecastRows.from_frame` reads them, plus the ``by`` columns.
        metrics: names from :data:`METRICS`; a metric whose inputs the frame lacks scores null (so a
            backtest without attainment events has a null ``brier_loss``).
        by: grouping columns; none for one overall row per metric.
        point, scale: the columns holding the point forecast and the scale.

    Groups keep their first-seen order; metrics keep the order asked for.

    >>> f = pl.DataFrame({"h": [1, 1, 2], "y": [10.0, 12.0, 9.0], "mean": [10.0, 10.0, 10.0], "raw_scale": [1.0, 1.0, 1.0]})
    >>> evaluate(f, ["mase_error"], by=["h"]).rows()
    [(1, 'mase_error', 1.0), (2, 'mase_error', 1.0)]
    """
    rows = ForecastRows.from_frame(frame, point=point, scale=scale)
    losses = {}
    for name in metrics:
        try:
            losses[name] = metric(name)(rows)
        except ValueError:
            losses[name] = np.full(frame.height, np.nan)
    cols = [pl.Series(name, v, dtype=pl.Float64).fill_nan(None) for name, v in losses.items()]
    scored = frame.select(*by).with_columns(cols) if by else pl.DataFrame(cols)
    means = [pl.col(name).mean() for name in losses]
    wide = scored.group_by(*by, maintain_order=True).agg(means) if by else scored.select(means)
    return wide.unpivot(index=list(by), variable_name="metric", value_name="value").with_columns(
        pl.col("value").cast(pl.Float64)
    )
