"""Backtest of the ordinal level model at rolling origins, in the rows the published tables read.

The same protocol as :func:`evaluation.forecasting.origin_backtest.champion_backtest` (the one rolling
origin, :func:`models.backtest.origins`; the attainment events ``actual ≥ last × (1 + k·g)^h``), with the
level chain (:func:`models.champion.ordinal.fit_ordinal`) refitted on strictly earlier history at each
origin: the ``backtest_metrics`` and ``calibration`` rows of the ``level`` kind.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from evaluation.forecasting.origin_backtest import GROWTH_MULTIPLES
from models.backtest import origins
from models.champion.ordinal import fit_ordinal

QUANTILES = {0.025: "q0.025", 0.1: "q0.1", 0.5: "q0.5", 0.9: "q0.9", 0.975: "q0.975"}


def ordinal_backtest(
    raw_histories: Sequence[np.ndarray],
    n_levels: int,
    *,
    n_origins: int = 3,
    horizon: int = 3,
    min_train: int = 4,
    by_level: bool = True,
) -> pl.DataFrame:
    """One row per (series, origin, h) with an observed actual: ``series, offset, h, y, mean`` (the median
    level), ``raw_scale``, ``q<p>``, ``pit_lo`` / ``pit_hi`` (``P(level < y)`` and ``P(level ≤ y)``, which the
    published coverage of a discrete forecast reads: :func:`models.metrics.pit_coverage`) and
    ``p_k<k>`` / ``event_k<k>``; empty when no series is long enough.

    ``by_level``: the chain's setting (:func:`models.champion.ordinal.fit_ordinal`; ``False`` only to compare).
    ``p_k<k>`` is the chain's exact ``P(level ≥ target)`` for the integer levels (a level is reached or
    not, so the event on an integer scale is ``level ≥ ⌈target⌉``).
    """
    rows: list[dict[str, float | int | None]] = []
    hist = [np.asarray(r, dtype=float) for r in raw_histories]
    observed = [np.isfinite(r) for r in hist]
    filled = [np.where(np.isfinite(r), r, 0.0) for r in hist]
    probs = np.array(sorted(QUANTILES))
    for origin in origins(
        filled, horizon=horizon, n_origins=n_origins, min_train=min_train, observed=observed
    ):
        windows = [hist[i][: len(hist[i]) - origin.offset] for i in origin.series]
        model = fit_ordinal(windows, n_levels=n_levels, by_level=by_level)
        dist = model.forecast_levels(origin.steps)
        q = model.quantiles(origin.steps, probs)
        for j, i in enumerate(origin.series):
            window = windows[j]
            finite = window[np.isfinite(window)]
            if finite.size < 2:
                continue
            step = float(np.mean(np.abs(np.diff(finite))))
            last = float(finite[-1])
            span = int(np.flatnonzero(np.isfinite(window))[-1] - np.flatnonzero(np.isfinite(window))[0]) or 1
            g = (last / float(finite[0])) ** (1.0 / span) - 1.0 if finite[0] > 0 and last > 0 else 0.0
            cut = len(window) - 1
            for h in range(1, origin.steps + 1):
                y = float(hist[i][cut + h])
                if not np.isfinite(y):
                    continue
                row: dict[str, float | int | None] = {
                    "series": i,
                    "offset": origin.offset,
                    "h": h,
                    "y": y,
                    "mean": float(q[j, h - 1, probs.tolist().index(0.5)]),
                    "raw_scale": step if step > 0 else None,
                }
                for c, name in enumerate(QUANTILES.values()):
                    row[name] = float(q[j, h - 1, c])
                # the discrete forecast's PIT range at the actual level (coverage reads it)
                level = int(np.clip(round(y), 0, n_levels - 1))
                row["pit_lo"] = float(dist[j, h - 1, :level].sum())
                row["pit_hi"] = float(dist[j, h - 1, : level + 1].sum())
                for k in GROWTH_MULTIPLES:
                    target = last * (1 + k * g) ** h
                    reach = int(np.ceil(target - 1e-9))
                    row[f"p_k{k}"] = float(dist[j, h - 1, max(reach, 0) :].sum()) if reach < n_levels else 0.0
                    row[f"event_k{k}"] = float(y >= target)
                rows.append(row)
    return pl.DataFrame(rows)
