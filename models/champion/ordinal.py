"""Ordinal levels as ordinal: a model of the level a series reaches, year by year, on integers only.

A ``level`` KPI (政务云 "先进级" and the like) holds the 0-based position of an ordered level name. Its
forecast is a Markov chain of yearly *steps* ``d = y[t] − y[t−1]`` over the levels ``0 … L−1``:

* the step distribution is pooled over the panel's series (a district's few level series share how
  often a level is gained), Dirichlet-smoothed with ``½`` per step on the support;
* each series' own steps are added with a credibility weight: its predictive step probabilities are the
  posterior mean of a Dirichlet whose prior is ``prior_weight`` × the pooled probabilities, so a series
  that has climbed every year keeps climbing faster than one that never moved, shrunk towards the panel;
* the support runs from ``0`` (or the largest drop any series of the panel ever showed: a level never
  falls unless the data show it can) to ``max(1, largest observed gain)``;
* the chain is absorbed at the bounds (a step past the top level stays at the top).

The predictive distribution at each horizon is a probability per level; its quantiles are levels
(integers) and its point forecast is its median. ``P(reaching level v)`` is the mass at ``v`` and above.

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
        pooled: shape ``(s,)`` the panel's step probabilities.
        series_probs: shape ``(n, s)`` each series' predictive step probabilities.
        last: shape ``(n,)`` each series' last level.
    """

    n_levels: int
    steps: np.ndarray
    pooled: np.ndarray
    series_probs: np.ndarray
    last: np.ndarray

    def forecast_levels(self, horizon: int) -> np.ndarray:
        """Probabilities of each level at horizons ``1…horizon``, shape ``(n, horizon, n_levels)``."""
        n = self.last.size
        out = np.zeros((n, horizon, self.n_levels))
        for i in range(n):
            dist = np.zeros(self.n_levels)
            dist[int(self.last[i])] = 1.0
            for h in range(horizon):
                nxt = np.zeros(self.n_levels)
                for d, p in zip(self.steps, self.series_probs[i], strict=True):
                    # absorbed at the bounds: a step past the top (or below 0) stays there
                    idx = np.clip(np.arange(self.n_levels) + int(d), 0, self.n_levels - 1)
                    np.add.at(nxt, idx, dist * p)
                dist = nxt
                out[i, h] = dist
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
    histories: Sequence[np.ndarray], *, n_levels: int, prior_weight: float = 4.0
) -> OrdinalLevels:
    """Fit the step chain on level histories (0-based integers, NaN for a missing year).

    Args:
        histories: one 1-D array per series; values are rounded to the nearest level and clipped to the
            scale (a level between two names does not exist).
        n_levels: the number of ordered level names (``len(levels)`` in ``kpis.yaml``).
        prior_weight: the pooled step distribution's weight, in years, in each series' own estimate.
    """
    if n_levels < 2:
        raise ValueError(f"an ordinal scale needs at least 2 levels, got {n_levels}")
    series_steps: list[np.ndarray] = []
    last = []
    for y in histories:
        v = np.asarray(y, dtype=float)
        v = np.clip(np.rint(v[np.isfinite(v)]), 0, n_levels - 1)
        if v.size == 0:
            raise ValueError("a level series needs at least one observed value")
        series_steps.append(np.diff(v).astype(int))
        last.append(int(v[-1]))
    observed = np.concatenate(series_steps) if series_steps else np.empty(0, int)
    lo = min(0, int(observed.min())) if observed.size else 0
    hi = max(1, int(observed.max())) if observed.size else 1
    steps = np.arange(lo, hi + 1)
    counts = np.array([[np.sum(s == d) for d in steps] for s in series_steps], dtype=float)
    pooled = (counts.sum(axis=0) + 0.5) / (counts.sum() + 0.5 * steps.size)
    own = (prior_weight * pooled[None, :] + counts) / (prior_weight + counts.sum(axis=1, keepdims=True))
    return OrdinalLevels(n_levels, steps, pooled, own, np.array(last, dtype=int))
