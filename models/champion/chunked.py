"""The champion fitted in chunks of series: map → reduce → map → reduce → map, memory set by the chunk.

Most of the champion's work is per series and splits over chunks of series; only the pooled parts need
the whole panel. :func:`fit_chunked` runs the procedure of :mod:`models.champion` as phases over
:class:`Piece`\\ s (chunks of consecutive series) through a ``mapper`` (in process, a process pool, Dask):

1. **map** :func:`pool_rows`: each piece's training rows of the pooled member at every origin (the
   backtest's ``1 … n_origins`` and ``0``, the final fit), a deterministic sample of them on large panels;
2. **reduce** :func:`fit_pooled` (one task per origin): the pooled member trained on the pieces' rows;
3. **map** :func:`backtest_piece`: the members' backtest of the piece with those pooled models; per
   candidate and horizon the sums of its backtest losses; selection's per-series choice; a sample of the
   backtest rows for calibration;
4. **reduce** :func:`reduce_backtests`: the candidate with the best score over *all* rows, then one
   calibration task per centre (conformal pools, difficulty and median models) on the sampled rows;
5. **map** :func:`forecast_piece`: each piece forecast by the fitted :class:`~models.champion.Champion`.

**Same numbers whatever the chunking and the executor.** Everything a piece computes depends on its
series alone (and on the pooled models, which depend on the sampled rows alone); samples are chosen by a
hash of (series index, window, horizon), not by chunk; sampled rows are put back in the order the
unchunked backtest makes them (origin, series, horizon), so the boosted models see identical inputs. The
one exception is the candidates' loss sums, added chunk by chunk: they may differ in the last bit
(1e-16 relative) with the chunk size, which could change the choice only between two candidates whose
scores tie to 15 digits.

**Bounded memory.** A piece's work is set by its size. The reduces hold at most
``config.max_pool_rows`` training rows per origin and ``config.max_calibration_rows`` backtest rows
(panels under the caps, such as M3 yearly's 645 series, use every row, exactly as before).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from models.backtest import origins
from models.champion.backtest import MemberBacktest, backtest_members
from models.champion.candidates import Candidate, Member, Selection, candidates, default_candidate, points_of
from models.champion.config import ChampionConfig
from models.champion.selection import NAIVE, per_series_choice, relative, select_points
from models.metrics import metric
from models.pooled import PooledGrowth
from models.transforms import Scale

Mapper = Callable[[Callable[[Any, Any], Any], Sequence[Any], Any], list[Any]]
"""Runs ``fn(shared, item)`` for every item, results in the items' order (an executor's ``run``)."""


def in_process(fn: Callable[[Any, Any], Any], items: Sequence[Any], shared: Any) -> list[Any]:
    """The default mapper: a loop in the calling process."""
    return [fn(shared, item) for item in items]


@dataclass(frozen=True)
class Piece:
    """A chunk of a panel: consecutive series ``first, first + 1, …`` on the model scale.

    Attributes:
        first: the panel index of the first series (selection's choice and the samples use panel
            indices, so they do not depend on the chunking).
        histories: model-scale series, each 1-D with ≥ 3 points (gaps filled).
        observed: per series, which points were observed (``None``: all).
        kinds: per series, its kind (``None``: no kinds).
    """

    first: int
    histories: tuple[np.ndarray, ...]
    observed: tuple[np.ndarray, ...] | None = None
    kinds: tuple[str, ...] | None = None

    def __len__(self) -> int:
        return len(self.histories)


@dataclass(frozen=True)
class Plan:
    """What every phase of one fit needs to know about the whole panel (small; sent with every task).

    Attributes:
        horizon: the longest horizon forecast. config, scale: as :func:`fit_chunked` takes them.
        pool_rate: per origin offset (0 = the final fit), the share of the pooled member's training rows
            kept (1 keeps every row). calib_rate: the share of backtest rows kept for calibration.
        vocabulary: the kinds of the panel, sorted (empty: no kinds).
        pooled: per origin offset, the trained pooled member (``None``: no training row; the member
            falls back to drift as in :func:`~models.champion.members.member_points`).
    """

    horizon: int
    config: ChampionConfig
    scale: Scale
    pool_rate: Mapping[int, float]
    calib_rate: float
    vocabulary: tuple[str, ...] = ()
    pooled: Mapping[int, PooledGrowth | None] = field(default_factory=dict)

    @property
    def uses_pooled(self) -> bool:
        return any(m.name == "pooled" and not m.raw for m in self.config.members)


def _pool_model(plan: Plan, steps: int) -> PooledGrowth:
    settings = plan.config.pooled.model_dump() | {"horizon_max": max(steps, plan.config.pooled.horizon_max)}
    return PooledGrowth(**settings)


def _steps(plan: Plan, offset: int) -> int:
    return plan.horizon if offset == 0 else min(plan.horizon, offset)


def uniform_key(salt: int, *columns: np.ndarray) -> np.ndarray:
    """A uniform number in ``[0, 1)`` per row, a hash of the integer ``columns`` (splitmix64).

    >>> k = uniform_key(1, np.arange(4), np.zeros(4, int))
    >>> bool(((k >= 0) & (k < 1)).all()), bool((uniform_key(1, np.arange(4), np.zeros(4, int)) == k).all())
    (True, True)
    """
    with np.errstate(over="ignore"):
        x = np.full(np.broadcast(*columns).shape, np.uint64(salt) * np.uint64(0x9E3779B97F4A7C15))
        for col in columns:
            x = x ^ (np.asarray(col).astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15))
            x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(11)).astype(float) / float(1 << 53)


# ---------------------------------------------------------------- planning (from the series' lengths)


def plan_fit(
    lengths: Sequence[int],
    horizon: int,
    config: ChampionConfig,
    scale: Scale,
    vocabulary: Sequence[str] = (),
) -> Plan:
    """The sampling rates of a panel whose series have these ``lengths`` (an upper bound on the rows:
    gaps are not counted, so the rates depend on the lengths alone and every chunking gets the same)."""
    n = np.asarray(lengths, dtype=int)
    cfg = config
    mw = cfg.pooled.min_window
    pool_rate: dict[int, float] = {}
    bt_rows = 0
    for offset in range(cfg.n_origins + 1):
        m = n - offset
        part = m >= (cfg.min_train if offset else 0)
        hmax = max(horizon if offset == 0 else min(horizon, offset), cfg.pooled.horizon_max)
        rows = sum(int(np.maximum(m[part] - h - (mw - 1), 0).sum()) for h in range(1, hmax + 1))
        pool_rate[offset] = min(1.0, cfg.max_pool_rows / rows) if rows else 1.0
        if offset:
            bt_rows += int(part.sum()) * min(horizon, offset)
    calib_rate = min(1.0, cfg.max_calibration_rows / bt_rows) if bt_rows else 1.0
    return Plan(horizon, cfg, scale, pool_rate, calib_rate, tuple(vocabulary))


# ---------------------------------------------------------------- phase 1: the pooled member's rows


@dataclass(frozen=True)
class PoolRows:
    """One piece's (sampled) training rows of the pooled member, per origin offset: ``(x, y, h)``."""

    rows: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]


def _windows(piece: Piece, plan: Plan, offset: int) -> tuple[list[int], list[np.ndarray]]:
    """The piece's series taking part at ``offset`` (0: all, whole) and their training windows."""
    if offset == 0:
        return list(range(len(piece))), list(piece.histories)
    for origin in origins(
        piece.histories,
        horizon=plan.horizon,
        n_origins=plan.config.n_origins,
        min_train=plan.config.min_train,
        observed=piece.observed,
    ):
        if origin.offset == offset:
            return origin.series, origin.train
    return [], []


def pool_rows(plan: Plan, piece: Piece) -> PoolRows:
    """Phase 1 (map): the piece's training rows of the pooled member at every origin, sampled at
    ``plan.pool_rate`` by a hash of (panel index, cutoff, horizon)."""
    out: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    if not plan.uses_pooled:
        return PoolRows(out)
    mw = plan.config.pooled.min_window
    for offset, rate in plan.pool_rate.items():
        model = _pool_model(plan, _steps(plan, offset))
        xs, ys, hs = [], [], []
        for j, train in zip(*_windows(piece, plan, offset), strict=True):
            x, y, h = model.training_rows(train)
            if y.size == 0:
                continue
            if rate < 1.0:
                # rows come ordered by horizon, then cutoff t = mw − 1, mw, …
                start = np.concatenate([[0], np.flatnonzero(np.diff(h)) + 1])
                t = mw - 1 + np.arange(h.size) - np.repeat(start, np.diff(np.append(start, h.size)))
                keep = uniform_key(offset + 7, np.full(h.size, piece.first + j), t, h) < rate
                x, y, h = x[keep], y[keep], h[keep]
            xs.append(x)
            ys.append(y)
            hs.append(h)
        if xs:
            out[offset] = (np.vstack(xs), np.concatenate(ys), np.concatenate(hs))
    return PoolRows(out)


def fit_pooled(
    plan: Plan, item: tuple[int, list[tuple[np.ndarray, np.ndarray, np.ndarray]]]
) -> PooledGrowth | None:
    """Phase 2 (reduce, one task per origin): the pooled member trained on the pieces' rows, in piece
    order (``None`` when there is no row: the member falls back to drift)."""
    offset, parts = item
    if not parts:
        return None
    x = np.vstack([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    h = np.concatenate([p[2] for p in parts])
    return _pool_model(plan, _steps(plan, offset)).fit_rows(x, y, h)


# ---------------------------------------------------------------- phase 3: the members' backtest


@dataclass(frozen=True)
class PieceBacktest:
    """What one piece's backtest hands to the reduce.

    Attributes:
        n_rows: backtest rows of the piece. n_per_h: rows per horizon (index = horizon).
        sums, counts: ``(n_candidates + 1, n_metrics, horizon + 1)`` sums and counts of the defined
            losses per candidate (the last row: ``naive``, the OWA's reference) and horizon.
        choice: selection's member per series (panel indices).
        sample: the sampled rows (panel series indices). select: selection's points at those rows.
        codes: the kind code of each sampled row (empty without kinds).
    """

    n_rows: int
    n_per_h: np.ndarray
    sums: np.ndarray
    counts: np.ndarray
    choice: dict[int, Member]
    sample: MemberBacktest
    select: np.ndarray
    codes: np.ndarray


def _candidates(cfg: ChampionConfig) -> list[Candidate]:
    return [cfg.fixed] if cfg.fixed is not None else candidates(cfg.members, cfg.allow_select)


def _metric_names(cfg: ChampionConfig) -> tuple[str, ...]:
    if cfg.criterion == "scaled_mae":
        return ("mase_error",)
    if cfg.criterion != "owa":
        raise ValueError(f"unknown criterion {cfg.criterion!r}; use 'owa' or 'scaled_mae'")
    if NAIVE not in cfg.members:
        raise ValueError("criterion 'owa' needs the member 'naive'")
    return ("smape_error", "mase_error")


def backtest_piece(plan: Plan, piece: Piece) -> PieceBacktest:
    """Phase 3 (map): the members' backtest of the piece, its candidates' loss sums, selection's choice
    and the calibration sample (rows whose hash of (panel index, origin, horizon) is under the rate)."""
    cfg, tf = plan.config, plan.scale
    local = backtest_members(
        list(piece.histories),
        plan.horizon,
        cfg,
        tf,
        list(piece.observed) if piece.observed else None,
        pooled_models=plan.pooled if plan.uses_pooled else None,
    )
    bt = replace(local, series=local.series + piece.first)
    names = _candidates(cfg)
    metrics = _metric_names(cfg)
    width = plan.horizon + 1
    sums = np.zeros((len(names) + 1, len(metrics), width))
    counts = np.zeros((len(names) + 1, len(metrics), width))
    n_per_h = np.bincount(bt.h, minlength=width)[:width].astype(float)
    default = default_candidate(cfg.members)
    has_select = any(isinstance(c, Selection) for c in names)
    select = select_points(local, cfg.members, default) if has_select and bt.h.size else np.empty(0)
    if bt.h.size:
        for k, cand in enumerate([*names, NAIVE]):
            if cand == NAIVE and len(metrics) == 1:
                continue
            pts = select if isinstance(cand, Selection) else points_of(cand, bt.points)
            rows = bt.rows(pts) if cfg.criterion == "scaled_mae" else bt.rows(pts, tf)
            for j, name in enumerate(metrics):
                loss = metric(name)(rows)
                ok = ~np.isnan(loss)
                sums[k, j] = np.bincount(bt.h[ok], weights=loss[ok], minlength=width)[:width]
                counts[k, j] = np.bincount(bt.h[ok], minlength=width)[:width]
    choice = (
        {int(s) + piece.first: m for s, m in per_series_choice(local, cfg.members).items()}
        if has_select and bt.h.size
        else {}
    )
    keep = np.arange(bt.h.size)
    if plan.calib_rate < 1.0:
        keep = np.flatnonzero(uniform_key(3, bt.series, bt.offset, bt.h) < plan.calib_rate)
    codes = np.empty(0, dtype=int)
    if plan.vocabulary and piece.kinds is not None:
        index = {k: i for i, k in enumerate(plan.vocabulary)}
        codes = np.array(
            [index.get(str(piece.kinds[int(s) - piece.first]), -1) for s in bt.series[keep]], int
        )
    return PieceBacktest(
        n_rows=int(bt.h.size),
        n_per_h=n_per_h,
        sums=sums,
        counts=counts,
        choice=choice,
        sample=bt.take(keep),
        select=select[keep] if select.size else select,
        codes=codes,
    )


# ---------------------------------------------------------------- phase 4: choose and calibrate


def _score(sums: np.ndarray, counts: np.ndarray, n_per_h: np.ndarray, equal_horizons: bool) -> np.ndarray:
    """Mean loss per (candidate, metric) from per-horizon sums: every row alike, or every horizon alike."""
    w = np.where(n_per_h > 0, 1.0 / np.maximum(n_per_h, 1), 0.0) if equal_horizons else np.ones(n_per_h.shape)
    num = (sums * w).sum(axis=-1)
    den = (counts * w).sum(axis=-1)
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def candidate_scores(parts: Sequence[PieceBacktest], cfg: ChampionConfig) -> list[tuple[Candidate, float]]:
    """Every candidate's score over all backtest rows of the pieces (lower is better), in candidate order."""
    names = _candidates(cfg)
    sums = np.sum([p.sums for p in parts], axis=0)
    counts = np.sum([p.counts for p in parts], axis=0)
    n_per_h = np.sum([p.n_per_h for p in parts], axis=0)
    mean = _score(sums, counts, n_per_h, cfg.equal_horizons)
    if cfg.criterion == "scaled_mae":
        return [(c, float(mean[k, 0])) for k, c in enumerate(names)]
    naive = mean[-1]
    return [
        (
            c,
            0.5
            * (relative(float(mean[k, 0]), float(naive[0])) + relative(float(mean[k, 1]), float(naive[1]))),
        )
        for k, c in enumerate(names)
    ]


@dataclass(frozen=True)
class Reduced:
    """The reduce's view of the backtest: the candidates' scores, all rows counted, a sample kept.

    Attributes:
        scored: ``(candidate, score)`` in candidate order. n_rows: backtest rows over the panel.
        sample: the sampled rows in the unchunked backtest's order (origin, series, horizon), with the
            kinds' one-hot columns appended to ``feats`` when configured. select: selection's points at
            them. codes: their kind codes (empty without kinds). choice: selection's member per series.
    """

    scored: list[tuple[Candidate, float]]
    n_rows: int
    sample: MemberBacktest
    select: np.ndarray
    codes: np.ndarray
    choice: dict[int, Member]


def reduce_backtests(parts: Sequence[PieceBacktest], plan: Plan) -> Reduced:
    """Phase 4a (reduce): add up the pieces' loss sums and put their samples in the unchunked order."""
    from models.champion.calibration import kind_onehot

    cfg = plan.config
    samples = [p.sample for p in parts]
    cat = MemberBacktest(
        series=np.concatenate([s.series for s in samples]),
        offset=np.concatenate([s.offset for s in samples]),
        h=np.concatenate([s.h for s in samples]),
        actual=np.concatenate([s.actual for s in samples]),
        scale=np.concatenate([s.scale for s in samples]),
        raw_scale=np.concatenate([s.raw_scale for s in samples]),
        trend=np.concatenate([s.trend for s in samples]),
        points={m: np.concatenate([s.points[m] for s in samples]) for m in cfg.members},
        feats=np.vstack([s.feats for s in samples]),
    )
    order = np.lexsort((cat.h, cat.series, cat.offset))
    bt = cat.take(order)
    select = np.concatenate([p.select for p in parts])
    codes = np.concatenate([p.codes for p in parts])
    if select.size:
        select = select[order]
    if codes.size:
        codes = codes[order]
        if cfg.kind_features:
            bt = replace(bt, feats=np.column_stack([bt.feats, kind_onehot(codes, len(plan.vocabulary))]))
    choice: dict[int, Member] = {}
    for p in parts:
        choice.update(p.choice)
    return Reduced(candidate_scores(parts, cfg), sum(p.n_rows for p in parts), bt, select, codes, choice)


# ---------------------------------------------------------------- the driver and phase 5


def fit_chunked(
    pieces: Sequence[Any],
    horizon: int,
    config: ChampionConfig,
    scale: Scale,
    *,
    lengths: Sequence[int],
    vocabulary: Sequence[str] = (),
    mapper: Mapper = in_process,
    load: Callable[[Any], Piece] | None = None,
) -> Any:
    """Fit the champion over ``pieces`` in the phases of this module (see there).

    Args:
        pieces: :class:`Piece` values, or references a worker turns into pieces with ``load`` (a chunk of
            a file on storage the workers read), so the driver never holds the panel.
        horizon, config, scale: as :func:`~models.champion.fit_champion` takes them.
        lengths: every series' length, in panel order (sets the sampling rates).
        vocabulary: the panel's kinds (sorted), when its series come with kinds.
        mapper: how the phases' tasks run (in process by default; a pipeline passes its executor's).
        load: turns an item of ``pieces`` into a :class:`Piece` inside the task (identity by default).

    Returns:
        The fitted :class:`~models.champion.Champion`.
    """
    from models.champion.fitted import finish_champion

    plan = plan_fit(lengths, horizon, config, scale, vocabulary)
    loader = load or _identity
    if plan.uses_pooled:
        rows = mapper(_with_loader(pool_rows, loader), list(pieces), plan)
        items = [(o, [r.rows[o] for r in rows if o in r.rows]) for o in sorted(plan.pool_rate)]
        del rows
        models = mapper(fit_pooled, items, plan)
        del items
        plan = replace(plan, pooled=dict(zip(sorted(plan.pool_rate), models, strict=True)))
    parts = mapper(_with_loader(backtest_piece, loader), list(pieces), plan)
    reduced = reduce_backtests(parts, plan)
    del parts
    return finish_champion(reduced, plan, mapper)


def _identity(item: Any) -> Piece:
    if not isinstance(item, Piece):
        raise TypeError(f"fit_chunked got {type(item).__name__} items without a load function")
    return item


@dataclass(frozen=True)
class _Loaded:
    """``fn(shared, load(item))``: a picklable composition (lambdas do not pickle to processes)."""

    fn: Callable[[Plan, Piece], Any]
    load: Callable[[Any], Piece]

    def __call__(self, shared: Plan, item: Any) -> Any:
        return self.fn(shared, self.load(item))


def _with_loader(
    fn: Callable[[Plan, Piece], Any], load: Callable[[Any], Piece]
) -> Callable[[Plan, Any], Any]:
    return fn if load is _identity else _Loaded(fn, load)


def forecast_piece(
    champion: Any, piece: Piece, horizon: int, probs: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Phase 5 (map): points ``(n, h)`` and quantiles ``(n, h, k)`` of the piece's series on the model
    scale, as :meth:`~models.champion.Champion.forecast` gives them for the whole panel."""
    n = len(piece)
    local = {i - piece.first: m for i, m in champion.choice.items() if piece.first <= i < piece.first + n}
    champ = replace(champion, choice=local)
    return champ.forecast(list(piece.histories), horizon, probs, kinds=piece.kinds if champ.kinds else None)
