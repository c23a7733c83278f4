"""Calibrating the champion: pooled conformal errors of each centre, difficulty and median models, kinds,
the linear pool of several calibrated distributions, and the beta transform that recalibrates the pool
on small panels, borrowing strength from reference PITs shipped with the package (the champion's step 3)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

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


SCALE_PRIOR = 1.0
"""``ν₀``: the weight, in errors, of the random walk's width in the reference every error pool blends in
(:class:`models.calibration.PooledConformal`, ``scale_prior``; a unit-information prior). On a district's
panel most pools are under ``min_count`` and *were* the fixed ``N(0, 1.25²h)``, 3–6× wider than a good
centre's errors on smooth KPIs (root mean square 0.2–0.5 per ``√h``), so amounts, rates and shares
covered 100 % at 80 % and 95 %. Chosen on the 2-district demo (validation: the demo's seed and seeds
1–2; the 16-district demo is held out), cross-fitted attainment Brier after the per-kind map: 0.0994 with
the fixed reference, 0.0960 / 0.0965 / 0.0972 / 0.0978 with ``ν₀`` = 1 / 2 / 5 / 10; 80 % coverage of
amounts 100 → 91.7, rates 100 → 88.9, shares 98.5 → 95.6 (36, 36 and 135 rows: see
``evaluation/bench/panels.md`` for what so few rows can show). Over all seven validation draws (seeds
1–6 too) 80 % / 95 % coverage went from 100 / 100 to 96.4 / 100 for amounts (84 rows), 100 / 100 to
95.2 / 100 for rates (84), 99.4 / 100 to 96.8 / 99.7 for shares (315) and 91.6 / 96.5 to 89.9 / 94.3
for counts (742): still wide on the smooth kinds. What is left is the linear pool: each centre's
distribution is calibrated on its own errors, and mixing eight of them (naive's and theta's among
them, centred away from a steady trend) is wider than any; centring on the chosen candidate alone
gave 94.4 / 100 for amounts there. On M3 (1,935+ errors per horizon, blend weight 2) the reference is
0.1 % of each pool: the M3 yearly test row moved from Brier 0.169912 to 0.169934, coverage 82.53 / 95.40
to 82.51 / 95.40, MSIS 21.72 to 21.76.

Held out, measured once after the choice (not a reason to change it): on the 16-district demo the
coverages moved a little towards nominal (``evaluation/bench/panels.md``), but the cross-fitted
attainment Brier was 0.0840 against 0.0804 with the fixed width (counts 0.1054 against 0.0991): the gain
on the 2-district draws did not carry over there."""


def conformal(cfg: ChampionConfig) -> PooledConformal:
    """The champion's error pools: ``cfg.min_count``, ``cfg.prior_weight`` and the learned reference width."""
    return PooledConformal(min_count=cfg.min_count, prior_weight=cfg.prior_weight, scale_prior=SCALE_PRIOR)


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
    cal = conformal(cfg).fit(bt.h[keep], scaled[keep], groups)
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


REFERENCE_PIT = Path(__file__).with_name("reference_pit.csv")
PIT_GRID = np.linspace(0.0025, 0.9975, 200)
CENTRAL_GRID = np.linspace(0.0, 1.0, 101)
"""The nominal central levels ``c`` at which :func:`fit_central` tabulates the pool's coverage ``H(c)``."""


@dataclass(frozen=True)
class Recalibration:
    """A beta transform of the predictive distribution's probability levels (the beta-transformed linear
    pool of Gneiting & Ranjan, 2013): the recalibrated CDF is ``G(F(y))``, ``G`` the Beta(a, b) CDF.

    A linear pool of calibrated distributions is wider than each of them; on a district's smooth KPI
    series that pulls every attainment probability towards ½. ``a, b > 1`` sharpen the distribution
    (PITs of the pool bunched in the middle), ``a, b < 1`` widen it, ``a ≠ b`` moves it. The identity
    (``a = b = 1``) leaves every quantile exactly as it was.

    Attributes:
        a, b: the beta parameters. n: how many of the panel's own PITs it learned from.
        weight: the weight of the panel's own PITs against the reference, ``n / (n + n₀)``.

    >>> r = Recalibration(2.0, 2.0)
    >>> r.levels(np.array([0.1, 0.5, 0.9])).round(3).tolist()
    [0.196, 0.5, 0.804]
    """

    a: float = 1.0
    b: float = 1.0
    n: int = 0
    weight: float = 0.0
    coverage: tuple[float, ...] = ()

    @property
    def identity(self) -> bool:
        return self.a == 1.0 and self.b == 1.0 and not self.coverage

    def levels(self, probs: np.ndarray) -> np.ndarray:
        """The pool's probability levels whose quantiles are the recalibrated ``probs`` quantiles:
        ``G⁻¹(p)``."""
        if self.identity:
            return np.asarray(probs, dtype=float)
        if self.coverage:
            return central_levels(np.asarray(self.coverage), probs)
        from scipy import stats

        p = np.asarray(probs, dtype=float)
        u = np.asarray(stats.beta.ppf(p, self.a, self.b), dtype=float)
        # a symmetric transform keeps the median exactly (ppf is only accurate to ~1e-12 there)
        return np.where(p == 0.5, 0.5, u) if self.a == self.b else u

    def cdf(self, u: np.ndarray) -> np.ndarray:
        """The recalibrated CDF at a point whose pool CDF is ``u``: ``G(u)``, the inverse of :meth:`levels`.

        >>> r = Recalibration(coverage=tuple(np.clip(CENTRAL_GRID * 1.25, 0, 1).tolist()))
        >>> bool(np.allclose(r.cdf(r.levels(np.array([0.1, 0.3, 0.5, 0.975]))), [0.1, 0.3, 0.5, 0.975]))
        True
        """
        x = np.asarray(u, dtype=float)
        if self.identity:
            return x
        if self.coverage:
            c = np.interp(np.abs(2.0 * x - 1.0), CENTRAL_GRID, np.asarray(self.coverage))
            return 0.5 + np.sign(x - 0.5) * c / 2.0
        from scipy import stats

        return np.asarray(stats.beta.cdf(x, self.a, self.b), dtype=float)

    def read(self, quantiles: np.ndarray, grid: np.ndarray, probs: np.ndarray) -> np.ndarray:
        """Recalibrated quantiles ``(..., len(probs))`` from quantiles ``(..., len(grid))`` (the champion's pool
        ``(n, h, ·)``, a backtest's rows ``(rows, ·)``); the identity needs ``probs`` on the grid.

        The levels :meth:`levels` gives are read off linearly between neighbouring grid points, with the same
        weights for every row: a path that never decreases over the horizon, or stays inside a bound, still
        does. Levels beyond the grid take the grid's outermost quantile.

        >>> Recalibration().read(np.array([[0.0, 1.0, 2.0]]), np.array([0.1, 0.5, 0.9]), np.array([0.1, 0.5])).tolist()
        [[0.0, 1.0]]
        """
        q = np.asarray(quantiles, dtype=float)
        if self.identity:
            return q[..., np.searchsorted(grid, probs)]
        u = np.clip(self.levels(probs), grid[0], grid[-1])
        idx = np.clip(np.searchsorted(grid, u), 1, grid.size - 1)
        w = (u - grid[idx - 1]) / (grid[idx] - grid[idx - 1])
        return np.asarray(q[..., idx - 1] * (1 - w) + q[..., idx] * w)


def reference_pits() -> np.ndarray:
    """The reference PITs shipped with the champion (``reference_pit.csv``, column ``u``): the PITs of the
    uncalibrated pool on held-out points of district-sized panels cut from M3 yearly *training* parts
    (``python -m evaluation.bench.reference`` writes the file; the M3 test part is never read)."""
    import csv

    with REFERENCE_PIT.open(encoding="utf-8") as fh:
        return np.array([float(r["u"]) for r in csv.DictReader(fh)])


def fit_beta(u: np.ndarray, reference: np.ndarray, prior: float, *, symmetric: bool = False) -> Recalibration:
    """Beta(a, b) by maximum likelihood on the PITs ``u`` with ``prior`` pseudo-observations spread over the
    ``reference`` PITs: a credibility weight ``n / (n + prior)`` on the panel's own PITs.

    With few own PITs the map is the reference's; as they accumulate it becomes the panel's own.
    ``symmetric``: fit ``a = b`` only (one parameter), so ``G(½) = ½`` and the median never moves; the
    transform can only narrow (``a > 1``) or widen (``a < 1``) the distribution around it.

    >>> rng = np.random.default_rng(0)
    >>> r = fit_beta(rng.beta(3.0, 3.0, 2000), rng.uniform(size=500), prior=10.0)
    >>> bool(2.5 < r.a < 3.5 and 2.5 < r.b < 3.5), round(r.weight, 3)
    (True, 0.995)
    >>> s = fit_beta(rng.beta(3.0, 3.0, 2000), rng.uniform(size=500), prior=10.0, symmetric=True)
    >>> bool(s.a == s.b and 2.5 < s.a < 3.5), float(s.levels(np.array([0.5]))[0].round(9))
    (True, 0.5)
    """
    from scipy import optimize, stats

    u = np.clip(np.asarray(u, float), PIT_GRID[0], PIT_GRID[-1])
    ref = np.clip(np.asarray(reference, float), PIT_GRID[0], PIT_GRID[-1])
    w_ref = prior / ref.size if ref.size else 0.0
    if u.size == 0 and w_ref == 0:
        return Recalibration()

    def nll(theta: np.ndarray) -> float:
        a, b = np.exp(theta)
        own = stats.beta.logpdf(u, a, b).sum() if u.size else 0.0
        return -float(own + w_ref * stats.beta.logpdf(ref, a, b).sum())

    if symmetric:
        one = optimize.minimize_scalar(lambda t: nll(np.array([t, t])), bounds=(-5.0, 5.0), method="bounded")
        a = b = float(np.exp(one.x))
    else:
        res = optimize.minimize(
            nll, np.zeros(2), method="Nelder-Mead", options={"xatol": 1e-4, "fatol": 1e-6}
        )
        a, b = (float(v) for v in np.exp(res.x))
    return Recalibration(a, b, int(u.size), float(u.size / (u.size + prior)) if u.size + prior else 0.0)


def central_levels(coverage: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """The pool's probability levels that give central intervals of coverage ``|2p − 1|`` at ``probs``.

    ``coverage`` is ``H`` on :data:`CENTRAL_GRID`: the share of outcomes inside the pool's central interval of
    nominal level ``c``, increasing from ``H(0) = 0`` to ``H(1) = 1``. The level for ``p`` is
    ``½ ± H⁻¹(|2p − 1|)/2`` on ``p``'s side of the median, so ``p = ½`` stays ``½``: the median never moves,
    and the map is symmetric about it.

    >>> h = np.clip(CENTRAL_GRID * 1.25, 0, 1)  # the pool's c-interval covers 1.25·c: too wide
    >>> central_levels(h, np.array([0.1, 0.5, 0.9])).round(3).tolist()
    [0.18, 0.5, 0.82]
    """
    p = np.asarray(probs, dtype=float)
    c = np.abs(2.0 * p - 1.0)
    nominal = np.interp(c, coverage, CENTRAL_GRID)
    return np.where(p == 0.5, 0.5, 0.5 + np.sign(p - 0.5) * nominal / 2.0)


def fit_central(u: np.ndarray, reference: np.ndarray, prior: float, *, smooth: bool = False) -> Recalibration:
    """A symmetric map of the pool's central intervals, learned from the coverage they had: no shape assumed.

    For a PIT ``u`` the pool's central interval of nominal level ``c`` holds the outcome when
    ``|2u − 1| ≤ c``. ``H(c)``, the share of PITs for which it does, is estimated at every ``c`` of
    :data:`CENTRAL_GRID` from the panel's own PITs ``u``, with ``prior`` pseudo-observations spread over the
    ``reference`` PITs (the same credibility weight ``n / (n + prior)`` as :func:`fit_beta`). A 0.1 %
    share of the identity keeps ``H`` strictly increasing so it can be inverted. Reading the pool at
    ``H⁻¹`` then gives central intervals that held ``c`` of the outcomes: unlike a beta transform, the
    middle can narrow (a linear pool's 80 % interval over-covers) while the tails stay (its 95 % does
    not), because each level's coverage is read on its own.

    ``smooth``: ``H`` is instead the CDF of a Beta(α, β) fitted by maximum likelihood to the distances
    ``v = |2u − 1|`` (with the same pseudo-observations): two parameters, so a few extreme PITs move the
    tails less (α = β = 1 is the identity).

    >>> rng = np.random.default_rng(0)
    >>> wide = rng.beta(2.0, 2.0, 4000)  # PITs bunched in the middle: the pool is too wide
    >>> for smooth in (False, True):
    ...     r = fit_central(wide, rng.uniform(size=500), prior=10.0, smooth=smooth)
    ...     lo, mid, hi = r.levels(np.array([0.1, 0.5, 0.9])).tolist()
    ...     print(bool(0.1 < lo < 0.2 and 0.8 < hi < 0.9), mid, round(r.weight, 3))
    True 0.5 0.998
    True 0.5 0.998
    """
    v = np.sort(np.abs(2.0 * np.clip(np.asarray(u, float), 0.0, 1.0) - 1.0))
    ref = np.sort(np.abs(2.0 * np.clip(np.asarray(reference, float), 0.0, 1.0) - 1.0))
    w_ref = prior if ref.size else 0.0
    total = v.size + w_ref
    if total == 0:
        return Recalibration()
    if smooth:
        h = _beta_coverage(v, ref, w_ref)
    else:
        own = np.searchsorted(v, CENTRAL_GRID, side="right") / max(v.size, 1)
        borrowed = np.searchsorted(ref, CENTRAL_GRID, side="right") / max(ref.size, 1)
        h = (v.size * own + w_ref * borrowed) / total
    h = 0.999 * h + 0.001 * CENTRAL_GRID
    h[0], h[-1] = 0.0, 1.0
    return Recalibration(n=int(v.size), weight=float(v.size / total), coverage=tuple(h.tolist()))


def _beta_coverage(v: np.ndarray, ref: np.ndarray, w_ref: float) -> np.ndarray:
    """``H`` on :data:`CENTRAL_GRID`: the CDF of Beta(α, β) fitted by weighted maximum likelihood to the
    distances ``v`` and, with total weight ``w_ref``, the reference's ``ref``."""
    from scipy import optimize, stats

    own, borrowed = np.clip(v, 1e-3, 1 - 1e-3), np.clip(ref, 1e-3, 1 - 1e-3)
    w = w_ref / borrowed.size if borrowed.size else 0.0

    def nll(theta: np.ndarray) -> float:
        a, b = np.exp(theta)
        return -float(stats.beta.logpdf(own, a, b).sum() + w * stats.beta.logpdf(borrowed, a, b).sum())

    res = optimize.minimize(nll, np.zeros(2), method="Nelder-Mead", options={"xatol": 1e-4, "fatol": 1e-6})
    a, b = (float(x) for x in np.exp(res.x))
    return np.asarray(stats.beta.cdf(CENTRAL_GRID, a, b), dtype=float)


def pool_pits(
    bt: MemberBacktest,
    centre_points: Sequence[np.ndarray],
    cfg: ChampionConfig,
    groups: np.ndarray | None,
) -> np.ndarray:
    """The linear pool's PIT ``F(y)`` at every backtest row, each centre's error pool cross-fitted by series
    parity (a row's PIT never uses its own series' errors).

    Args:
        centre_points: per centre, its points aligned with ``bt``. groups: per row, its Mondrian group
            (or ``None``).
    """
    half = bt.series % 2
    horizon = int(bt.h.max())
    out = np.zeros(bt.actual.size)
    for pts in centre_points:
        e = (bt.actual - pts) / bt.scale
        for part in (0, 1):
            rows = half == part
            if not rows.any():
                continue
            other = ~rows
            cal = conformal(cfg).fit(bt.h[other], e[other], None if groups is None else groups[other])
            for g in [None] if groups is None else np.unique(groups[rows]).tolist():
                sel = rows if g is None else rows & (groups == g)
                eq = cal.error_quantiles(horizon, PIT_GRID, g)
                for h in np.unique(bt.h[sel]):
                    r = sel & (bt.h == h)
                    out[r] += np.interp(e[r], eq[h - 1], PIT_GRID, left=0.0, right=1.0)
    return out / len(centre_points)


def recalibrate(
    bt: MemberBacktest,
    centre_points: Sequence[np.ndarray],
    cfg: ChampionConfig,
    *,
    large: bool,
    keep: np.ndarray,
    groups: np.ndarray | None,
) -> Recalibration:
    """The beta transform for a fitted champion (``cfg.recalibrate``), or the identity.

    Args:
        groups: per *kept* row, its Mondrian group (as :func:`calibrate` takes them), or ``None``.
    """
    if cfg.recalibrate == "never" or (cfg.recalibrate == "small" and large) or bt.actual.size == 0:
        return Recalibration()
    idx = np.flatnonzero(keep)
    sub = bt.take(idx)
    pits = pool_pits(sub, [p[idx] for p in centre_points], cfg, groups)
    if cfg.recalibrate_shape == "central":
        return fit_central(pits, reference_pits(), cfg.recal_prior)
    return fit_beta(pits, reference_pits(), cfg.recal_prior, symmetric=cfg.recalibrate_shape == "symmetric")
