"""The fitted champion and how it is fitted: backtest, choose, calibrate (steps 1–3), then forecast (4)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from models.calibration import DifficultyModel, LocationModel, PooledConformal
from models.champion.backtest import MemberBacktest
from models.champion.calibration import (
    Component,
    Recalibration,
    calibrate,
    centres,
    kind_codes,
    kind_onehot,
    linear_pool,
    recalibrate,
)
from models.champion.candidates import Candidate, Member, Selection, default_candidate, points_of
from models.champion.config import ChampionConfig
from models.champion.members import difficulty_features, error_scale, member_points, trend_share
from models.champion.plausible import cap_quantiles
from models.champion.selection import location_holds, location_slope
from models.pooled import PooledGrowth
from models.transforms import Scale

if TYPE_CHECKING:
    from models.champion.chunked import Mapper, Plan, Reduced

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Champion:
    """A fitted champion.

    Attributes:
        candidate: the chosen candidate. scores: ``candidate, score`` over the backtest, best first.
        components: the calibrated distributions; with more than one, the predictive distribution is
            their equal-weight linear pool (``ChampionConfig.centre = "pool"``).
        config: the settings used.
        choice: for a selection, the member chosen per series index (from all backtest rows).
        scale: the transform from the original to the model scale.
        group_edges: trend-share edges of the calibration groups (empty: one pool).
        kinds: the series kinds seen in fitting, in the order of their one-hot columns (empty: the
            champion was fitted without kinds, or ``kind_features`` and ``kind_pools`` were off).
        location_check: the out-of-time check of the median correction (``ChampionConfig.location_gate``,
            :func:`~models.champion.selection.location_holds`): its error ratio on the most recent
            origins; ``None``: not checked. location_check_se: its series-clustered standard error (the
            correction was switched off when the ratio reached ``1 + location_gate_z × SE``).
        location_slope: ``λ``, the factor on the median correction at forecast time
            (``ChampionConfig.location_shrink``, :func:`~models.champion.selection.location_slope`); 1
            when not estimated.
    """

    candidate: Candidate
    scores: pl.DataFrame
    components: tuple[Component, ...]
    config: ChampionConfig
    choice: dict[int, Member] = field(default_factory=dict)
    scale: Scale = field(default_factory=Scale)
    group_edges: np.ndarray = field(default_factory=lambda: np.empty(0))
    kinds: tuple[str, ...] = ()
    recalibration: Recalibration = field(default_factory=Recalibration)
    pooled_model: PooledGrowth | None = None
    location_check: float | None = None
    location_check_se: float | None = None
    location_slope: float = 1.0

    @property
    def name(self) -> str:
        """The chosen candidate's label (``mean(damped_np+drift)``), as the published ``model`` shows it."""
        return str(self.candidate)

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
        """The centre's label, or ``pool(a, b, …)`` for a linear pool of several."""
        names = [str(c.centre) for c in self.components]
        return names[0] if len(names) == 1 else f"pool({', '.join(names)})"

    def points(self, histories: Sequence[np.ndarray], horizon: int) -> np.ndarray:
        """Point forecasts on the model scale, shape ``(n_series, horizon)``."""
        return self._points(self._members(histories, horizon))

    def _members(self, histories: Sequence[np.ndarray], horizon: int) -> dict[Member, np.ndarray]:
        """Every member's point forecasts on the model scale, with the pooled member fitted at training."""
        return member_points(
            histories,
            horizon,
            self.config.members,
            self.config.pooled,
            self.scale,
            pooled_model=self.pooled_model,
        )

    def _points(self, pts: dict[Member, np.ndarray]) -> np.ndarray:
        if not isinstance(self.candidate, Selection):
            return points_of(self.candidate, pts)
        out = points_of(default_candidate(self.config.members), pts).copy()
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
        """Points ``(n, h)`` and calibrated quantiles ``(n, h, k)`` on the model scale (step 4).

        ``c + s·d·(m + Q_h(p))``: centre ``c``, error scale ``s``, difficulty ``d``, median correction
        ``m``; for a pool, the components' CDFs averaged.

        ``kinds``: one per series, required when the champion was fitted with kinds; a kind it never
        saw gets no kind column and the all-kinds pool.
        """
        members = self._members(histories, horizon)
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
        dense = len(self.components) > 1 or not self.recalibration.identity
        grid = np.union1d(np.linspace(0.0025, 0.9975, 200), probs) if dense else probs
        qs = []
        for comp in self.components:
            centre = pts if comp.centre == self.candidate else points_of(comp.centre, members)
            scale: np.ndarray = base
            if comp.difficulty:
                d = np.mean([m.predict(x, hh) for m in comp.difficulty], axis=0)
                scale = base[:, None] * d.reshape(len(histories), horizon)
                if comp.location:
                    shift = np.mean([m.predict(x, hh) for m in comp.location], axis=0)
                    centre = centre + scale * (self.location_slope * shift.reshape(len(histories), horizon))
            qs.append(comp.calibrator.apply(centre, scale, grid, groups))
        pooled = qs[0] if len(qs) == 1 else linear_pool(qs, grid)
        # the beta transform reads the pool at recalibrated levels (the identity reads it at probs)
        q = self.recalibration.read(pooled, grid, probs)
        return pts, cap_quantiles(q, histories, self.scale, self.config.tail_multiple)


def fit_champion(
    histories: Sequence[np.ndarray],
    horizon: int,
    config: ChampionConfig | None = None,
    scale: Scale | None = None,
    observed: Sequence[np.ndarray] | None = None,
    *,
    kinds: Sequence[str] | None = None,
) -> Champion:
    """Backtest the members, choose a candidate and calibrate (steps 1–3 of :mod:`models.champion`).

    Args:
        histories: model-scale series, each 1-D with ≥ 3 points (gaps filled).
        horizon: the longest horizon that will be forecast.
        config: settings; defaults to :class:`~models.champion.config.ChampionConfig`.
        scale: the transform from original to model scale (identity by default).
        observed: per series, which points were observed rather than filled (see
            :func:`~models.champion.backtest.backtest_members`); all observed when ``None``.
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
    from models.champion.chunked import Piece, fit_chunked

    vocabulary: tuple[str, ...] = ()
    if kinds is not None and (cfg.kind_features or cfg.kind_pools):
        vocabulary = tuple(sorted({str(k) for k in kinds}))
        kind_codes(kinds, vocabulary, n=len(histories))  # one kind per series, or a clear error
    piece = Piece(
        0,
        tuple(histories),
        None if observed is None else tuple(observed),
        tuple(str(k) for k in kinds) if vocabulary and kinds is not None else None,
    )
    champion: Champion = fit_chunked(
        [piece], horizon, cfg, tf, lengths=[len(z) for z in histories], vocabulary=vocabulary
    )
    return champion


def finish_champion(reduced: Reduced, plan: Plan, mapper: Mapper) -> Champion:
    """Choose the candidate and calibrate (steps 2–3) from the reduced backtest of
    :mod:`models.champion.chunked`: the best candidate by its score over every backtest row, then one
    calibration task per centre on the (sampled) rows, run by ``mapper``."""
    cfg, tf, vocabulary = plan.config, plan.scale, plan.vocabulary
    bt = reduced.sample
    default = default_candidate(cfg.members)
    if reduced.n_rows == 0:
        log.warning("no backtest rows (series shorter than min_train + 1); using %s uncalibrated", default)
        cal = PooledConformal(min_count=cfg.min_count, prior_weight=cfg.prior_weight)
        cal.fit(np.empty(0, int), np.empty(0))
        scores = pl.DataFrame(
            {"candidate": [str(default)], "score": [None]},
            schema={"candidate": pl.String, "score": pl.Float64},
        )
        return Champion(
            default,
            scores,
            (Component(default, cal),),
            cfg,
            scale=tf,
            kinds=vocabulary,
            pooled_model=plan.pooled.get(0),
        )
    scored = sorted(reduced.scored, key=lambda r: r[1])
    best = scored[0][0]
    best_pts = reduced.select if isinstance(best, Selection) else points_of(best, bt.points)
    choice = reduced.choice if isinstance(best, Selection) else {}
    keep = np.ones(bt.offset.shape, bool) if cfg.calib_lag is None else (bt.offset - bt.h) < cfg.calib_lag
    large = reduced.n_rows >= cfg.adaptive_min_rows
    edges = np.empty(0)
    groups = None
    if cfg.calib_groups > 1:
        edges = np.quantile(bt.trend[bt.h == 1], np.arange(1, cfg.calib_groups) / cfg.calib_groups)
        groups = np.searchsorted(edges, bt.trend)[keep]
    elif vocabulary and cfg.kind_pools:
        groups = reduced.codes[keep]
    check = None
    if cfg.adaptive and cfg.location and cfg.location_gate is not None and large:
        check = location_holds(bt, _mean_centre(bt, best, best_pts, cfg, large), cfg.location_gate)
        if check is not None and check.raises_error(cfg.location_gate_z):
            log.info(
                "median correction off: on the %d most recent origins it raised the error (×%.3f, SE %.3f)",
                cfg.location_gate,
                check.ratio,
                check.se,
            )
            cfg = cfg.model_copy(update={"location": False})
    slope = 1.0
    if cfg.adaptive and cfg.location and cfg.location_shrink is not None and large:
        estimate = location_slope(bt, _mean_centre(bt, best, best_pts, cfg, large), cfg.location_shrink)
        if estimate is not None:
            slope = estimate
            log.info(
                "median correction ×%.3f: its out-of-time slope on the %d most recent origins",
                slope,
                cfg.location_shrink,
            )
    shared = _Calibration(bt, best, best_pts, cfg, large, keep, groups)
    components = tuple(mapper(_calibrate, centres(cfg, best, large), shared))
    scores = pl.DataFrame({"candidate": [str(r[0]) for r in scored], "score": [r[1] for r in scored]})
    log.info(
        "champion %s (%s %.4f over %d backtest rows), distribution centred on %s",
        best,
        cfg.criterion,
        scored[0][1],
        reduced.n_rows,
        ", ".join(str(c.centre) for c in components),
    )
    recal = recalibrate(
        bt,
        [best_pts if c.centre == best else points_of(c.centre, bt.points) for c in components],
        cfg,
        large=large,
        keep=keep,
        groups=groups,
    )
    return Champion(
        best,
        scores,
        components,
        plan.config,
        choice,
        tf,
        edges,
        vocabulary,
        recal,
        pooled_model=plan.pooled.get(0),
        location_check=None if check is None else check.ratio,
        location_check_se=None if check is None else check.se,
        location_slope=slope,
    )


def _mean_centre(
    bt: MemberBacktest, best: Candidate, best_pts: np.ndarray, cfg: ChampionConfig, large: bool
) -> np.ndarray:
    """The mean of the centres whose distributions make the prediction (the pool), on the backtest rows:
    what the out-of-time checks of the median correction are run on."""
    pool = [best_pts if c == best else points_of(c, bt.points) for c in centres(cfg, best, large)]
    return np.asarray(np.mean(pool, axis=0))


@dataclass(frozen=True)
class _Calibration:
    """What every centre's calibration task shares (sent once to each worker)."""

    bt: MemberBacktest
    best: Candidate
    best_pts: np.ndarray
    cfg: ChampionConfig
    large: bool
    keep: np.ndarray
    groups: np.ndarray | None


def _calibrate(shared: _Calibration, centre: Candidate) -> Component:
    return calibrate(
        shared.bt,
        centre,
        centre_pts=shared.best_pts if centre == shared.best else points_of(centre, shared.bt.points),
        cfg=shared.cfg,
        large=shared.large,
        keep=shared.keep,
        groups=shared.groups,
    )
