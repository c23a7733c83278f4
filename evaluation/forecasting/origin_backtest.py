"""Backtest the whole champion procedure at rolling origins, as the pipeline reports it.

:func:`models.champion.fit_champion` backtests its *members* to choose and calibrate. To report how well the
*champion itself* forecasts, including its calibrated intervals, this module repeats the entire procedure
at each origin of the one rolling-origin backtest (:func:`models.backtest.origins`) on strictly earlier
history — member choice and conformal calibration included — and scores the forecast against what
happened with the metric registry (:mod:`models.metrics`). It is the source of the ``backtest_metrics`` and
``calibration`` tables.

Attainment events for the Brier score and the reliability plot follow the benchmark's protocol: at each
origin, the target at horizon ``h`` is ``last × (1 + k·g)^h`` with ``g`` the series' own compound growth over
the training window and ``k ∈ {0.5, 1, 1.5}``; the event is "actual ≥ target".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from models.backtest import origins
from models.base import cdf_from_quantiles
from models.champion import ChampionConfig, fit_champion
from models.champion.plausible import snap_to_bounds
from models.metrics import METRICS, evaluate
from models.transforms import Scale, monotone_quantiles

GROWTH_MULTIPLES = (0.5, 1.0, 1.5)
LEVELS = (80.0, 95.0)
# the names the published ``backtest_metrics.metric`` column uses (read by the dashboard and MLflow);
# every registered metric has one, and ``n`` counts the rows
PUBLISHED_NAMES = {
    "mase_error": "mase",
    "smape_error": "smape",
    "coverage80": "coverage80",
    "coverage95": "coverage95",
    "msis_error": "msis",
    "crps_loss": "crps",
    "brier_loss": "brier",
}


def champion_backtest(
    histories: Sequence[np.ndarray],
    raw_histories: Sequence[np.ndarray],
    scale: Scale,
    *,
    config: ChampionConfig | None = None,
    n_origins: int = 3,
    horizon: int = 3,
    probs: np.ndarray,
    min_train: int = 4,
    cumulative: Sequence[bool] | None = None,
) -> pl.DataFrame:
    """Refit the champion at each of the last ``n_origins`` origins and forecast ``horizon`` steps.

    Args:
        histories: model-scale series (gaps filled), one per series.
        raw_histories: the same series on the original scale (gaps as NaN), for scoring. An origin whose
            cutoff is a gap is skipped and the champion is told which points were filled, because a filled
            value is interpolated towards a later observation: the backtest would see the future.
        scale: the transform between them.
        config: champion settings.
        n_origins: origins per series: cutoffs at the last index − 1 … − ``n_origins``.
        horizon: the longest horizon scored.
        probs: quantile probabilities to forecast (must include 0.025, 0.1, 0.5, 0.9, 0.975).
        min_train: fewest points a series needs before an origin to take part at it.
        cumulative: per series, whether it is a stock that never decreases; its quantile paths are then made
            non-decreasing and never below the last value at the cutoff, exactly as the final forecast is.

    Returns:
        One row per (series, origin, h) with an observed actual: ``series`` (index), ``offset`` (cutoff =
        last index − offset), ``h``, ``y``, ``mean`` (median forecast), ``raw_scale`` (mean absolute step of the
        training window, for MASE), ``q<p>`` columns for the interval bounds, ``pit`` (:func:`pit_of`) and
        ``qd`` (the quantiles at every ``probs``, for :mod:`evaluation.forecasting.interval_recalibration`),
        and ``p_k<k>`` / ``event_k<k>`` for the attainment events (probability and outcome). Empty when no
        series is long enough. Everything is read from the quantiles as the forecast step publishes them: a
        share's are snapped to its bound (:func:`models.champion.plausible.snap_to_bounds`), and the event
        ``y ≥ target`` counts the point mass at the target (``cdf_from_quantiles(..., left=True)``).
    """
    keep = {0.025: "q0.025", 0.1: "q0.1", 0.5: "q0.5", 0.9: "q0.9", 0.975: "q0.975"}
    rows: list[dict[str, float | int | None]] = []
    observed = [np.isfinite(np.asarray(r, float)) for r in raw_histories]
    # an origin inside a gap is skipped: its filled value leans on a later observation
    for origin in origins(
        histories, horizon=horizon, n_origins=n_origins, min_train=min_train, observed=observed
    ):
        offset, steps, train = origin.offset, origin.steps, origin.train
        seen = [observed[i][: len(histories[i]) - offset] for i in origin.series]
        champ = fit_champion(train, steps, config, scale, observed=seen)
        _, q = champ.forecast(train, steps, probs)
        # as published: a share's quantiles at the logit scale's nudged edge are the point mass on its bound
        raw_q = snap_to_bounds(np.sort(scale.inverse(q), axis=2), scale)
        for j, i in enumerate(origin.series):
            raw = raw_histories[i]
            cut = len(raw) - offset - 1
            window = raw[: cut + 1]
            finite = window[np.isfinite(window)]
            if finite.size < 2:
                continue
            step = float(np.mean(np.abs(np.diff(finite))))
            raw_scale = step if step > 0 else None  # a flat window: MASE is undefined, not huge
            last = float(finite[-1])
            years = int(np.flatnonzero(np.isfinite(window))[-1] - np.flatnonzero(np.isfinite(window))[0]) or 1
            g = (last / float(finite[0])) ** (1.0 / years) - 1.0 if finite[0] > 0 and last > 0 else 0.0
            paths = raw_q[j]
            if cumulative is not None and cumulative[i]:
                paths = monotone_quantiles(paths, last)
            for h in range(1, steps + 1):
                y = float(raw[cut + h])
                if not np.isfinite(y):
                    continue
                row_q = paths[h - 1]
                row: dict[str, float | int | None] = {
                    "series": i,
                    "offset": offset,
                    "h": h,
                    "y": y,
                    "mean": float(np.interp(0.5, probs, row_q)),
                    "raw_scale": raw_scale,
                }
                for p, name in keep.items():
                    row[name] = float(np.interp(p, probs, row_q))
                row["pit"] = pit_of(y, probs, row_q)
                row["qd"] = row_q.tolist()
                for k in GROWTH_MULTIPLES:
                    target = last * (1 + k * g) ** h
                    # the event is y ≥ target: a point mass at the target counts (a flat window's g = 0)
                    row[f"p_k{k}"] = 1.0 - cdf_from_quantiles(target, probs, row_q, left=True)
                    row[f"event_k{k}"] = float(y >= target)
                rows.append(row)
    return pl.DataFrame(rows)


def pit_of(y: float, probs: np.ndarray, q: np.ndarray) -> float:
    """The PIT of ``y`` under one row of quantiles, as the closed central intervals read it.

    Off a point mass it is ``P(value ≤ y)`` (:func:`models.base.cdf_from_quantiles`). On one (tied quantiles:
    a share at its bound, forecast to stay there) the outcome's levels are a range ``[P(value < y),
    P(value ≤ y)]``, and the closed central interval of level ``c`` holds ``y`` as soon as it reaches any of
    them; the PIT is then the level of the range nearest ``½``, so ``|2u − 1| ≤ c`` says exactly whether
    that interval held ``y`` (the map of :mod:`evaluation.forecasting.interval_recalibration` is fitted to
    these coverages).

    >>> p = np.array([0.1, 0.5, 0.9])
    >>> pit_of(0.5, p, np.array([-1.0, 0.0, 1.0])), pit_of(1.0, p, np.array([0.0, 1.0, 1.0]))
    (0.7, 0.5)
    >>> pit_of(1.0, p, np.array([0.0, 0.5, 1.0])), pit_of(2.0, p, np.array([0.0, 2.0, 2.0]))
    (0.9, 0.5)
    """
    upper = cdf_from_quantiles(y, probs, q)
    if np.count_nonzero(q == y) < 2:
        return upper
    return float(np.clip(0.5, cdf_from_quantiles(y, probs, q, left=True), upper))


def series_summary(frame: pl.DataFrame) -> pl.DataFrame:
    """The metrics of :func:`backtest_summary`, one row per ``series_id`` (all horizons together), wide:
    ``series_id, <published metric…>, n``.

    >>> f = pl.DataFrame({"series_id": ["a", "a"], "h": [1, 2], "y": [10.0, 12.0], "mean": [10.0, 10.0],
    ...     "raw_scale": [1.0, 1.0], "q0.025": [8.0, 8.0], "q0.1": [9.0, 9.0], "q0.5": [10.0, 10.0],
    ...     "q0.9": [11.0, 11.0], "q0.975": [13.0, 13.0]})
    >>> series_summary(f).select("series_id", "mase", "coverage95", "n").rows()
    [('a', 1.0, 100.0, 2.0)]
    """
    long = _published(frame, ["series_id"])
    return long.pivot(on="metric", index="series_id", values="value").sort("series_id")


def backtest_summary(frame: pl.DataFrame) -> pl.DataFrame:
    """Metrics per horizon (and ``h = 0`` for all horizons) from :func:`champion_backtest` rows.

    Returns:
        Long frame ``h, metric, value``, metric by metric in the order of :data:`models.metrics.METRICS`
        under their published names (:data:`PUBLISHED_NAMES`): ``mase`` (mean |y − ŷ| / raw_scale),
        ``smape`` (%), ``coverage80`` / ``coverage95`` (% of actuals inside the interval), ``msis`` (mean
        scaled interval score at 95 %), ``crps`` (twice the mean pinball loss at 10/50/90 %, scaled like
        MASE), ``brier`` (mean over the attainment events), then ``n`` (rows).

    >>> f = pl.DataFrame({"h": [1, 1], "y": [10.0, 12.0], "mean": [10.0, 10.0], "raw_scale": [1.0, 1.0],
    ...     "q0.025": [8.0, 8.0], "q0.1": [9.0, 9.0], "q0.5": [10.0, 10.0], "q0.9": [11.0, 11.0],
    ...     "q0.975": [13.0, 13.0], "p_k1.0": [0.5, 0.5], "event_k1.0": [1.0, 0.0]})
    >>> dict(backtest_summary(f).filter(pl.col("h") == 0).select("metric", "value").iter_rows())["coverage80"]
    50.0
    """
    if frame.height == 0:
        return pl.DataFrame(schema={"h": pl.Int32, "metric": pl.String, "value": pl.Float64})
    overall = _published(frame, []).with_columns(pl.lit(0, dtype=pl.Int32).alias("h"))
    per_h = _published(frame.with_columns(pl.col("h").cast(pl.Int32)), ["h"])
    order = {name: i for i, name in enumerate([*PUBLISHED_NAMES.values(), "n"])}
    return pl.concat([overall.select("h", "metric", "value"), per_h.select("h", "metric", "value")]).sort(
        pl.col("metric").replace_strict(order, return_dtype=pl.Int32), "h"
    )


def _published(frame: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """Every registered metric per group under its published name, plus ``n``: ``<by…>, metric, value``."""
    scored = evaluate(frame, list(METRICS), by=by).with_columns(
        pl.col("metric").replace_strict(PUBLISHED_NAMES)
    )
    counts = frame.group_by(*by, maintain_order=True).len() if by else frame.select(pl.len())
    n = counts.select(*by, pl.lit("n").alias("metric"), pl.col("len").cast(pl.Float64).alias("value"))
    return pl.concat([scored, n])


def reliability(frame: pl.DataFrame, bins: int = 10) -> pl.DataFrame:
    """Reliability of attainment probabilities: predicted vs observed frequency per probability bin.

    Returns:
        ``bin_lo, bin_hi, predicted_mean, observed_freq, n`` for bins holding at least one event.

    >>> f = pl.DataFrame({"p_k1.0": [0.05, 0.95, 0.9], "event_k1.0": [0.0, 1.0, 0.0]})
    >>> reliability(f, bins=2).select("bin_lo", "observed_freq", "n").rows()
    [(0.0, 0.0, 1), (0.5, 0.5, 2)]
    """
    p_cols = [c for c in frame.columns if c.startswith("p_k")]
    if not p_cols or frame.height == 0:
        return pl.DataFrame(
            schema={
                "bin_lo": pl.Float64,
                "bin_hi": pl.Float64,
                "predicted_mean": pl.Float64,
                "observed_freq": pl.Float64,
                "n": pl.Int64,
            }
        )
    long = pl.concat(
        [frame.select(pl.col(c).alias("p"), pl.col(c.replace("p_k", "event_k")).alias("e")) for c in p_cols]
    )
    b = pl.Series("bin", probability_bins(long["p"].to_numpy(), bins))
    return (
        long.with_columns(b)
        .group_by("bin")
        .agg(
            pl.col("p").mean().alias("predicted_mean"),
            pl.col("e").mean().alias("observed_freq"),
            pl.len().cast(pl.Int64).alias("n"),
        )
        .sort("bin")
        .select(
            (pl.col("bin") / bins).alias("bin_lo"),
            ((pl.col("bin") + 1) / bins).alias("bin_hi"),
            "predicted_mean",
            "observed_freq",
            "n",
        )
    )


def probability_bins(p: np.ndarray, bins: int) -> np.ndarray:
    """Bin index of each probability: ``[i/bins, (i+1)/bins)``, the last bin closed (so 1.0 joins it).

    >>> probability_bins(np.array([0.0, 0.05, 0.1, 0.95, 1.0]), 10).tolist()
    [0, 0, 1, 9, 9]
    """
    return np.clip(np.floor(np.asarray(p, dtype=float) * bins).astype(int), 0, bins - 1)


def _probabilities_and_outcomes(p: np.ndarray, outcome: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(p, dtype=float).ravel()
    e = np.asarray(outcome, dtype=float).ravel()
    if p.shape != e.shape or p.size == 0:
        raise ValueError(f"need as many probabilities as outcomes, at least one; got {p.size} and {e.size}")
    if np.any(~np.isfinite(p) | (p < 0) | (p > 1)) or np.any((e != 0) & (e != 1)):
        raise ValueError("probabilities must lie in [0, 1] and outcomes be 0 or 1")
    return p, e


def brier_decomposition(p: np.ndarray, outcome: np.ndarray, bins: int = 10) -> dict[str, float]:
    """Murphy's decomposition of the Brier score over probability bins: where the score comes from.

    ``brier = reliability − resolution + uncertainty + within``, exactly:

    * ``reliability``: mean squared gap between each bin's mean probability and its observed frequency
      (0 for calibrated probabilities; lower is better);
    * ``resolution``: how far the bins' observed frequencies spread around the overall frequency
      (higher is better: the probabilities tell events apart);
    * ``uncertainty``: ``ō(1 − ō)``, the score of always saying the observed frequency ``ō`` (set by the
      outcomes, no forecast can change it);
    * ``within``: what binning leaves out (the spread of the probabilities inside a bin; 0 when every
      bin holds one probability value).

    Bins are ``[i/bins, (i+1)/bins)``, the last one closed, as in :func:`reliability`.

    >>> d = brier_decomposition(np.array([0.2, 0.2, 0.8, 0.8]), np.array([0.0, 0.0, 1.0, 1.0]), bins=5)
    >>> {k: round(v, 6) + 0.0 for k, v in d.items()}
    {'brier': 0.04, 'reliability': 0.04, 'resolution': 0.25, 'uncertainty': 0.25, 'within': 0.0}
    """
    p, e = _probabilities_and_outcomes(p, outcome)
    b = probability_bins(p, bins)
    n = np.bincount(b, minlength=bins)
    used = n > 0
    p_bar = np.bincount(b, weights=p, minlength=bins)[used] / n[used]
    o_bar = np.bincount(b, weights=e, minlength=bins)[used] / n[used]
    w = n[used] / p.size
    base = float(e.mean())
    brier = float(np.mean((p - e) ** 2))
    reliability = float(np.sum(w * (p_bar - o_bar) ** 2))
    resolution = float(np.sum(w * (o_bar - base) ** 2))
    uncertainty = base * (1 - base)
    return {
        "brier": brier,
        "reliability": reliability,
        "resolution": resolution,
        "uncertainty": uncertainty,
        "within": brier - (reliability - resolution + uncertainty),
    }


def best_common_shift(p: np.ndarray, outcome: np.ndarray) -> tuple[float, float]:
    """The one logit shift ``a`` of every probability that minimises the Brier score, and that score.

    Not a method (it looks at the outcomes): a bound on what fixing a panel's calibration-in-the-large
    could gain. When the outcomes of one period share a shock (a boom lifts every series), the best
    shift is far from 0 and no forecast made from the series alone could have known it.

    >>> a, brier = best_common_shift(np.full(4, 0.5), np.array([1.0, 1.0, 1.0, 0.0]))
    >>> bool(a > 0), round(brier, 3)
    (True, 0.188)
    """
    from scipy.optimize import minimize_scalar
    from scipy.special import expit, logit

    p, e = _probabilities_and_outcomes(p, outcome)
    x = logit(np.clip(p, 1e-6, 1 - 1e-6))

    def score(a: float) -> float:
        return float(np.mean((expit(x + a) - e) ** 2))

    best = minimize_scalar(score, bounds=(-5.0, 5.0), method="bounded", options={"xatol": 1e-6})
    a = float(best.x)
    return (a, score(a)) if score(a) <= score(0.0) else (0.0, score(0.0))
