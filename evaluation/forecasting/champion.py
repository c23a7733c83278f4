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
   horizon, give the predictive quantiles (:class:`models.calibration.PooledConformal`, whose
   small pools get tails beyond their extremes). The centre is set by ``ChampionConfig.centre``:
   by default one distribution per centre (the chosen configuration and every member), each
   calibrated on its own errors, pooled linearly with equal weights (see that field for the
   evidence). With enough rows each error is first divided by its predicted difficulty (locally
   adaptive conformal, :class:`models.calibration.DifficultyModel`) and then has its predicted
   median removed (:class:`models.calibration.LocationModel`), both cross-fitted so no error is
   normalised by a model that saw its series. Series given with kinds (``fit_champion(kinds=…)``)
   add their kind to both models' features and get one error pool per kind (Mondrian conformal).
4. **Forecast** every series from its full history: ``c + s·d·(m + Q_h(p))`` (centre ``c``,
   difficulty ``d``, median correction ``m``; for a pool, the components' CDFs averaged), mapped
   back to the original scale (so shares stay inside their bounds), made non-decreasing for
   cumulative stocks. The point forecast stays the chosen configuration's.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import polars as pl

from models.base import make_model
from models.calibration import DifficultyModel, LocationModel, PooledConformal, mixture_quantiles
from models.ensemble import combine_points
from models.pooled import N_FEATURES, PooledGrowth, series_scale, window_features
from models.transforms import Scale

log = logging.getLogger(__name__)

SELECT = "select"
RAW = "@raw"
POOL = "pool"


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
        centre: what centres the predictive distribution (the point forecast is unchanged either way).
            ``"pool"`` (default, any panel size): the equal-weight linear pool of one distribution per
            centre, the chosen configuration and every member, each calibrated on its own backtest
            errors. A candidate name: that candidate, on large panels (``adaptive_min_rows`` backtest
            rows or more) only. ``None``: the chosen point configuration. The pool was chosen on M3
            yearly training data only (``evaluation/bench/forecast.md``): on the validation windows
            of the full panel it had the lowest mean attainment Brier score, and on district-sized
            panels of short windows it fixed overconfident extremes and under-covering intervals.
            The members disagree most where the future is least certain, which is what the pool
            passes on.
        location: with ``adaptive``, also learn the median of the difficulty-scaled errors from the
            window features (cross-fitted) and shift the distribution by it.
        prior_weight: weight, in errors, of the reference normal blended into each pool's empirical
            distribution (:class:`models.calibration.PooledConformal`), so a small pool's extreme
            errors are not taken as the edge of what can happen.
        kind_features: when the series come with kinds (``fit_champion(kinds=…)``: a KPI's domain, a
            competition series' category), add the kind, one-hot, to the features of the difficulty
            and median-correction models, so series of one kind can share a bias or a spread that
            their windows do not show.
        kind_pools: with kinds, Mondrian conformal by kind: one error pool per kind and horizon (a
            kind with fewer than ``min_count`` errors at a horizon uses every kind's errors there).
            Both kind settings were chosen on M3 yearly training data only, its categories as kinds
            (``evaluation/bench/forecast.md``): over seven validation windows the mean attainment
            Brier score fell from 0.1840 untold to 0.1807 with the features, 0.1814 with the pools and
            0.1796 with both, lower in every window; the 186 finer groups of the series'
            descriptions as kinds did worse (0.1828).
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
    centre: str | None = POOL
    location: bool = True
    prior_weight: float = 2.0
    kind_features: bool = True
    kind_pools: bool = True


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
    histories: Sequence[np.ndarray],
    horizon: int,
    config: ChampionConfig,
    scale: Scale | None = None,
    observed: Sequence[np.ndarray] | None = None,
) -> MemberBacktest:
    """Rolling-origin backtest of every member (see the module docstring, step 1).

    Args:
        observed: per series, which points were observed (``False`` where a gap was filled). An origin
            whose cutoff falls in a gap is skipped, since the filled value was interpolated towards a
            later observation (the window would see the future), and rows whose actual is a filled
            value are dropped (nothing was observed to score).
    """
    tf = scale or Scale()
    keys = ("series", "offset", "h", "actual", "scale", "raw_scale", "trend", "feats", "keep")
    parts: dict[str, list[np.ndarray]] = {k: [] for k in keys}
    pts: dict[str, list[np.ndarray]] = {m: [] for m in config.members}
    for offset in range(1, config.n_origins + 1):
        idx = [
            i
            for i, z in enumerate(histories)
            if z.size - offset >= config.min_train
            and (observed is None or bool(observed[i][z.size - offset - 1]))
        ]
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
            parts["keep"].append(
                np.ones(steps, bool) if observed is None else np.asarray(observed[i][t : t + steps], bool)
            )
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
class Component:
    """One calibrated predictive distribution: centred on ``centre``'s forecast, its errors pooled.

    Attributes:
        centre: the candidate whose forecast centres it. calibrator: pooled conformal quantiles of its
        scaled errors. difficulty: cross-fitted difficulty models (empty unless adaptive applied).
        location: cross-fitted median-correction models (empty unless ``config.location`` applied).
    """

    centre: str
    calibrator: PooledConformal
    difficulty: tuple[DifficultyModel, ...] = ()
    location: tuple[LocationModel, ...] = ()


@dataclass(frozen=True)
class Champion:
    """A fitted champion configuration.

    Attributes:
        name: the chosen candidate. scores: ``candidate, scaled_mae`` over the backtest, best first.
        components: the calibrated distributions; with more than one, the predictive distribution is
            their equal-weight linear pool (``ChampionConfig.centre = "pool"`` on large panels).
        config: the settings used.
        choice: for ``select``, the member chosen per series index (from all backtest rows).
        scale: the transform from the original to the model scale.
        group_edges: trend-share edges of the calibration groups (empty: one pool).
        kinds: the series kinds seen in fitting, in the order of their one-hot columns (empty: the
            champion was fitted without kinds, or ``kind_features`` and ``kind_pools`` were off).
    """

    name: str
    scores: pl.DataFrame
    components: tuple[Component, ...]
    config: ChampionConfig
    choice: dict[int, str] = field(default_factory=dict)
    scale: Scale = field(default_factory=Scale)
    group_edges: np.ndarray = field(default_factory=lambda: np.empty(0))
    kinds: tuple[str, ...] = ()

    @property
    def calibrator(self) -> PooledConformal:
        """The first component's calibrator (the only one unless the distribution is a pool)."""
        return self.components[0].calibrator

    @property
    def difficulty(self) -> tuple[DifficultyModel, ...]:
        return self.components[0].difficulty

    @property
    def location(self) -> tuple[LocationModel, ...]:
        return self.components[0].location

    @property
    def centre(self) -> str:
        """The centre's name, or ``pool(a, b, …)`` for a linear pool of several."""
        names = [c.centre for c in self.components]
        return names[0] if len(names) == 1 else f"{POOL}({', '.join(names)})"

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
        self,
        histories: Sequence[np.ndarray],
        horizon: int,
        probs: np.ndarray,
        kinds: Sequence[str] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Points ``(n, h)`` and calibrated quantiles ``(n, h, k)`` on the model scale.

        ``kinds``: one per series, required when the champion was fitted with kinds; a kind it never
        saw gets no kind column and the all-kinds pool.
        """
        members = member_points(histories, horizon, self.config.members, self.config.pooled, self.scale)
        pts = self._points(members)
        base = np.array([error_scale(z, self.config.error_scale) for z in histories])
        feats = np.stack([difficulty_features(z) for z in histories])
        codes = None
        if self.kinds:
            if kinds is None:
                raise ValueError(
                    f"this champion was fitted with series kinds {list(self.kinds)}; pass kinds= to forecast"
                )
            codes = kind_codes(kinds, self.kinds, n=len(histories))
            unseen = sorted({k for k, c in zip(kinds, codes.tolist(), strict=True) if c < 0})
            if unseen:
                log.warning("kinds %s were not seen in fitting: no kind column, all-kinds pool", unseen)
            if self.config.kind_features:
                feats = np.column_stack([feats, kind_onehot(codes, len(self.kinds))])
        x = np.repeat(feats, horizon, axis=0)
        hh = np.tile(np.arange(1, horizon + 1), len(histories))
        groups = None
        if self.group_edges.size:
            groups = np.searchsorted(self.group_edges, [trend_share(z) for z in histories])
        elif codes is not None and self.config.kind_pools:
            groups = codes
        # a pool is mixed on a dense grid holding the requested probabilities, then read off at them
        grid = probs if len(self.components) == 1 else np.union1d(np.linspace(0.0025, 0.9975, 200), probs)
        qs = []
        for comp in self.components:
            centre = pts if comp.centre == self.name else combine(comp.centre, members)
            scale: np.ndarray = base
            if comp.difficulty:
                d = np.mean([m.predict(x, hh) for m in comp.difficulty], axis=0)
                scale = base[:, None] * d.reshape(len(histories), horizon)
                if comp.location:
                    shift = np.mean([m.predict(x, hh) for m in comp.location], axis=0)
                    centre = centre + scale * shift.reshape(len(histories), horizon)
            qs.append(comp.calibrator.apply(centre, scale, grid, groups))
        if len(qs) == 1:
            return pts, qs[0]
        return pts, linear_pool(qs, grid)[:, :, np.searchsorted(grid, probs)]


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
    observed: Sequence[np.ndarray] | None = None,
    *,
    kinds: Sequence[str] | None = None,
) -> Champion:
    """Backtest, choose and calibrate (module docstring, steps 1–3).

    Args:
        histories: model-scale series, each 1-D with ≥ 3 points (gaps filled).
        horizon: the longest horizon that will be forecast.
        config: settings; defaults to :class:`ChampionConfig`.
        scale: the transform from original to model scale (identity by default).
        observed: per series, which points were observed rather than filled (see
            :func:`backtest_members`); all observed when ``None``.
        kinds: per series, its kind (a KPI's domain, a competition series' category), used as
            ``config.kind_features`` and ``config.kind_pools`` say; the champion must then be given
            the kinds of the series it forecasts.
    """
    cfg = config or ChampionConfig()
    tf = scale or Scale()
    if observed is not None and [len(o) for o in observed] != [len(z) for z in histories]:
        raise ValueError("observed must give one flag per point of every history")
    if kinds is not None and cfg.kind_pools and cfg.calib_groups > 1:
        raise ValueError("kind_pools and calib_groups > 1 both split the pools; choose one")
    bt = backtest_members(histories, horizon, cfg, tf, observed)
    vocabulary: tuple[str, ...] = ()
    codes = np.empty(0, dtype=int)
    if kinds is not None and (cfg.kind_features or cfg.kind_pools):
        vocabulary = tuple(sorted({str(k) for k in kinds}))
        codes = kind_codes(kinds, vocabulary, n=len(histories))
        if cfg.kind_features and bt.actual.size:
            bt = replace(
                bt, feats=np.column_stack([bt.feats, kind_onehot(codes[bt.series], len(vocabulary))])
            )
    default = _default(cfg.members)
    if bt.actual.size == 0:
        log.warning("no backtest rows (series shorter than min_train + 1); using %s uncalibrated", default)
        cal = PooledConformal(min_count=cfg.min_count, prior_weight=cfg.prior_weight)
        cal.fit(np.empty(0, int), np.empty(0))
        scores = pl.DataFrame(
            {"candidate": [default], "score": [None]}, schema={"candidate": pl.String, "score": pl.Float64}
        )
        return Champion(default, scores, (Component(default, cal),), cfg, scale=tf, kinds=vocabulary)
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
    edges = np.empty(0)
    groups = None
    if cfg.calib_groups > 1:
        edges = np.quantile(bt.trend[bt.h == 1], np.arange(1, cfg.calib_groups) / cfg.calib_groups)
        groups = np.searchsorted(edges, bt.trend)[keep]
    elif vocabulary and cfg.kind_pools:
        groups = codes[bt.series][keep]
    components = tuple(
        _calibrate(
            bt,
            c,
            centre_pts=best_pts if c == best else combine(c, bt.points),
            cfg=cfg,
            large=large,
            keep=keep,
            groups=groups,
        )
        for c in _centres(cfg, best, large)
    )
    scores = pl.DataFrame({"candidate": [r[0] for r in scored], "score": [r[1] for r in scored]})
    log.info(
        "champion %s (%s %.4f over %d backtest rows), distribution centred on %s",
        best,
        cfg.criterion,
        scored[0][1],
        bt.actual.size,
        ", ".join(c.centre for c in components),
    )
    return Champion(best, scores, components, cfg, choice, tf, edges, vocabulary)


def _centres(cfg: ChampionConfig, best: str, large: bool) -> list[str]:
    """The candidates whose distributions make the predictive distribution (one, or a linear pool)."""
    if cfg.centre == POOL:
        return [best, *[m for m in cfg.members if m != best]]
    if not large or not cfg.centre:
        return [best]
    return [cfg.centre] if _names_members(cfg.centre, cfg.members) else [best]


def _calibrate(
    bt: MemberBacktest,
    centre: str,
    *,
    centre_pts: np.ndarray,
    cfg: ChampionConfig,
    large: bool,
    keep: np.ndarray,
    groups: np.ndarray | None,
) -> Component:
    """Pooled conformal calibration of the errors of one centre (module docstring, step 3)."""
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
