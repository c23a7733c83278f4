"""The champion: member models backtested together, a combination chosen by backtest, conformal intervals.

Steps (all on the model scale ``z``: log for counts and amounts, logit for shares):

1. **Backtest the members** (default: Theta, damped trend, drift, naive, the pooled model, and Theta
   and damped trend fitted on the original scale) at the last
   ``n_origins`` cutoffs of every series; the pooled model is retrained at each origin on every
   series' history up to that origin.
2. **Choose the configuration** with the best backtest score over all backtest rows (default: the
   M4 OWA, ``(sMAPE/sMAPE_naive + MASE/MASE_naive)/2`` on the original scale; see
   :func:`backtest_score`), among: each member alone, the mean and the median of every subset of two or more
   members, and per-series selection (each series takes the member with the lowest error on
   backtest rows that end before the origin being scored, so the choice never sees the future).
3. **Calibrate**: the scaled backtest errors of the distribution's centre, pooled across series per
   horizon, give the predictive quantiles (:class:`models.calibration.PooledConformal`). The centre
   is the chosen configuration, except on large panels (at least ``adaptive_min_rows`` backtest
   rows), where it is ``ChampionConfig.centre`` (the pooled model by default; see that field for the
   evidence). With enough rows each error is first divided by its predicted difficulty (locally
   adaptive conformal, :class:`models.calibration.DifficultyModel`) and then has its predicted
   median removed (:class:`models.calibration.LocationModel`), both cross-fitted so no error is
   normalised by a model that saw its series.
4. **Forecast** every series from its full history: ``c + s·d·(m + Q_h(p))`` (centre ``c``,
   difficulty ``d``, median correction ``m``), mapped back to the original scale (so shares stay
   inside their bounds), made non-decreasing for cumulative stocks. The point forecast stays the
   chosen configuration's.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from models.base import make_model
from models.calibration import DifficultyModel, LocationModel, PooledConformal
from models.ensemble import combine_points
from models.pooled import N_FEATURES, PooledGrowth, series_scale, window_features
from models.transforms import Scale

log = logging.getLogger(__name__)

SELECT = "select"
RAW = "@raw"


@dataclass(frozen=True)
class ChampionConfig:
    """Settings of the champion.

    Attributes:
        members: registered model names (fast, numpy-based by default) plus ``pooled``; ``@raw``
            members are fitted on the original scale (see :func:`member_points`).
        n_origins: backtest cutoffs per series (the last ``n_origins`` before the end).
        min_train: fewest points a member is fitted on in the backtest.
        min_count: fewest pooled errors a horizon needs before it borrows a shorter horizon's.
        pooled: settings for :class:`models.pooled.PooledGrowth`; by default the level ``z[t]`` is a
            feature (the issue's "growth as a function of level"; on the M3 yearly validation split,
            training data only, it lowered sMAPE, MASE and the attainment Brier score).
        allow_select: include per-series selection among the candidates.
        fixed: skip the choice and use this candidate name (e.g. ``"mean(theta_np+damped_np)"``).
        criterion: how candidates are ranked on the backtest (see :func:`backtest_score`).
        equal_horizons: weigh every horizon equally when ranking candidates.
        error_scale: how a series' errors are scaled before pooling (see :func:`error_scale`).
        calib_groups: Mondrian conformal: split the pools into this many groups by the training window's
            :func:`trend_share` (equal-count groups over the backtest); 1 = one pool per horizon.
        adaptive: locally adaptive conformal: divide the scaled errors by a predicted difficulty
            (:class:`models.calibration.DifficultyModel`, cross-fitted on two halves of the series)
            before pooling. On the M3 yearly validation split (training data only) it lowered the
            attainment Brier score and MSIS at unchanged coverage.
        adaptive_min_rows: fewest backtest rows for ``adaptive`` to apply; smaller panels (a
            district's few KPIs) pool plain scaled errors instead.
        calib_lag: calibrate on backtest rows whose target period lies fewer than ``calib_lag`` steps
            before the end of the history (``offset − h < calib_lag``): the errors made from the most
            recent origins, whose histories are closest in length to the final one.
        centre: on large panels (``adaptive_min_rows`` backtest rows or more), the candidate whose
            forecast centres the predictive distribution (``None``: the chosen point configuration).
            The point forecast is unchanged. Chosen on two M3 yearly validation splits (training data
            only, ``evaluation/bench/forecast.md``): centring on the pooled model lowered the
            attainment Brier score on both, while the backtest's OWA, which ranks point forecasts,
            prefers combinations for the point.
        location: with ``adaptive``, also learn the median of the difficulty-scaled errors from the
            window features (cross-fitted) and shift the distribution by it.
    """

    members: tuple[str, ...] = (
        "theta_np",
        "damped_np",
        "drift",
        "naive",
        "pooled",
        "theta_np@raw",
        "damped_np@raw",
    )
    n_origins: int = 8
    min_train: int = 5
    min_count: int = 30
    pooled: dict[str, Any] = field(default_factory=lambda: {"with_level": True})
    allow_select: bool = True
    fixed: str | None = None
    criterion: str = "owa"
    equal_horizons: bool = False
    error_scale: str = "mad_step"
    calib_groups: int = 1
    adaptive: bool = True
    adaptive_min_rows: int = 1000
    calib_lag: int = 99
    centre: str | None = "pooled"
    location: bool = True


@dataclass(frozen=True)
class MemberBacktest:
    """Backtest of the members, one entry per (series, origin, horizon).

    Attributes:
        series: shape ``(m,)`` series index. offset: origin offset ``o`` (cutoff = last index − o).
        h: horizon. actual: ``z`` observed. scale: ``s`` of the training window.
        raw_scale: the training window's mean absolute step on the original scale (for MASE).
        trend: the training window's :func:`trend_share` (groups the calibration pools).
        feats: shape ``(m, f)``, :func:`difficulty_features` of the training window.
        points: member name → shape ``(m,)`` point forecasts on the model scale.
    """

    series: np.ndarray
    offset: np.ndarray
    h: np.ndarray
    actual: np.ndarray
    scale: np.ndarray
    raw_scale: np.ndarray
    trend: np.ndarray
    points: dict[str, np.ndarray]
    feats: np.ndarray


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


def member_points(
    histories: Sequence[np.ndarray],
    horizon: int,
    members: Sequence[str],
    pooled: dict[str, Any],
    scale: Scale | None = None,
) -> dict[str, np.ndarray]:
    """Point forecasts of each member for each series, ``{member: (n_series, horizon)}``, model scale.

    Args:
        histories: model-scale series (each 1-D, ≥ 3 points).
        horizon: steps ahead.
        members: registered model names; ``pooled`` is trained across ``histories``; a name ending in
            ``@raw`` (e.g. ``theta_np@raw``) is fitted on the original scale and its forecast mapped
            to the model scale (linear trends in the original units, not exponential ones).
        pooled: settings for the pooled model.
        scale: the transform between original and model scale (needed for ``@raw`` members).
    """
    out: dict[str, np.ndarray] = {}
    for name in members:
        if name.endswith(RAW):
            if scale is None:
                raise ValueError(f"member {name!r} needs the scale of the histories; pass scale=")
            base = name.removesuffix(RAW)
            raw = [scale.inverse(z) for z in histories]
            out[name] = scale.forward(np.stack([make_model(base).fit(y).predict(horizon).mean for y in raw]))
            continue
        if name == "pooled":
            model = PooledGrowth(
                horizon_max=max(horizon, pooled.get("horizon_max", 6)), **_without(pooled, "horizon_max")
            )
            try:
                model.fit_pool(histories)
            except ValueError:
                log.warning("pooled member skipped: no training window long enough; using drift instead")
                out[name] = np.stack([make_model("drift").fit(z).predict(horizon).mean for z in histories])
                continue
            out[name] = np.stack([z[-1] for z in histories])[:, None] + model.growth(histories, horizon)
        else:
            out[name] = np.stack([make_model(name).fit(z).predict(horizon).mean for z in histories])
    return out


def _without(d: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k != key}


def backtest_members(
    histories: Sequence[np.ndarray], horizon: int, config: ChampionConfig, scale: Scale | None = None
) -> MemberBacktest:
    """Rolling-origin backtest of every member (see the module docstring, step 1)."""
    tf = scale or Scale()
    keys = ("series", "offset", "h", "actual", "scale", "raw_scale", "trend", "feats")
    parts: dict[str, list[np.ndarray]] = {k: [] for k in keys}
    pts: dict[str, list[np.ndarray]] = {m: [] for m in config.members}
    for offset in range(1, config.n_origins + 1):
        idx = [i for i, z in enumerate(histories) if z.size - offset >= config.min_train]
        if not idx:
            continue
        steps = min(horizon, offset)
        train = [histories[i][: histories[i].size - offset] for i in idx]
        fc = member_points(train, steps, config.members, config.pooled, tf)
        for j, i in enumerate(idx):
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
            for m in config.members:
                pts[m].append(fc[m][j])
    if not parts["series"]:
        e = np.empty(0)
        return MemberBacktest(
            e.astype(int),
            e.astype(int),
            e.astype(int),
            e,
            e,
            e,
            e,
            {m: e for m in config.members},
            np.empty((0, N_FEATURES + 1)),
        )
    return MemberBacktest(
        series=np.concatenate(parts["series"]),
        offset=np.concatenate(parts["offset"]),
        h=np.concatenate(parts["h"]),
        actual=np.concatenate(parts["actual"]),
        scale=np.concatenate(parts["scale"]),
        raw_scale=np.concatenate(parts["raw_scale"]),
        trend=np.concatenate(parts["trend"]),
        points={m: np.concatenate(v) for m, v in pts.items()},
        feats=np.concatenate(parts["feats"]),
    )


def candidate_names(members: Sequence[str], allow_select: bool = True) -> list[str]:
    """Every member, ``mean(…)``/``median(…)`` of every subset of 2+ members, and ``select``.

    >>> candidate_names(["a", "b"], allow_select=False)
    ['a', 'b', 'mean(a+b)', 'median(a+b)']
    """
    names = list(members)
    for k in range(2, len(members) + 1):
        for combo in itertools.combinations(members, k):
            names += [f"mean({'+'.join(combo)})", f"median({'+'.join(combo)})"]
    return [*names, SELECT] if allow_select else names


def combine(name: str, points: dict[str, np.ndarray]) -> np.ndarray:
    """Points of candidate ``name`` (a member, ``mean(a+b…)`` or ``median(a+b…)``) from member points.

    >>> combine("median(a+b+c)", {"a": np.array([1.0]), "b": np.array([5.0]), "c": np.array([2.0])}).tolist()
    [2.0]
    """
    if name in points:
        return points[name]
    how, _, rest = name.partition("(")
    if how not in {"mean", "median"} or not rest.endswith(")"):
        raise ValueError(f"unknown candidate {name!r}; use a member name, mean(a+b) or median(a+b)")
    members = rest[:-1].split("+")
    unknown = [m for m in members if m not in points]
    if unknown:
        raise ValueError(f"candidate {name!r} names member(s) {unknown} that were not fitted")
    return combine_points([points[m] for m in members], "median" if how == "median" else "mean")


def _select_points(bt: MemberBacktest, members: Sequence[str], default: str) -> np.ndarray:
    """Per-series selection scored honestly: at origin ``o`` use only rows with ``o' − h ≥ o``."""
    err = {m: np.abs(bt.actual - bt.points[m]) / bt.scale for m in members}
    out = combine(default, bt.points).copy()
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


@dataclass(frozen=True)
class Champion:
    """A fitted champion configuration.

    Attributes:
        name: the chosen candidate. scores: ``candidate, scaled_mae`` over the backtest, best first.
        calibrator: pooled conformal quantiles of its scaled errors. config: the settings used.
        choice: for ``select``, the member chosen per series index (from all backtest rows).
        scale: the transform from the original to the model scale.
        group_edges: trend-share edges of the calibration groups (empty: one pool).
        difficulty: cross-fitted difficulty models (empty unless ``config.adaptive``).
        location: cross-fitted median-correction models (empty unless ``config.location`` applied).
        centre: the candidate that centres the predictive distribution (``name`` unless a large
            panel used ``config.centre``).
    """

    name: str
    scores: pl.DataFrame
    calibrator: PooledConformal
    config: ChampionConfig
    choice: dict[int, str] = field(default_factory=dict)
    scale: Scale = field(default_factory=Scale)
    group_edges: np.ndarray = field(default_factory=lambda: np.empty(0))
    difficulty: tuple[DifficultyModel, ...] = ()
    location: tuple[LocationModel, ...] = ()
    centre: str = ""

    def points(self, histories: Sequence[np.ndarray], horizon: int) -> np.ndarray:
        """Point forecasts on the model scale, shape ``(n_series, horizon)``."""
        pts = member_points(histories, horizon, self.config.members, self.config.pooled, self.scale)
        return self._points(pts)

    def _points(self, pts: dict[str, np.ndarray]) -> np.ndarray:
        if self.name != SELECT:
            return combine(self.name, pts)
        default = _default(self.config.members)
        out = combine(default, pts).copy()
        for i, m in self.choice.items():
            if i < out.shape[0]:
                out[i] = pts[m][i]
        return out

    def forecast(
        self, histories: Sequence[np.ndarray], horizon: int, probs: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Points ``(n, h)`` and calibrated quantiles ``(n, h, k)`` on the model scale."""
        members = member_points(histories, horizon, self.config.members, self.config.pooled, self.scale)
        pts = self._points(members)
        centre = pts if self.centre in ("", self.name) else combine(self.centre, members)
        scale = np.array([error_scale(z, self.config.error_scale) for z in histories])
        if self.difficulty:
            feats = np.stack([difficulty_features(z) for z in histories])
            steps = np.arange(1, horizon + 1)
            x = np.repeat(feats, horizon, axis=0)
            hh = np.tile(steps, len(histories))
            d = np.mean([m.predict(x, hh) for m in self.difficulty], axis=0).reshape(len(histories), horizon)
            scale = scale[:, None] * d
            if self.location:
                shift = np.mean([m.predict(x, hh) for m in self.location], axis=0).reshape(
                    len(histories), horizon
                )
                centre = centre + scale * shift
        groups = None
        if self.group_edges.size:
            groups = np.searchsorted(self.group_edges, [trend_share(z) for z in histories])
        return pts, self.calibrator.apply(centre, scale, probs, groups)


def _names_members(candidate: str, members: Sequence[str]) -> bool:
    """Whether ``candidate`` is a member or a ``mean(…)``/``median(…)`` of members.

    >>> _names_members("pooled", ["pooled", "drift"]), _names_members("mean(a+b)", ["a"])
    (True, False)
    """
    inner = candidate.partition("(")[2].removesuffix(")") if "(" in candidate else candidate
    return all(m in members for m in inner.split("+"))


def _default(members: Sequence[str]) -> str:
    simple = [m for m in members if m != "naive"]
    return f"mean({'+'.join(simple)})" if len(simple) > 1 else members[0]


def backtest_score(
    bt: MemberBacktest, pts: np.ndarray, criterion: str, scale: Scale, *, equal_horizons: bool = False
) -> float:
    """Score candidate points ``pts`` (aligned with ``bt``) by ``criterion``; lower is better.

    ``scaled_mae``: mean ``|z − ẑ| / s`` on the model scale. ``owa``: the M4 overall weighted
    average on the original scale, ``(sMAPE / sMAPE_naive + MASE / MASE_naive) / 2``. With
    ``equal_horizons`` every horizon weighs the same (the backtest holds more short-horizon rows
    than long ones, since only early origins reach far).
    """
    weight = np.ones(bt.h.shape)
    if equal_horizons and bt.h.size:
        counts = np.bincount(bt.h)
        weight = 1.0 / counts[bt.h]

    def mean(v: np.ndarray) -> float:
        return float(np.sum(v * weight) / np.sum(weight))

    if criterion == "scaled_mae":
        return mean(np.abs(bt.actual - pts) / bt.scale)
    if criterion != "owa":
        raise ValueError(f"unknown criterion {criterion!r}; use 'owa' or 'scaled_mae'")
    if "naive" not in bt.points:
        raise ValueError("criterion 'owa' needs 'naive' among the members")
    actual = scale.inverse(bt.actual)
    naive = scale.inverse(bt.points["naive"])
    fc_raw = scale.inverse(pts)
    smape = _relative(mean(_smape(actual, fc_raw)), mean(_smape(actual, naive)))
    mase = _relative(
        mean(np.abs(actual - fc_raw) / bt.raw_scale), mean(np.abs(actual - naive) / bt.raw_scale)
    )
    return 0.5 * (smape + mase)


def _relative(error: float, naive_error: float) -> float:
    """``error / naive_error``, defined when naive is perfect (a flat series): 1 if both are 0, else large.

    >>> round(_relative(2.0, 4.0), 9), _relative(0.0, 0.0), _relative(1.0, 0.0) > 1e6
    (0.5, 1.0, True)
    """
    tiny = 1e-12
    return (error + tiny) / (naive_error + tiny)


def _smape(a: np.ndarray, f: np.ndarray) -> np.ndarray:
    denom = np.abs(a) + np.abs(f)
    return np.where(denom > 0, 200 * np.abs(a - f) / np.where(denom > 0, denom, 1.0), 0.0)


def fit_champion(
    histories: Sequence[np.ndarray],
    horizon: int,
    config: ChampionConfig | None = None,
    scale: Scale | None = None,
) -> Champion:
    """Backtest, choose and calibrate (module docstring, steps 1–3).

    Args:
        histories: model-scale series, each 1-D with ≥ 3 points.
        horizon: the longest horizon that will be forecast.
        config: settings; defaults to :class:`ChampionConfig`.
        scale: the transform from original to model scale (identity by default).
    """
    cfg = config or ChampionConfig()
    tf = scale or Scale()
    bt = backtest_members(histories, horizon, cfg, tf)
    default = _default(cfg.members)
    if bt.actual.size == 0:
        log.warning("no backtest rows (series shorter than min_train + 1); using %s uncalibrated", default)
        cal = PooledConformal(min_count=cfg.min_count).fit(np.empty(0, int), np.empty(0))
        scores = pl.DataFrame(
            {"candidate": [default], "score": [None]}, schema={"candidate": pl.String, "score": pl.Float64}
        )
        return Champion(default, scores, cal, cfg, scale=tf)
    names = [cfg.fixed] if cfg.fixed else candidate_names(cfg.members, cfg.allow_select)
    scored = []
    for name in names:
        pts = _select_points(bt, cfg.members, default) if name == SELECT else combine(name, bt.points)
        scored.append(
            (name, backtest_score(bt, pts, cfg.criterion, tf, equal_horizons=cfg.equal_horizons), pts)
        )
    scored.sort(key=lambda r: r[1])
    best, _, best_pts = scored[0]
    choice: dict[int, str] = {}
    if best == SELECT:
        err = {m: np.abs(bt.actual - bt.points[m]) / bt.scale for m in cfg.members}
        for s in np.unique(bt.series):
            rows = bt.series == s
            choice[int(s)] = min(cfg.members, key=lambda m: float(err[m][rows].mean()))
    keep = (bt.offset - bt.h) < cfg.calib_lag
    large = bt.actual.size >= cfg.adaptive_min_rows
    centre = cfg.centre if (large and cfg.centre and _names_members(cfg.centre, cfg.members)) else best
    centre_pts = best_pts if centre == best else combine(centre, bt.points)
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
    edges = np.empty(0)
    groups = None
    if cfg.calib_groups > 1:
        edges = np.quantile(bt.trend[bt.h == 1], np.arange(1, cfg.calib_groups) / cfg.calib_groups)
        groups = np.searchsorted(edges, bt.trend)[keep]
    cal = PooledConformal(min_count=cfg.min_count).fit(bt.h[keep], scaled[keep], groups)
    scores = pl.DataFrame({"candidate": [r[0] for r in scored], "score": [r[1] for r in scored]})
    log.info(
        "champion %s (%s %.4f over %d backtest rows), distribution centred on %s",
        best,
        cfg.criterion,
        scored[0][1],
        bt.actual.size,
        centre,
    )
    return Champion(best, scores, cal, cfg, choice, tf, edges, difficulty, location, centre)


def backtest_frame(
    bt: MemberBacktest, ids: Sequence[str], periods: Sequence[Sequence[object]]
) -> pl.DataFrame:
    """The members' backtest as the tidy frame ``series_id, period, cutoff, h, y, scale, <member…>``.

    Args:
        bt: from :func:`backtest_members`.
        ids: series ids by index; periods: each series' periods (same length as its history).
    """
    period, cutoff = [], []
    for s, o, h in zip(bt.series.tolist(), bt.offset.tolist(), bt.h.tolist(), strict=True):
        per = periods[s]
        last = len(per) - 1 - o
        cutoff.append(per[last])
        period.append(per[last + h])
    return pl.DataFrame(
        {
            "series_id": [ids[s] for s in bt.series.tolist()],
            "period": period,
            "cutoff": cutoff,
            "h": bt.h,
            "y": bt.actual,
            "scale": bt.scale,
            **bt.points,
        }
    )
