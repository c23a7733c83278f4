"""Ranking candidates on the members' backtest, through the metric registry (:mod:`models.metrics`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from models.champion.backtest import MemberBacktest
from models.champion.candidates import Candidate, Member, points_of
from models.metrics import score
from models.transforms import Scale

NAIVE = Member("naive")


def candidate_score(
    bt: MemberBacktest, pts: np.ndarray, criterion: str, scale: Scale, *, equal_horizons: bool = False
) -> float:
    """Score candidate points ``pts`` (aligned with ``bt``) by ``criterion``; lower is better.

    ``scaled_mae``: the ``mase_error`` on the model scale, errors over the error scale ``s``. ``owa``: the
    M4 overall weighted average on the original scale, ``(sMAPE / sMAPE_naive + MASE / MASE_naive) / 2``
    from the ``smape_error`` and ``mase_error`` metrics. With ``equal_horizons`` every horizon weighs the
    same (the backtest holds more short-horizon rows than long ones, since only early origins reach far).
    """
    weight = np.ones(bt.h.shape)
    if equal_horizons and bt.h.size:
        counts = np.bincount(bt.h)
        weight = 1.0 / counts[bt.h]
    if criterion == "scaled_mae":
        return score(bt.rows(pts), "mase_error", weight)
    if criterion != "owa":
        raise ValueError(f"unknown criterion {criterion!r}; use 'owa' or 'scaled_mae'")
    if NAIVE not in bt.points:
        raise ValueError("criterion 'owa' needs the member 'naive'")
    fc, naive = bt.rows(pts, scale), bt.rows(bt.points[NAIVE], scale)
    smape = relative(score(fc, "smape_error", weight), score(naive, "smape_error", weight))
    mase = relative(score(fc, "mase_error", weight), score(naive, "mase_error", weight))
    return 0.5 * (smape + mase)


def relative(error: float, naive_error: float) -> float:
    """``error / naive_error``, defined when naive is perfect (a flat series): 1 if both are 0, else large.

    >>> round(relative(2.0, 4.0), 9), relative(0.0, 0.0), relative(1.0, 0.0) > 1e6
    (0.5, 1.0, True)
    """
    tiny = 1e-12
    return (error + tiny) / (naive_error + tiny)


def select_points(bt: MemberBacktest, members: Sequence[Member], default: Candidate) -> np.ndarray:
    """Per-series selection scored honestly: at origin ``o`` a series chooses its member from the rows
    with ``o' − h ≥ o`` (forecasts whose target lies at or before the cutoff of ``o``); without such rows
    it takes ``default``."""
    err = {m: np.abs(bt.actual - bt.points[m]) / bt.scale for m in members}
    out = points_of(default, bt.points).copy()
    for o in np.unique(bt.offset):
        at = bt.offset == o
        usable = (bt.offset - bt.h) >= o
        for s in np.unique(bt.series[at]):
            past = usable & (bt.series == s)
            if not past.any():
                continue
            best = min(members, key=lambda m: float(err[m][past].mean()))
            rows = at & (bt.series == s)
            out[rows] = bt.points[best][rows]
    return out


def per_series_choice(bt: MemberBacktest, members: Sequence[Member]) -> dict[int, Member]:
    """For the final forecast of a selection: each series' member with the lowest mean scaled error over
    all its backtest rows."""
    err = {m: np.abs(bt.actual - bt.points[m]) / bt.scale for m in members}
    choice: dict[int, Member] = {}
    for s in np.unique(bt.series):
        rows = bt.series == s
        choice[int(s)] = min(members, key=lambda m: float(err[m][rows].mean()))
    return choice


def out_of_time(
    bt: MemberBacktest, pts: np.ndarray, recent: int, min_rows: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The scaled errors ``(actual − pts) / s`` and the masks of the rows a correction may learn from (targets
    at or before the cutoff of origin ``recent``: ``offset − h ≥ recent``) and of the rows it is checked on
    (origins ``1 … recent``); ``None`` when either holds fewer than ``min_rows`` rows."""
    errors = (bt.actual - pts) / bt.scale
    older = (bt.offset - bt.h) >= recent
    newer = bt.offset <= recent
    if older.sum() < min_rows or newer.sum() < min_rows:
        return None
    return errors, older, newer


class LocationCheck(NamedTuple):
    """The out-of-time check of a median correction (:func:`location_holds`).

    Attributes:
        ratio: the mean absolute scaled error on the most recent origins with the correction over the one
            without (below 1: it held up).
        se: its standard error, clustered by series (the rows of one series share its window): the
            linearised ratio of sums, ``√(n/(n−1) · Σᵢ (aᵢ − ratio·bᵢ)²) / Σᵢ bᵢ`` over the series ``i`` with
            ``aᵢ``, ``bᵢ`` their summed absolute errors with and without the correction.
    """

    ratio: float
    se: float

    def raises_error(self, z: float) -> bool:
        """Whether the correction raised the error: ``ratio ≥ 1 + z·se`` (``z = 0``: any rise at all)."""
        return self.ratio >= 1.0 + z * self.se


def location_holds(
    bt: MemberBacktest, pts: np.ndarray, recent: int, *, min_rows: int = 100
) -> LocationCheck | None:
    """Whether a median correction learnt on older backtest rows held up on the most recent origins.

    A :class:`models.calibration.LocationModel` is fitted to the scaled errors ``(actual − pts) / s`` of
    the rows whose targets lie at or before the cutoff of origin ``recent`` (``offset − h ≥ recent``)
    and checked on the rows of origins ``1 … recent``, which it never saw. Returns the ratio of the mean
    absolute scaled error with the correction to the one without and its series-clustered standard error
    (:class:`LocationCheck`), or ``None`` when either side has fewer than ``min_rows`` rows, or the plain
    errors there are all 0 (too few to tell).
    """
    from models.calibration import LocationModel

    split = out_of_time(bt, pts, recent, min_rows)
    if split is None:
        return None
    errors, older, newer = split
    model = LocationModel().fit(bt.feats[older], bt.h[older], errors[older])
    corrected = np.abs(errors[newer] - model.predict(bt.feats[newer], bt.h[newer]))
    plain = np.abs(errors[newer])
    if plain.sum() <= 0:
        return None
    _, series = np.unique(bt.series[newer], return_inverse=True)
    return ratio_of_sums(np.bincount(series, weights=corrected), np.bincount(series, weights=plain))


def ratio_of_sums(a: np.ndarray, b: np.ndarray) -> LocationCheck:
    """``Σa / Σb`` over clusters and its linearised (delta-method) standard error, the clusters resampled.

    >>> r = ratio_of_sums(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0]))
    >>> r.ratio, r.se
    (1.0, 0.0)
    """
    ratio = float(a.sum() / b.sum())
    n = a.size
    se = float(np.sqrt(n / max(n - 1, 1) * np.sum((a - ratio * b) ** 2)) / b.sum())
    return LocationCheck(ratio, se)


def median_slope(realised: np.ndarray, predicted: np.ndarray) -> float:
    """The out-of-time calibration slope of a median correction, clipped to ``[0, 1]``.

    ``λ`` minimises ``Σ |realised − λ · predicted|`` (median regression through the origin), which is the
    median of the ratios ``realised / predicted`` weighted by ``|predicted|`` (the lower weighted median);
    the loss is convex in ``λ``, so clipping that minimiser gives the minimiser over ``[0, 1]``. 1: the
    predicted shifts came true on average; 0: they carried nothing (or pointed the wrong way). Rows
    predicting no shift carry no information about ``λ``; with none left, 1 (nothing to shrink).

    >>> m = np.array([0.5, -1.0, 2.0, 0.25])
    >>> median_slope(m, m), median_slope(0.5 * m, m), median_slope(-m, m), median_slope(m, 0 * m)
    (1.0, 0.5, 0.0, 1.0)
    """
    y = np.asarray(realised, dtype=float)
    m = np.asarray(predicted, dtype=float)
    use = (m != 0) & np.isfinite(m) & np.isfinite(y)
    if not use.any():
        return 1.0
    with np.errstate(over="ignore"):  # a tiny predicted shift: an infinite ratio of next to no weight
        ratio, weight = y[use] / m[use], np.abs(m[use])
    order = np.argsort(ratio, kind="stable")
    cum = np.cumsum(weight[order])
    slope = float(ratio[order][np.searchsorted(cum, 0.5 * cum[-1])])
    return min(max(slope, 0.0), 1.0)


def location_slope(bt: MemberBacktest, pts: np.ndarray, recent: int, *, min_rows: int = 100) -> float | None:
    """How much of a median correction learnt on older backtest rows came true on the most recent origins.

    As the champion learns it (:func:`models.champion.calibration.calibrate`): the scaled errors
    ``(actual − pts) / s`` are divided by a :class:`models.calibration.DifficultyModel` and a
    :class:`models.calibration.LocationModel` learns their median from the window features, both fitted
    on the rows whose targets lie at or before the cutoff of origin ``recent`` (``offset − h ≥ recent``).
    On the rows of origins ``1 … recent``, which neither saw, the realised difficulty-scaled errors are
    regressed on the predicted shifts by :func:`median_slope`. Returns that slope ``λ`` in ``[0, 1]``, or
    ``None`` when either side has fewer than ``min_rows`` rows (too few to tell).
    """
    from models.calibration import DifficultyModel, LocationModel

    split = out_of_time(bt, pts, recent, min_rows)
    if split is None:
        return None
    errors, older, newer = split
    difficulty = DifficultyModel().fit(bt.feats[older], bt.h[older], errors[older])
    norm = errors / difficulty.predict(bt.feats, bt.h)
    model = LocationModel().fit(bt.feats[older], bt.h[older], norm[older])
    return median_slope(norm[newer], model.predict(bt.feats[newer], bt.h[newer]))
