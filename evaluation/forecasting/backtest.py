"""Rolling-origin backtests: refit on strictly earlier history, forecast ahead, keep one tidy frame.

The result has one row per series, cutoff and forecast period: ``series_id, period, cutoff, h, y``
and, per model, ``<model>`` (point), ``<model>-lo-<level>`` and ``<model>-hi-<level>``. ``cutoff`` is
the last period the model saw, so ``cutoff < period`` on every row: a backtest never sees the future.
Models with a ``fit_pool`` method (the pooled cross-series model) are trained at each origin on every
series' history up to that origin, never later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import polars as pl

from models.base import DEFAULT_LEVELS, Forecaster

log = logging.getLogger(__name__)

ModelFactory = Callable[[], Forecaster]


def split_panel(panel: pl.DataFrame) -> dict[str, tuple[list[object], np.ndarray]]:
    """Group a long ``series_id, period, value`` frame into ``{series_id: (periods, values)}``, sorted.

    >>> p = pl.DataFrame({"series_id": ["a", "a"], "period": [2021, 2020], "value": [2.0, 1.0]})
    >>> split_panel(p)["a"][1].tolist()
    [1.0, 2.0]
    """
    missing = {"series_id", "period", "value"} - set(panel.columns)
    if missing:
        raise ValueError(f"panel lacks column(s) {sorted(missing)}; expected series_id, period, value")
    out: dict[str, tuple[list[object], np.ndarray]] = {}
    for (sid,), part in panel.sort("series_id", "period").group_by("series_id", maintain_order=True):
        out[str(sid)] = (part["period"].to_list(), part["value"].to_numpy().astype(float))
    return out


def rolling_origin(
    panel: pl.DataFrame,
    models: Mapping[str, ModelFactory],
    *,
    horizon: int,
    n_origins: int = 3,
    min_train: int = 4,
    levels: Sequence[float] = DEFAULT_LEVELS,
) -> pl.DataFrame:
    """Backtest ``models`` over the last ``n_origins`` cutoffs of every series.

    Args:
        panel: long frame ``series_id, period, value`` with regular periods within each series.
        models: name → factory returning a fresh, unfitted model.
        horizon: the longest horizon; at a cutoff near the end, only periods that exist are kept.
        n_origins: cutoffs per series: the last ``n_origins`` periods before the final one.
        min_train: fewest observations a model is fitted on; earlier cutoffs are skipped.
        levels: interval levels in % whose bounds are kept.

    Returns:
        frame ``series_id, period, cutoff, h, y, <model>, <model>-lo-<l>, <model>-hi-<l>…``.
    """
    series = split_panel(panel)
    rows: dict[str, list[object]] = {k: [] for k in ("series_id", "period", "cutoff", "h", "y")}
    cols: dict[str, list[float]] = {}
    for name in models:
        cols[name] = []
        for level in levels:
            cols[f"{name}-lo-{level:g}"] = []
            cols[f"{name}-hi-{level:g}"] = []
    for offset in range(1, n_origins + 1):
        train = {sid: v[: v.size - offset] for sid, (_, v) in series.items() if v.size - offset >= min_train}
        if not train:
            continue
        fitted: dict[str, Forecaster] = {}
        for name, factory in models.items():
            model = factory()
            pool = getattr(model, "fit_pool", None)
            if pool is not None:
                pool(list(train.values()))
            fitted[name] = model
        for sid, hist in train.items():
            periods, values = series[sid]
            steps = min(horizon, offset)
            t = hist.size - 1
            for k in range(steps):
                rows["series_id"].append(sid)
                rows["period"].append(periods[t + 1 + k])
                rows["cutoff"].append(periods[t])
                rows["h"].append(k + 1)
                rows["y"].append(float(values[t + 1 + k]))
            for name, model in fitted.items():
                fc = model.fit(hist).predict(steps, levels=levels)
                cols[name].extend(fc.mean.tolist())
                for level in levels:
                    lo, hi = fc.interval(level)
                    cols[f"{name}-lo-{level:g}"].extend(lo.tolist())
                    cols[f"{name}-hi-{level:g}"].extend(hi.tolist())
    if not rows["series_id"]:
        raise ValueError(
            f"no backtest origin: every series has fewer than min_train + 1 = {min_train + 1} points"
        )
    frame = pl.DataFrame(rows)
    return frame.with_columns(pl.DataFrame(cols)).sort("series_id", "cutoff", "period")
