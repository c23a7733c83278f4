"""Calibrating the champion: pooled conformal errors of each centre, difficulty and median models, kinds,
and the linear pool of several calibrated distributions (the champion's step 3)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from models.calibration import DifficultyModel, LocationModel, PooledConformal, mixture_quantiles
from models.champion.backtest import MemberBacktest
from models.champion.candidates import Candidate, uses_only
from models.champion.config import ChampionConfig


@dataclass(frozen=True)
class Component:
    """One calibrated predictive distribution: centred on ``centre``'s forecast, its errors pooled.

    Attributes:
        centre: the candidate whose forecast centres it. calibrator: pooled conformal quantiles of its
        scaled errors. difficulty: cross-fitted difficulty models (empty unless adaptive applied).
        location: cross-fitted median-correction models (empty unless ``config.location`` applied).
    """

    centre: Candidate
    calibrator: PooledConformal
    difficulty: tuple[DifficultyModel, ...] = ()
    location: tuple[LocationModel, ...] = ()


def centres(cfg: ChampionConfig, best: Candidate, large: bool) -> list[Candidate]:
    """The candidates whose distributions make the predictive distribution (one, or a linear pool)."""
    if cfg.centre == "pool":
        return [best, *[m for m in cfg.members if m != best]]
    if not large or cfg.centre == "chosen":
        return [best]
    return [cfg.centre] if uses_only(cfg.centre, cfg.members) else [best]


def calibrate(
    bt: MemberBacktest,
    centre: Candidate,
    *,
    centre_pts: np.ndarray,
    cfg: ChampionConfig,
    large: bool,
    keep: np.ndarray,
    groups: np.ndarray | None,
) -> Component:
    """Pooled conformal calibration of the backtest errors of one centre (``centre_pts``, aligned with ``bt``).

    Args:
        large: whether the panel has enough backtest rows for the adaptive (difficulty) models.
        keep: which backtest rows enter the error pools (``config.calib_lag``).
        groups: per kept row, its Mondrian group (trend group or kind), or ``None`` for one pool.
    """
    scaled = (bt.actual - centre_pts) / bt.scale
    difficulty: tuple[DifficultyModel, ...] = ()
    location: tuple[LocationModel, ...] = ()
    if cfg.adaptive and large:
        # cross-fit by series parity: each error is normalised by a model that never saw its series
        half = bt.series % 2
        models = []
        norm = np.empty_like(scaled)
        for part in (0, 1):
            model = DifficultyModel().fit(bt.feats[half != part], bt.h[half != part], scaled[half != part])
            norm[half == part] = scaled[half == part] / model.predict(
                bt.feats[half == part], bt.h[half == part]
            )
            models.append(model)
        difficulty = tuple(models)
        scaled = norm
        if cfg.location:
            locs = []
            shifted = np.empty_like(scaled)
            for part in (0, 1):
                loc = LocationModel().fit(bt.feats[half != part], bt.h[half != part], scaled[half != part])
                shifted[half == part] = scaled[half == part] - loc.predict(
                    bt.feats[half == part], bt.h[half == part]
                )
                locs.append(loc)
            location = tuple(locs)
            scaled = shifted
    cal = PooledConformal(min_count=cfg.min_count, prior_weight=cfg.prior_weight).fit(
        bt.h[keep], scaled[keep], groups
    )
    return Component(centre, cal, difficulty, location)


def kind_codes(kinds: Sequence[str], vocabulary: Sequence[str], *, n: int) -> np.ndarray:
    """Index of each series' kind in ``vocabulary`` (−1 for a kind not in it), checking there are ``n``.

    >>> kind_codes(["b", "a", "c"], ("a", "b"), n=3).tolist()
    [1, 0, -1]
    """
    if len(kinds) != n:
        raise ValueError(f"kinds must give one kind per series: got {len(kinds)} for {n} series")
    index = {k: i for i, k in enumerate(vocabulary)}
    return np.array([index.get(str(k), -1) for k in kinds], dtype=int)


def kind_onehot(codes: np.ndarray, n_kinds: int) -> np.ndarray:
    """One-hot rows ``(len(codes), n_kinds)``; a code of −1 (unseen kind) is a row of zeros.

    >>> kind_onehot(np.array([1, -1]), 2).tolist()
    [[0.0, 1.0], [0.0, 0.0]]
    """
    out = np.zeros((codes.size, n_kinds))
    seen = codes >= 0
    out[np.flatnonzero(seen), codes[seen]] = 1.0
    return out


def linear_pool(quantiles: Sequence[np.ndarray], probs: np.ndarray) -> np.ndarray:
    """Quantiles of the equal-weight mixture of distributions given by their quantiles.

    Each distribution's CDF is the piecewise-linear curve through ``(quantile, prob)``; the mixture's CDF
    is their mean, inverted at ``probs``. A monotone map of all inputs (the model scale back to the
    original) maps the mixture's quantiles the same way, so pooling on the model scale is exact.

    Args:
        quantiles: each shape ``(n, h, k)``, at ``probs`` ``(k,)``, which must be increasing.

    Outside a distribution's lowest and highest quantile its CDF is taken as 0 and 1, so pass a dense
    grid (the champion's reaches 0.25 % and 99.75 %).

    >>> a, b, p = np.array([[[0.0, 1.0, 2.0]]]), np.array([[[10.0, 11.0, 12.0]]]), np.array([0.1, 0.5, 0.9])
    >>> linear_pool([a, a], p)[0, 0].round(6).tolist(), float(linear_pool([a, b], p)[0, 0, 1].round(6))
    ([0.0, 1.0, 2.0], 6.0)
    """
    if np.any(np.diff(probs) <= 0):
        raise ValueError("linear_pool needs increasing probabilities")
    qs = [np.sort(q, axis=-1) for q in quantiles]
    n, h, k = qs[0].shape
    out = np.empty((n, h, k))
    for i in range(n):
        for j in range(h):
            xs = np.sort(np.concatenate([q[i, j] for q in qs]))
            cdfs = [np.interp(xs, q[i, j], probs, left=0.0, right=1.0) for q in qs]
            out[i, j] = mixture_quantiles(xs, cdfs, [1.0] * len(qs), probs)
    return out
