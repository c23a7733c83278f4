"""The members' backtest: every member forecast from every origin of :func:`models.backtest.origins`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from models.backtest import origins
from models.champion.candidates import Member
from models.champion.config import ChampionConfig
from models.champion.members import difficulty_features, error_scale, member_points, trend_share
from models.metrics import ForecastRows
from models.pooled import N_FEATURES, PooledGrowth, series_scale
from models.transforms import Scale


@dataclass(frozen=True)
class MemberBacktest:
    """Backtest of the members, one entry per (series, origin, horizon).

    Attributes:
        series: shape ``(m,)`` series index. offset: origin offset ``o`` (cutoff = last index − o).
        h: horizon. actual: ``z`` observed. scale: ``s`` of the training window.
        raw_scale: the training window's mean absolute step on the original scale (for MASE).
        trend: the training window's :func:`~models.champion.members.trend_share` (groups the pools).
        feats: shape ``(m, f)``, :func:`~models.champion.members.difficulty_features` of the window.
        points: member → shape ``(m,)`` point forecasts on the model scale.
    """

    series: np.ndarray
    offset: np.ndarray
    h: np.ndarray
    actual: np.ndarray
    scale: np.ndarray
    raw_scale: np.ndarray
    trend: np.ndarray
    points: dict[Member, np.ndarray]
    feats: np.ndarray

    def take(self, idx: np.ndarray) -> MemberBacktest:
        """The rows at ``idx`` (positions or a boolean mask), every field alike."""
        return MemberBacktest(
            series=self.series[idx],
            offset=self.offset[idx],
            h=self.h[idx],
            actual=self.actual[idx],
            scale=self.scale[idx],
            raw_scale=self.raw_scale[idx],
            trend=self.trend[idx],
            points={m: p[idx] for m, p in self.points.items()},
            feats=self.feats[idx],
        )

    def rows(self, points: np.ndarray, scale: Scale | None = None) -> ForecastRows:
        """The backtest rows with ``points`` as the forecast, for :mod:`models.metrics`: on the model
        scale with the error scale ``s`` (no ``scale`` given), or mapped to the original scale by
        ``scale`` with the original scale's mean absolute step."""
        if scale is None:
            return ForecastRows(y=self.actual, point=points, scale=self.scale)
        return ForecastRows(y=scale.inverse(self.actual), point=scale.inverse(points), scale=self.raw_scale)


def backtest_members(
    histories: Sequence[np.ndarray],
    horizon: int,
    config: ChampionConfig,
    scale: Scale | None = None,
    observed: Sequence[np.ndarray] | None = None,
    *,
    pooled_models: Mapping[int, PooledGrowth | None] | None = None,
) -> MemberBacktest:
    """Rolling-origin backtest of every member (the champion's step 1).

    Args:
        histories: model-scale series, each 1-D.
        horizon: the longest horizon scored.
        config: ``members``, ``n_origins``, ``min_train``, ``error_scale`` and ``pooled`` are used.
        scale: the transform between original and model scale (identity by default).
        observed: per series, which points were observed (``False`` where a gap was filled). An origin
            whose cutoff falls in a gap is skipped, since the filled value was interpolated towards a
            later observation (the window would see the future), and rows whose actual is a filled
            value are dropped (nothing was observed to score).
        pooled_models: the pooled member already trained at each origin offset on a whole panel of
            which ``histories`` are a chunk (:mod:`models.champion.chunked`); ``None`` trains it at each
            origin on ``histories`` (a model of ``None`` at an offset means no training row: drift).
    """
    tf = scale or Scale()
    keys = ("series", "offset", "h", "actual", "scale", "raw_scale", "trend", "feats", "keep")
    parts: dict[str, list[np.ndarray]] = {k: [] for k in keys}
    pts: dict[Member, list[np.ndarray]] = {m: [] for m in config.members}
    for origin in origins(
        histories, horizon=horizon, n_origins=config.n_origins, min_train=config.min_train, observed=observed
    ):
        steps, offset, train = origin.steps, origin.offset, origin.train
        # a pooled model of None (no training row in the whole panel): the member falls back to drift
        model = None if pooled_models is None else pooled_models.get(offset)
        fc = member_points(train, steps, config.members, config.pooled, tf, pooled_model=model)
        for j, i in enumerate(origin.series):
            z = histories[i]
            t = z.size - offset
            parts["series"].append(np.full(steps, i))
            parts["offset"].append(np.full(steps, offset))
            parts["h"].append(np.arange(1, steps + 1))
            parts["actual"].append(z[t : t + steps])
            parts["scale"].append(np.full(steps, error_scale(train[j], config.error_scale)))
            parts["raw_scale"].append(np.full(steps, series_scale(tf.inverse(train[j]))))
            parts["trend"].append(np.full(steps, trend_share(train[j])))
            parts["feats"].append(np.repeat(difficulty_features(train[j])[None, :], steps, axis=0))
            parts["keep"].append(
                np.ones(steps, bool) if observed is None else np.asarray(observed[i][t : t + steps], bool)
            )
            for m in config.members:
                pts[m].append(fc[m][j])
    if not parts["series"]:
        e = np.empty(0)
        i0 = e.astype(int)
        return MemberBacktest(
            i0, i0, i0, e, e, e, e, {m: e for m in config.members}, np.empty((0, N_FEATURES + 1))
        )
    keep = np.concatenate(parts["keep"])
    return MemberBacktest(
        series=np.concatenate(parts["series"])[keep],
        offset=np.concatenate(parts["offset"])[keep],
        h=np.concatenate(parts["h"])[keep],
        actual=np.concatenate(parts["actual"])[keep],
        scale=np.concatenate(parts["scale"])[keep],
        raw_scale=np.concatenate(parts["raw_scale"])[keep],
        trend=np.concatenate(parts["trend"])[keep],
        points={m: np.concatenate(v)[keep] for m, v in pts.items()},
        feats=np.concatenate(parts["feats"])[keep],
    )
