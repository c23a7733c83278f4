"""Ordinal levels as ordinal: a model of the level a series reaches, year by year, on integers only.

A ``level`` KPI (政务云 "先进级" and the like) holds the 0-based position of an ordered level name. Its
forecast is a Markov chain of yearly *steps* ``d = y[t] − y[t−1]`` over the levels ``0 … L−1``, whose step
probabilities depend on the level the series is at and on the series:

* the panel's step distribution, pooled over its series and levels, Dirichlet-smoothed with ``½`` per step
  on the support;
* **by level** (the hazard of leaving each level): the steps the panel took *from* level ``v``, shrunk
  towards the pooled distribution with ``prior_weight`` pseudo-steps. Reaching "先进级" from "基础级" is
  not the same step as reaching the top from "先进级", and a level that series reach and then keep for
  years is left rarely; a level the panel never left borrows the pooled distribution;
* **by series** (its pace): the series' own steps, at any level, shrunk towards the pooled distribution
  with the same weight; its ratio to the pooled distribution multiplies the level's (a main-effects,
  log-linear model of step × level and step × series, renormalised), so a series that has climbed every
  year keeps climbing faster than one that never moved, at levels no series has left yet as well;
* the support runs from ``0`` (or the largest drop any series of the panel ever showed: a level never
  falls unless the data show it can) to ``max(1, largest observed gain)``;
* the chain is absorbed at the bounds (a step past the top level stays at the top).

The predictive distribution at each horizon is a probability per level; its quantiles are levels
(integers) and its point forecast is its median. ``P(reaching level v)`` is the mass at ``v`` and above.

Chosen on the validation draws of the demos (the 2-district demo's seeds 1–6 and the 16-district demo's
1–3; 360 backtest rows of the ``level`` kind; ``python -m pipelines.bench.levels``, ``levels.md`` beside it):
against the chain with one step distribution for every level (the model before, ``by_level=False``), the
log score fell from 0.487 to 0.275 at 80 / 95 % coverage of 78.9 / 95.1 (before 80.8 / 95.2). Modelling the
level without the series' pace scored a little better there (log score 0.269; with half the weight,
``prior_weight = 2``, 0.258 at 77.5 % coverage at 80 %); the series' pace is kept because a district that
has climbed every year should not be told it climbs at the panel's rate once it reaches a level no other
district has left, and one weight serves both shrinkages.

>>> m = fit_ordinal([np.array([0, 0, 1, 1, 2])], n_levels=4)
>>> m.forecast_levels(2)[0].round(3).tolist()     # series at level 2: stays, or climbs to 3
[[0.0, 0.0, 0.5, 0.5], [0.0, 0.0, 0.25, 0.75]]
>>> m.quantiles(2, np.array([0.1, 0.5, 0.9]))[0].tolist()
[[2.0, 2.0, 3.0], [2.0, 3.0, 3.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class OrdinalLevels:
    """A fitted step chain over ``n_levels`` ordered levels (see the module docstring).

    Attributes:
        n_levels: how many levels (``0 … n_levels − 1``).
        steps: shape ``(s,)`` the step sizes on the support, increasing.
        pooled: shape ``(s,)`` the panel's step probabilities, every level pooled.
        series_probs: shape ``(n, n_levels, s)`` each series' predictive step probabilities from each level.
        last: shape ``(n,)`` each series' last level.
    """

    n_levels: int
    steps: np.ndarray
    pooled: np.ndarray
    series_probs: np.ndarray
    last: np.ndarray

    def transitions(self) -> np.ndarray:
        """Each series' yearly transition matrix, shape ``(n, n_levels, n_levels)`` (rows sum to 1)."""
        n, size = self.last.size, self.n_levels
        out = np.zeros((n, size, size))
        rows = np.arange(size)
        for k, d in enumerate(self.steps):
            # absorbed at the bounds: a step past the top (or below 0) stays there
            cols = np.clip(rows + int(d), 0, size - 1)
            out[:, rows, cols] += self.series_probs[:, :, k]  # one (row, column) pair per level
        return out

    def forecast_levels(self, horizon: int) -> np.ndarray:
        """Probabilities of each level at horizons ``1…horizon``, shape ``(n, horizon, n_levels)``."""
        trans = self.transitions()
        n = self.last.size
        out = np.zeros((n, horizon, self.n_levels))
        dist = np.zeros((n, self.n_levels))
        dist[np.arange(n), self.last] = 1.0
        for h in range(horizon):
            dist = np.einsum("iv,ivw->iw", dist, trans)
            out[:, h] = dist
        return out

    def quantiles(self, horizon: int, probs: np.ndarray) -> np.ndarray:
        """Integer quantiles ``(n, horizon, len(probs))``: the lowest level whose CDF reaches each ``p``."""
        cdf = np.cumsum(self.forecast_levels(horizon), axis=2)
        p = np.asarray(probs, dtype=float)
        # a tolerance so a CDF of 0.5 − 1e-15 from rounding does not skip a level
        return (cdf[:, :, None, :] < p[None, None, :, None] - 1e-12).sum(axis=3).astype(float)

    def prob_at_least(self, level: int, horizon: int) -> np.ndarray:
        """``P(level ≥ level)`` at horizons ``1…horizon``, shape ``(n, horizon)``."""
        return self.forecast_levels(horizon)[:, :, max(level, 0) :].sum(axis=2)


def fit_ordinal(
    histories: Sequence[np.ndarray], *, n_levels: int, prior_weight: float = 4.0, by_level: bool = True
) -> OrdinalLevels:
    """Fit the step chain on level histories (0-based integers, NaN for a missing year).

    Args:
        histories: one 1-D array per series; values are rounded to the nearest level and clipped to the
            scale (a level between two names does not exist).
        n_levels: the number of ordered level names (``len(levels)`` in ``kpis.yaml``).
        prior_weight: the pooled step distribution's weight, in steps, in a level's and in a series' own
            estimate.
        by_level: let the step probabilities depend on the level left (the default); ``False``: one step
            distribution per series for every level (the chain before, kept to compare).
    """
    if n_levels < 2:
        raise ValueError(f"an ordinal scale needs at least 2 levels, got {n_levels}")
    series_steps: list[np.ndarray] = []
    series_from: list[np.ndarray] = []
    last = []
    for y in histories:
        v = np.asarray(y, dtype=float)
        v = np.clip(np.rint(v[np.isfinite(v)]), 0, n_levels - 1)
        if v.size == 0:
            raise ValueError("a level series needs at least one observed value")
        series_steps.append(np.diff(v).astype(int))
        series_from.append(v[:-1].astype(int))
        last.append(int(v[-1]))
    observed = np.concatenate(series_steps) if series_steps else np.empty(0, int)
    lo = min(0, int(observed.min())) if observed.size else 0
    hi = max(1, int(observed.max())) if observed.size else 1
    steps = np.arange(lo, hi + 1)
    counts = np.array([[np.sum(s == d) for d in steps] for s in series_steps], dtype=float)
    pooled = (counts.sum(axis=0) + 0.5) / (counts.sum() + 0.5 * steps.size)
    own = (prior_weight * pooled[None, :] + counts) / (prior_weight + counts.sum(axis=1, keepdims=True))
    if not by_level:
        probs = np.repeat(own[:, None, :], n_levels, axis=1)
        return OrdinalLevels(n_levels, steps, pooled, probs, np.array(last, dtype=int))
    from_level = np.zeros((n_levels, steps.size))
    for s, f in zip(series_steps, series_from, strict=True):
        np.add.at(from_level, (f, s - lo), 1.0)
    level = (prior_weight * pooled[None, :] + from_level) / (prior_weight + from_level.sum(axis=1, keepdims=True))
    probs = level[None, :, :] * (own / pooled[None, :])[:, None, :]
    probs /= probs.sum(axis=2, keepdims=True)
    return OrdinalLevels(n_levels, steps, pooled, probs, np.array(last, dtype=int))
