"""The champion: the forecaster dtscope runs, as a model.

Member models are backtested together, a candidate (a member, a combination of members, or per-series
selection) is chosen by backtest, and conformal intervals are calibrated on the backtest errors. All on the
model scale ``z`` (log for counts and amounts, logit for shares):

1. **Backtest the members** (:mod:`~models.champion.backtest`; default members: Theta, damped trend,
   drift, naive, the pooled model, and Theta and damped trend fitted on the original scale) at the last
   ``n_origins`` origins of :func:`models.backtest.origins`; the pooled model is retrained at each origin
   on every series' history up to that origin.
2. **Choose the candidate** (:mod:`~models.champion.candidates`, :mod:`~models.champion.selection`) with
   the best backtest score over all backtest rows (default: the M4 OWA from the ``smape_error`` and
   ``mase_error`` of :mod:`models.metrics`), among each member alone, the mean and the median of every
   subset of two or more members, and per-series selection (each series takes the member with the lowest
   error on backtest rows that end before the origin being scored, so the choice never sees the future).
3. **Calibrate** (:mod:`~models.champion.calibration`): the scaled backtest errors of each centre, pooled
   across series per horizon, give the predictive quantiles (:class:`models.calibration.PooledConformal`).
   By default one distribution per centre (the chosen candidate and every member) is calibrated and they
   are pooled linearly with equal weights. With enough rows each error is first divided by its predicted
   difficulty and has its predicted median removed, both cross-fitted so no error is normalised by a
   model that saw its series; that median correction is kept only if, learnt on older origins, it did not
   raise the error on the 3 most recent ones beyond noise (``ChampionConfig.location_gate_z``). Series
   given with kinds add their kind to both models' features and get one
   error pool per kind (Mondrian conformal).
4. **Forecast** (:class:`~models.champion.fitted.Champion`) every series from its full history; the
   caller maps the quantiles back to the original scale. The point forecast stays the chosen candidate's.

Settings are one frozen :class:`~models.champion.config.ChampionConfig`.
"""

from __future__ import annotations

from models.champion.backtest import MemberBacktest, backtest_members
from models.champion.calibration import Component, linear_pool
from models.champion.candidates import Candidate, Combination, Member, Selection, candidates
from models.champion.config import ChampionConfig, PooledSettings
from models.champion.fitted import Champion, fit_champion
from models.champion.members import error_scale, member_points

__all__ = [
    "Candidate",
    "Champion",
    "ChampionConfig",
    "Combination",
    "Component",
    "Member",
    "MemberBacktest",
    "PooledSettings",
    "Selection",
    "backtest_members",
    "candidates",
    "error_scale",
    "fit_champion",
    "linear_pool",
    "member_points",
]
