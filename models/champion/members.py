"""The members' point forecasts and the window statistics the champion calibrates with (model scale)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from models.base import make_model
from models.champion.candidates import Member
from models.champion.config import PooledSettings
from models.pooled import PooledGrowth, series_scale, window_features
from models.transforms import Scale

log = logging.getLogger(__name__)


def member_points(
    histories: Sequence[np.ndarray],
    horizon: int,
    members: Sequence[Member],
    pooled: PooledSettings,
    scale: Scale | None = None,
    *,
    pooled_model: PooledGrowth | None = None,
) -> dict[Member, np.ndarray]:
    """Point forecasts of each member for each series, ``{member: (n_series, horizon)}``, model scale.

    Args:
        histories: model-scale series (each 1-D, ≥ 3 points).
        horizon: steps ahead.
        members: ``pooled`` is trained across ``histories``; every other member is a registered model
            fitted on each history alone; a ``raw`` member is fitted on the original scale and its
            forecast mapped to the model scale.
        pooled: settings of the pooled member.
        scale: the transform between original and model scale (needed for ``raw`` members).
        pooled_model: the pooled member already trained (on a whole panel, of which ``histories`` may be
            a chunk); ``None`` trains it on ``histories``.
    """
    out: dict[Member, np.ndarray] = {}
    for member in members:
        if member.raw:
            if scale is None:
                raise ValueError(f"member {member} needs the scale of the histories; pass scale=")
            raw = [scale.inverse(z) for z in histories]
            out[member] = scale.forward(
                np.stack([make_model(member.name).fit(y).predict(horizon).mean for y in raw])
            )
            continue
        if member.name == "pooled" and pooled_model is not None:
            last = np.stack([z[-1] for z in histories])[:, None]
            out[member] = last + pooled_model.growth(histories, horizon)
            continue
        if member.name == "pooled":
            settings = pooled.model_dump() | {"horizon_max": max(horizon, pooled.horizon_max)}
            model = PooledGrowth(**settings)
            try:
                model.fit_pool(histories)
            except ValueError:
                log.warning("pooled member skipped: no training window long enough; using drift instead")
                out[member] = np.stack([make_model("drift").fit(z).predict(horizon).mean for z in histories])
                continue
            out[member] = np.stack([z[-1] for z in histories])[:, None] + model.growth(histories, horizon)
        else:
            out[member] = np.stack([make_model(member.name).fit(z).predict(horizon).mean for z in histories])
    return out


def error_scale(z: np.ndarray, how: str = "mad_step") -> float:
    """The per-series scale ``s`` that makes errors of different series comparable (model scale).

    ``mad_step``: mean absolute step (the in-sample naive error, as in MASE). ``sd_step``: standard
    deviation of the steps around their mean (the noise around a drift, so a smooth trend does not
    widen its own intervals). Both are floored to stay positive.

    >>> error_scale(np.array([0.0, 1.0, 2.0, 4.0]), "mad_step"), round(error_scale(np.array([0.0, 1.0, 2.0, 4.0]), "sd_step"), 4)
    (1.3333333333333333, 0.5774)
    """
    if how == "mad_step":
        return series_scale(z)
    if how != "sd_step":
        raise ValueError(f"unknown error scale {how!r}; use 'mad_step' or 'sd_step'")
    d = np.diff(z)
    sd = float(np.std(d, ddof=1)) if d.size > 1 else 0.0
    return max(sd, 1e-3 * series_scale(z), 1e-9)


def difficulty_features(z: np.ndarray) -> np.ndarray:
    """Features of a window for the difficulty model: the pooled model's window features (level
    included) at its last point, shape ``(N_FEATURES + 1,)``.

    >>> difficulty_features(np.array([0.0, 1.0, 2.0, 3.0])).shape
    (10,)
    """
    return window_features(z, with_level=True)[-1]


def trend_share(z: np.ndarray) -> float:
    """How much of a series' movement is steady trend: ``|mean step| / mean |step|`` in ``[0, 1]``.

    >>> trend_share(np.array([0.0, 1.0, 2.0])), trend_share(np.array([0.0, 1.0, 0.0]))
    (1.0, 0.0)
    """
    d = np.diff(z)
    denom = float(np.mean(np.abs(d))) if d.size else 0.0
    return float(abs(d.mean()) / denom) if denom > 0 else 0.0
