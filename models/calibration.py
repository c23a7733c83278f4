"""Cross-series conformal calibration: pooled, scaled forecast errors per horizon.

Per-series conformal intervals cannot be estimated from 8 annual points. Instead the *scaled*
backtest errors ``e = (z_actual − ẑ) / s`` of many series are pooled, where ``z`` is the model scale
(log or logit) and ``s`` the series' mean absolute step on that scale in the training window. What
is pooled: all series in one calibration set (same KPI kind, hence the same scale), all backtest
origins, one pool per horizon ``h``. A forecast's quantiles are then ``ẑ + s·Q_h(p)``.

Optionally (Mondrian conformal) the pools are split further by a group label per error, e.g. how
trending the series is; a group whose pool at a horizon is too small uses the all-groups pool.

Horizons with fewer than ``min_count`` errors borrow the nearest shorter horizon's errors widened by
``√(h / h′)``; with no errors at all the errors are taken as normal with standard deviation
``1.25·√h`` (a random walk whose mean absolute step is ``s``).

A pool of ``n`` errors says nothing about what lies beyond its most extreme error, yet an attainment
probability reads exactly that tail: 41 pooled errors would otherwise give ``p_reach = 0.9975``
whenever the target sits below the smallest one. So the predictive distribution of an error is the
pool's empirical distribution blended with that reference normal, with weights ``n / (n + a)`` and
``a / (n + a)`` (``a = prior_weight``; the posterior predictive of a Dirichlet process with the
reference as its base measure). Large pools are unchanged (``a / n`` is under 0.1 % on M3's 1,935+
errors per horizon); small pools get tails that no single series can talk away.

**The reference's width, learned from the panel (empirical Bayes).** ``1.25·√h`` is the width of a random
walk's errors; a district's smooth KPI (a share or an amount on a steady trend) is forecast far better
than that, and with every pool of a thin panel under ``min_count`` its intervals *were* that reference:
on the 2-district demo the pooled errors of a good centre had a root mean square of 0.2–0.5 ``√h``, not
1.25, and every interval of amounts, rates and shares covered 100 %. With ``scale_prior = ν₀`` the
reference is instead the posterior predictive of errors ``N(0, σ²h)`` whose variance has a scaled
inverse-χ² prior of ``ν₀`` pseudo-errors at ``σ₀ = 1.25``: after the ``n`` pooled errors ``e`` (every
horizon, each divided by ``√h``: one scale, so the thin long horizons borrow from the short ones)
``σₙ² = (ν₀·σ₀² + Σ e²/h) / (ν₀ + n)``, and the reference is Student-t with ``ν₀ + n`` degrees of freedom
and scale ``σₙ·√h``. The panel's own errors weigh ``n / (n + ν₀)``, so a panel with a handful of errors
keeps most of the random walk's width (and heavier tails) and one with hundreds its own; with Mondrian
groups each group's scale is shrunk, with the same ``ν₀``, towards the all-groups posterior (a
two-level hierarchy). ``None`` keeps the fixed normal.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

import numpy as np
from scipy import stats


class PooledConformal:
    """Empirical quantiles of pooled scaled errors, one pool per horizon.

    Args:
        min_count: fewest errors a horizon's own pool needs.
        shrink_median: subtract the pool's median error (bias correction) when ``True``.
        prior_weight: ``a``, the weight in errors of the reference normal blended into every pool (see
            the module docstring); 0 keeps the bare empirical quantiles.
        scale_prior: ``ν₀``, the weight in errors of the random walk's width ``σ₀ = 1.25`` in the
            reference's learned width (see the module docstring); ``None``: the fixed ``N(0, 1.25²h)``.
    """

    def __init__(
        self,
        min_count: int = 30,
        shrink_median: bool = False,
        prior_weight: float = 0.0,
        scale_prior: float | None = None,
    ) -> None:
        if prior_weight < 0:
            raise ValueError(f"prior_weight must be ≥ 0, got {prior_weight}")
        if scale_prior is not None and not scale_prior > 0:
            raise ValueError(f"scale_prior must be > 0 (or None), got {scale_prior}")
        self.min_count = min_count
        self.shrink_median = shrink_median
        self.prior_weight = prior_weight
        self.scale_prior = scale_prior

    def fit(self, horizons: np.ndarray, errors: np.ndarray, groups: np.ndarray | None = None) -> Self:
        """Store the pools.

        Args:
            horizons: shape ``(m,)``, integer horizons ≥ 1.
            errors: shape ``(m,)``, scaled errors ``(actual − forecast) / scale`` on the model scale.
            groups: optional shape ``(m,)`` integer group of each error (Mondrian conformal: one pool
                per group and horizon; a group's horizon with too few errors uses all groups' errors).
        """
        h = np.asarray(horizons, dtype=int)
        e = np.asarray(errors, dtype=float)
        g = np.zeros(h.shape, dtype=int) if groups is None else np.asarray(groups, dtype=int)
        keep = np.isfinite(e)
        self.pools_: dict[int, np.ndarray] = {int(k): np.sort(e[keep & (h == k)]) for k in np.unique(h[keep])}
        self.counts_ = {k: int(v.size) for k, v in self.pools_.items()}
        self.group_pools_: dict[tuple[int, int], np.ndarray] = {}
        # the reference's width: Σ e²/h and n over every horizon, all groups (key None) and per group
        sq = np.where(keep, e, 0.0) ** 2 / np.maximum(h, 1)
        self.scale_stats_: dict[int | None, tuple[float, int]] = {None: (float(sq.sum()), int(keep.sum()))}
        if groups is not None:
            for gr in np.unique(g[keep]):
                sel = keep & (g == gr)
                self.scale_stats_[int(gr)] = (float(sq[sel].sum()), int(sel.sum()))
            for gr in np.unique(g[keep]):
                for k in np.unique(h[keep]):
                    pool = e[keep & (h == k) & (g == gr)]
                    if pool.size >= self.min_count:
                        self.group_pools_[(int(gr), int(k))] = np.sort(pool)
        return self

    def _pool(self, h: int, group: int | None = None) -> tuple[np.ndarray | None, float]:
        if group is not None and (group, h) in self.group_pools_:
            return self.group_pools_[(group, h)], 1.0
        if self.counts_.get(h, 0) >= self.min_count:
            return self.pools_[h], 1.0
        shorter = [k for k, c in self.counts_.items() if k < h and c >= self.min_count]
        if shorter:
            k = max(shorter)
            return self.pools_[k], float(np.sqrt(h / k))
        return None, float(np.sqrt(h))

    def reference(self, group: int | None = None) -> tuple[float, float]:
        """The reference's width per unit ``√h`` and its degrees of freedom (``inf``: normal).

        >>> cal = PooledConformal(scale_prior=4.0).fit(np.ones(4, int), np.array([-0.5, 0.5, -0.5, 0.5]))
        >>> [round(v, 3) for v in cal.reference()]
        [0.952, 8.0]
        >>> PooledConformal().fit(np.ones(4, int), np.zeros(4)).reference()
        (1.25, inf)
        """
        if self.scale_prior is None:
            return RANDOM_WALK_SD, float("inf")
        nu0 = self.scale_prior
        ss, n = self.scale_stats_.get(None, (0.0, 0))
        var = (nu0 * RANDOM_WALK_SD**2 + ss) / (nu0 + n)
        df = nu0 + n
        if group is not None and group in self.scale_stats_:
            ss, n = self.scale_stats_[group]
            var, df = (nu0 * var + ss) / (nu0 + n), nu0 + n
        return float(np.sqrt(var)), float(df)

    def error_quantiles(self, horizon: int, probs: np.ndarray, group: int | None = None) -> np.ndarray:
        """Scaled-error quantiles, shape ``(horizon, len(probs))``.

        >>> cal = PooledConformal(min_count=3).fit(np.ones(5, int), np.array([-2.0, -1, 0, 1, 2]))
        >>> cal.error_quantiles(1, np.array([0.25, 0.5, 0.75])).tolist()
        [[-1.0, 0.0, 1.0]]

        With a prior weight the tails reach past the pool's extremes:

        >>> wide = PooledConformal(min_count=3, prior_weight=1.0).fit(np.ones(5, int), np.array([-2.0, -1, 0, 1, 2]))
        >>> q = wide.error_quantiles(1, np.array([0.005, 0.5, 0.995]))[0]
        >>> bool(q[0] < -2.0), round(float(q[1]), 6) + 0.0, bool(q[2] > 2.0)
        (True, 0.0, True)
        """
        out = np.empty((horizon, probs.size))
        sd, df = self.reference(group)
        for h in range(1, horizon + 1):
            pool, widen = self._pool(h, group)
            if pool is None:
                out[h - 1] = sd * widen * _standard(df).ppf(probs)
                continue
            centre = float(np.median(pool)) if self.shrink_median else 0.0
            if self.prior_weight > 0:
                # the reference is the no-data fallback at this horizon, in the pool's (unwidened) units
                ref_sd = sd * np.sqrt(h) / widen
                out[h - 1] = widen * (
                    _blended_quantiles(pool, ref_sd, self.prior_weight, probs, df=df) - centre
                )
            else:
                out[h - 1] = widen * (np.quantile(pool, probs) - centre)
        return out

    def apply(
        self, point: np.ndarray, scale: np.ndarray, probs: np.ndarray, groups: np.ndarray | None = None
    ) -> np.ndarray:
        """Quantiles on the model scale.

        Args:
            point: shape ``(n_series, horizon)`` point forecasts on the model scale.
            scale: shape ``(n_series,)`` per-series scales ``s``, or ``(n_series, horizon)`` per step.
            probs: shape ``(k,)`` quantile probabilities.
            groups: optional shape ``(n_series,)`` group of each series (as given to :meth:`fit`).

        Returns:
            shape ``(n_series, horizon, k)``.
        """
        if groups is None:
            eq = self.error_quantiles(point.shape[1], probs)
            return point[:, :, None] + _per_step(scale) * eq[None, :, :]
        table = {int(g): self.error_quantiles(point.shape[1], probs, int(g)) for g in np.unique(groups)}
        eqs = np.stack([table[int(g)] for g in groups])
        return point[:, :, None] + _per_step(scale) * eqs


RANDOM_WALK_SD = 1.25  # the no-data reference: a random walk whose mean absolute step is the scale


def _standard(df: float) -> stats.rv_continuous | stats.rv_frozen:
    """The standard reference shape: normal for ``df = inf``, else Student-t with ``df`` degrees of freedom."""
    return stats.norm if not np.isfinite(df) else stats.t(df)


def _blended_quantiles(
    pool: np.ndarray, ref_sd: float, weight: float, probs: np.ndarray, *, df: float = float("inf")
) -> np.ndarray:
    """Quantiles of ``n/(n+a)·F_pool + a/(n+a)·R`` (``F_pool``: the pool's interpolated empirical CDF, as
    :func:`numpy.quantile` inverts it; ``R``: the reference, ``N(0, ref_sd²)``, or Student-t with ``df``
    degrees of freedom and scale ``ref_sd``), found on a grid that holds both parts' quantiles.

    >>> [round(float(v), 6) + 0.0 for v in _blended_quantiles(np.array([-1.0, 0.0, 1.0]), 1.0, 0.0, np.array([0.25, 0.5]))]
    [-0.5, 0.0]
    """
    n = pool.size
    ref = _standard(df)
    grid = np.linspace(0.0, 1.0, 201)
    xs = np.union1d(np.quantile(pool, grid), ref_sd * ref.ppf(np.clip(grid, 1e-6, 1 - 1e-6)))
    f_pool = np.interp(xs, np.sort(pool), np.linspace(0.0, 1.0, n), left=0.0, right=1.0)
    return mixture_quantiles(xs, [f_pool, ref.cdf(xs / ref_sd)], [n, weight], probs)


def mixture_quantiles(
    xs: np.ndarray, cdfs: Sequence[np.ndarray], weights: Sequence[float], probs: np.ndarray
) -> np.ndarray:
    """Quantiles at ``probs`` of a mixture, from each component's CDF at the sorted points ``xs``.

    The mixture's CDF (the weighted mean) is made strictly increasing by a negligible ramp and
    inverted by linear interpolation, so flat stretches and ties cannot break the inverse.

    >>> xs = np.array([0.0, 1.0, 2.0, 3.0])
    >>> mixture_quantiles(xs, [np.array([0.0, 1.0, 1.0, 1.0]), np.array([0.0, 0.0, 0.0, 1.0])], [1, 1], np.array([0.5])).round(6).tolist()
    [1.0]
    """
    w = np.asarray(weights, dtype=float)
    cdf = np.tensordot(w / w.sum(), np.asarray(cdfs, dtype=float), axes=1)
    cdf = np.maximum.accumulate(cdf) + np.arange(xs.size) * 1e-12
    return np.interp(probs, cdf, xs)


def _per_step(scale: np.ndarray) -> np.ndarray:
    s = np.asarray(scale, dtype=float)
    return s[:, :, None] if s.ndim == 2 else s[:, None, None]


class DifficultyModel:
    """Predicts how hard a forecast is: the typical size of its scaled error, from window features.

    Locally adaptive conformal: errors divided by this predicted difficulty are pooled instead of
    the raw scaled errors, so predictable series get narrower intervals and erratic ones wider,
    while the pooled quantiles keep the marginal coverage. Fitted by gradient boosting on
    ``log(|e| + floor)`` against the features and the horizon.

    Args:
        floor: added to ``|e|`` before the log (scaled-error units), so exact hits do not dominate.
        max_iter, max_leaf_nodes, min_samples_leaf: settings of the boosted trees (kept shallow).
        seed: random state.
    """

    def __init__(
        self,
        *,
        floor: float = 0.1,
        max_iter: int = 100,
        max_leaf_nodes: int = 7,
        min_samples_leaf: int = 100,
        seed: int = 0,
    ) -> None:
        self.floor = floor
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.seed = seed

    def fit(self, features: np.ndarray, horizons: np.ndarray, errors: np.ndarray) -> Self:
        """Learn from ``features`` ``(m, f)``, ``horizons`` ``(m,)`` and scaled errors ``(m,)``."""
        from sklearn.ensemble import HistGradientBoostingRegressor
        from threadpoolctl import threadpool_limits

        x = np.column_stack([features, horizons])
        y = np.log(np.abs(errors) + self.floor)
        reg = HistGradientBoostingRegressor(
            max_iter=self.max_iter,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=min(self.min_samples_leaf, max(2, y.size // 10)),
            random_state=self.seed,
        )
        with threadpool_limits(limits=1, user_api="openmp"):
            self.regressor_ = reg.fit(x, y)
        return self

    def predict(self, features: np.ndarray, horizons: np.ndarray) -> np.ndarray:
        """Predicted difficulty (positive), shape ``(m,)``."""
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="openmp"):
            pred = self.regressor_.predict(np.column_stack([features, horizons]))
        return np.exp(pred)


class LocationModel:
    """Predicts the median of (difficulty-scaled) errors from window features: a conditional bias.

    The pooled quantiles are centred on the forecast for every series alike; a series whose window
    says its forecast tends to run high or low (a fast climb that usually slows, say) gets its
    distribution shifted by the predicted median error. Fitted by gradient boosting with the
    quantile (pinball) loss at 0.5 against the features and the horizon; kept shallow like
    :class:`DifficultyModel`.

    Args:
        max_iter, max_leaf_nodes, min_samples_leaf: settings of the boosted trees.
        seed: random state.
    """

    def __init__(
        self, *, max_iter: int = 100, max_leaf_nodes: int = 7, min_samples_leaf: int = 100, seed: int = 0
    ) -> None:
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.seed = seed

    def fit(self, features: np.ndarray, horizons: np.ndarray, errors: np.ndarray) -> Self:
        """Learn from ``features`` ``(m, f)``, ``horizons`` ``(m,)`` and scaled errors ``(m,)``."""
        from sklearn.ensemble import HistGradientBoostingRegressor
        from threadpoolctl import threadpool_limits

        y = np.asarray(errors, dtype=float)
        reg = HistGradientBoostingRegressor(
            loss="quantile",
            quantile=0.5,
            max_iter=self.max_iter,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=min(self.min_samples_leaf, max(2, y.size // 10)),
            random_state=self.seed,
        )
        with threadpool_limits(limits=1, user_api="openmp"):
            self.regressor_ = reg.fit(np.column_stack([features, horizons]), y)
        return self

    def predict(self, features: np.ndarray, horizons: np.ndarray) -> np.ndarray:
        """Predicted median scaled error, shape ``(m,)``."""
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="openmp"):
            return np.asarray(self.regressor_.predict(np.column_stack([features, horizons])))
