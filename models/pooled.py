"""A pooled cross-series growth model: one gradient-boosted regressor learns growth from many series.

Short annual KPI series (6–10 points) cannot estimate their own dynamics; across many KPIs and
districts the *shape* of growth repeats: fast growth slows as a share nears its bound, a series
that just jumped tends to give part of it back. The model learns, on the model scale ``z`` (logit
for shares, log for counts and amounts), the growth ``z[t + h] − z[t]`` from features of the window
``z[:t + 1]``:

* the last three steps, the mean step over the whole window and over its last five points;
* the spread of the steps and the distance of ``z[t]`` below the window's maximum;
* the window length; optionally the level ``z[t]`` itself (on a logit scale that *is* the distance
  to the bound); and the horizon ``h``;
* with ``stack=True``, the growth that the Theta method and damped-trend smoothing fitted on the same
  window forecast for ``h`` (computed for every cutoff in one pass, :func:`models.theta.prefix_theta`
  and :func:`models.ets.prefix_damped`): the regressor then learns when to trust, damp or correct them.

Training windows come from every cutoff of every series in the pool (``fit_pool``); predicting for
a series uses only that series' own history (``fit``). Predictive quantiles are the pooled training
residuals at each horizon, scaled by the series' mean absolute step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Self

import numpy as np

from models.base import DEFAULT_LEVELS, Forecast, check_history, level_probs, register
from models.ets import prefix_damped
from models.theta import prefix_theta

N_FEATURES = 9


def window_features(z: np.ndarray, *, with_level: bool = False) -> np.ndarray:
    """Features at every cutoff ``t = 1..n−1`` of one series, shape ``(n − 1, N_FEATURES + with_level)``.

    Row ``t − 1`` describes the window ``z[:t + 1]`` (see the module docstring for the columns).

    >>> window_features(np.array([0.0, 1.0, 2.0, 3.0])).shape
    (3, 9)
    """
    d = np.diff(z)
    m = d.size
    idx = np.arange(m)
    mean_all = np.cumsum(d) / (idx + 1)
    csum = np.concatenate([[0.0], np.cumsum(d)])
    start5 = np.maximum(idx + 1 - 5, 0)
    mean5 = (csum[idx + 1] - csum[start5]) / (idx + 1 - start5)
    sq = np.concatenate([[0.0], np.cumsum(d**2)])
    var = np.maximum(sq[idx + 1] / (idx + 1) - mean_all**2, 0.0)
    lag = [np.where(idx - k >= 0, d[np.maximum(idx - k, 0)], mean_all) for k in range(3)]
    drawdown = np.maximum.accumulate(z)[1:] - z[1:]
    cols = [*lag, mean_all, mean5, np.sqrt(var), drawdown, np.log(idx + 2.0), mean_all - mean5]
    if with_level:
        cols.append(z[1:])
    return np.column_stack(cols)


def series_scale(z: np.ndarray) -> float:
    """Mean absolute step of ``z`` (the in-sample naive error), floored to stay positive.

    >>> series_scale(np.array([0.0, 1.0, 3.0]))
    1.5
    """
    d = np.abs(np.diff(z))
    s = float(d.mean()) if d.size else 0.0
    return max(s, 1e-6 * max(1.0, float(np.abs(z).max())), 1e-9)


@register("pooled")
@dataclass(kw_only=True, eq=False)
class PooledGrowth:
    """Gradient-boosted growth model trained across series.

    Args:
        horizon_max: longest horizon trained directly; longer ones extend the last growth step.
        min_window: fewest points a training window may have.
        with_level: add the level ``z[t]`` as a feature (use on logit-scaled shares).
        max_iter, learning_rate, max_leaf_nodes, min_samples_leaf: settings of
            :class:`sklearn.ensemble.HistGradientBoostingRegressor`.
        loss: its loss (``absolute_error`` targets the median growth but trains several times slower).
        clip: training growths are winsorised at the ``clip`` and ``1 − clip`` quantiles of their
            horizon, so a few explosive series do not dominate a squared loss.
        seed: random state of the regressor.
        n_threads: OpenMP threads for training and prediction.
        stack: add the Theta and damped-trend growth forecasts as features (off by default: on the
            M3 yearly validation split it did not improve the champion).
    """

    horizon_max: int = 6
    min_window: int = 4
    with_level: bool = False
    max_iter: int = 150
    learning_rate: float = 0.05
    max_leaf_nodes: int = 15
    min_samples_leaf: int = 40
    loss: str = "squared_error"
    clip: float = 0.01
    seed: int = 0
    n_threads: int = 1
    stack: bool = False

    def _training_rows(self, histories: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        xs, ys, hs = [], [], []
        for raw in histories:
            z = np.asarray(raw, dtype=float)
            if z.size < self.min_window + 1:
                continue
            feats = window_features(z, with_level=self.with_level)
            members = self._member_growth(z)
            for h in range(1, self.horizon_max + 1):
                t = np.arange(self.min_window - 1, z.size - h)
                if t.size == 0:
                    continue
                extra = [m[t, h - 1] for m in members]
                xs.append(np.column_stack([feats[t - 1], np.full(t.size, h, dtype=float), *extra]))
                ys.append(z[t + h] - z[t])
                hs.append(np.full(t.size, h))
        if not xs:
            raise ValueError(
                f"pooled: no training window of {self.min_window + 1}+ points in the pool; "
                "pass longer series or lower min_window"
            )
        return np.vstack(xs), np.concatenate(ys), np.concatenate(hs)

    def _member_growth(self, z: np.ndarray) -> list[np.ndarray]:
        """Theta and damped growth from every cutoff, each ``(n, horizon_max)`` (empty unless stacking)."""
        if not self.stack:
            return []
        return [
            prefix_theta(z, self.horizon_max) - z[:, None],
            prefix_damped(z, self.horizon_max) - z[:, None],
        ]

    def fit_pool(self, histories: Sequence[np.ndarray]) -> Self:
        """Learn growth from every window of every series in ``histories`` (each 1-D, model scale)."""
        return self.fit_rows(*self._training_rows(histories))

    def training_rows(self, history: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The training rows ``(x, y, h)`` of one series' windows, ordered by horizon then cutoff (empty
        when the series is shorter than ``min_window + 1``), as :meth:`fit_pool` stacks them."""
        try:
            return self._training_rows([history])
        except ValueError:
            width = N_FEATURES + int(self.with_level) + 2 * int(self.stack) + 1
            return np.empty((0, width)), np.empty(0), np.empty(0, int)

    def fit_rows(self, x: np.ndarray, y: np.ndarray, h: np.ndarray) -> Self:
        """Learn growth from training rows (see :meth:`training_rows`), e.g. a sample of a large pool's."""
        from sklearn.ensemble import HistGradientBoostingRegressor
        from threadpoolctl import threadpool_limits

        if y.size == 0:
            raise ValueError("pooled: no training rows; pass longer series or lower min_window")
        if self.clip > 0:
            y = y.copy()
            for k in np.unique(h):
                lo, hi = np.quantile(y[h == k], [self.clip, 1 - self.clip])
                y[h == k] = np.clip(y[h == k], lo, hi)
        reg = HistGradientBoostingRegressor(
            loss=self.loss,
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=min(self.min_samples_leaf, max(2, y.size // 10)),
            random_state=self.seed,
        )
        # one OpenMP thread: on a small shared machine more threads spin and run ten times slower
        with threadpool_limits(limits=self.n_threads, user_api="openmp"):
            self.regressor_ = reg.fit(x, y)
            resid = y - reg.predict(x)
        # residuals are pooled after dividing by a window scale: |mean step| + spread of steps
        scale = np.maximum(np.abs(x[:, 3]) + x[:, 5], 1e-9)
        self.resid_probs_ = np.linspace(0.01, 0.99, 99)
        rows = []
        for k in range(1, self.horizon_max + 1):
            pool = resid[h == k] / scale[h == k]
            if pool.size:
                rows.append(np.quantile(pool, self.resid_probs_))
                last_k = k
            else:  # no window this long in the pool: widen the last horizon seen like a random walk
                rows.append(
                    rows[-1] * np.sqrt(k / last_k) if last_k == k - 1 else rows[-1] * np.sqrt(k / (k - 1))
                )
        self.resid_quantiles_ = np.stack(rows)
        return self

    def fit(self, history: np.ndarray) -> Self:
        """Keep ``history`` (model scale) for prediction; train on it alone if no pool was given."""
        z = check_history(history, min_points=3, name="pooled")
        if not hasattr(self, "regressor_"):
            self.fit_pool([z])
        self.history_ = z
        return self

    def growth(self, histories: Sequence[np.ndarray], horizon: int) -> np.ndarray:
        """Predicted growth ``z[n + h] − z[n]`` for each series, shape ``(len(histories), horizon)``."""
        zs = [np.asarray(z, dtype=float) for z in histories]
        feats = np.vstack([window_features(z, with_level=self.with_level)[-1] for z in zs])
        members = [
            np.stack(col) for col in zip(*[[m[-1] for m in self._member_growth(z)] for z in zs], strict=True)
        ]
        hmax = min(horizon, self.horizon_max)
        out = np.empty((len(histories), horizon))
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=self.n_threads, user_api="openmp"):
            for h in range(1, hmax + 1):
                x = np.column_stack(
                    [feats, np.full(len(histories), h, float), *[m[:, h - 1] for m in members]]
                )
                out[:, h - 1] = self.regressor_.predict(x)
        for h in range(hmax + 1, horizon + 1):
            step = out[:, hmax - 1] - (out[:, hmax - 2] if hmax > 1 else 0.0)
            out[:, h - 1] = out[:, h - 2] + step
        return out

    def predict(self, horizon: int, levels: Sequence[float] = DEFAULT_LEVELS) -> Forecast:
        z = self.history_
        mean = z[-1] + self.growth([z], horizon)[0]
        feats = window_features(z, with_level=self.with_level)[-1]
        scale = max(abs(feats[3]) + feats[5], 1e-9)
        probs = np.union1d(level_probs(levels), self.resid_probs_)
        rows = []
        for h in range(1, horizon + 1):
            k = min(h, self.horizon_max) - 1
            widen = np.sqrt(h / (k + 1))
            rq = np.interp(probs, self.resid_probs_, self.resid_quantiles_[k])
            rows.append(mean[h - 1] + widen * scale * rq)
        q = np.sort(np.array(rows), axis=1)
        return Forecast(mean=mean, probs=probs, quantiles=q)

    def sample(self, horizon: int, n: int, seed: int = 0) -> np.ndarray:
        """Paths of shape ``(n, horizon)`` drawing one residual rank per path (comonotone across steps)."""
        fc = self.predict(horizon)
        u = np.random.default_rng(seed).uniform(fc.probs[0], fc.probs[-1], n)
        return np.stack([np.interp(u, fc.probs, fc.quantiles[h]) for h in range(horizon)], axis=1)
